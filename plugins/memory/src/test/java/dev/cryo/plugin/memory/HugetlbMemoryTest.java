package dev.cryo.plugin.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cryo.api.CryoException;
import dev.cryo.api.Mapping;
import dev.cryo.api.Pid;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HugetlbMemoryTest {
    /** A 2 MiB mapping with 2 MiB pages, as core reads it from smaps (figures and flags). */
    private static Mapping map(long start, String perms, String name, String... flags) {
        return new Mapping(start, start + (2L << 20), 3, perms.charAt(3) == 's', 0, "00:11", 99, name,
                Set.of(flags), 2048, 2L << 20);
    }

    @Test
    void anonymousHugetlbIsAnonymousMemoryAndMapsWithItsPageSize() throws Exception {
        Mapping priv = map(0x7fb30dc00000L, "rw-p", "/anon_hugepage (deleted)", "rd", "wr", "ht");
        Mapping shared = map(0x7fb30da00000L, "rw-s", "/anon_hugepage (deleted)", "rd", "wr", "ht");
        Mapping memfd = map(0x7fb30da00000L, "rw-s", "/memfd:cryo-shmem (deleted)", "rd", "wr", "ht");
        assertEquals(MappingKind.ANON_PRIVATE, MappingKind.of(priv));
        assertEquals(MappingKind.ANON_SHARED, MappingKind.of(shared));
        assertEquals(MappingKind.ANON_SHARED, MappingKind.of(memfd));
        assertEquals(2L << 20, HugetlbMemory.pageSize(Pid.of(1), "x", priv));
        assertEquals(2L << 20, HugetlbMemory.pageSize(Pid.of(1), "x", memfd));
        // MAP_HUGETLB | 21 << MAP_HUGE_SHIFT (MAP_HUGE_2MB), MFD_HUGETLB | MFD_HUGE_2MB
        assertEquals(0x40000L | (21L << 26), HugetlbMemory.mapFlags(2L << 20));
        assertEquals(4L | (30L << 26), HugetlbMemory.memfdFlags(1L << 30));
    }

    @Test
    void aHugetlbMappingWithoutItsPageSizeIsAKernelError() {
        Mapping unknown = new Mapping(0x7fb30dc00000L, 0x7fb30de00000L, 3, false, 0, "00:11", 99,
                "/anon_hugepage (deleted)", Set.of("rd", "wr", "ht"));
        CryoException e = assertThrows(CryoException.class, () -> HugetlbMemory.pageSize(Pid.of(42), "app", unknown));
        assertEquals("memory/HUGETLB_PAGE_SIZE", e.code());
    }

    @Test
    void aHugetlbfsFileIsRefusedNamingIt() {
        Mapping file = map(0x7fb30da00000L, "rw-s", "/dev/hugepages/pages", "rd", "wr", "ht");
        CryoException e = assertThrows(CryoException.class,
                () -> HugetlbMemory.pageSize(Pid.of(42), "app", file));
        assertEquals("memory/HUGETLB", e.code());
        assertTrue(e.getMessage().contains("pid 42 \"app\" maps 7fb30da00000-7fb30dc00000 of /dev/hugepages/pages"),
                e.getMessage());
        assertTrue(e.fix() != null && e.fix().contains("MAP_HUGETLB"), e.fix());
    }
}
