package dev.cryo.plugin.unixsocket;

import dev.cryo.api.CryoException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SockDiagTest {
    @Test
    void requestAsksForEveryUnixSocketWithAllDetails() {
        ByteBuffer b = ByteBuffer.wrap(SockDiag.request()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(40, b.getInt(0));
        assertEquals(20, b.getShort(4));                 // SOCK_DIAG_BY_FAMILY
        assertEquals(0x301, b.getShort(6));              // NLM_F_REQUEST | NLM_F_DUMP
        assertEquals(1, b.get(16));                      // AF_UNIX
        assertEquals(-1, b.getInt(20));                  // every state
        assertEquals(0x1f, b.getInt(28));                // NAME|VFS|PEER|ICONS|RQLEN
    }

    /** A reply as the kernel lays it out: nlmsghdr, unix_diag_msg, then 4-aligned rtattrs. */
    private static byte[] reply(int type, int state, long ino, byte[] name, long[] vfs, long peer, long[] icons,
                                long[] rqlen, int shutdown) {
        ByteArrayOutputStream attrs = new ByteArrayOutputStream();
        if (name != null) {
            attr(attrs, 0, name);
        }
        if (vfs != null) {
            attr(attrs, 1, le((int) vfs[0], (int) vfs[1]));
        }
        if (peer != 0) {
            attr(attrs, 2, le((int) peer));
        }
        if (icons != null) {
            int[] v = new int[icons.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = (int) icons[i];
            }
            attr(attrs, 3, le(v));
        }
        if (rqlen != null) {
            attr(attrs, 4, le((int) rqlen[0], (int) rqlen[1]));
        }
        attr(attrs, 6, new byte[] {(byte) shutdown});
        byte[] a = attrs.toByteArray();
        ByteBuffer b = ByteBuffer.allocate(32 + a.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(32 + a.length).putShort((short) 20).putShort((short) 2).putInt(1).putInt(0);
        b.put((byte) 1).put((byte) type).put((byte) state).put((byte) 0).putInt((int) ino).putInt(0).putInt(0);
        b.put(a);
        return b.array();
    }

    private static void attr(ByteArrayOutputStream out, int type, byte[] payload) {
        ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort((short) (4 + payload.length)).putShort((short) type);
        out.writeBytes(h.array());
        out.writeBytes(payload);
        out.writeBytes(new byte[((payload.length + 3) & ~3) - payload.length]);
    }

    private static byte[] le(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putInt(x);
        }
        return b.array();
    }

    @Test
    void parsesAListenerWithPendingClients() throws CryoException {
        byte[] path = "/run/app.sock\0".getBytes(StandardCharsets.UTF_8);
        // kernel dev 253:2 is (253 << 20) | 2
        SockDiag d = SockDiag.parse(List.of(reply(1, 10, 41234, path, new long[] {777, (253L << 20) | 2}, 0,
                new long[] {41240, 41241}, new long[] {2, 128}, 0)));
        SockDiag.Socket s = d.get(41234);
        assertEquals(1, s.type());
        assertEquals(10, s.state());
        assertEquals("/run/app.sock", s.name().toString());
        assertTrue(s.name().isPath());
        assertEquals(777, s.vfsIno());
        assertEquals((253L << 8) | 2, s.vfsDev());       // st_dev encoding
        assertEquals(List.of(41240L, 41241L), s.icons());
        assertEquals(128, s.wqueue());
        assertEquals(s, d.listenerWithPending(41241));
        assertEquals(List.of(41234L), d.inodesNamed(SocketName.path("/run/app.sock")));
    }

    @Test
    void parsesAnAbstractConnectedDatagramSocketWithShutdown() throws CryoException {
        byte[] name = "\0cryo-x".getBytes(StandardCharsets.UTF_8);
        SockDiag.Socket s = SockDiag.parseOne(reply(2, 1, 99, name, null, 100, null, new long[] {5, 0}, 3));
        assertTrue(s.name().isAbstract());
        assertEquals("@cryo-x", s.name().toString());
        assertEquals(100, s.peer());
        assertEquals(3, s.shutdown());
        assertEquals(5, s.rqueue());
    }

    @Test
    void malformedAttributeIsAKernelError() {
        byte[] r = reply(1, 7, 5, null, null, 0, null, null, 0);
        r[32] = 99;  // rtattr length beyond the message
        CryoException e = assertThrows(CryoException.class, () -> SockDiag.parseOne(r));
        assertEquals("unix-socket/SOCK_DIAG", e.code());
    }

    @Test
    void largeDeviceNumbersEncodeLikeGlibcMakedev() {
        long kdev = (300L << 20) | 0x12345;                // major 300, minor 0x12345
        long expected = (0x45) | ((300L & 0xfff) << 8) | ((0x12345L & ~0xffL) << 12);
        assertEquals(expected, SockDiag.userDev(kdev));
    }
}
