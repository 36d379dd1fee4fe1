package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Copy-on-write sharing between a parent and its forked child survives a restore ({@code cow_child.c}): the
 * private pages neither process wrote since the fork are one physical page in both again (pagemap PFNs, read by the
 * workload itself as root), the pages the child wrote are its own, and pages that were equal but not shared (both
 * wrote them) do not become shared. Prints {@code MEMORY cow-child before: ... after: ...} (Rss/Pss in kB).
 */
class CowSharingIT extends WithTestBed {
    private static final long PAGE = 4096;
    private static final Pattern PSS = Pattern.compile("pss_parent_kb=(\\d+) pss_child_kb=(\\d+)");

    /**
     * A dump must not break the sharing in the tree it reads: after {@code dump -R} the running parent and child
     * still share every page they shared (process_vm_readv's pins would give each page its own copy; the pages of a
     * process with its parent or child in the tree are read through /proc/PID/mem).
     */
    @Test
    void aDumpLeavesTheRunningTreesPagesShared() {
        Workload w = bed.workloads().start("cow_child");
        bed.workloads().trackChild(w);
        w.awaitNewTicks(2);
        assertTrue(w.assertVerifyPass().contains("shared_a=16374 private_a=8 shared_b=0"));
        bed.cryo().dump(w.pid(), bed.newImageDir(), "-R").assertOk();
        w.awaitNewTicks(2);
        String after = w.assertVerifyPass();
        assertTrue(after.contains("shared_a=16374 private_a=8 shared_b=0"), "after dump -R: " + after);
        w.kill();
    }

    @Test
    void pagesSharedCopyOnWriteAtDumpAreSharedAgainAfterRestore() {
        Workload w = bed.workloads().start("cow_child");
        long child = Long.parseLong(w.ready("child"));
        long a = Long.decode(w.ready("a"));
        bed.workloads().trackForeignPid(child);
        w.awaitNewTicks(2);
        String before = w.assertVerifyPass();
        assertTrue(before.contains("shared_a=16374 private_a=8 shared_b=0"), before);
        Path image = bed.dumpAndAwaitGone(w);

        // the child's record of A (B, mapped next to it, may be one VMA with it) says which pages it shared with its
        // parent: all of A but the 8 it wrote and the 2 it dropped, nothing of B
        long aEnd = a + 16384 * PAGE;
        Struct vma = bed.cryo().show(image).vmas(child).stream()
                .filter(v -> ShowOutput.vmaStart(v) <= a && ShowOutput.num(v, "end") >= aEnd).findFirst()
                .orElseThrow(() -> new AssertionError("no VMA holding 0x" + Long.toHexString(a)));
        long sharedBytes = 0;
        for (Value r : ShowOutput.list(vma, "cowRuns")) {
            long start = ShowOutput.num(r.getStructValue(), "start");
            long length = ShowOutput.num(r.getStructValue(), "length");
            assertTrue(start >= a && start + length <= aEnd, "a run outside A: " + ShowOutput.json(vma));
            sharedBytes += length;
        }
        assertEquals(16374 * PAGE, sharedBytes, "bytes of A recorded as shared with the parent: "
                + ShowOutput.json(vma));

        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        bed.workloads().trackForeignPid(child);
        String after = r.assertVerifyPass();
        assertTrue(after.contains("child=" + child), after);
        assertTrue(after.contains("shared_a=16374 private_a=8 shared_b=0"), after);
        // 64 MiB shared by two processes counts half in each Pss: together they stay far below two copies
        assertTrue(pss(after) < pss(before) + 16 * 1024, "Pss of parent + child grew: before " + before
                + ", after " + after);
        System.out.println("MEMORY cow-child before: " + before.replaceAll(".*?(shared_a)", "$1")
                + " | after: " + after.replaceAll(".*?(shared_a)", "$1"));
        TestBed.killRestored(r, rc);
    }

    private static long pss(String verdict) {
        Matcher m = PSS.matcher(verdict);
        assertTrue(m.find(), verdict);
        return Long.parseLong(m.group(1)) + Long.parseLong(m.group(2));
    }
}
