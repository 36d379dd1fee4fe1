package dev.cryo.plugin.memory;

import dev.cryo.plugin.memory.ObjectRanges.Range;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ObjectRangesTest {
    @Test
    void emptySetMissesEverything() {
        ObjectRanges r = new ObjectRanges();
        assertEquals(List.of(new Range(0, 100)), r.missing(0, 100));
        assertEquals(List.of(), r.missing(5, 5));
    }

    @Test
    void addMergesOverlappingAndAdjacentRanges() {
        ObjectRanges r = new ObjectRanges();
        r.add(10, 20);
        r.add(30, 40);
        r.add(20, 25);            // adjacent to the first
        r.add(50, 60);
        assertEquals(List.of(new Range(10, 25), new Range(30, 40), new Range(50, 60)), r.ranges());
        r.add(24, 55);            // bridges three
        assertEquals(List.of(new Range(10, 60)), r.ranges());
        r.add(0, 5);
        r.add(12, 13);            // inside
        r.add(5, 5);              // empty: ignored
        assertEquals(List.of(new Range(0, 5), new Range(10, 60)), r.ranges());
    }

    @Test
    void missingGivesTheGapsInsideTheQuery() {
        ObjectRanges r = new ObjectRanges();
        r.add(10, 20);
        r.add(30, 40);
        assertEquals(List.of(new Range(0, 10), new Range(20, 30), new Range(40, 50)), r.missing(0, 50));
        assertEquals(List.of(new Range(20, 30)), r.missing(15, 35));
        assertEquals(List.of(), r.missing(12, 18));
        assertEquals(List.of(new Range(20, 25)), r.missing(12, 25));
        assertEquals(List.of(new Range(25, 30)), r.missing(25, 30));
        assertEquals(List.of(new Range(40, 41)), r.missing(35, 41));
        assertEquals(List.of(new Range(45, 50)), r.missing(45, 50));
    }

    @Test
    void thePushedMemfdAvoidsTheLowestFreeFd() {
        assertEquals(1, SharedMemoryRestore.secondFree(java.util.Set.of()));
        assertEquals(4, SharedMemoryRestore.secondFree(java.util.Set.of(0, 1, 2)));
        assertEquals(5, SharedMemoryRestore.secondFree(java.util.Set.of(0, 1, 2, 4, 6)));
        assertEquals(2, SharedMemoryRestore.secondFree(java.util.Set.of(1, 3)));
    }

    @Test
    void shmemKeysRoundTrip() {
        ShmemKey k = new ShmemKey("00:01", 123456);
        assertEquals("00:01/123456", k.toString());
        assertEquals(k, ShmemKey.parse(k.toString()));
        assertThrows(IllegalArgumentException.class, () -> ShmemKey.parse("123"));
    }
}
