package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Fd tables shared or split by clone flags ({@code fd_table.c}). A child sharing its parent's fd table
 * ({@code clone(CLONE_FILES)}), several children and a grandchild sharing it, are restored sharing it again: after
 * each restore the parent and every helper open and close fds and check the others see it, while a forked helper
 * with its own table still sees none of it. Shapes a restore cannot rebuild (siblings sharing a table their parent
 * left, a thread with its own table) and other tables shared between processes (CLONE_FS, CLONE_SIGHAND, CLONE_VM)
 * are refused, naming both tasks and the flag; the tree is left running as it was.
 */
class FdTableIT extends WithTestBed {

    @Test
    void aChildSharingItsParentsFdTableSharesItAfterRestore() {
        bed.dumpAndRestoreTwice(bed.startCheckedWithChild("fd_table"), 2);
    }

    @Test
    void severalChildrenAndAGrandchildShareTheParentsFdTableAfterRestore() {
        Workload w = bed.workloads().start("fd_table", "children");
        List<Long> helpers = List.of(Long.parseLong(w.ready("child")), Long.parseLong(w.ready("child2")),
                Long.parseLong(w.ready("grandchild")), Long.parseLong(w.ready("forked")));
        helpers.forEach(bed.workloads()::trackForeignPid);
        w.assertVerifyPass();
        Path image = bed.newImageDir();
        bed.cryo().dump(w.pid(), image, "-R").assertOk();
        String show = bed.cryo().run("show", "-D", image.toString()).assertOk().stdout();
        String sharer = "fds: the fd table of pid " + w.pid() + " (shared, CLONE_FILES)";
        assertEquals(3, show.split(java.util.regex.Pattern.quote(sharer), -1).length - 1,
                "child, child2 and grandchild share the root's table, the forked helper does not: " + show);
        w.assertVerifyPass();
        bed.dumpAndRestoreTwice(w, 3);
    }

    @Test
    void siblingsSharingATableTheirParentLeftAreRefusedAndLeftRunning() {
        Workload w = bed.workloads().start("fd_table", "siblings");
        long child = bed.workloads().trackReadyPid(w, "child");
        long child2 = bed.workloads().trackReadyPid(w, "child2");
        w.assertVerifyPass();
        Path image = bed.newImageDir();
        CryoResult r = bed.cryo().dump(w.pid(), image);
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(child).assertStderrNamesPid(child2)
                .assertStderrMentions("fd table", "CLONE_FILES", "neither got it from its parent",
                        "[core/SHARED_FILES]");
        assertTrue(w.isAlive(), w + " did not survive the refused dump");
        assertFalse(Files.exists(image.resolve("inventory.img")), "a refused dump left an inventory");
        w.awaitNewTicks(2);
        String verdict = w.assertVerifyPass();
        assertTrue(verdict.contains("verifies=2"), verdict);
    }

    @ParameterizedTest
    @CsvSource({
        "fs, working directory, CLONE_FS, SHARED_FS",
        "sighand, signal handlers, CLONE_SIGHAND, SHARED_SIGHAND",
        "vm, address space, CLONE_VM, SHARED_VM",
    })
    void otherTablesSharedBetweenProcessesAreRefused(String mode, String what, String flag, String code) {
        Workload w = bed.workloads().start("fd_table", mode);
        long child = bed.workloads().trackChild(w);
        w.assertVerifyPass();
        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid()).assertStderrNamesPid(child)
                .assertStderrMentions("shares its " + what, flag, "[core/" + code + "]");
        w.assertLeftRunning();
    }

    @Test
    void aThreadWithItsOwnFdTableIsRefused() {
        Workload w = bed.workloads().start("fd_table", "thread");
        String tid = w.ready("tid");
        w.assertVerifyPass();
        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions("thread " + tid, "its own fd table", "[core/THREAD_OWN_FILES]");
        w.assertLeftRunning();
    }
}
