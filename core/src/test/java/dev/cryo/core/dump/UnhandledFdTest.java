package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdHolder;
import dev.cryo.api.FdInfo;
import dev.cryo.api.Pid;
import dev.cryo.api.TargetFd;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The refusal of an fd no plugin handles names its kind precisely and the right fix. */
class UnhandledFdTest {
    private static FdInfo anon(String kind) {
        return new FdInfo(TargetFd.of(5), "anon_inode:[" + kind + "]", 0, 0, 7, 0, 0, 0, 2, false, 0, 15);
    }

    @Test
    void inetLinesAreDecoded() {
        String listen = "   0: 0100007F:223D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0"
                + " 81234 1 0000000000000000 100 0 0 10 0";
        assertEquals(Optional.of("inet TCP socket 127.0.0.1:8765 (LISTEN)"),
                UnhandledFd.InetSockets.describeLine("tcp", listen, 81234));
        assertEquals(Optional.empty(), UnhandledFd.InetSockets.describeLine("tcp", listen, 81235));
        String est = "   1: 0100007F:223D 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0"
                + " 81240 1 0000000000000000 20 4 30 10 -1";
        assertEquals(Optional.of("inet TCP socket 127.0.0.1:8765 -> 127.0.0.1:54321 (ESTABLISHED)"),
                UnhandledFd.InetSockets.describeLine("tcp", est, 81240));
        String v6 = "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A"
                + " 00000000:00000000 00:00000000 00000000     0        0 90001 1 0000000000000000 100 0 0 10 0";
        assertEquals(Optional.of("inet6 TCP socket [::1]:8080 (LISTEN)"),
                UnhandledFd.InetSockets.describeLine("tcp6", v6, 90001));
        String udp = "  12: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0"
                + " 777 2 0000000000000000 0";
        assertEquals(Optional.of("inet UDP socket 0.0.0.0:68 (unconnected)"),
                UnhandledFd.InetSockets.describeLine("udp", udp, 777));
    }

    @Test
    void anonymousInodesAreNamedAndTheFixNeverSaysCloseTheFd() {
        CryoException e = UnhandledFd.refusal("pid 812 \"redis-server\"", anon("eventpoll"), null, Optional.empty(),
                List.of());
        assertEquals("core/UNSUPPORTED_FD", e.code());
        assertEquals("dump refused: fd 5 of pid 812 \"redis-server\" is an epoll instance (anon_inode:[eventpoll])"
                + " and no enabled plugin handles it", e.getMessage());
        assertTrue(e.fix().contains("install a plugin that handles epoll instances"), e.fix());
        assertFalse(e.fix().contains("close fd"), e.fix());
        assertTrue(UnhandledFd.describe(anon("io_uring")).startsWith("an io_uring instance"));
    }

    @Test
    void anInheritedFdGetsTheShellFix() {
        FdHolder shell = new FdHolder(Pid.of(100), "bash", TargetFd.of(5), 2);
        CryoException e = UnhandledFd.refusal("pid 812 \"prog\"", anon("inotify"), null, Optional.of(shell),
                List.of());
        assertTrue(e.fix().startsWith("fd 5 was inherited from pid 100 \"bash\", which started the tree"), e.fix());
        assertTrue(e.fix().contains("5>&-"), e.fix());
    }
}
