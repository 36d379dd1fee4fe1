package dev.cryo.plugin.netlink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The NETLINK_SOCK_DIAG request and the parsing of a reply, against bytes laid out as the kernel writes them. */
class NetlinkDiagTest {
    @Test
    void theRequestAsksForEveryProtocolWithMemoryGroupsAndFlags() {
        ByteBuffer b = ByteBuffer.wrap(NetlinkDiag.request()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(40, b.getInt(0));
        assertEquals(20, b.getShort(4));           // SOCK_DIAG_BY_FAMILY
        assertEquals(0x301, b.getShort(6));        // NLM_F_REQUEST | NLM_F_DUMP
        assertEquals(16, b.get(16));               // AF_NETLINK
        assertEquals((byte) 0xff, b.get(17));      // NDIAG_PROTO_ALL
        assertEquals(1 | 2 | 8, b.getInt(24));     // NDIAG_SHOW_MEMINFO | GROUPS | FLAGS
    }

    @Test
    void aReplyIsParsedWithItsAttributes() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(16 + 28 + (4 + 36) + (4 + 8) + (4 + 4)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(b.capacity()).putShort((short) 20).putShort((short) 2).putInt(0).putInt(0);
        b.put((byte) 16).put((byte) 3).put((byte) 0).put((byte) 7)   // family, SOCK_RAW, NETLINK_ROUTE, TCP_CLOSE
                .putInt(7743).putInt(0).putInt(0).putInt(443269).putInt(0).putInt(0);
        b.putShort((short) 40).putShort((short) 0);                   // NETLINK_DIAG_MEMINFO: 9 u32
        b.putInt(128).putInt(212992).putInt(0).putInt(425984).putInt(0).putInt(0).putInt(0).putInt(0).putInt(0);
        b.putShort((short) 12).putShort((short) 1).putInt(0x550).putInt(1);   // NETLINK_DIAG_GROUPS
        b.putShort((short) 8).putShort((short) 4).putInt(0x2 | 0x8);           // NETLINK_DIAG_FLAGS
        NetlinkDiag.Socket s = NetlinkDiag.parse(b.array());
        assertEquals(3, s.type());
        assertEquals(0, s.protocol());
        assertEquals(7, s.state());
        assertEquals(7743, s.portid());
        assertEquals(443269, s.ino());
        assertEquals(128, s.unread());
        assertEquals(212992, s.rcvbuf());
        assertEquals(425984, s.sndbuf());
        assertArrayEquals(new int[] {0x550, 1}, s.groups());
        assertEquals(0xa, s.flags());
        assertEquals(List.of(5, 7, 9, 11, 33), NetlinkDiag.groupNumbers(List.of(0x550, 1)));
    }
}
