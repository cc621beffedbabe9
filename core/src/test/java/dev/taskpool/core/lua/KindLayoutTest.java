package dev.taskpool.core.lua;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taskpool.core.TaskpoolException;
import dev.taskpool.core.definition.TaskDefinition;
import io.lettuce.core.cluster.SlotHash;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The layout of a kind's partitions: names, ids, keys, shares, and where new partitions go. No Redis: plain logic. */
class KindLayoutTest {
    /** Three masters splitting the slots evenly, as `redis-cli --cluster create` does. */
    private static final List<String> MASTERS = List.of("a", "b", "c");
    private static final IntFunction<String> EVEN_THIRDS = slot -> slot <= 5460 ? "a" : slot <= 10922 ? "b" : "c";

    @Test
    void aKindWithoutPartitionsHasOneKeySetAndItsIdsAreItsOwn() {
        KindLayout layout = KindLayout.fromDefinition("mail.send", Map.of("size", "10"));
        assertFalse(layout.partitioned());
        assertEquals(List.of("mail.send"), layout.partitions());
        assertEquals("taskpool:{mail.send}:task:1201", layout.ofId(1201).task(1201));
        assertEquals(Map.of(), layout.publishedFields());
    }

    @Test
    void partitionNamesAreKeysOfTheirOwnTagBelongingToTheKind() {
        Keys second = Keys.of(Keys.partitionName("mail.send", 2, 37));
        assertEquals("mail.send~2.37", second.partition());
        assertEquals("mail.send", second.task());
        assertEquals("taskpool:{mail.send~2.37}:waiting", second.waiting());
        assertEquals("mail.send", Keys.kindOfChannel(second.events(5)));
        assertEquals(2, Keys.partitionNumber(second.partition()));
        assertEquals("mail.send", Keys.partitionName("mail.send", 0, 9));
        for (String broken : List.of("mail.send~", "mail.send~x", "mail.send~1.", "mail.send~01", "mail.send~1.2.3", "~1")) {
            assertThrows(TaskpoolException.class, () -> Keys.of(broken), broken);
        }
    }

    @Test
    void onAStandaloneRedisNewPartitionsAreNumberedAndTheLayoutIsPublishedAndReadBack() {
        KindLayout layout = KindLayout.single("img").withAdding(3, null, null);
        assertEquals(List.of("img", "img~1", "img~2"), layout.partitions());
        assertEquals(3, layout.adding());
        Map<String, String> published = layout.publishedFields();
        assertEquals(Map.of("partition_names", "img,img~1,img~2", "partitions", "3"), published);
        assertEquals(layout, KindLayout.fromDefinition("img", published));
    }

    @Test
    void inAClusterEachNewPartitionLandsOnTheMasterHoldingFewestOfTheKindsPartitions() {
        for (String kind : List.of("img", "mail.send", "report-7", "a", "zz.top")) {
            KindLayout layout = KindLayout.single(kind).withAdding(3, EVEN_THIRDS, MASTERS);
            Set<String> masters = new HashSet<>();
            for (String name : layout.partitions()) {
                masters.add(EVEN_THIRDS.apply(SlotHash.getSlot(name)));
            }
            assertEquals(Set.copyOf(MASTERS), masters, kind + ": " + layout.partitions());
            KindLayout six = layout.withAdding(6, EVEN_THIRDS, MASTERS);
            assertEquals(layout.partitions(), six.partitions().subList(0, 3), "a grown layout keeps its partitions");
            for (String master : MASTERS) {
                assertEquals(2, six.partitions().stream().filter(name -> EVEN_THIRDS.apply(SlotHash.getSlot(name)).equals(master))
                        .count(), kind + " x6 on " + master + ": " + six.partitions());
            }
        }
    }

    @Test
    void fewerAddingPartitionsKeepEveryNameSoNothingIsStranded() {
        KindLayout three = KindLayout.single("img").withAdding(3, null, null);
        KindLayout one = three.withAdding(1, null, null);
        assertEquals(three.partitions(), one.partitions());
        assertEquals(1, one.adding());
        assertTrue(one.partitioned());
        assertEquals(0, one.numberOfKey("anything"));
    }

    @Test
    void anIdsLastTwoDigitsNameItsPartitionAndOtherIdsAreInPartitionZero() {
        KindLayout layout = KindLayout.single("img").withAdding(3, null, null);
        assertEquals("img~1", layout.ofId(100_201).partition());
        assertEquals("img~2", layout.ofId(100_202).partition());
        assertEquals("img", layout.ofId(100_200).partition());
        assertEquals("img", layout.ofId(1_234_557).partition(), "57: no such partition, so one from before the partitions");
    }

    @Test
    void aUniqueKeyAlwaysGoesToTheSamePartitionAndKeysSpreadOverAll() {
        KindLayout layout = KindLayout.single("img").withAdding(3, null, null);
        int[] counts = new int[3];
        IntStream.range(0, 3000).forEach(i -> counts[layout.numberOfKey("order-" + i)]++);
        for (int count : counts) {
            assertTrue(count > 800 && count < 1200, java.util.Arrays.toString(counts));
        }
        assertEquals(layout.numberOfKey("order-17"), layout.numberOfKey("order-17"));
    }

    @Test
    void aBrokenListOfPartitionsIsRefusedNamingTheKeyAndField() {
        for (String broken : List.of("img,img~2", "other,other~1", "img~1,img", "img,img~x")) {
            TaskpoolException error = assertThrows(TaskpoolException.class,
                    () -> KindLayout.fromDefinition("img", Map.of("partition_names", broken)));
            assertTrue(error.getMessage().contains("taskpool:{img}:def field partition_names '" + broken + "'"), error.getMessage());
        }
    }

    @Test
    void sharesAddUpToTheWholeAndNeverFallToZero() {
        assertEquals(List.of(4, 3, 3), IntStream.range(0, 3).map(k -> TaskDefinition.share(10, 3, k)).boxed().toList());
        assertEquals(List.of(1, 1, 1), IntStream.range(0, 3).map(k -> TaskDefinition.share(2, 3, k)).boxed().toList());
    }
}
