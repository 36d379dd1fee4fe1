package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Per-mapping memory flags through dump and restore ({@code memory_flags.c}): madvise state (DONTFORK, DONTDUMP,
 * WIPEONFORK, HUGEPAGE, NOHUGEPAGE, MERGEABLE, SEQUENTIAL, RANDOM), mlock and mlock-on-fault, mseal and a
 * MAP_DROPPABLE mapping. The restored program reads its own smaps: every flagged region has its flag and exactly
 * the VmFlags it had, the unflagged regions between them gained none, every page holds its data (WIPEONFORK memory
 * keeps it in the process itself); and it checks the behaviour a forked child sees and that the sealed region
 * refuses mprotect. It is restored twice (a restored process must dump as well as the original).
 */
class MemoryFlagsIT extends WithTestBed {
    private static final int KILLED = 128 + ProcessControl.SIGKILL;

    @Test
    void madviseLockSealAndDroppableStateComesBackOnlyWhereItWas() {
        Workload w = bed.workloads().start("memory_flags");
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);

        long mark = w.log().size();
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        w.log().awaitTicks(mark, 2, Workload.TIMEOUT);
        String verdict = r.assertVerifyPass();
        assertTrue(verdict.contains("verifies=2"), "the restored memory is not the dumped one: " + verdict);

        mark = w.log().size();
        Path again = bed.dumpAndAwaitGone(r);
        Cryo.await(rc).assertExit(KILLED);
        RunningCryo rc2 = bed.cryo().restoreInBackground(again);
        Workload r2 = bed.awaitRestoredRoot(rc2, w);
        w.log().awaitTicks(mark, 2, Workload.TIMEOUT);
        verdict = r2.assertVerifyPass();
        assertTrue(verdict.contains("verifies=3"), verdict);
        r2.kill();
        Cryo.await(rc2).assertExit(KILLED);
    }
}
