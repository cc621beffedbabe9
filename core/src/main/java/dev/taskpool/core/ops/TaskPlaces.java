package dev.taskpool.core.ops;

import dev.taskpool.core.connect.RedisCalls;
import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.KindLayouts;
import dev.taskpool.core.lua.Keys;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Which partition of a kind holds a task, for the readers that are given a kind and an id (see
 * {@link KindLayout}): the one the id names, else partition 0 (the ids a kind gave before it was
 * partitioned stay there, though their last two digits may name another partition). A name that
 * is a partition's ({@code mail.send~2}) is that partition alone. An unpartitioned kind has one
 * place, so finding a task there costs what it did before the layouts: one read, once the layout
 * is known.
 *
 * <p>The layout is the one {@link KindLayouts} keeps (read at most every few seconds); when a
 * task is in none of the places it gives and that layout was not just read, it is read again and
 * the places it adds are tried, so a kind partitioned a moment ago is not missed.
 */
final class TaskPlaces {
    private final KindLayouts layouts;
    private final RedisClusterAsyncCommands<String, String> commands;
    private final RedisCalls calls;

    TaskPlaces(KindLayouts layouts, RedisClusterAsyncCommands<String, String> commands, RedisCalls calls) {
        this.layouts = layouts;
        this.commands = commands;
        this.calls = calls;
    }

    /** Whether {@code name} is a partition's name rather than a kind's. */
    static boolean isPartitionName(String name) {
        return name != null && name.indexOf(Keys.PARTITION_MARK) >= 0;
    }

    /** The places of task {@code id} in {@code layout}, in the order to look: the partition its id names, then partition 0. */
    static List<Keys> candidates(KindLayout layout, long id) {
        Keys named = layout.ofId(id);
        return named.partition().equals(layout.kind()) ? List.of(named) : List.of(named, layout.home());
    }

    /** The kind's layout as {@link KindLayouts} keeps it. */
    KindLayout layout(String kind) {
        return layouts.of(kind);
    }

    /** The kind's layout as Redis holds it now. */
    KindLayout freshLayout(String kind) {
        return layouts.fresh(kind);
    }

    /**
     * The first answer of {@code read} that is not null, over the places of task {@code id} of
     * {@code name} (a kind, or one partition's name); null when it has none.
     */
    <T> T find(String name, long id, Function<Keys, T> read) {
        if (isPartitionName(name)) {
            return read.apply(Keys.of(name));
        }
        long asked = System.nanoTime();
        KindLayouts.Entry entry = layouts.entry(Keys.of(name).task());
        List<Keys> tried = candidates(entry.layout(), id);
        for (Keys keys : tried) {
            T found = read.apply(keys);
            if (found != null) {
                return found;
            }
        }
        if (entry.readAt() - asked >= 0) {
            return null;   // read for this very call: it is Redis' layout now
        }
        KindLayout fresh = layouts.fresh(entry.layout().kind());
        for (Keys keys : candidates(fresh, id)) {
            if (tried.stream().noneMatch(done -> done.partition().equals(keys.partition()))) {
                T found = read.apply(keys);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    /**
     * The partition that holds task {@code id} of {@code name}: {@code name} itself when it is a
     * partition's name, or the kind's only partition (no read); else the first of its places whose
     * hash exists (their EXISTS sent together), or, when none does, the one its id names (where a
     * task added with that id would go).
     */
    Keys locate(String name, long id) {
        if (isPartitionName(name)) {
            return Keys.of(name);
        }
        String kind = Keys.of(name).task();
        List<Keys> places = candidates(layouts.of(kind), id);
        if (places.size() == 1) {
            return places.getFirst();
        }
        List<CompletableFuture<Long>> exists = new ArrayList<>();
        places.forEach(keys -> exists.add(commands.exists(keys.task(id)).toCompletableFuture()));
        for (int i = 0; i < places.size(); i++) {
            if (calls.await(exists.get(i), "look up task " + kind + " #" + id + " in " + places.get(i).task(id)) > 0) {
                return places.get(i);
            }
        }
        return places.getFirst();
    }
}
