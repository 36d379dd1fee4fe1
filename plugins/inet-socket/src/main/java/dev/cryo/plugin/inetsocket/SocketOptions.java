package dev.cryo.plugin.inetsocket;

import com.google.protobuf.ByteString;
import dev.cryo.api.CryoException;
import dev.cryo.api.RemoteTask;
import dev.cryo.plugin.inetsocket.proto.SocketOption;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.cryo.plugin.inetsocket.Calls.*;

/**
 * The socket options kept: read with getsockopt at dump (an option the kernel refuses to report for this socket is
 * simply not recorded), set on restore where a fresh socket reads a different value. SO_SNDBUF/SO_RCVBUF read back
 * doubled; they are set to half with the FORCE variants (so values above the sysctl maxima come back). Options that
 * must precede bind ({@code SO_REUSEADDR}, {@code SO_REUSEPORT}, {@code IPV6_V6ONLY}, {@code IP_FREEBIND},
 * {@code IP_TRANSPARENT}, {@code SO_BINDTODEVICE}) are set with all others right after socket(), before bind.
 */
final class SocketOptions {
    /** One option: level, name, size read, label, which sockets it applies to. */
    record Def(int level, int name, int size, String label, Applies applies) {
    }

    enum Applies { ALL, TCP, TCP_UNCONNECTED, V4, V6, UDP4, UDP6 }

    static final List<Def> DEFS = List.of(
            new Def(SOL_SOCKET, SO_REUSEADDR, 4, "SO_REUSEADDR", Applies.ALL),
            new Def(SOL_SOCKET, 15, 4, "SO_REUSEPORT", Applies.ALL),
            new Def(SOL_SOCKET, 9, 4, "SO_KEEPALIVE", Applies.ALL),
            new Def(SOL_SOCKET, 6, 4, "SO_BROADCAST", Applies.ALL),
            new Def(SOL_SOCKET, 10, 4, "SO_OOBINLINE", Applies.ALL),
            new Def(SOL_SOCKET, 12, 4, "SO_PRIORITY", Applies.ALL),
            new Def(SOL_SOCKET, 13, 8, "SO_LINGER", Applies.ALL),
            new Def(SOL_SOCKET, 18, 4, "SO_RCVLOWAT", Applies.ALL),
            new Def(SOL_SOCKET, 20, 16, "SO_RCVTIMEO", Applies.ALL),
            new Def(SOL_SOCKET, 21, 16, "SO_SNDTIMEO", Applies.ALL),
            new Def(SOL_SOCKET, 29, 4, "SO_TIMESTAMP", Applies.ALL),
            new Def(SOL_SOCKET, 36, 4, "SO_MARK", Applies.ALL),
            new Def(SOL_SOCKET, 25, 16, "SO_BINDTODEVICE", Applies.ALL),
            new Def(SOL_SOCKET, SO_SNDBUF, 4, "SO_SNDBUF", Applies.ALL),
            new Def(SOL_SOCKET, SO_RCVBUF, 4, "SO_RCVBUF", Applies.ALL),
            new Def(IPPROTO_TCP, 1, 4, "TCP_NODELAY", Applies.TCP),
            new Def(IPPROTO_TCP, 2, 4, "TCP_MAXSEG", Applies.TCP_UNCONNECTED),
            new Def(IPPROTO_TCP, 3, 4, "TCP_CORK", Applies.TCP),
            new Def(IPPROTO_TCP, 4, 4, "TCP_KEEPIDLE", Applies.TCP),
            new Def(IPPROTO_TCP, 5, 4, "TCP_KEEPINTVL", Applies.TCP),
            new Def(IPPROTO_TCP, 6, 4, "TCP_KEEPCNT", Applies.TCP),
            new Def(IPPROTO_TCP, 7, 4, "TCP_SYNCNT", Applies.TCP),
            new Def(IPPROTO_TCP, 8, 4, "TCP_LINGER2", Applies.TCP),
            new Def(IPPROTO_TCP, 9, 4, "TCP_DEFER_ACCEPT", Applies.TCP),
            new Def(IPPROTO_TCP, 10, 4, "TCP_WINDOW_CLAMP", Applies.TCP_UNCONNECTED),
            new Def(IPPROTO_TCP, 13, 16, "TCP_CONGESTION", Applies.TCP),
            new Def(IPPROTO_TCP, 18, 4, "TCP_USER_TIMEOUT", Applies.TCP),
            new Def(IPPROTO_TCP, 23, 4, "TCP_FASTOPEN", Applies.TCP),
            new Def(IPPROTO_TCP, 25, 4, "TCP_NOTSENT_LOWAT", Applies.TCP),
            new Def(IPPROTO_IP, 1, 4, "IP_TOS", Applies.V4),
            new Def(IPPROTO_IP, 2, 4, "IP_TTL", Applies.V4),
            new Def(IPPROTO_IP, 8, 4, "IP_PKTINFO", Applies.V4),
            new Def(IPPROTO_IP, 10, 4, "IP_MTU_DISCOVER", Applies.V4),
            new Def(IPPROTO_IP, 11, 4, "IP_RECVERR", Applies.V4),
            new Def(IPPROTO_IP, 12, 4, "IP_RECVTTL", Applies.V4),
            new Def(IPPROTO_IP, 13, 4, "IP_RECVTOS", Applies.V4),
            new Def(IPPROTO_IP, 15, 4, "IP_FREEBIND", Applies.V4),
            new Def(IPPROTO_IP, 19, 4, "IP_TRANSPARENT", Applies.V4),
            new Def(IPPROTO_IP, 24, 4, "IP_BIND_ADDRESS_NO_PORT", Applies.V4),
            new Def(IPPROTO_IP, 33, 4, "IP_MULTICAST_TTL", Applies.UDP4),
            new Def(IPPROTO_IP, 34, 4, "IP_MULTICAST_LOOP", Applies.UDP4),
            new Def(IPPROTO_IPV6, IPV6_V6ONLY, 4, "IPV6_V6ONLY", Applies.V6),
            new Def(IPPROTO_IPV6, 16, 4, "IPV6_UNICAST_HOPS", Applies.V6),
            new Def(IPPROTO_IPV6, 18, 4, "IPV6_MULTICAST_HOPS", Applies.UDP6),
            new Def(IPPROTO_IPV6, 19, 4, "IPV6_MULTICAST_LOOP", Applies.UDP6),
            new Def(IPPROTO_IPV6, 23, 4, "IPV6_MTU_DISCOVER", Applies.V6),
            new Def(IPPROTO_IPV6, 25, 4, "IPV6_RECVERR", Applies.V6),
            new Def(IPPROTO_IPV6, 49, 4, "IPV6_RECVPKTINFO", Applies.V6),
            new Def(IPPROTO_IPV6, 67, 4, "IPV6_TCLASS", Applies.V6),
            new Def(IPPROTO_IPV6, 75, 4, "IPV6_TRANSPARENT", Applies.V6),
            new Def(IPPROTO_IPV6, 78, 4, "IPV6_FREEBIND", Applies.V6));

