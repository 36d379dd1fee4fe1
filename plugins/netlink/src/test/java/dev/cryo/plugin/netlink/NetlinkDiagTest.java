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
        ByteBuffer want = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
        // nlmsghdr: length, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, sequence, port id
        want.putInt(40).putShort((short) 20).putShort((short) 0x301).putInt(0).putInt(0);
        // netlink_diag_req: AF_NETLINK, NDIAG_PROTO_ALL, padding, any inode,
        // NDIAG_SHOW_MEMINFO | GROUPS | FLAGS, no cookie
        want.put((byte) 16).put((byte) 0xff).putShort((short) 0).putInt(0).putInt(1 | 2 | 8).putInt(-1).putInt(-1);
        assertArrayEquals(want.array(), NetlinkDiag.request());
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
