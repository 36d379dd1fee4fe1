package dev.cryo.core.restore;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Finding a range free in every layout of a restore. */
class AddressSpaceTest {
    private static AddressSpace.Range r(long s, long e) {
        return new AddressSpace.Range(s, e);
    }

    @Test
    void firstFreeStepAfterTheTakenRanges() {
        List<AddressSpace.Range> taken = List.of(r(0x10000, 0x30000), r(0x40000, 0x41000));
        assertEquals(0x30000, AddressSpace.findFree(taken, 0x10000, 0x10000, 0x10000));
        assertEquals(0x50000, AddressSpace.findFree(taken, 0x20000, 0x10000, 0x10000), "0x30000+0x20000 hits 0x40000");
        assertEquals(0x10000, AddressSpace.findFree(List.of(), 0x1000, 0x10000, 0x10000));
    }

    @Test
    void halfOpenRangesTouchWithoutOverlapping() {
        assertEquals(0x20000, AddressSpace.findFree(List.of(r(0x10000, 0x20000)), 0x10000, 0x10000, 0x10000));
        assertEquals(false, r(0x10000, 0x20000).overlaps(0x20000, 0x30000));
        assertEquals(true, r(0x10000, 0x20000).overlaps(0x1ffff, 0x20000));
    }

    @Test
    void noRoomIsAnError() {
        assertThrows(IllegalStateException.class,
                () -> AddressSpace.findFree(List.of(r(0, 0x7ff000000000L)), 0x1000, 0x1000, 0x1000));
    }
}
