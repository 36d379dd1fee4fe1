package dev.cryo.plugin.inetsocket;

import dev.cryo.api.CryoException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InetDiagTest {
    @Test
    void requestAsksForEveryStateOfOneFamilyAndProtocol() {
        ByteBuffer b = ByteBuffer.wrap(InetDiag.request(10, 17)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(72, b.getInt(0));
        assertEquals(20, b.getShort(4));           // SOCK_DIAG_BY_FAMILY
        assertEquals(0x301, b.getShort(6));        // NLM_F_REQUEST | NLM_F_DUMP
        assertEquals(10, b.get(16));               // AF_INET6
        assertEquals(17, b.get(17));               // IPPROTO_UDP
        assertEquals(-1, b.getInt(20));            // every state
        assertEquals(-1, b.getInt(64));            // no cookie
    }

    /** A listener on 127.0.0.1:8080 with 2 waiting connections, backlog 128, shut down for writing, v6only off. */
    @Test
    void parsesAnInetDiagMessage() throws CryoException {
        ByteBuffer b = ByteBuffer.allocate(16 + 72 + 8 + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(b.capacity()).putShort((short) 20).putShort((short) 2).putInt(1).putInt(0);
        b.put((byte) 2).put((byte) 10).put((byte) 0).put((byte) 0);
        b.order(ByteOrder.BIG_ENDIAN).putShort((short) 8080).putShort((short) 0).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {127, 0, 0, 1}).put(new byte[12]).put(new byte[16]);
        b.putInt(0).putInt(0).putInt(0);             // if, cookie
        b.putInt(0).putInt(2).putInt(128).putInt(0).putInt(41234); // expires, rqueue, wqueue, uid, inode
        b.putShort((short) 5).putShort((short) 8).put((byte) 2).put(new byte[3]);   // INET_DIAG_SHUTDOWN
        b.putShort((short) 5).putShort((short) 11).put((byte) 0).put(new byte[3]);  // INET_DIAG_SKV6ONLY
        List<InetDiag.Socket> l = InetDiag.parse(List.of(b.array()), 6);
        assertEquals(1, l.size());
        InetDiag.Socket s = l.get(0);
        assertEquals(41234, s.ino());
        assertEquals(10, s.state());
        assertEquals("127.0.0.1:8080", s.local().toString());
        assertEquals(2, s.rqueue());
        assertEquals(128, s.wqueue());
        assertEquals(2, s.shutdown());
        assertEquals(false, s.v6only());
    }

    @Test
    void aShortReplyIsAKernelError() {
        CryoException e = assertThrows(CryoException.class, () -> InetDiag.parseOne(new byte[20], 6));
        assertTrue(e.code().equals("inet-socket/SOCK_DIAG"), e.code());
    }
}
