package dev.taskpool.core.ops;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One partition's row in the counts of a partitioned kind ({@link KindStats#partitions()}).
 *
 * @param number   its number (0 is the kind's own hash tag)
 * @param name     its name, the text between the braces of its keys ({@code mail.send~2}); what
 *                 {@code taskpool stats}, {@code list} and the actions take to name it alone
 * @param slot     the Cluster slot of its keys
 * @param master   in a Cluster, the address of the master serving that slot (as this process sees
 *                 the topology); null on a standalone Redis, or while no master serves it
 * @param adding   whether it takes adds (the first {@code partitions} do; the others are served until empty)
 * @param size     its share of the kind's {@code size}, as published
 * @param waiting  its WAITING tasks, ready and delayed
 * @param running  its RUNNING tasks
 * @param paused   whether it is paused
 * @param flow     what holds it back (its share of the cap and the rate, and its own holds)
 */
public record PartitionStats(int number, String name, int slot, @JsonInclude(JsonInclude.Include.NON_NULL) String master,
                             boolean adding, long size, long waiting, long ready, long delayed, long running,
                             boolean paused, KindFlow flow) {
}
