package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * hugetlb memory (MAP_HUGETLB, {@code hugetlb_memory.c}) is refused at dump, naming the process and the mapping's
 * range, and the process is left running with its data. The test reserves two huge pages for itself
 * ({@code /proc/sys/vm/nr_hugepages}) and puts the old value back.
 */
class HugetlbIT extends WithTestBed {
    private static final Path NR_HUGEPAGES = Path.of("/proc/sys/vm/nr_hugepages");
    private String saved;

    @BeforeEach
    void reserveHugePages() throws IOException {
        saved = Files.readString(NR_HUGEPAGES).trim();
        long have = Long.parseLong(saved);
        Files.writeString(NR_HUGEPAGES, Long.toString(have + 2));
        assumeTrue(Long.parseLong(Files.readString(NR_HUGEPAGES).trim()) >= have + 1,
                "the kernel could not reserve a huge page (memory too fragmented)");
    }

    @AfterEach
    void putBack() throws IOException {
        if (saved != null) {
            Files.writeString(NR_HUGEPAGES, saved);
        }
    }

    @Test
    void hugetlbMemoryIsRefusedNamingTheMapping() throws IOException {
        Workload w = bed.workloads().start("hugetlb_memory");
        long huge = Long.decode(w.ready("huge"));
        w.assertVerifyPass();
        Path maps = Path.of("/proc", Long.toString(w.pid()), "maps");
        List<String> before = Files.readAllLines(maps);
        Path image = bed.newImageDir();
        bed.cryo().dump(w.pid(), image).assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions(Long.toHexString(huge) + "-" + Long.toHexString(huge + (2L << 20)),
                        "hugetlb memory is not supported", "[memory/HUGETLB]");
        assertTrue(w.isAlive(), w + " did not survive the refused dump");
        assertFalse(Files.exists(image.resolve("inventory.img")), "a refused dump left an inventory");
        assertEquals(before, Files.readAllLines(maps), "the refused dump changed the mappings of " + w);
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        w.kill();
    }
}
