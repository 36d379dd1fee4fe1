package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Processes under seccomp ({@code seccomp_tree.c}): a strict-mode child, a child whose two threads have different
 * filters, and one whose threads share theirs. {@code dump -R} leaves every one of them alive and unchanged (cryo
 * injects with seccomp suspended; a strict-mode task used to be killed); after a restore each thread checks that its
 * mode, filters and no_new_privs are back and still act (the probe: strict mode kills on a forbidden call, the shared
 * filters accept a TSYNC), and the parent that had no seccomp still has none.
 */
class SeccompIT extends WithTestBed {

    @Test
    void seccompStateSurvivesDumpAndIsRestored() throws IOException {
        Workload w = bed.workloads().start("seccomp_tree");
        long strict = bed.workloads().trackReadyPid(w, "strict");
        long mixed = bed.workloads().trackReadyPid(w, "mixed");
        long shared = bed.workloads().trackReadyPid(w, "shared");
        List<Long> children = List.of(strict, mixed, shared);
        w.assertVerifyPass();

        bed.cryo().dump(w.pid(), bed.newImageDir(), "-R").assertOk();
        for (long c : children) {
            assertTrue(ProcStat.read(c).filter(s -> !s.isZombie()).isPresent(), "child " + c + " died in dump -R");
        }
        w.awaitNewTicks(2);
        w.assertVerifyPass();

        TestBed.Restored restored = bed.dumpRestoreAndAwait(w, 2);
        Workload r = restored.workload();
        RunningCryo rc = restored.cryo();
        children.forEach(bed.workloads()::trackForeignPid);
        assertEquals("1", seccompOf(strict), "Seccomp of the restored strict child");
        assertEquals("2", seccompOf(mixed), "Seccomp of the restored mixed child");
        assertEquals("0", seccompOf(w.pid()), "Seccomp of the restored parent");
        r.assertVerifyPass();

        long beforeProbe = w.log().size();
        r.signal(ProcessControl.SIGUSR1);
        String probe = w.log().awaitPrefix(beforeProbe, "PROBE", Workload.TIMEOUT);
        assertTrue(probe.startsWith("PROBE PASS"), probe);
        TestBed.killRestored(r, rc);
    }

    private static String seccompOf(long pid) throws IOException {
        for (String line : ProcStat.readProcFile(Path.of("/proc", Long.toString(pid), "status")).split("\n")) {
            if (line.startsWith("Seccomp:")) {
                return line.substring(8).trim();
            }
        }
        return "?";
    }
}
