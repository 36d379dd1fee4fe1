package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Memfds held as fds ({@code memfd_fd.c}): a sealable memfd also mapped MAP_SHARED, and a plain one held through two
 * open file descriptions. After restore the process checks names, sizes, modes, offsets, FD_CLOEXEC, access modes,
 * seals (and that they act), content, and that the fd and the mapping are one memfd (writes through either are seen
 * through the other); then the restored process is dumped and restored once more.
 */
class MemfdIT extends WithTestBed {
    private static final int KILLED = 128 + ProcessControl.SIGKILL;

    @Test
    void memfdsHeldAsFdsAndMappedComeBackAsTheSameMemfds() throws IOException {
        Workload w = bed.workloads().start("memfd_fd");
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);

        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        assertTrue(r.assertVerifyPass().contains("round=2"));
        Path fd = Path.of("/proc", Long.toString(w.pid()), "fd", w.ready("buf"));
        assertEquals("/memfd:app-buf (deleted)", Files.readSymbolicLink(fd).toString());

        Path again = bed.dumpAndAwaitGone(r);
        Cryo.await(rc).assertExit(KILLED);
        RunningCryo rc2 = bed.cryo().restoreInBackground(again);
        Workload r2 = bed.awaitRestoredRoot(rc2, w);
        assertTrue(r2.assertVerifyPass().contains("round=3"));
        TestBed.killRestored(r2, rc2);
    }
}
