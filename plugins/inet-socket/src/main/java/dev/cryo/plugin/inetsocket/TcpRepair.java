package dev.cryo.plugin.inetsocket;

import com.google.protobuf.ByteString;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;
import dev.cryo.plugin.inetsocket.proto.TcpStream;

import java.nio.ByteBuffer;

import static dev.cryo.plugin.inetsocket.Calls.*;

/**
 * An established TCP connection through TCP_REPAIR (Linux 3.11+, CAP_NET_ADMIN), the way CRIU's libsoccr does it.
 * Every call runs in cryo's own process ({@code HostKernel.self()}) on a fd cryo holds: the task of the tree holding
 * the socket may run as a user without CAP_NET_ADMIN (an nginx worker as {@code nobody}).
 *
 * <p><b>Dump</b> ({@link #dump}), with the connection's packets dropped by the {@link NetworkLock}: TCP_REPAIR on,
 * then {@code TCP_INFO} (state, options, window scales), {@code SIOCOUTQ}/{@code SIOCOUTQNSD}/{@code SIOCINQ}
 * (queue lengths), {@code TCP_MAXSEG} (the MSS clamp in repair mode), {@code TCP_TIMESTAMP},
 * {@code TCP_REPAIR_WINDOW}, and per queue ({@code TCP_REPAIR_QUEUE}) its sequence number ({@code TCP_QUEUE_SEQ}) and
 * bytes ({@code recvfrom(MSG_PEEK)}). Read twice until two readings agree, so that a packet that was already in the
 * stack when the lock was taken cannot tear the state. The socket stays in repair mode: when the tree is killed it
 * closes without a FIN or RST; a dump that leaves the tree running turns repair off again.
 *
 * <p><b>Restore</b> ({@link #restore}) on a new socket in repair mode: bind, both queue sequence numbers minus the
 * queued lengths, connect (no handshake in repair mode), {@code TCP_REPAIR_OPTIONS} (SACK, window scales, timestamps,
 * MSS), {@code TCP_TIMESTAMP}, the receive queue and the sent-but-unacknowledged part of the send queue written in
 * repair mode, the never-sent part written with repair off ({@code TCP_REPAIR_OFF_NO_WP}: no window probe), then
 * {@code TCP_REPAIR_WINDOW}. Repair is turned off by {@link #repairOff} once every process is rebuilt.
 */
final class TcpRepair {
    static final int TCP_MAXSEG = 2, TCP_INFO = 11, TCP_REPAIR = 19, TCP_REPAIR_QUEUE = 20, TCP_QUEUE_SEQ = 21,
            TCP_REPAIR_OPTIONS = 22, TCP_TIMESTAMP = 24, TCP_REPAIR_WINDOW = 29;
    static final int TCP_REPAIR_ON = 1, TCP_REPAIR_OFF = 0, TCP_REPAIR_OFF_NO_WP = -1;
    static final int TCP_NO_QUEUE = 0, TCP_RECV_QUEUE = 1, TCP_SEND_QUEUE = 2;
    static final int SIOCINQ = 0x541B, SIOCOUTQ = 0x5411, SIOCOUTQNSD = 0x894B;
    static final int TCPOPT_MAXSEG = 2, TCPOPT_WINDOW = 3, TCPOPT_SACK_PERM = 4, TCPOPT_TIMESTAMP = 8;
    static final int TCPI_OPT_TIMESTAMPS = 1, TCPI_OPT_SACK = 2, TCPI_OPT_WSCALE = 4;
    private static final int PROT_RW = 3, MAP_PRIVATE_ANON = 0x22;
    private static final int READINGS = 20;

    private TcpRepair() {
    }

