package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * SysV shared memory (the {@code sysv-shm} plugin), workload {@code sysv_shm.c}: a parent and child share segment A
 * (IPC_PRIVATE, marked for removal: it dies with the tree) and segment B (keyed: it outlives the tree), with
 * read-only and PROT_NONE attachments. After restore the workload checks ids, sizes, modes, SHM_DEST, attachment
 * counts, key lookup, contents and protections from both processes.
 */
class SysvShmIT extends WithTestBed {
    private final List<Integer> segments = new ArrayList<>();

    @AfterEach
    void removeSegments() throws IOException {
        for (int id : segments) {
            if (segmentExists(id)) {
                ipcrm(id);
            }
        }
    }

    @Test
    void aSurvivingSegmentIsAttachedAgainAndARemovedOneCreatedAgainWithItsId() throws IOException {
        Started s = start();
        Path image = bed.dumpAndAwaitGone(s.w);
        assertFalse(segmentExists(s.a), "A was marked for removal: it must die with the tree");
        assertTrue(segmentExists(s.b), "B outlives the tree");

        restoreAndVerify(s, image);
    }

    @Test
    void aKeyedSegmentRemovedSinceTheDumpIsCreatedAgainWithItsContents() throws IOException {
        Started s = start();
        Path image = bed.dumpAndAwaitGone(s.w);
        ipcrm(s.b);

        restoreAndVerify(s, image);
        assertEquals("-1", Files.readAllLines(Path.of("/proc/sys/kernel/shm_next_id")).get(0).strip());
    }

    /** Segment id 0 is the first a freshly booted host hands out (it was refused as "plugin not enabled"). */
    @Test
    void aSegmentWithIdZeroIsKept() throws IOException {
        Assumptions.assumeFalse(segmentExists(0), "segment 0 is in use on this host: the test needs it free");
        Files.writeString(Path.of("/proc/sys/kernel/shm_next_id"), "0");
        Started s = start();
        assertEquals(0, s.a, "the workload's first segment was to get id 0 (shm_next_id)");
        Path image = bed.dumpAndAwaitGone(s.w);
        assertFalse(segmentExists(s.a), "A was marked for removal: it must die with the tree");

        restoreAndVerify(s, image);
    }

    @Test
    void aFailedRestoreRemovesTheSegmentsItCreated() throws IOException {
        Started s = start();
        Path image = bed.dumpAndAwaitGone(s.w);
        ipcrm(s.b);
        // the child is restored after its parent, which creates both segments: damage a page of the child's
        Path pages = ImagePages.pagesFile(image, s.child);
        long at = ImagePages.HEADER_BYTES + 100;
        ImagePages.flip(pages, at);

        CryoResult restore = bed.cryo().restore(image, "-d");
        restore.assertExit(CryoResult.IMAGE);
        restore.assertStderrMentions(pages.toString(), "checksum mismatch");
        bed.assertNoProcessWithPid(s.w.pid(), s.w.comm(), restore);
        assertFalse(segmentExists(s.a), "segment A created by the failed restore is still there");
        assertFalse(segmentExists(s.b), "segment B created by the failed restore is still there");
        assertEquals("-1", Files.readAllLines(Path.of("/proc/sys/kernel/shm_next_id")).get(0).strip());

        ImagePages.flip(pages, at);
        restoreAndVerify(s, image);
    }

    private record Started(Workload w, long child, int a, int b) {
    }

    private Started start() {
        Workload w = bed.workloads().start("sysv_shm");
        long child = bed.workloads().trackChild(w);
        int a = Integer.parseInt(w.ready("a"));
        int b = Integer.parseInt(w.ready("b"));
        segments.add(a);
        segments.add(b);
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        return new Started(w, child, a, b);
    }

    private void restoreAndVerify(Started s, Path image) {
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, s.w);
        bed.workloads().trackForeignPid(s.child);
        String verdict = r.assertVerifyPass();
        assertTrue(verdict.contains("child=" + s.child) && verdict.contains("a=" + s.a + " b=" + s.b), verdict);
        TestBed.killRestored(r, rc);
    }

    /** Removes segment {@code id} once nothing has it attached (the killed tree's processes may still be exiting). */
    static void removeWhenUnused(int id) throws IOException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (segmentExists(id) && System.nanoTime() < deadline) {
            if (!Files.readAllLines(Path.of("/proc/sysvipc/shm")).stream().skip(1).map(l -> l.trim().split("\\s+"))
                    .anyMatch(f -> f[1].equals(Integer.toString(id)) && !f[6].equals("0"))) {
                ipcrm(id);
                return;
            }
            ProcessControl.sleep(50);
        }
    }

    static boolean segmentExists(int id) throws IOException {
        return Files.readAllLines(Path.of("/proc/sysvipc/shm")).stream().skip(1)
                .map(l -> l.trim().split("\\s+"))
                .anyMatch(f -> f.length > 1 && f[1].equals(Integer.toString(id)));
    }

    static void ipcrm(int id) throws IOException {
        try {
            Process p = new ProcessBuilder("ipcrm", "-m", Integer.toString(id)).inheritIO().start();
            assertEquals(0, p.waitFor(), "ipcrm -m " + id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
