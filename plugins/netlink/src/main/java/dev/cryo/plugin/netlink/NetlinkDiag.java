package dev.cryo.plugin.netlink;

import dev.cryo.api.CryoException;
import dev.cryo.api.HostKernel;
import dev.cryo.api.SockDiagMessages;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;

/**
 * What {@code NETLINK_SOCK_DIAG} says about the netlink sockets of cryo's network namespace: one
 * {@code SOCK_DIAG_BY_FAMILY} dump ({@code netlink_diag_req}, every protocol, with memory, groups and flags), parsed
 * into {@link Socket}s. Nothing is injected to learn them; the kernel filters by nothing but protocol, so the caller
 * picks its socket by inode.
 */
final class NetlinkDiag {
    static final int AF_NETLINK = 16;
    static final int NDIAG_PROTO_ALL = 0xff;
    static final int NDIAG_SHOW_MEMINFO = 1, NDIAG_SHOW_GROUPS = 2, NDIAG_SHOW_FLAGS = 8;
    static final int NETLINK_DIAG_MEMINFO = 0, NETLINK_DIAG_GROUPS = 1, NETLINK_DIAG_FLAGS = 4;
    /** {@code sk_state} after {@code connect}; a socket never connected is in TCP_CLOSE (7), one disconnected in 0. */
    static final int NETLINK_CONNECTED = 1;
    /** {@code NDIAG_FLAG_CB_RUNNING}: a dump the socket asked for is still being produced. */
    static final int FLAG_CB_RUNNING = 0x1;
    /** The flags restored with a {@code setsockopt(SOL_NETLINK)} each: PKTINFO … CAP_ACK. */
    static final int FLAGS_KEPT = 0x2 | 0x4 | 0x8 | 0x10 | 0x20;
    /** Length of {@code struct netlink_diag_msg}; attributes follow. */
    static final int MSG_LEN = 28;
    /** {@code SK_MEMINFO_RMEM_ALLOC}, {@code _RCVBUF}, {@code _SNDBUF}: indexes in the meminfo array. */
    static final int RMEM_ALLOC = 0, RCVBUF = 1, SNDBUF = 3;

    /**
     * One netlink socket as sock_diag reports it.
     *
     * @param groups the group bitmap in 32-bit words (bit n of the map is group n + 1)
     * @param unread bytes of messages queued for reading (sk_rmem_alloc)
     */
    record Socket(int type, int protocol, int state, int portid, int dstPortid, int dstGroup, long ino,
                  int[] groups, int flags, long unread, int rcvbuf, int sndbuf) {
    }

    private NetlinkDiag() {
    }

    /** @return the netlink socket with inode {@code ino}, empty when cryo's network namespace does not list it */
    static Optional<Socket> find(HostKernel kernel, long ino) throws CryoException {
        for (byte[] m : kernel.netlink(SockDiagMessages.NETLINK_SOCK_DIAG, request())) {
            Socket s = parse(m);
            if (s.ino() == ino) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** {@code nlmsghdr} + {@code netlink_diag_req} asking for every netlink socket with memory, groups and flags. */
    static byte[] request() {
        ByteBuffer b = SockDiagMessages.dumpRequest(24);
        b.put((byte) AF_NETLINK).put((byte) NDIAG_PROTO_ALL).putShort((short) 0).putInt(0)
                .putInt(NDIAG_SHOW_MEMINFO | NDIAG_SHOW_GROUPS | NDIAG_SHOW_FLAGS).putInt(-1).putInt(-1);
        return b.array();
    }

    static Socket parse(byte[] msg) throws CryoException {
        if (msg.length < 16 + MSG_LEN) {
            throw new CryoException(CryoException.Category.KERNEL, "netlink/SOCK_DIAG",
                    "malformed NETLINK_SOCK_DIAG reply of " + msg.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(msg).order(ByteOrder.LITTLE_ENDIAN);
        int p = 16;
        int type = b.get(p + 1) & 0xff;
        int protocol = b.get(p + 2) & 0xff;
        int state = b.get(p + 3) & 0xff;
        int portid = b.getInt(p + 4);
        int dstPortid = b.getInt(p + 8);
        int dstGroup = b.getInt(p + 12);
        long ino = b.getInt(p + 16) & 0xffffffffL;
        int[] groups = new int[0];
        int flags = 0;
        long unread = 0;
        int rcvbuf = 0;
        int sndbuf = 0;
        SockDiagMessages.Attributes a = SockDiagMessages.attributes(b, p + MSG_LEN);
        while (a.next()) {
            int n = a.length() / 4;
            int at = a.payload();
            if (a.type() == NETLINK_DIAG_GROUPS) {
                groups = new int[n];
                for (int i = 0; i < n; i++) {
                    groups[i] = b.getInt(at + 4 * i);
                }
            } else if (a.type() == NETLINK_DIAG_FLAGS && n >= 1) {
                flags = b.getInt(at);
            } else if (a.type() == NETLINK_DIAG_MEMINFO && n > SNDBUF) {
                unread = b.getInt(at + 4 * RMEM_ALLOC) & 0xffffffffL;
                rcvbuf = b.getInt(at + 4 * RCVBUF);
                sndbuf = b.getInt(at + 4 * SNDBUF);
            }
        }
        return new Socket(type, protocol, state, portid, dstPortid, dstGroup, ino, groups, flags, unread, rcvbuf,
                sndbuf);
    }

    /** @return the group numbers (1-based) set in {@code bitmap} */
    static List<Integer> groupNumbers(List<Integer> bitmap) {
        List<Integer> out = new java.util.ArrayList<>();
        for (int w = 0; w < bitmap.size(); w++) {
            for (int bit = 0; bit < 32; bit++) {
                if ((bitmap.get(w) & (1 << bit)) != 0) {
                    out.add(w * 32 + bit + 1);
                }
            }
        }
        return out;
    }

    /** {@code NETLINK_ROUTE} etc. by number, for messages. */
    static String protocolName(int protocol) {
        return switch (protocol) {
            case 0 -> "NETLINK_ROUTE";
            case 4 -> "NETLINK_SOCK_DIAG";
            case 6 -> "NETLINK_XFRM";
            case 7 -> "NETLINK_SELINUX";
            case 9 -> "NETLINK_AUDIT";
            case 10 -> "NETLINK_FIB_LOOKUP";
            case 11 -> "NETLINK_CONNECTOR";
            case 12 -> "NETLINK_NETFILTER";
            case 15 -> "NETLINK_KOBJECT_UEVENT";
            case 16 -> "NETLINK_GENERIC";
            default -> "netlink protocol " + protocol;
        };
    }
}
