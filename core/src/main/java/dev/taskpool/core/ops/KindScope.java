package dev.taskpool.core.ops;

import dev.taskpool.core.lua.KindLayout;
import dev.taskpool.core.lua.Keys;
import java.util.List;

/**
 * What an operator's call names: a whole kind (every partition of it, in partition order; the
 * kind's own keys alone for most kinds) or, by a partition's name ({@code mail.send~2}), that one
 * partition of it.
 *
 * @param layout the kind's layout as Redis holds it now
 * @param only   the one partition named, or null for the whole kind
 */
record KindScope(KindLayout layout, Keys only) {
    /** The kind (never a partition's name). */
    String kind() {
        return layout.kind();
    }

    /** The partitions the call covers, in partition order. */
    List<Keys> partitions() {
        return only != null ? List.of(only) : layout.all();
    }

    /** Whether the call covers more than one partition (so that which one says something). */
    boolean several() {
        return only == null && layout.partitioned();
    }

    /** Where to look for task {@code id}, in order (see {@link TaskPlaces#candidates}). */
    List<Keys> candidates(long id) {
        return only != null ? List.of(only) : TaskPlaces.candidates(layout, id);
    }
}