    static void repairOn(RemoteTask self, int fd, String who) throws CryoException {
        long r = setBytesRaw(self, fd, IPPROTO_TCP, TCP_REPAIR, SocketOptions.toBytes(TCP_REPAIR_ON));
        if (r < 0) {
            throw new CryoException(Category.KERNEL, "inet-socket/TCP_REPAIR", "setsockopt(TCP_REPAIR, 1) on " + who
                    + " failed: " + Errno.describe((int) -r), Errno.EPERM.is(r)
                    ? "run cryo as root with CAP_NET_ADMIN (in the network namespace of the tree)"
                    : "a kernel without TCP_REPAIR (Linux 3.11+, CONFIG_...) cannot keep TCP connections; pass"
                    + " --tcp-close instead", (int) -r, null);
        }
    }

    /** Turns repair off ({@code how}: {@link #TCP_REPAIR_OFF} sends a window probe). Never throws. */
    static long repairOff(RemoteTask self, int fd, int how) {
        try {
            return setBytesRaw(self, fd, IPPROTO_TCP, TCP_REPAIR, SocketOptions.toBytes(how));
        } catch (CryoException e) {
            return -1;
        }
    }

    /** Reads the connection's state; the socket must be in repair mode and its packets locked out. */
    static TcpStream dump(RemoteTask self, int fd, String who) throws CryoException {
        TcpStream previous = null;
        for (int i = 0; i < READINGS; i++) {
            TcpStream now = read(self, fd, who);
            // TCP_TIMESTAMP reads the socket's clock, which moves on every millisecond: compare without it
            if (previous != null && previous.toBuilder().clearTimestamp().build()
                    .equals(now.toBuilder().clearTimestamp().build())) {
                return now;
            }
            previous = now;
        }
        throw new CryoException(Category.KERNEL, "inet-socket/TCP_UNSTABLE", "the state of " + who + " kept changing"
                + " under the network lock (" + READINGS + " readings); is traffic reaching it another way?");
    }

