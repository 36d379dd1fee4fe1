package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Process attributes through dump and restore ({@code proc_attrs.c}): child subreaper, parent-death signal (and its
 * delivery when the restored parent dies), THP disable, scheduling policy, priority and nice per thread,
 * oom_score_adj, timer slack, personality, no_new_privs, credentials, capability sets and securebits per thread. The
 * restored processes and threads check themselves, including that what was not set did not appear. A parent-death
 * signal on the tree's root is refused.
 */
class ProcessAttributesIT extends WithTestBed {

    @Test
    void attributesOfEveryProcessAndThreadAreKept() {
        Workload w = bed.workloads().start("proc_attrs");
        long child = bed.workloads().trackChild(w);
        w.assertVerifyPass();

        TestBed.Restored restored = bed.dumpRestoreAndAwait(w, 2);
        Workload r = restored.workload();
        RunningCryo rc = restored.cryo();
        bed.workloads().trackForeignPid(child);
        r.assertVerifyPass();

        // the parent-death signal is delivered when the restored parent dies
        long beforeDeath = w.log().size();
        TestBed.killRestored(r, rc);
        String line = w.log().awaitPrefix(beforeDeath, "PDEATH", Workload.TIMEOUT);
        assertEquals("PDEATH sig=" + ProcessControl.SIGUSR1, line.strip());
        assertTrue(ProcessControl.reap(child, Duration.ofSeconds(10)), "the child did not exit after its PDEATH");
    }

    @Test
    void aParentDeathSignalOnTheRootIsRefused() {
        Workload w = bed.workloads().start("proc_attrs", "rootpdeath");
        long child = bed.workloads().trackChild(w);
        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions(w.comm(), "PR_SET_PDEATHSIG", "root", "-t " + ProcessControl.selfPid());
        w.assertLeftRunning();
    }
}
