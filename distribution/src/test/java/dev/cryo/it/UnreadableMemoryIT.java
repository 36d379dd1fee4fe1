package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Memory that process_vm_readv cannot read is dumped as the kernel holds it, as CRIU does ({@code
 * unreadable_memory.c}, {@code shm_single.c protnone}): PROT_NONE pages holding data (private anonymous, a
 * copy-on-write page of a private file mapping, shared memory) are read through /proc/PID/mem and come back with
 * their protection; guard regions (MADV_GUARD_INSTALL) come back as guard regions, still faulting; pages of a file
 * mapping past the end of its file still raise SIGBUS. The restored programs check all of it themselves. A dump with
 * {@code -R} leaves the process exactly as it was (same mappings, same protections).
 */
class UnreadableMemoryIT extends WithTestBed {

    @Test
    void protNoneDataGuardRegionsAndPagesPastEndOfFileComeBackAsTheKernelHeldThem() {
        Workload w = bed.startVerified("unreadable_memory");
        bed.dumpAndRestoreTwice(w, 2);
    }

    @Test
    void protNoneDataNextToSharedMemoryIsDumpedWithoutTouchingTheProcess() throws IOException {
        Workload w = bed.startVerified("shm_single", "protnone");
        Path maps = Path.of("/proc", Long.toString(w.pid()), "maps");
        List<String> before = Files.readAllLines(maps);

        bed.cryo().dump(w.pid(), bed.newImageDir(), "-R").assertOk();
        assertTrue(w.isAlive(), w + " did not survive dump -R");
        assertEquals(before, Files.readAllLines(maps), "dump -R changed the mappings of " + w);
        w.awaitNewTicks(2);
        w.assertVerifyPass();

        Path image = bed.dumpAndAwaitGone(w);
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        String verdict = r.assertVerifyPass();
        assertTrue(verdict.contains("verifies=3"), verdict);
        TestBed.killRestored(r, rc);
    }
}
