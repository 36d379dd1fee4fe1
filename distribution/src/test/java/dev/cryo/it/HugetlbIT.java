package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * hugetlb memory ({@code hugetlb_memory.c}): a private MAP_HUGETLB page and a shared one the process shares with a
 * forked child are dumped and restored at the same addresses with the same page size (the program checks its data,
 * smaps {@code ht} and KernelPageSize, and that the child still answers through the shared page), twice. A restore on
 * a host whose huge page pool is too small fails naming the mapping and the sysctl to raise, leaves no process, and
 * the same image restores once pages are reserved. A mapping of a file on a hugetlbfs mount is refused naming it. The
 * test reserves two huge pages for itself
 * ({@code /proc/sys/vm/nr_hugepages}) and puts the old value back.
 */
class HugetlbIT extends WithTestBed {
    private static final Path NR_HUGEPAGES = Path.of("/proc/sys/vm/nr_hugepages");
    private static final Path FREE = Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
    private String saved;

    @BeforeEach
    void reserveHugePages() throws IOException {
        saved = Files.readString(NR_HUGEPAGES).trim();
        reserve();
    }

    private void reserve() throws IOException {
        long have = Long.parseLong(saved);
        Files.writeString(NR_HUGEPAGES, Long.toString(have + 2));
        assumeTrue(Long.parseLong(Files.readString(NR_HUGEPAGES).trim()) >= have + 2,
                "the kernel could not reserve two huge pages (memory too fragmented)");
    }

    @AfterEach
    void putBack() throws IOException {
        if (saved != null) {
            Files.writeString(NR_HUGEPAGES, saved);
        }
    }

    @Test
    void privateAndSharedHugetlbMemoryIsKept() {
        bed.dumpAndRestoreTwice(bed.startCheckedWithChild("hugetlb_memory"), 2);
    }

    @Test
    void aMappingOfAHugetlbfsFileIsRefusedAndLeftRunning() throws IOException {
        Path mount = bed.root().resolve("hugetlbfs");
        Files.createDirectories(mount);
        assumeTrue(run("mount", "-t", "hugetlbfs", "none", mount.toString()) == 0, "cannot mount hugetlbfs");
        try {
            Path file = mount.resolve("pages");
            Workload w = bed.workloads().start("hugetlb_memory", file.toString());
            bed.workloads().trackChild(w);
            w.assertVerifyPass();
            Path image = bed.newImageDir();
            bed.cryo().dump(w.pid(), image).assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                    .assertStderrMentions(Long.toHexString(Long.decode(w.ready("huge"))), file.toString(),
                            "hugetlbfs", "[memory/HUGETLB]");
            assertFalse(Files.exists(image.resolve("inventory.img")), "a refused dump left an inventory");
            w.awaitNewTicks(2);
            w.assertVerifyPass();
            w.kill();
            w.awaitGone(java.time.Duration.ofSeconds(10));
        } finally {
            run("umount", "-l", mount.toString());
        }
    }

    private static int run(String... cmd) {
        try {
            return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start().waitFor();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Test
    void aRestoreWithoutFreeHugePagesFailsNamingTheMappingAndTheFix() throws IOException {
        Workload w = bed.workloads().start("hugetlb_memory");
        long child = bed.workloads().trackChild(w);
        String huge = Long.toHexString(Long.decode(w.ready("huge")));
        String shared = Long.toHexString(Long.decode(w.ready("shared")));
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);

        Files.writeString(NR_HUGEPAGES, saved);
        assumeTrue(Long.parseLong(Files.readString(FREE).trim()) == 0, "other huge pages are free on this host");
        CryoResult r = bed.cryo().restore(image);
        r.assertFailedWithFix(CryoResult.CONFLICT).assertStderrNamesPid(w.pid())
                .assertStderrMentions("hugetlb mapping", "needs 1 huge page of 2048 kB",
                        "sysctl vm.nr_hugepages=" + (Long.parseLong(saved) + 1),
                        "[memory/HUGETLB_POOL]")
                .assertStderrMatches("(" + huge + "|" + shared + ")-", "the mapping's range");
        bed.assertNoProcessWithPid(w.pid(), w.comm(), r);
        bed.assertNoProcessWithPid(child, w.comm(), r);

        reserve();
        Workload restored = bed.restoreAndAwait(w, image, 2);
        restored.assertVerifyPass();
        restored.kill();
    }
}
