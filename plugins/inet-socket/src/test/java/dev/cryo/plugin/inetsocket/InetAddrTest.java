package dev.cryo.plugin.inetsocket;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InetAddrTest {
    @Test
    void ipv4SockaddrRoundTrip() {
        InetAddr a = new InetAddr(2, new byte[] {127, 0, 0, 1}, 8080, 0);
        ByteBuffer b = a.sockaddr();
        assertEquals(16, b.remaining());
        assertEquals(2, b.order(ByteOrder.LITTLE_ENDIAN).getShort(0));
        assertEquals(0x1f, b.get(2));          // port in network order
        assertEquals((byte) 0x90, b.get(3));
        assertEquals(a, InetAddr.parse(b, 16));
        assertEquals("127.0.0.1:8080", a.toString());
    }

    @Test
    void ipv6TextAndMapped() {
        byte[] one = new byte[16];
        one[15] = 1;
        InetAddr lo = new InetAddr(10, one, 443, 0);
        assertEquals("[::1]:443", lo.toString());
        assertEquals(lo, InetAddr.parse(lo.sockaddr(), 28));
        assertEquals("[::]:80", InetAddr.any(10).toString().replace(":0", ":80"));
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 127;
        mapped[15] = 1;
        InetAddr m = new InetAddr(10, mapped, 5, 0);
        assertTrue(m.isV4Mapped());
        assertEquals("127.0.0.1:5", m.unmapped().toString());
        assertFalse(lo.isV4Mapped());
        assertEquals("fe80::1:2", InetAddr.compress("fe80:0:0:0:0:0:1:2"));
    }

    @Test
    void anUnspecifiedAnswerIsNoAddress() {
        assertNull(InetAddr.parse(ByteBuffer.allocate(16), 0));
    }
}