    private static TcpStream read(RemoteTask self, int fd, String who) throws CryoException {
        byte[] info = getOptionOrNull(self, fd, IPPROTO_TCP, TCP_INFO, 8);
        if (info == null || info.length < 7) {
            throw new CryoException(Category.KERNEL, "inet-socket/TCP_INFO", "getsockopt(TCP_INFO) on " + who
                    + " failed");
        }
        int options = info[5] & 0xff;
        TcpStream.Builder b = TcpStream.newBuilder().setOptions(options);
        if ((options & TCPI_OPT_WSCALE) != 0) {
            b.setSndWscale(info[6] & 0xf).setRcvWscale((info[6] >> 4) & 0xf);
        }
        int outq = ioctlInt(self, fd, SIOCOUTQ, "SIOCOUTQ on " + who);
        int unsent = ioctlInt(self, fd, SIOCOUTQNSD, "SIOCOUTQNSD on " + who);
        int inq = ioctlInt(self, fd, SIOCINQ, "SIOCINQ on " + who);
        b.setOutqLen(outq).setUnsentLen(unsent).setInqLen(inq);
        b.setMssClamp(getInt(self, fd, IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG of " + who));
        if ((options & TCPI_OPT_TIMESTAMPS) != 0) {
            b.setTimestamp(getInt(self, fd, IPPROTO_TCP, TCP_TIMESTAMP, "TCP_TIMESTAMP of " + who));
        }
        byte[] w = getOptionOrNull(self, fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, 20);
        if (w != null && w.length == 20) {
            ByteBuffer wb = ByteBuffer.wrap(w).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.setHasWindow(true).setSndWl1(wb.getInt(0)).setSndWnd(wb.getInt(4)).setMaxWindow(wb.getInt(8))
                    .setRcvWnd(wb.getInt(12)).setRcvWup(wb.getInt(16));
        }
        setInt(self, fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE, "TCP_REPAIR_QUEUE on " + who);
        b.setRcvSeq(getInt(self, fd, IPPROTO_TCP, TCP_QUEUE_SEQ, "TCP_QUEUE_SEQ (receive) of " + who));
        b.setRecvQueue(ByteString.copyFrom(peek(self, fd, inq, "receive", who)));
        setInt(self, fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, "TCP_REPAIR_QUEUE on " + who);
        b.setSndSeq(getInt(self, fd, IPPROTO_TCP, TCP_QUEUE_SEQ, "TCP_QUEUE_SEQ (send) of " + who));
        b.setSendQueue(ByteString.copyFrom(peek(self, fd, outq, "send", who)));
        setInt(self, fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE, "TCP_REPAIR_QUEUE on " + who);
        return b.build();
    }

    /** {@code len} bytes of the selected queue, peeked; one more is asked for to make sure there are no more. */
    private static byte[] peek(RemoteTask self, int fd, int len, String queue, String who) throws CryoException {
        if (len == 0) {
            return new byte[0];
        }
        Area area = Area.of(self, len + 1);
        try {
            long r = self.syscallRaw(Syscall.RECVFROM, fd, area.address, len + 1, MSG_PEEK | MSG_DONTWAIT, 0, 0);
            if (r != len) {
                throw new CryoException(Category.KERNEL, "inet-socket/TCP_QUEUE", "peeking the " + queue + " queue of "
                        + who + " returned " + (r < 0 ? Errno.describe((int) -r) : r + " bytes") + ", not the " + len
                        + " bytes queued");
            }
            ByteBuffer d = direct(len);
            self.readMemory(area.address, d);
            byte[] out = new byte[len];
            d.flip().get(out);
            return out;
        } finally {
            area.close();
        }
    }

    /**
     * Rebuilds the connection on {@code fd}, a new TCP socket of cryo's process with its options set, left in repair
     * mode.
     */
    static void restore(RemoteTask self, int fd, InetAddr local, InetAddr peer, TcpStream s, String who)
            throws CryoException {
        repairOn(self, fd, who);
        long r = self.syscallRaw(Syscall.BIND, fd, putAddr(self, local), local.length());
        if (r < 0) {
            throw failure("BIND", "bind(" + who + ", " + local + ") in repair mode", r);
        }
        setInt(self, fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE, "TCP_REPAIR_QUEUE on " + who);
        setInt(self, fd, IPPROTO_TCP, TCP_QUEUE_SEQ, s.getRcvSeq() - s.getInqLen(), "TCP_QUEUE_SEQ (receive) on " + who);
        setInt(self, fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, "TCP_REPAIR_QUEUE on " + who);
        setInt(self, fd, IPPROTO_TCP, TCP_QUEUE_SEQ, s.getSndSeq() - s.getOutqLen(), "TCP_QUEUE_SEQ (send) on " + who);
        r = self.syscallRaw(Syscall.CONNECT, fd, putAddr(self, peer), peer.length());
        if (r < 0) {
            throw failure("CONNECT", "connect(" + who + ", " + peer + ") in repair mode", r);
        }
        ByteBuffer opts = ByteBuffer.allocate(32).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if ((s.getOptions() & TCPI_OPT_SACK) != 0) {
            opts.putInt(TCPOPT_SACK_PERM).putInt(0);
        }
        if ((s.getOptions() & TCPI_OPT_WSCALE) != 0) {
            opts.putInt(TCPOPT_WINDOW).putInt(s.getSndWscale() + (s.getRcvWscale() << 16));
        }
        if ((s.getOptions() & TCPI_OPT_TIMESTAMPS) != 0) {
            opts.putInt(TCPOPT_TIMESTAMP).putInt(0);
        }
        opts.putInt(TCPOPT_MAXSEG).putInt(s.getMssClamp());
        byte[] o = new byte[opts.position()];
        opts.flip().get(o);
        setBytes(self, fd, IPPROTO_TCP, TCP_REPAIR_OPTIONS, o, "TCP_REPAIR_OPTIONS on " + who);
        if ((s.getOptions() & TCPI_OPT_TIMESTAMPS) != 0) {
            setInt(self, fd, IPPROTO_TCP, TCP_TIMESTAMP, s.getTimestamp(), "TCP_TIMESTAMP on " + who);
        }
        byte[] rq = s.getRecvQueue().toByteArray();
        if (rq.length > 0) {
            setInt(self, fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE, "TCP_REPAIR_QUEUE on " + who);
            write(self, fd, rq, 0, rq.length, "receive", who);
        }
        byte[] sq = s.getSendQueue().toByteArray();
        int sent = sq.length - s.getUnsentLen();
        if (sent > 0) {
            setInt(self, fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE, "TCP_REPAIR_QUEUE on " + who);
            write(self, fd, sq, 0, sent, "send", who);
        }
        if (s.getUnsentLen() > 0) {
            // never sent: written with repair off, so the stack sends it (the lock drops it until lifted)
            if (repairOff(self, fd, TCP_REPAIR_OFF_NO_WP) < 0) {
                throw new CryoException(Category.KERNEL, "inet-socket/TCP_REPAIR", "turning repair off on " + who
                        + " to queue its unsent bytes failed");
            }
            write(self, fd, sq, Math.max(sent, 0), s.getUnsentLen(), "send (unsent part)", who);
            repairOn(self, fd, who);
        }
        setInt(self, fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE, "TCP_REPAIR_QUEUE on " + who);
        if (s.getHasWindow()) {
            ByteBuffer w = ByteBuffer.allocate(20).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(s.getSndWl1())
                    .putInt(s.getSndWnd()).putInt(s.getMaxWindow()).putInt(s.getRcvWnd()).putInt(s.getRcvWup());
            setBytes(self, fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, w.array(), "TCP_REPAIR_WINDOW on " + who);
        }
    }

    /** Writes {@code len} bytes from {@code off}; in repair mode the kernel takes a linear buffer: halve on ENOMEM. */
    private static void write(RemoteTask self, int fd, byte[] data, int off, int len, String queue, String who)
            throws CryoException {
        Area area = Area.of(self, len);
        try {
            self.writeMemory(area.address, direct(len).put(data, off, len).flip());
            int done = 0, chunk = len;
            while (done < len) {
                int n = Math.min(chunk, len - done);
                long r = self.syscallRaw(Syscall.SENDTO, fd, area.address + done, n, MSG_DONTWAIT, 0, 0);
                if (r <= 0) {
                    if (chunk > 1024 && (r == 0 || Errno.ENOMEM.is(r) || Errno.EAGAIN.is(r))) {
                        chunk /= 2;
                        continue;
                    }
                    throw new CryoException(Category.KERNEL, "inet-socket/TCP_QUEUE", "writing " + len + " bytes back"
                            + " into the " + queue + " queue of " + who + " failed at byte " + done + ": "
                            + (r < 0 ? Errno.describe((int) -r) : "nothing written"));
                }
                done += (int) r;
            }
        } finally {
            area.close();
        }
    }

    /** Memory in cryo for a transfer: the scratch area when it fits, else a mapping of its own. */
    private static final class Area implements AutoCloseable {
        final RemoteTask self;
        final long address;
        final long mapped;

        private Area(RemoteTask self, long address, long mapped) {
            this.self = self;
            this.address = address;
            this.mapped = mapped;
        }

        static Area of(RemoteTask self, int len) throws CryoException {
            if (len <= self.scratchSize() - DATA) {
                return new Area(self, self.scratchAddress() + DATA, 0);
            }
            long size = (len + 4095L) & ~4095L;
            long a = self.syscall("mmap(" + size + ") for a TCP queue", Syscall.MMAP, 0, size, PROT_RW,
                    MAP_PRIVATE_ANON, -1, 0);
            return new Area(self, a, size);
        }

        @Override
        public void close() {
            if (mapped != 0) {
                try {
                    self.syscallRaw(Syscall.MUNMAP, address, mapped);
                } catch (CryoException ignored) {
                    // cryo's own memory; nothing to undo
                }
            }
        }
    }
}
