package dev.cryo.plugin.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cryo.api.CryoException;
import dev.cryo.api.Mapping;
import dev.cryo.api.Pid;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HugetlbMemoryTest {
    private static final String SMAPS = """
            7fb30da00000-7fb30dc00000 rw-s 00000000 00:11 99407                      /anon_hugepage (deleted)
            Size:               2048 kB
            KernelPageSize:     2048 kB
            MMUPageSize:        2048 kB
            Rss:                   0 kB
            Shared_Hugetlb:     2048 kB
            Private_Hugetlb:       0 kB
            Swap:                  0 kB
            VmFlags: rd wr sh mr mw me ms de ht sd
            7fb30dc00000-7fb30de00000 rw-p 00000000 00:11 99406                      /anon_hugepage (deleted)
            Size:               2048 kB
            KernelPageSize:     2048 kB
            Rss:                   0 kB
            Shared_Hugetlb:        0 kB
            Private_Hugetlb:       0 kB
            Swap:                  0 kB
            VmFlags: rd wr mr mw me de ht sd
            7fb30de00000-7fb30de04000 rw-p 00000000 00:00 0
            Size:                 16 kB
            KernelPageSize:        4 kB
            Rss:                   8 kB
            Swap:                  4 kB
            VmFlags: rd wr mr mw me ac sd
            """;

    private static Mapping map(long start, String perms, String name, String... flags) {
        return new Mapping(start, start + (2L << 20), 3, perms.charAt(3) == 's', 0, "00:11", 99, name,
                Set.of(flags));
    }

    @Test
    void smapsGivesPageSizesAndCountsHugetlbPagesAsPresent() throws IOException {
        SmapsUsage u = SmapsUsage.parse(new BufferedReader(new StringReader(SMAPS)));
        assertEquals(2L << 20, u.kernelPageSize(0x7fb30da00000L));
        assertEquals(4096, u.kernelPageSize(0x7fb30de00000L));
        assertEquals(0, u.kernelPageSize(0x1000));
        assertTrue(u.mayHavePages(0x7fb30da00000L), "Shared_Hugetlb pages count (Rss does not show them)");
        assertFalse(u.mayHavePages(0x7fb30dc00000L), "an untouched private huge page");
        assertEquals(12, u.kilobytes(0x7fb30de00000L).getAsLong());
    }

    @Test
    void anonymousHugetlbIsAnonymousMemoryAndMapsWithItsPageSize() throws Exception {
        SmapsUsage u = SmapsUsage.parse(new BufferedReader(new StringReader(SMAPS)));
        Mapping priv = map(0x7fb30dc00000L, "rw-p", "/anon_hugepage (deleted)", "rd", "wr", "ht");
        Mapping shared = map(0x7fb30da00000L, "rw-s", "/anon_hugepage (deleted)", "rd", "wr", "ht");
        Mapping memfd = map(0x7fb30da00000L, "rw-s", "/memfd:cryo-shmem (deleted)", "rd", "wr", "ht");
        assertEquals(MappingKind.ANON_PRIVATE, MappingKind.of(priv));
        assertEquals(MappingKind.ANON_SHARED, MappingKind.of(shared));
        assertEquals(MappingKind.ANON_SHARED, MappingKind.of(memfd));
        assertEquals(2L << 20, HugetlbMemory.pageSize(Pid.of(1), "x", priv, u));
        assertEquals(2L << 20, HugetlbMemory.pageSize(Pid.of(1), "x", memfd, u));
        // MAP_HUGETLB | 21 << MAP_HUGE_SHIFT (MAP_HUGE_2MB), MFD_HUGETLB | MFD_HUGE_2MB
        assertEquals(0x40000L | (21L << 26), HugetlbMemory.mapFlags(2L << 20));
        assertEquals(4L | (30L << 26), HugetlbMemory.memfdFlags(1L << 30));
    }

    @Test
    void aHugetlbfsFileIsRefusedNamingIt() {
        Mapping file = map(0x7fb30da00000L, "rw-s", "/dev/hugepages/pages", "rd", "wr", "ht");
        CryoException e = assertThrows(CryoException.class,
                () -> HugetlbMemory.pageSize(Pid.of(42), "app", file, SmapsUsage.unknown()));
        assertEquals("memory/HUGETLB", e.code());
        assertTrue(e.getMessage().contains("pid 42 \"app\" maps 7fb30da00000-7fb30dc00000 of /dev/hugepages/pages"),
                e.getMessage());
        assertTrue(e.fix() != null && e.fix().contains("MAP_HUGETLB"), e.fix());
    }
}
