package dev.cryo.plugin.memory;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.cryo.plugin.memory.MemorySyscalls.PM_FILE;
import static dev.cryo.plugin.memory.MemorySyscalls.PM_PRESENT;
import static dev.cryo.plugin.memory.MemorySyscalls.PM_SWAPPED;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PageRunsTest {
    static final long P = 4096;
    static final long BASE = 0x7f0000000000L;
    /** pfn bits set as the kernel would, to show they do not matter */
    static final long PFN = 0x12345L;

    static final long[] MIXED = {
            PM_PRESENT | PFN,            // 0 anonymous page
            0,                           // 1 never touched
            PM_SWAPPED | 0x1234,         // 2 swapped out (swap type/offset in low bits)
            PM_PRESENT | PFN,            // 3 anonymous page
            PM_PRESENT | PM_FILE | PFN,  // 4 file page (or shared anonymous)
            PM_PRESENT | PM_FILE | PFN,  // 5 file page
            0,                           // 6
            PM_PRESENT | PFN,            // 7 anonymous page, last
    };

    /** A guard marker as kernel 6.18 shows it: "swapped" plus bit 58, with the marker in the low bits. */
    static final long GUARD = 0x440000000000009fL;

    @Test
    void guardPagesAreNeverSavedButCollectedApart() {
        long[] entries = {PM_PRESENT | PFN, GUARD, GUARD, 0, PM_PRESENT | PFN, GUARD};
        for (MappingKind k : MappingKind.values()) {
            assertEquals(k == MappingKind.FILE_SHARED ? List.of() : List.of(run(0, 1), run(4, 1)),
                    PageRuns.compute(entries, BASE, k), k.toString());
        }
        PageRuns guards = PageRuns.guards();
        guards.add(entries, BASE);
        assertEquals(List.of(run(1, 2), run(5, 1)), guards.finish());
    }

    @Test
    void anonymousPrivateKeepsPresentAndSwappedPages() {
        assertEquals(List.of(run(0, 1), run(2, 4), run(7, 1)), PageRuns.compute(MIXED, BASE, MappingKind.ANON_PRIVATE));
    }

    @Test
    void anonymousSharedKeepsShmemPagesToo() {
        assertEquals(List.of(run(0, 1), run(2, 4), run(7, 1)), PageRuns.compute(MIXED, BASE, MappingKind.ANON_SHARED));
    }

    @Test
    void privateFileMappingKeepsOnlyWrittenPages() {
        assertEquals(List.of(run(0, 1), run(2, 2), run(7, 1)), PageRuns.compute(MIXED, BASE, MappingKind.FILE_PRIVATE));
    }

    @Test
    void sharedFileMappingKeepsNothing() {
        assertEquals(List.of(), PageRuns.compute(MIXED, BASE, MappingKind.FILE_SHARED));
    }

    @Test
    void emptyAndUntouchedMappingsGiveNoRuns() {
        assertEquals(List.of(), PageRuns.compute(new long[0], BASE, MappingKind.ANON_PRIVATE));
        assertEquals(List.of(), PageRuns.compute(new long[1000], BASE, MappingKind.ANON_PRIVATE));
    }

    @Test
    void aFullyPresentHeapIsOneRun() {
        long[] heap = new long[512 * 1024 * 1024 / 4096];
        java.util.Arrays.fill(heap, PM_PRESENT | PFN);
        assertEquals(List.of(new PageRuns.Run(BASE, 512L << 20)), PageRuns.compute(heap, BASE, MappingKind.ANON_PRIVATE));
    }

    @Test
    void runsCoalesceAcrossChunks() {
        PageRuns r = new PageRuns(MappingKind.ANON_PRIVATE);
        r.add(new long[]{0, PM_PRESENT, PM_PRESENT}, BASE);
        r.add(new long[]{PM_PRESENT, 0, PM_SWAPPED}, BASE + 3 * P);
        r.add(new long[]{PM_PRESENT}, BASE + 6 * P);
        assertEquals(List.of(run(1, 3), run(5, 2)), r.finish());
    }

    private static PageRuns.Run run(long firstPage, long pages) {
        return new PageRuns.Run(BASE + firstPage * P, pages * P);
    }
}
