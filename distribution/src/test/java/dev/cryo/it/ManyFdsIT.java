package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A process holding hundreds of fds of mixed kinds ({@code many_fds.c}: files at offsets, pipes and socketpairs with
 * data queued, dups, fds moved above 2000 leaving holes), which a dump reads on two threads (the fd read-ahead of
 * issue 13 starts at 64 fds): restored twice, it finds every fd as it was — kind, flags, offset, queued bytes, the
 * open file descriptions its dups share and no others — and no fd more or less.
 */
class ManyFdsIT extends WithTestBed {

    @Test
    void fourHundredMixedFdsComeBackAsTheyWere() {
        Workload w = bed.startChecked("many_fds");
        assertEquals("534", w.ready("fds"), "400 indices, 8 fds for every 6");
        bed.dumpAndRestoreTwice(w, 2);
    }

    @Test
    void aDumpLeavingTheProcessRunningLeavesEveryFdAsItWas() {
        Workload w = bed.startChecked("many_fds", "1000");
        Path image = bed.newImageDir();
        bed.cryo().dump(w.pid(), image, "-R").assertOk();
        w.awaitNewTicks(2);
        w.assertVerifyPass();
    }
}
