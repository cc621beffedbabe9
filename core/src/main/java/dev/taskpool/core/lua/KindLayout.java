package dev.taskpool.core.lua;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.definition.TaskIds;
import io.lettuce.core.cluster.SlotHash;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Where a kind's tasks live: one hash tag for most kinds, several for a kind defined with
 * {@code "partitions": P}, so that one busy kind can use several masters of a Cluster.
 *
 * <p>Partition 0 is the kind's own tag ({@code taskpool:{T}:}); partition {@code k} ≥ 1 is
 * {@code taskpool:{T~k}:}, or {@code {T~k.s}} where the salt {@code s} was chosen, when the
 * partition was first made, to put its slot on the Cluster master holding the fewest of the
 * kind's partitions ({@link #extend}). A partition once made keeps its name for good: the list
 * only grows, so a task never moves. Its names are published in the kind's definition hash
 * ({@code partition_names}), which every process reads; {@code partitions} there says how many of
 * them take adds (the first P). Lowering P leaves the others served until they are empty, raising
 * it again takes them back.
 *
 * <p>The ids of a partitioned kind end in their partition's number: partition {@code k}'s ids are
 * {@code n × 100 + k + offset_k} (its {@code id_stride} and {@code id_offset}), so a task's id
 * tells which partition holds it and reading a task is one lookup ({@link #ofId}). Ids a kind
 * gave before it was partitioned stay where they are, in partition 0 (a lookup that misses in the
 * partition an old id names tries partition 0).
 *
 * @param kind       the kind
 * @param adding     how many partitions take adds (the definition's {@code partitions}), 1 or more
 * @param partitions every partition's name, by number; {@code partitions.size() >= adding}
 */
public record KindLayout(String kind, int adding, List<String> partitions) {
    /** A partitioned kind's ids are {@code n × ID_STRIDE + k + ...}: the last two digits name the partition. */
    public static final int ID_STRIDE = 100;
    /** The definition hash's field listing the partitions' names. */
    public static final String NAMES_FIELD = "partition_names";
    /** The definition hash's field with how many partitions take adds. */
    public static final String ADDING_FIELD = "partitions";
    /** The most salts tried for a partition's slot to land on a chosen master. */
    private static final int MAX_SALT = 200_000;

    public KindLayout {
        TaskIds.requireValid(kind);
        partitions = List.copyOf(partitions);
        if (partitions.isEmpty() || !partitions.getFirst().equals(kind)) {
            throw new IllegalArgumentException("the first partition of " + kind + " is the kind itself, got " + partitions);
        }
        if (adding < 1 || adding > partitions.size()) {
            throw new IllegalArgumentException("kind " + kind + ": " + adding + " partitions take adds, of " + partitions.size());
        }
    }

    /** The layout of a kind with one hash tag. */
    public static KindLayout single(String kind) {
        return new KindLayout(kind, 1, List.of(kind));
    }

    /**
     * The layout a kind's published definition ({@code taskpool:{T}:def}, as a map) gives; a kind
     * whose definition names no partitions (or none published yet) has one.
     *
     * @throws TaskpoolException naming the field when the definition holds a broken list
     */
    public static KindLayout fromDefinition(String kind, Map<String, String> definition) {
        String names = definition == null ? null : definition.get(NAMES_FIELD);
        if (names == null || names.isEmpty()) {
            return single(kind);
        }
        try {
            List<String> list = Arrays.asList(names.split(","));
            for (int k = 0; k < list.size(); k++) {
                Keys keys = Keys.of(list.get(k));
                if (!keys.task().equals(kind) || Keys.partitionNumber(list.get(k)) != k) {
                    throw new IllegalArgumentException("'" + list.get(k) + "' is not partition " + k + " of " + kind);
                }
            }
            String adding = definition.get(ADDING_FIELD);
            int p = adding == null ? 1 : Integer.parseInt(adding);
            return new KindLayout(kind, Math.min(Math.max(p, 1), list.size()), list);
        } catch (RuntimeException e) {
            throw new TaskpoolException("task " + kind + ": " + Keys.of(kind).definition() + " field " + NAMES_FIELD + " '"
                    + names + "' is not a list of the kind's partitions (" + e.getMessage() + ")");
        }
    }

    /** Whether the kind has more than one partition (its ids then end in their partition's number). */
    public boolean partitioned() {
        return partitions.size() > 1;
    }

    /** Partition 0: the kind's own tag, which holds its schedules' state and the tasks it had before it was partitioned. */
    public Keys home() {
        return Keys.of(kind);
    }

    /** The keys of every partition, by number (the ones that take no adds any more too). */
    public List<Keys> all() {
        return partitions.stream().map(Keys::of).toList();
    }

    /** The keys of partition {@code k}. */
    public Keys partition(int k) {
        return Keys.of(partitions.get(k));
    }

    /** The partition that holds the task with {@code id} (a partitioned kind's id ends in its partition's number). */
    public Keys ofId(long id) {
        return partitioned() ? partition(numberOfId(id)) : home();
    }

    /** The number of the partition that task {@code id} is in (0 for an unpartitioned kind). */
    public int numberOfId(long id) {
        int k = (int) (id % ID_STRIDE);
        return partitioned() && k < partitions.size() ? k : 0;
    }

    /**
     * The partition an add with unique key {@code key} goes to: always the same one while
     * {@link #adding} stays the same, so the key's holder is found there.
     */
    public int numberOfKey(String key) {
        return Math.floorMod(key.hashCode(), adding);
    }

    /** The definition fields that publish this layout (none for an unpartitioned kind). */
    public Map<String, String> publishedFields() {
        Map<String, String> fields = new LinkedHashMap<>();
        if (partitioned()) {
            fields.put(NAMES_FIELD, String.join(",", partitions));
            fields.put(ADDING_FIELD, Integer.toString(adding));
        }
        return fields;
    }

    /**
     * The layout with {@code wanted} partitions taking adds: the existing names kept, new ones
     * made up to {@code wanted}. In a Cluster ({@code masterOfSlot} answers a node id per slot; null
     * for a standalone Redis) each new partition goes to the master that holds the fewest of the
     * kind's partitions (the first in slot order on a tie), its salt the smallest whose slot that
     * master serves.
     */
    public KindLayout withAdding(int wanted, IntFunction<String> masterOfSlot, List<String> mastersInSlotOrder) {
        List<String> names = new ArrayList<>(partitions);
        for (int k = names.size(); k < wanted; k++) {
            names.add(newPartition(k, names, masterOfSlot, mastersInSlotOrder));
        }
        return new KindLayout(kind, wanted, names);
    }

    private String newPartition(int k, List<String> existing, IntFunction<String> masterOfSlot, List<String> masters) {
        if (masterOfSlot == null || masters == null || masters.isEmpty()) {
            return Keys.partitionName(kind, k, 0);
        }
        Map<String, Integer> held = new HashMap<>();
        masters.forEach(master -> held.put(master, 0));
        for (String name : existing) {
            held.merge(masterOfSlot.apply(SlotHash.getSlot(name)), 1, Integer::sum);
        }
        String target = masters.getFirst();
        for (String master : masters) {
            if (held.get(master) < held.get(target)) {
                target = master;
            }
        }
        for (int salt = 0; salt < MAX_SALT; salt++) {
            String name = Keys.partitionName(kind, k, salt);
            if (target.equals(masterOfSlot.apply(SlotHash.getSlot(name)))) {
                return name;
            }
        }
        return Keys.partitionName(kind, k, 0);   // (a master with almost no slots: any place will do)
    }
}
