package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Signal-driven I/O through dump and restore ({@code fd_owner.c}): the owner of an open file description
 * (F_SETOWN_EX: a thread, a process, a process group), its signal (F_SETSIG) and O_ASYNC, on a pipe, a unix socket
 * and a regular file; the restored program checks them and that each signal still reaches the right task with the
 * right {@code si_fd}, and that an fd that had none of them has none. An owner outside the tree is refused.
 */
class FdOwnerIT extends WithTestBed {

    @Test
    void ownerSignalAndAsyncAreKeptPerOpenFileDescription() {
        Workload w = bed.startCheckedWithChild("fd_owner");
        String verdict = bed.dumpRestoreAndVerify(w);
        assertTrue(verdict.contains("rt=2 io=2 child_io=2"), "one signal per source before and after: " + verdict);
    }

    /** Behind 100 other fds, where the dump's read-ahead thread asks the owners ahead of the tracer. */
    @Test
    void ownersReadAheadOfTheTracerAreKept() {
        Workload w = bed.startCheckedWithChild("fd_owner", "many");
        String verdict = bed.dumpRestoreAndVerify(w);
        assertTrue(verdict.contains("rt=2 io=2 child_io=2"), "one signal per source before and after: " + verdict);
    }

    @Test
    void anOwnerOutsideTheTreeIsRefused() {
        Workload w = bed.workloads().start("fd_owner", "outside");
        bed.workloads().trackChild(w);
        String fd = w.ready("rfd");
        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrNamesPid(ProcessControl.selfPid())
                .assertStderrMentions(w.comm(), "fd " + fd, "F_SETOWN", "[core/FD_OWNER_OUTSIDE]");
        w.assertLeftRunning();
    }
}
