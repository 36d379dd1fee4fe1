package dev.cryo.plugin.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cryo.api.MemoryHandler;
import dev.cryo.plugin.memory.proto.CowRun;
import dev.cryo.plugin.memory.proto.VmaEntry;
import dev.cryo.plugin.memory.proto.VmaKind;
import java.util.List;
import org.junit.jupiter.api.Test;

class CowSharingTest {
    private static final long P = 4096;

    private static CowRun run(long start, long pages) {
        return CowRun.newBuilder().setStart(start).setLength(pages * P).build();
    }

    @Test
    void complementIsTheRangeOutsideTheRuns() {
        List<long[]> c = CowSharing.complement(List.of(run(0x1000, 2), run(0x5000, 1)), 0x0, 0x8000);
        assertEquals(3, c.size());
        assertArrayEquals(new long[]{0x0, 0x1000}, c.get(0));
        assertArrayEquals(new long[]{0x3000, 0x5000}, c.get(1));
        assertArrayEquals(new long[]{0x6000, 0x8000}, c.get(2));
        assertTrue(CowSharing.complement(List.of(run(0x0, 8)), 0x0, 0x8000).isEmpty(), "all shared");
        // a run reaching past the mapping (a damaged record) is cut to it
        List<long[]> cut = CowSharing.complement(List.of(run(0x6000, 100)), 0x0, 0x8000);
        assertEquals(1, cut.size());
        assertArrayEquals(new long[]{0x0, 0x6000}, cut.get(0));
    }

    @Test
    void sharedPagesArePresentWithTheParentsPfn() {
        long[] child = {5, 0, 7, 9, 0};
        long[] parent = {5, 0, 8, 9, 3};
        PageRuns shared = new PageRuns(MappingKind.ANON_PRIVATE);
        CowSharing.addShared(shared, child, parent, 0, child.length, 0x10000);
        List<PageRuns.Run> runs = shared.finish();
        assertEquals(List.of(new PageRuns.Run(0x10000, P), new PageRuns.Run(0x13000, P)), runs);
    }

    @Test
    void pfnsOfPresentPagesOnly() {
        long present = 1L << 63;
        long swapped = 1L << 62;
        long[] out = new long[4];
        CowSharing.pfns(new long[]{present | 0x1234, swapped | 0x55, 0, present | (1L << 56) | 0x99}, out, 0);
        assertArrayEquals(new long[]{0x1234, 0, 0, 0x99}, out);
    }

    @Test
    void aRangeIsInheritedOnlyWhenWhollyPrivateAnonymous() {
        List<CowSharing.MapsLine> maps = List.of(new CowSharing.MapsLine(0x1000, 0x3000, true),
                new CowSharing.MapsLine(0x3000, 0x5000, true), new CowSharing.MapsLine(0x6000, 0x7000, false));
        assertTrue(CowSharing.inherited(maps, 0x1000, 0x5000), "two merged pieces");
        assertTrue(CowSharing.inherited(maps, 0x2000, 0x4000));
        assertFalse(CowSharing.inherited(maps, 0x1000, 0x6000), "a hole");
        assertFalse(CowSharing.inherited(maps, 0x6000, 0x7000), "a file mapping");
        assertFalse(CowSharing.inherited(maps, 0x8000, 0x9000), "unmapped");
        assertTrue(CowSharing.overlaps(maps, 0x4000, 0x6000));
        assertFalse(CowSharing.overlaps(maps, 0x5000, 0x6000));
    }

    @Test
    void onlyMappingsWithRunsThatForkWouldInheritAreAskedFor() {
        VmaEntry plain = VmaEntry.newBuilder().setStart(0x1000).setEnd(0x9000).setProt(3)
                .setKind(VmaKind.ANON_PRIVATE).addCowRuns(run(0x1000, 1)).build();
        VmaEntry noRuns = plain.toBuilder().setStart(0x10000).setEnd(0x11000).clearCowRuns().build();
        VmaEntry wipe = plain.toBuilder().setStart(0x20000).setEnd(0x21000).addVmFlags("wf").build();
        VmaEntry file = plain.toBuilder().setStart(0x30000).setEnd(0x31000).setKind(VmaKind.FILE_PRIVATE).build();
        assertEquals(List.of(new MemoryHandler.Range(0x1000, 0x9000)),
                CowSharing.ranges(List.of(plain, noRuns, wipe, file)));
    }
}
