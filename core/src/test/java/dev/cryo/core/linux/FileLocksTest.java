package dev.cryo.core.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FileLocksTest {
    @Test
    void fdinfoLockLinesOfEachKind() {
        String fdinfo = """
                pos:	0
                flags:	0100002
                mnt_id:	26
                ino:	2146850
                lock:	1: POSIX  ADVISORY  WRITE 10507 fe:00:2146850 10 29
                lock:	2: POSIX  ADVISORY  READ 10507 fe:00:2146850 100 EOF
                lock:	3: FLOCK  ADVISORY  READ 10507 fe:00:2146850 0 EOF
                lock:	4: OFDLCK ADVISORY  WRITE -1 fe:00:2146850 0 4
                """;
        List<FileLocks.Lock> l = FileLocks.parseFdinfo(fdinfo);
        assertEquals(4, l.size());
        assertEquals(FileLocks.Kind.POSIX, l.get(0).kind().orElseThrow());
        assertTrue(l.get(0).write());
        assertEquals(10, l.get(0).start());
        assertEquals(29, l.get(0).end());
        assertEquals(10507, l.get(0).pid());
        assertEquals(2146850, l.get(0).inode());
        assertFalse(l.get(1).write());
        assertEquals(-1, l.get(1).end());
        assertEquals(FileLocks.Kind.FLOCK, l.get(2).kind().orElseThrow());
        assertEquals(FileLocks.Kind.OFD, l.get(3).kind().orElseThrow());
        assertEquals(-1, l.get(3).pid());
        assertFalse(l.stream().anyMatch(FileLocks.Lock::other));
        assertEquals("POSIX (fcntl F_SETLK) F_WRLCK lock on bytes 10-29", l.get(0).describe());
        assertEquals("flock LOCK_SH lock", l.get(2).describe());
    }

    @Test
    void procLocksSkipsWaitersAndFlagsLeases() {
        String text = """
                1: FLOCK  ADVISORY  WRITE 9962 fe:00:2154524 0 EOF
                1: -> FLOCK  ADVISORY  WRITE 9970 fe:00:2154524 0 EOF
                2: LEASE  ACTIVE    READ 812 fe:00:77 0 EOF
                3: DELEG  ACTIVE    READ 813 fe:00:78 0 EOF
                garbage
                """;
        List<FileLocks.Lock> l = FileLocks.parseProcLocks(text);
        assertEquals(3, l.size());
        assertFalse(l.get(0).other());
        assertTrue(l.get(1).other());
        assertEquals("LEASE", l.get(1).clazz());
        assertTrue(l.get(2).other());
    }

    @Test
    void sameLockIgnoresPidAndOrdinal() {
        FileLocks.Lock a = FileLocks.parseProcLocks("4: POSIX  ADVISORY  WRITE 10 fe:00:5 10 29").get(0);
        FileLocks.Lock b = FileLocks.parseFdinfo("lock:\t1: POSIX  ADVISORY  WRITE 10 fe:00:5 10 29").get(0);
        FileLocks.Lock c = FileLocks.parseFdinfo("lock:\t1: POSIX  ADVISORY  READ 10 fe:00:5 10 29").get(0);
        assertTrue(a.sameAs(b));
        assertFalse(a.sameAs(c));
    }
}
