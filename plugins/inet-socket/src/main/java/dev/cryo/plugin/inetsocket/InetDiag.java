package dev.cryo.plugin.inetsocket;

import dev.cryo.api.CryoException;
import dev.cryo.api.HostKernel;
import dev.cryo.api.SockDiagMessages;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code NETLINK_SOCK_DIAG} says about the TCP or UDP sockets of one address family in cryo's network namespace:
 * one {@code SOCK_DIAG_BY_FAMILY} dump request ({@code inet_diag_req_v2}, every state) parsed into {@link Socket}s.
 * Dump uses it for what no getsockopt tells (a listener's backlog and accept queue, the shutdown state); restore for
 * who holds an address a socket of the image must bind.
 */
final class InetDiag {
    static final int INET_DIAG_SHUTDOWN = 8;
    static final int INET_DIAG_SKV6ONLY = 11;
    /** Length of {@code struct inet_diag_msg}; attributes follow. */
    static final int MSG_LEN = 72;

    /**
     * One socket as sock_diag reports it.
     *
     * @param rqueue a listener: connections accepted by the kernel, waiting for accept(); else bytes unread
     * @param wqueue a listener: its backlog (sk_max_ack_backlog); else bytes not yet acknowledged
     * @param shutdown RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2, -1 when the kernel did not say
     */
    record Socket(int family, int protocol, int state, InetAddr local, InetAddr remote, long rqueue, long wqueue,
                  int uid, long ino, int shutdown, boolean v6only) {
    }

    private InetDiag() {
    }

    /** Every socket of {@code family} (AF_INET/AF_INET6) and {@code protocol} (IPPROTO_TCP/UDP), all states. */
    static List<Socket> query(HostKernel kernel, int family, int protocol) throws CryoException {
        return parse(kernel.netlink(SockDiagMessages.NETLINK_SOCK_DIAG, request(family, protocol)), protocol);
    }

    /** {@code nlmsghdr} + {@code inet_diag_req_v2} asking for every socket of the family and protocol. */
    static byte[] request(int family, int protocol) {
        ByteBuffer b = SockDiagMessages.dumpRequest(56);
        b.put((byte) family).put((byte) protocol).put((byte) 0).put((byte) 0).putInt(~0); // idiag_ext, all states
        // inet_diag_sockid: all zero (any), cookie INET_DIAG_NOCOOKIE
        b.position(16 + 8 + 40).putInt(-1).putInt(-1);
        return b.array();
    }

    static List<Socket> parse(List<byte[]> messages, int protocol) throws CryoException {
        List<Socket> out = new ArrayList<>();
        for (byte[] m : messages) {
            out.add(parseOne(m, protocol));
        }
        return out;
    }

    static Socket parseOne(byte[] msg, int protocol) throws CryoException {
        if (msg.length < 16 + MSG_LEN) {
            throw new CryoException(CryoException.Category.KERNEL, "inet-socket/SOCK_DIAG",
                    "malformed NETLINK_SOCK_DIAG reply of " + msg.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(msg).order(ByteOrder.LITTLE_ENDIAN);
        int p = 16;
        int family = b.get(p) & 0xff;
        int state = b.get(p + 1) & 0xff;
        int sport = Short.toUnsignedInt(b.order(ByteOrder.BIG_ENDIAN).getShort(p + 4));
        int dport = Short.toUnsignedInt(b.getShort(p + 6));
        b.order(ByteOrder.LITTLE_ENDIAN);
        int n = family == InetAddr.AF_INET ? 4 : 16;
        byte[] src = new byte[n];
        byte[] dst = new byte[n];
        b.get(p + 8, src);
        b.get(p + 24, dst);
        long rq = b.getInt(p + 56) & 0xffffffffL;
        long wq = b.getInt(p + 60) & 0xffffffffL;
        int uid = b.getInt(p + 64);
        long ino = b.getInt(p + 68) & 0xffffffffL;
        int shutdown = -1;
        boolean v6only = false;
        SockDiagMessages.Attributes a = SockDiagMessages.attributes(b, p + MSG_LEN);
        while (a.next()) {
            if (a.type() == INET_DIAG_SHUTDOWN && a.length() >= 1) {
                shutdown = b.get(a.payload()) & 0xff;
            } else if (a.type() == INET_DIAG_SKV6ONLY && a.length() >= 1) {
                v6only = b.get(a.payload()) != 0;
            }
        }
        int scope = 0; // compared by address and port only (ifindex is the bound device, not a scope)
        return new Socket(family, protocol, state, new InetAddr(family, src, sport, scope),
                new InetAddr(family, dst, dport, scope), rq, wq, uid, ino, shutdown, v6only);
    }
}
