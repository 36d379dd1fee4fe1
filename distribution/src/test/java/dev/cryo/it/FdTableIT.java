package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Fd tables shared or split by clone flags ({@code fd_table.c}). Cryo restores every process with its own fd table
 * and every thread with its process's, so a tree where two processes share one table (clone with CLONE_FILES) or a
 * thread has its own (unshare(CLONE_FILES)) is refused, naming both tasks and the flag, never restored split or
 * merged; the tree is left running as it was (its tasks still see each other's fds).
 */
class FdTableIT extends WithTestBed {

    @Test
    void processesSharingOneFdTableAreRefusedAndLeftRunning() {
        Workload w = bed.workloads().start("fd_table");
        long child = Long.parseLong(w.ready("child"));
        bed.workloads().trackForeignPid(child);
        w.assertVerifyPass();
        Path image = bed.newImageDir();
        CryoResult r = bed.cryo().dump(w.pid(), image);
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid()).assertStderrNamesPid(child)
                .assertStderrMentions("fd table", "CLONE_FILES", "[core/SHARED_FILES]");
        assertTrue(w.isAlive(), w + " did not survive the refused dump");
        assertFalse(Files.exists(image.resolve("inventory.img")), "a refused dump left an inventory");
        w.awaitNewTicks(2);
        String verdict = w.assertVerifyPass();
        assertTrue(verdict.contains("verifies=2"), verdict);
    }

    @Test
    void aThreadWithItsOwnFdTableIsRefused() {
        Workload w = bed.workloads().start("fd_table", "thread");
        String tid = w.ready("tid");
        w.assertVerifyPass();
        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions("thread " + tid, "its own fd table", "[core/THREAD_OWN_FILES]");
        assertTrue(w.isAlive(), w + " did not survive the refused dump");
        w.awaitNewTicks(2);
        w.assertVerifyPass();
    }
}
