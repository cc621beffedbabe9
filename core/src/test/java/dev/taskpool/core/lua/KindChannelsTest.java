package dev.taskpool.core.lua;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.cluster.SlotHash;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The channels a kind is followed through: in its slot, named by {@link Keys}, and apart from the task channels' pattern. */
class KindChannelsTest {
    @Test
    void theKindsEventsChannelIsInItsSlotAndNoTaskChannel() {
        Keys keys = Keys.of("mail.send");
        assertEquals("taskpool:{mail.send}:events", keys.kindEvents());
        int slot = SlotHash.getSlot(keys.waiting());
        for (String channel : List.of(keys.kindEvents(), keys.control(), keys.events(7))) {
            assertEquals(slot, SlotHash.getSlot(channel), channel + " is in the kind's slot: its scripts may SPUBLISH on it");
            assertEquals("mail.send", Keys.kindOfChannel(channel));
        }
        assertFalse(glob(Keys.allEventsPattern()).matcher(keys.kindEvents()).matches(), "the patterns see no message twice");
        assertFalse(glob(keys.eventsPattern()).matcher(keys.kindEvents()).matches());
        assertTrue(glob(keys.eventsPattern()).matcher(keys.events(7)).matches());
    }

    @Test
    void aPartitionsChannelsAreInItsSlotAndBelongToItsKind() {
        for (Keys keys : KindLayout.single("mail.send").withAdding(3, null, null).all()) {
            int slot = SlotHash.getSlot(keys.waiting());
            for (String channel : List.of(keys.kindEvents(), keys.control(), keys.events(7))) {
                assertEquals(slot, SlotHash.getSlot(channel), channel);
                assertEquals("mail.send", Keys.kindOfChannel(channel));
            }
        }
    }

    /** A Redis glob with only {@code *} and the braces taken literally (all these patterns use). */
    private static Pattern glob(String pattern) {
        return Pattern.compile(Pattern.quote(pattern).replace("*", "\\E.*\\Q"));
    }
}
