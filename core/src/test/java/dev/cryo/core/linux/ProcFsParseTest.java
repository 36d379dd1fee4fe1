package dev.cryo.core.linux;

import dev.cryo.api.Mapping;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The /proc parsers on text as the kernel writes it. */
class ProcFsParseTest {
    @Test
    void statWithACommThatHoldsSpacesAndParentheses() {
        ProcFs.Stat st = ProcFs.parseStat("4711 (my (odd) prog) S 1 4711 4711 0 -1 4194560 100 0 0 0 3 4 0 0 20 0 1"
                + " 0 987654 1000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0");
        assertEquals(4711, st.pid());
        assertEquals("my (odd) prog", st.comm());
        assertEquals('S', st.state());
        assertEquals(1, st.ppid());
        assertEquals(4711, st.pgrp());
        assertEquals(4711, st.session());
        assertEquals(987654, st.startTime());
        assertEquals(-1L, st.field(25), "rsslim 2^64-1 is read as an unsigned number");
        assertFalse(st.kernelThread());
        assertTrue(ProcFs.parseStat("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 7 0 0"
                + " 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 0 0 0 0 0").kernelThread());
    }

    @Test
    void statusKeyValues() {
        Map<String, String> m = ProcFs.parseKeyValues("Name:\tsleep\nState:\tS (sleeping)\nSigBlk:\t0000000000000000\n"
                + "Uid:\t0\t0\t0\t0\n");
        assertEquals("sleep", m.get("Name"));
        assertEquals("S (sleeping)", m.get("State"));
        assertEquals("0\t0\t0\t0", m.get("Uid"));
    }

    @Test
    void mapsWithAndWithoutNames() {
        List<Mapping> maps = ProcFs.parseMaps("""
                55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1234567                    /usr/bin/sleep
                7ffd8a1e0000-7ffd8a201000 rw-p 00000000 00:00 0                          [stack]
                7f00aa000000-7f00aa001000 rw-s 00000000 00:01 99                         /memfd:shared (deleted)
                7f00bb000000-7f00bb400000 ---p 00000000 00:00 0
                ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
                """);
        assertEquals(5, maps.size());
        Mapping exe = maps.get(0);
        assertEquals(0x55d0c0a00000L, exe.start());
        assertEquals(0x2000, exe.length());
        assertEquals(Mapping.PROT_READ, exe.prot());
        assertEquals("/usr/bin/sleep", exe.name());
        assertEquals(1234567, exe.inode());
        assertTrue(maps.get(2).shared());
        assertEquals("/memfd:shared (deleted)", maps.get(2).name(), "names keep their spaces");
        assertEquals("", maps.get(3).name());
        assertEquals(0, maps.get(3).prot());
        assertTrue(maps.get(4).kernelSpecial());
        assertEquals(0xffffffffff600000L, maps.get(4).start(), "addresses are unsigned");
    }

    @Test
    void smapsVmFlagsByStart() {
        Map<Long, Set<String>> f = flags(ProcFs.parseSmaps("""
                55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1234567                    /usr/bin/sleep
                Size:                  8 kB
                VmFlags: rd mr mw me dw sd
                7ffd8a1e0000-7ffd8a201000 rw-p 00000000 00:00 0                          [stack]
                Rss:                   12 kB
                VmFlags: rd wr mr mw me gd ac
                """));
        assertEquals(Set.of("rd", "mr", "mw", "me", "dw", "sd"), f.get(0x55d0c0a00000L));
        assertTrue(f.get(0x7ffd8a1e0000L).contains("gd"));
    }

    /** Lines as kernel 6.18 prints them: droppable (dp), guard regions (gu), sealed (sl), locked on fault, KSM. */
    @Test
    void smapsVmFlagsOfKernel618() {
        Map<Long, Set<String>> f = flags(ProcFs.parseSmaps("""
                7fbdcf86d000-7fbdcf871000 rw-p 00000000 00:00 0
                Locked:               16 kB
                VmFlags: rd wr mr mw me lo lf ac
                7fbdcf871000-7fbdcf875000 rw-p 00000000 00:00 0
                VmFlags: rd wr mr mw me gu ac sl
                7fbdcf879000-7fbdcf87d000 rw-p 00000000 00:00 0
                VmFlags: rd wr mr mw me nr wf dd dp
                7fbdcf885000-7fbdcf889000 rw-p 00000000 00:00 0
                VmFlags: rd wr mr mw me ac mg
                ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
                VmFlags: ex
                """));
        assertEquals(Set.of("rd", "wr", "mr", "mw", "me", "lo", "lf", "ac"), f.get(0x7fbdcf86d000L));
        assertEquals(Set.of("rd", "wr", "mr", "mw", "me", "gu", "ac", "sl"), f.get(0x7fbdcf871000L));
        assertEquals(Set.of("rd", "wr", "mr", "mw", "me", "nr", "wf", "dd", "dp"), f.get(0x7fbdcf879000L));
        assertTrue(f.get(0x7fbdcf885000L).contains("mg"));
        assertEquals(Set.of("ex"), f.get(0xffffffffff600000L));
    }

    /** @return the VmFlags of each mapping, by its start */
    private static Map<Long, Set<String>> flags(List<Mapping> maps) {
        Map<Long, Set<String>> out = new java.util.HashMap<>();
        maps.forEach(m -> out.put(m.start(), m.vmFlags()));
        return out;
    }

    @Test
    void smapsUsageCountsHugetlbPagesAndTheKernelPageSize() {
        List<Mapping> maps = ProcFs.parseSmaps("""
                7f0000000000-7f0000400000 rw-p 00000000 00:00 0
                Size:               4096 kB
                KernelPageSize:     2048 kB
                Rss:                   0 kB
                Swap:                  0 kB
                Private_Hugetlb:    2048 kB
                Shared_Hugetlb:        0 kB
                VmFlags: rd wr mr mw me de ht
                7f0000400000-7f0040400000 ---p 00000000 00:00 0
                KernelPageSize:        4 kB
                Rss:                   0 kB
                Swap:                  0 kB
                VmFlags: mr mw me nr
                7f0040400000-7f0040410000 rw-p 00000000 00:00 0
                KernelPageSize:        4 kB
                Rss:                  12 kB
                Swap:                  8 kB
                VmFlags: rd wr mr mw me ac
                """);
        assertEquals(3, maps.size());
        assertEquals(2048, maps.get(0).usageKiB());
        assertEquals(2L << 20, maps.get(0).kernelPageSize());
        assertFalse(maps.get(1).mayHavePages(), "a reservation without pages");
        assertEquals(20, maps.get(2).usageKiB());
        assertEquals(Set.of("rd", "wr", "mr", "mw", "me", "ac"), maps.get(2).vmFlags());
        assertTrue(new Mapping(1, 2, 0, false, 0, "00:00", 0, "", Set.of()).mayHavePages(), "unknown usage");
    }
}