    private SocketOptions() {
    }

    static boolean applies(Def d, int family, int protocol, boolean connected) {
        return switch (d.applies()) {
            case ALL -> true;
            case TCP -> protocol == IPPROTO_TCP;
            case TCP_UNCONNECTED -> protocol == IPPROTO_TCP && !connected;
            case V4 -> family == InetAddr.AF_INET;
            case V6 -> family == InetAddr.AF_INET6;
            case UDP4 -> family == InetAddr.AF_INET && protocol == IPPROTO_UDP;
            case UDP6 -> family == InetAddr.AF_INET6 && protocol == IPPROTO_UDP;
        };
    }

    /** Reads every option that applies; those getsockopt refuses for this socket are left out. */
    static List<SocketOption> read(RemoteTask t, int fd, int family, int protocol, boolean connected)
            throws CryoException {
        List<SocketOption> out = new ArrayList<>();
        for (Def d : DEFS) {
            if (!applies(d, family, protocol, connected)) {
                continue;
            }
            byte[] v = getOptionOrNull(t, fd, d.level(), d.name(), d.size());
            if (v != null) {
                out.add(SocketOption.newBuilder().setLevel(d.level()).setName(d.name()).setLabel(d.label())
                        .setValue(ByteString.copyFrom(v)).build());
            }
        }
        return out;
    }

    /** @return the option named {@code name} at {@code level} in {@code options}, or null */
    static SocketOption find(List<SocketOption> options, int level, int name) {
        for (SocketOption o : options) {
            if (o.getLevel() == level && o.getName() == name) {
                return o;
            }
        }
        return null;
    }

    static int intValue(SocketOption o) {
        byte[] v = o.getValue().toByteArray();
        return v.length >= 4 ? (v[0] & 0xff) | (v[1] & 0xff) << 8 | (v[2] & 0xff) << 16 | (v[3] & 0xff) << 24 : 0;
    }

    /**
     * Sets every recorded option whose value differs on {@code fd} now (a fresh socket).
     *
     * @param who the socket for messages
     */
    static void apply(RemoteTask t, int fd, List<SocketOption> options, String who) throws CryoException {
        for (SocketOption o : options) {
            byte[] want = o.getValue().toByteArray();
            byte[] now = getOptionOrNull(t, fd, o.getLevel(), o.getName(), Math.max(want.length, 4));
            if (now != null && Arrays.equals(now, want)) {
                continue;
            }
            if (o.getLevel() == SOL_SOCKET && (o.getName() == SO_SNDBUF || o.getName() == SO_RCVBUF)) {
                int half = intValue(o) / 2;
                int force = o.getName() == SO_SNDBUF ? SO_SNDBUFFORCE : SO_RCVBUFFORCE;
                if (setBytesRaw(t, fd, SOL_SOCKET, force, toBytes(half)) < 0) {
                    setInt(t, fd, SOL_SOCKET, o.getName(), half, o.getLabel() + " " + half + " on " + who);
                }
                continue;
            }
            if (o.getLevel() == IPPROTO_TCP && o.getName() == 13) { // TCP_CONGESTION: the name without NULs
                int n = 0;
                while (n < want.length && want[n] != 0) {
                    n++;
                }
                want = Arrays.copyOf(want, n);
            }
            if (o.getLevel() == SOL_SOCKET && o.getName() == 25) { // SO_BINDTODEVICE: the name, or nothing
                int n = 0;
                while (n < want.length && want[n] != 0) {
                    n++;
                }
                want = Arrays.copyOf(want, n);
            }
            setBytes(t, fd, o.getLevel(), o.getName(), want, o.getLabel() + " = " + describe(o) + " on " + who);
        }
    }

    static byte[] toBytes(int v) {
        return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
    }

    /** @return an int option as a number, a name option as text, others as hex */
    static String describe(SocketOption o) {
        byte[] v = o.getValue().toByteArray();
        if ((o.getLevel() == IPPROTO_TCP && o.getName() == 13) || (o.getLevel() == SOL_SOCKET && o.getName() == 25)) {
            int n = 0;
            while (n < v.length && v[n] != 0) {
                n++;
            }
            return new String(v, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
        }
        return v.length == 4 ? Integer.toString(intValue(o)) : "0x" + hex(v);
    }
}
