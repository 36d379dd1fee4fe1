package dev.cryo.plugin.sysvshm;

import dev.cryo.api.CryoException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class SysvSegmentsTest {
    private static final String TABLE = """
                   key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap
               2146579          4   600                    56  9199 10627      6   101   104   101   104 1796161556 1796161556 1796161496                  4096                     0
                     0      32773  3640               1048576   812   812      2     0     0     0     0 1796161556          0 1796161496                     0                     0
            -559038737          9   666                  4096     1     1      0  1000  1000  1000  1000          0          0 1796161496                     0                     0
            """;

    @Test
    void parsesEveryColumnCryoUses() throws CryoException {
        SysvSegments t = SysvSegments.parse(TABLE);
        SysvSegments.Segment pg = t.byId(4).orElseThrow();
        // key, shmid, mode, size, nattch, uid, gid
        assertEquals(new SysvSegments.Segment(0x0020c113, 4, 0600, 56, 6, 101, 104), pg);
        assertFalse(pg.removed());
        assertFalse(pg.locked());
    }

    @Test
    void decodesRemovedAndLockedFromTheModeBits() throws CryoException {
        SysvSegments.Segment s = SysvSegments.parse(TABLE).byId(32773).orElseThrow();
        assertTrue(s.removed());
        assertTrue(s.locked());
        assertEquals(0640, s.mode() & 0777);
    }

    @Test
    void negativeKeysAndKeyLookups() throws CryoException {
        SysvSegments t = SysvSegments.parse(TABLE);
        assertEquals(0xdeadbeef, t.byId(9).orElseThrow().key());
        assertEquals(9, t.otherWithKey(0xdeadbeef, 10).orElseThrow().shmid());
        assertTrue(t.otherWithKey(0xdeadbeef, 9).isEmpty());
        assertTrue(t.otherWithKey(0, 1).isEmpty(), "IPC_PRIVATE keys never collide");
        assertTrue(t.byId(5).isEmpty());
    }

    @Test
    void aMalformedLineIsAKernelErrorNotACrash() {
        CryoException e = assertThrows(CryoException.class, () -> SysvSegments.parse("head\n1 2 x\n"));
        assertEquals("sysv-shm/TABLE", e.code());
    }

    @Test
    void roundsSizesUpToPages() {
        assertEquals(4096, SysvShmHandler.roundUp(56));
        assertEquals(8192, SysvShmHandler.roundUp(4097));
        assertEquals(4096, SysvShmHandler.roundUp(4096));
    }
}
