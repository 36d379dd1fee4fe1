package dev.cryo.core.linux;

import dev.cryo.api.Errno;
import dev.cryo.api.Syscall;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every named syscall has one x86_64 number, agreeing with core's own table where both have it. */
class SyscallTableTest {
    @Test
    void numbersAreUniqueAndAgreeWithSys() {
        Map<Integer, Syscall> seen = new HashMap<>();
        for (Syscall s : Syscall.values()) {
            int n = SyscallTable.number(s);
            assertTrue(n >= 0 && n < 512, s + " = " + n);
            assertNull(seen.put(n, s), s + " and " + seen.get(n) + " share " + n);
        }
        assertEquals(Sys.OPENAT, SyscallTable.number(Syscall.OPENAT));
        assertEquals(Sys.DUP3, SyscallTable.number(Syscall.DUP3));
        assertEquals(Sys.PIDFD_GETFD, SyscallTable.number(Syscall.PIDFD_GETFD));
        assertEquals(Sys.MMAP, SyscallTable.number(Syscall.MMAP));
    }

    @Test
    void errnoNamesAndResults() {
        assertEquals("ENOENT (No such file or directory)", Errors.describe(2));
        assertEquals("EDEADLK", Errors.name(35));
        assertEquals("errno 4000", Errors.name(4000));
        assertEquals(java.util.Optional.of(Errno.EAGAIN), Errno.ofResult(-11));
        assertEquals(java.util.Optional.empty(), Errno.ofResult(5));
        assertTrue(Errno.ERESTART_RESTARTBLOCK.is(-516));
    }
}
