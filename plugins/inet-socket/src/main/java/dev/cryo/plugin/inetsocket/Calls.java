package dev.cryo.plugin.inetsocket;

import dev.cryo.api.CryoException;
import dev.cryo.api.Errno;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The socket constants of this plugin and the calls it makes through a {@link RemoteTask} — a task of the tree
 * (injected) or cryo's own process ({@code HostKernel.self()}), the same code either way. Arguments go through the
 * task's scratch area: option value at {@link #OPTVAL} (256 bytes), its length at {@link #OPTLEN}, a sockaddr at
 * {@link #ADDR} with its length at {@link #ADDRLEN}, an int result at {@link #INT}, bulk data from {@link #DATA}.
 */
final class Calls {
    static final int OPTVAL = 0, OPTLEN = 256, ADDR = 320, ADDRLEN = 384, INT = 448, DATA = 512;

    static final int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3;
    static final int SOCK_NONBLOCK = 04000, SOCK_CLOEXEC = 02000000;
    static final int IPPROTO_IP = 0, IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_IPV6 = 41;
    static final int SOL_SOCKET = 1;
    static final int SO_REUSEADDR = 2, SO_TYPE = 3, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_SNDBUFFORCE = 32,
            SO_RCVBUFFORCE = 33, SO_PROTOCOL = 38, SO_DOMAIN = 39, SO_ACCEPTCONN = 30;
    static final int IPV6_V6ONLY = 26;

    static final int TCP_ESTABLISHED = 1, TCP_SYN_SENT = 2, TCP_SYN_RECV = 3, TCP_FIN_WAIT1 = 4, TCP_FIN_WAIT2 = 5,
            TCP_TIME_WAIT = 6, TCP_CLOSE = 7, TCP_CLOSE_WAIT = 8, TCP_LAST_ACK = 9, TCP_LISTEN = 10,
            TCP_CLOSING = 11, TCP_NEW_SYN_RECV = 12;
    static final String[] TCP_STATES = {"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
        "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE"};

    static final int F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 04000;
    static final int RCV_SHUTDOWN = 1, SEND_SHUTDOWN = 2;
    static final int MSG_PEEK = 0x2, MSG_DONTWAIT = 0x40;

    private Calls() {
    }

    static String stateName(int protocol, int state) {
        if (protocol == IPPROTO_UDP) {
            return state == TCP_ESTABLISHED ? "connected" : "unconnected";
        }
        return state >= 0 && state < TCP_STATES.length ? TCP_STATES[state] : "state " + state;
    }

    static ByteBuffer direct(int n) {
        return ByteBuffer.allocateDirect(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    static ByteBuffer le(int v) {
        return direct(4).putInt(0, v);
    }

    /** A failed call as this plugin reports it: {@code what failed: EPERM (Operation not permitted)}. */
    static CryoException failure(String code, String what, long result) {
        return CryoException.kernel("inet-socket/" + code, what, (int) -result);
    }

    /** @return the option's bytes as getsockopt wrote them (at most {@code max}), or null when getsockopt fails */
    static byte[] getOptionOrNull(RemoteTask t, int fd, int level, int name, int max) throws CryoException {
        long s = t.scratchAddress();
        t.writeMemory(s + OPTVAL, direct(max));
        t.writeMemory(s + OPTLEN, le(max));
        long r = t.syscallRaw(Syscall.GETSOCKOPT, fd, level, name, s + OPTVAL, s + OPTLEN);
        if (r < 0) {
            return null;
        }
        ByteBuffer len = direct(4);
        t.readMemory(s + OPTLEN, len);
        int n = Math.min(max, len.getInt(0));
        ByteBuffer v = direct(n);
        t.readMemory(s + OPTVAL, v);
        byte[] out = new byte[n];
        v.flip().get(out);
        return out;
    }

    static int getInt(RemoteTask t, int fd, int level, int name, String what) throws CryoException {
        long s = t.scratchAddress();
        t.writeMemory(s + OPTVAL, le(0));
        t.writeMemory(s + OPTLEN, le(4));
        t.syscall("getsockopt(" + what + ")", Syscall.GETSOCKOPT, fd, level, name, s + OPTVAL, s + OPTLEN);
        ByteBuffer v = direct(4);
        t.readMemory(s + OPTVAL, v);
        return v.getInt(0);
    }

    static void setInt(RemoteTask t, int fd, int level, int name, int value, String what) throws CryoException {
        setBytes(t, fd, level, name, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array(),
                what);
    }

    static long setBytesRaw(RemoteTask t, int fd, int level, int name, byte[] value) throws CryoException {
        long s = t.scratchAddress();
        if (value.length > 0) {
            t.writeMemory(s + OPTVAL, direct(value.length).put(value).flip());
        }
        return t.syscallRaw(Syscall.SETSOCKOPT, fd, level, name, s + OPTVAL, value.length);
    }

    static void setBytes(RemoteTask t, int fd, int level, int name, byte[] value, String what) throws CryoException {
        long r = setBytesRaw(t, fd, level, name, value);
        if (r < 0) {
            throw failure("SETSOCKOPT", "setsockopt(" + what + ")", r);
        }
    }

    /** @return getsockname of {@code fd}, null when it names no inet address */
    static InetAddr sockName(RemoteTask t, int fd, String what) throws CryoException {
        return name(t, fd, Syscall.GETSOCKNAME, what);
    }

    /** @return getpeername of {@code fd}, null when not connected (ENOTCONN) */
    static InetAddr peerName(RemoteTask t, int fd, String what) throws CryoException {
        return name(t, fd, Syscall.GETPEERNAME, what);
    }

    private static InetAddr name(RemoteTask t, int fd, Syscall call, String what) throws CryoException {
        long s = t.scratchAddress();
        t.writeMemory(s + ADDR, direct(64));
        t.writeMemory(s + ADDRLEN, le(64));
        long r = t.syscallRaw(call, fd, s + ADDR, s + ADDRLEN);
        if (r < 0) {
            if (Errno.ENOTCONN.is(r)) {
                return null;
            }
            throw failure("NAME", call.callName() + "(" + what + ")", r);
        }
        ByteBuffer len = direct(4);
        t.readMemory(s + ADDRLEN, len);
        ByteBuffer a = direct(64);
        t.readMemory(s + ADDR, a);
        return InetAddr.parse(a.flip(), len.getInt(0));
    }

    /** Puts {@code addr} into the scratch area; returns its address in the task. */
    static long putAddr(RemoteTask t, InetAddr addr) throws CryoException {
        long s = t.scratchAddress();
        t.writeMemory(s + ADDR, addr.sockaddr());
        return s + ADDR;
    }

    /** ioctl(fd, req, &int) → the int. */
    static int ioctlInt(RemoteTask t, int fd, int req, String what) throws CryoException {
        long s = t.scratchAddress();
        t.writeMemory(s + INT, le(0));
        t.syscall("ioctl(" + what + ")", Syscall.IOCTL, fd, req, s + INT);
        ByteBuffer v = direct(4);
        t.readMemory(s + INT, v);
        return v.getInt(0);
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x & 0xff));
        }
        return sb.toString();
    }

    static boolean same(byte[] a, byte[] b) {
        return Arrays.equals(a, b);
    }
}
