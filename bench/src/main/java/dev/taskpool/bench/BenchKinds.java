package dev.taskpool.bench;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The task kinds of a benchmark run and how the work is split over them. A kind's keys all live in
 * the slot of its hash tag, so on a Cluster one kind is served by one master: the names are chosen
 * so that kind i lands on master i mod M (M masters), i.e. K kinds on K different masters when K <= M,
 * spread evenly when K > M. Names are tried in order ({@code prefix + "k" + j}, j = 0, 1, ...) and the
 * first one whose slot belongs to the wanted master is taken: with M masters that takes about M tries.
 */
final class BenchKinds {
    /** Far more than M tries could need, unless a master serves almost no slots. */
    private static final int MAX_TRIES = 100_000;

    private BenchKinds() {
    }

    /**
     * @param masters  the masters' addresses, in a fixed order
     * @param masterOf the address of the master serving a kind's keys
     */
    static List<String> choose(String prefix, int count, List<String> masters, UnaryOperator<String> masterOf) {
        if (masters.isEmpty()) {
            throw new IllegalArgumentException("no Redis master to place the benchmark's task kinds on");
        }
        List<String> kinds = new ArrayList<>();
        Set<String> taken = new HashSet<>();
        for (int i = 0; i < count; i++) {
            String wanted = masters.get(i % masters.size());
            String found = null;
            for (int j = 0; j < MAX_TRIES && found == null; j++) {
                String candidate = prefix + "k" + j;
                if (!taken.contains(candidate) && wanted.equals(masterOf.apply(candidate))) {
                    found = candidate;
                }
            }
            if (found == null) {
                throw new IllegalStateException("found no task kind name whose slot is served by master " + wanted
                        + " in " + MAX_TRIES + " tries (does it serve any slot?)");
            }
            taken.add(found);
            kinds.add(found);
        }
        return kinds;
    }

    /** {@code total} split over {@code parts}: equal shares, the first {@code total % parts} one more. */
    static List<Integer> split(int total, int parts) {
        List<Integer> shares = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            shares.add(total / parts + (i < total % parts ? 1 : 0));
        }
        return shares;
    }
}
