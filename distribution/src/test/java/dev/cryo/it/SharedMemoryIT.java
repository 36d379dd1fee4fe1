package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Shared memory through dump and restore: MAP_SHARED|MAP_ANONYMOUS and memfd mappings come back as one object per
 * shmem object (a memfd), with their content, still shared — within one process now, between a parent and its child
 * once core restores process trees. Workloads: {@code shm_single.c}, {@code shm_parent_child.c}.
 */
class SharedMemoryIT extends WithTestBed {
    private static final int PAGE = 4096;
    private static final int KILLED = 128 + ProcessControl.SIGKILL;

    @Test
    void sharedAnonymousAndMemfdMappingsComeBackSharedWithTheirContent() throws IOException {
        Workload w = bed.workloads().start("shm_single");
        long anon = Long.decode(w.ready("anon"));
        long view1 = Long.decode(w.ready("view1"));
        long view2 = Long.decode(w.ready("view2"));
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);

        // the memfd's two views are one object: one key, its 32 written pages saved exactly once between them
        ShowOutput show = bed.cryo().show(image);
        Struct v1 = vmaAt(show, w.pid(), view1);
        Struct v2 = vmaAt(show, w.pid(), view2);
        String key = ShowOutput.str(v1, "shmemKey");
        assertFalse(key.isEmpty(), "no shmem_key on " + ShowOutput.json(v1));
        assertEquals(key, ShowOutput.str(v2, "shmemKey"), "the two views of the memfd have different keys");
        assertEquals("app-shm", ShowOutput.str(v1, "memfdName"));
        assertEquals(32L * PAGE, savedBytes(v1) + savedBytes(v2), "bytes of the memfd saved over both views");
        // anon: pages 0-15, 20 (the verify cell), 40 and 63 hold data, nothing else is saved
        assertEquals(19L * PAGE, savedBytes(vmaAt(show, w.pid(), anon)), "bytes of the shared anonymous region");

        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        r.assertVerifyPass();
        List<String> maps = Files.readAllLines(Path.of("/proc", Long.toString(w.pid()), "maps"));
        String line1 = mapsLine(maps, view1);
        String line2 = mapsLine(maps, view2);
        assertTrue(line1.endsWith("/memfd:app-shm (deleted)") && line2.endsWith("/memfd:app-shm (deleted)"),
                line1 + "\n" + line2);
        assertEquals(inode(line1), inode(line2), "the views map different objects:\n" + line1 + "\n" + line2);
        assertTrue(mapsLine(maps, anon).endsWith("/memfd:cryo-shmem (deleted)"), mapsLine(maps, anon));

        // a restored process holds memfd mappings now: dump and restore it once more
        long mark = w.log().size();
        Path again = bed.dumpAndAwaitGone(r);
        Cryo.await(rc).assertExit(KILLED);
        RunningCryo rc2 = bed.cryo().restoreInBackground(again);
        Workload r2 = bed.awaitRestoredRoot(rc2, w);
        w.log().awaitTicks(mark, 2, Workload.TIMEOUT);
        String verdict = r2.assertVerifyPass();
        assertTrue(verdict.contains("verifies=3"), verdict);
        TestBed.killRestored(r2, rc2);
    }

    /**
     * Parent and child share a MAP_SHARED|MAP_ANONYMOUS region; the child wrote a page the parent never touched. After
     * restore each sees the other's old and new writes.
     */
    @Test
    void parentAndChildStillShareAfterRestore() {
        Workload w = bed.workloads().start("shm_parent_child");
        long child = bed.workloads().trackChild(w);
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);
        TestBed.Restoring restore = bed.startRestoreWithChild(image, w, child);
        String verdict = restore.workload().assertVerifyPass();
        assertTrue(verdict.contains("child=" + child), verdict);
        assertTrue(verdict.contains("request=2"), "the request counter lives in the shared memory: " + verdict);
        TestBed.killRestored(restore.workload(), restore.cryo());
    }

    // ---- helpers ----

    private static Struct vmaAt(ShowOutput show, long pid, long start) {
        return show.vmas(pid).stream().filter(v -> ShowOutput.vmaStart(v) == start).findFirst()
                .orElseThrow(() -> new AssertionError("no VMA at 0x" + Long.toHexString(start) + " in mm-" + pid));
    }

    private static long savedBytes(Struct vma) {
        return ShowOutput.pageRuns(vma).stream().mapToLong(ShowOutput.PageRun::length).sum();
    }

    private static String mapsLine(List<String> maps, long start) {
        String prefix = Long.toHexString(start) + "-";
        return maps.stream().filter(l -> l.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("nothing mapped at 0x" + Long.toHexString(start) + ":\n"
                        + String.join("\n", maps))).trim();
    }

    private static String inode(String mapsLine) {
        return mapsLine.split("\\s+")[4];
    }
}
