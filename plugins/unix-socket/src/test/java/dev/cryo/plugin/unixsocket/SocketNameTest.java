package dev.cryo.plugin.unixsocket;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SocketNameTest {
    @Test
    void pathNamesDropTheTrailingNulAndGetItBackInTheSockaddr() {
        SocketName n = SocketName.of("/tmp/s\0\0".getBytes(StandardCharsets.UTF_8));
        assertEquals("/tmp/s", n.toString());
        assertEquals(2 + 6 + 1, n.sockaddrLength());
        ByteBuffer a = n.sockaddr();
        assertEquals(1, a.getShort(0));
        assertEquals(0, a.get(2 + 6));
        assertTrue(n.isPath());
        assertFalse(n.isRelativePath());
        assertTrue(SocketName.path("srv.sock").isRelativePath());
    }

    @Test
    void abstractNamesKeepEveryByteAndAnExactLength() {
        SocketName n = SocketName.of("\0a\0b".getBytes(StandardCharsets.UTF_8));
        assertTrue(n.isAbstract());
        assertEquals("@a@b", n.toString());
        assertEquals(2 + 4, n.sockaddrLength());
    }

    @Test
    void emptyIsUnnamed() {
        assertFalse(SocketName.of(new byte[0]).isBound());
        assertEquals("unnamed", SocketName.NONE.toString());
        assertEquals(SocketName.path("/x"), SocketName.of("/x\0".getBytes(StandardCharsets.UTF_8)));
    }
}
