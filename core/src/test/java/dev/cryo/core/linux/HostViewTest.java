package dev.cryo.core.linux;

import dev.cryo.api.UnixSocketInfo;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host view's /proc/net/unix parser, and its live views on this machine. */
class HostViewTest {
    private static final String HEAD = "Num       RefCount Protocol Flags    Type St Inode Path\n";

    @Test
    void parsesPathsAbstractNamesListenersAndUnbound() {
        List<UnixSocketInfo> s = HostView.parseUnix(HEAD
                + "0000000000000000: 00000002 00000000 00010000 0001 01 41234 /run/app.sock\n"
                + "0000000000000000: 00000002 00000000 00000000 0002 01 41235 @abstract@name\n"
                + "0000000000000000: 00000003 00000000 00000000 0001 03 41236\n"
                + "0000000000000000: 00000002 00000000 00000000 0005 01 41237 /tmp/a b.sock\n"
                + "garbage line\n");
        assertEquals(4, s.size());
        UnixSocketInfo listener = s.get(0);
        assertTrue(listener.listening());
        assertEquals(UnixSocketInfo.SOCK_STREAM, listener.type());
        assertTrue(listener.isPath());
        assertEquals("/run/app.sock", listener.nameText());
        UnixSocketInfo abs = s.get(1);
        assertTrue(abs.isAbstract());
        assertEquals("@abstract@name", abs.nameText());
        assertEquals("dgram", abs.typeName());
        assertFalse(s.get(2).isBound());
        assertEquals("unnamed", s.get(2).nameText());
        assertEquals("/tmp/a b.sock", s.get(3).nameText(), "a path with a space");
        assertEquals("seqpacket", s.get(3).typeName());
        assertNull(HostView.parseUnixLine("0000: 2 0 zz 1 1 7"), "a malformed line names no socket");
    }

    @Test
    void holdersOfThisJvmsOwnFdsExcludeCryoItself() throws Exception {
        // cryo's own process is never reported as a holder: it would always be "outside the tree"
        HostView v = new HostView();
        String link = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/0")).toString();
        long self = ProcessHandle.current().pid();
        assertTrue(v.holders(link).stream().noneMatch(h -> h.pid().value() == self), v.holders(link).toString());
    }
}
