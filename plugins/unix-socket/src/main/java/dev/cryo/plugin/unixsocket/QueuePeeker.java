package dev.cryo.plugin.unixsocket;

import dev.cryo.api.Errno;
import dev.cryo.api.Syscall;
import com.google.protobuf.ByteString;
import dev.cryo.api.CryoException;
import dev.cryo.api.RemoteTask;
import dev.cryo.plugin.unixsocket.proto.QueuedPacket;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static dev.cryo.api.SyscallFlags.*;
import static dev.cryo.plugin.unixsocket.SocketCalls.*;

/**
 * Reads a socket's receive queue without consuming it: inside the frozen task, {@code SO_PEEK_OFF} is set to 0 and
 * {@code recvmsg(MSG_PEEK|MSG_DONTWAIT)} walks the queue through the scratch area; the task's own
 * {@code SO_PEEK_OFF} is put back afterwards. Datagrams and seqpacket records keep their boundaries (a record larger
 * than the buffer is read in pieces with {@code MSG_TRUNC} telling what remains) and each datagram its sender's
 * name; stream bytes come in chunks whose boundaries mean nothing.
 *
 * <p>Scratch layout: msghdr at 0, iovec at 64, optval/optlen at 80, sockaddr_un at 96, control at 224 (256 bytes),
 * data from 512 to the end.
 */
final class QueuePeeker {
    static final int MSGHDR = 0, IOVEC = 64, OPTVAL = 80, OPTLEN = 84, NAME = 96, CONTROL = 224, CONTROL_LEN = 256,
            DATA = 512;
    private static final int MSG_CTRUNC = 0x8;
    private static final int SCM_RIGHTS = 1;
    /** An upper bound on records per queue: a zero-length datagram on a shut-down socket reads like the end. */
    private static final int MAX_RECORDS = 1 << 20;

    private QueuePeeker() {
    }

    /** @return the value of an int socket option of the task's {@code fd} */
    static int getIntOption(RemoteTask task, int fd, int opt, String who) throws CryoException {
        long s = task.scratchAddress();
        ByteBuffer b = direct(8).putInt(0).putInt(4).flip();
        task.writeMemory(s + OPTVAL, b);
        task.syscall("getsockopt(" + who + ", SOL_SOCKET, " + opt + ")", Syscall.GETSOCKOPT, fd, SOL_SOCKET, opt,
                s + OPTVAL, s + OPTLEN);
        ByteBuffer r = direct(4);
        task.readMemory(s + OPTVAL, r);
        return r.flip().getInt();
    }

    static void setIntOption(RemoteTask task, int fd, int opt, int value, String who) throws CryoException {
        long s = task.scratchAddress();
        task.writeMemory(s + OPTVAL, direct(4).putInt(value).flip());
        task.syscall("setsockopt(" + who + ", SOL_SOCKET, " + opt + ", " + value + ")", Syscall.SETSOCKOPT, fd,
                SOL_SOCKET, opt, s + OPTVAL, 4);
    }

    /**
     * Whether an error waits on the socket ({@code sk_err}), asked without consuming it: {@code ppoll} with a zero
     * timeout reports POLLERR (reading SO_ERROR, or a receive on an empty queue, would clear it).
     */
    static boolean pendingError(RemoteTask task, int fd, String who) throws CryoException {
        long s = task.scratchAddress();
        task.writeMemory(s + OPTVAL, direct(8).putInt(fd).putShort((short) POLLIN).putShort((short) 0).flip());
        task.writeMemory(s + NAME, direct(16).putLong(0).putLong(0).flip());
        task.syscall("ppoll(" + who + ", POLLIN, 0 s)", Syscall.PPOLL, s + OPTVAL, 1, s + NAME, 0, 8);
        ByteBuffer r = direct(2);
        task.readMemory(s + OPTVAL + 6, r);
        return (r.flip().getShort() & POLLERR) != 0;
    }

    /**
     * @param peekOff the task's own SO_PEEK_OFF, put back at the end
     * @param who     {@code pid N "comm" fd M ino I} for messages
     */
    static List<QueuedPacket> peek(RemoteTask task, int fd, int type, int peekOff, int shutdown, long limit,
                                   String who) throws CryoException {
        setIntOption(task, fd, SO_PEEK_OFF, 0, who);
        try {
            return type == SOCK_STREAM ? peekStream(task, fd, limit, who) : peekRecords(task, fd, shutdown, who);
        } finally {
            setIntOption(task, fd, SO_PEEK_OFF, peekOff, who);
        }
    }

    /**
     * @param limit the bytes queued ({@code UNIX_DIAG_RQLEN}) when an error waits: the peek stops there, since a peek
     *              past the end would report (and clear) the error; -1 peeks until the queue says it is empty
     */
    private static List<QueuedPacket> peekStream(RemoteTask task, int fd, long limit, String who)
            throws CryoException {
        List<QueuedPacket> out = new ArrayList<>();
        long total = 0;
        for (int i = 0; i < MAX_RECORDS; i++) {
            if (limit >= 0 && total >= limit) {
                return out;
            }
            Received r = recv(task, fd, MSG_PEEK | MSG_DONTWAIT, who);
            if (r.result <= 0) {
                return out;
            }
            out.add(QueuedPacket.newBuilder().setData(ByteString.copyFrom(r.data)).build());
            total += r.data.length;
        }
        throw tooMany(who);
    }

    private static List<QueuedPacket> peekRecords(RemoteTask task, int fd, int shutdown, String who)
            throws CryoException {
        List<QueuedPacket> out = new ArrayList<>();
        int room = task.scratchSize() - DATA;
        for (int i = 0; i < MAX_RECORDS; i++) {
            Received first = recv(task, fd, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC, who);
            if (first.result < 0 || (first.result == 0 && (shutdown & RCV_SHUTDOWN) != 0)) {
                return out;
            }
            ByteArrayOutputStream record = new ByteArrayOutputStream();
            record.write(first.data, 0, first.data.length);
            long remaining = first.result - first.data.length;
            while (remaining > 0) {
                Received more = recv(task, fd, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC, who);
                if (more.result <= 0 || more.result > remaining) {
                    throw new CryoException(CryoException.Category.KERNEL, "unix-socket/PEEK",
                            "peeking the receive queue of " + who + " lost its place in a record of "
                                    + first.result + " bytes (next peek returned " + more.result + ")");
                }
                record.write(more.data, 0, more.data.length);
                remaining = more.result - more.data.length;
            }
            QueuedPacket.Builder p = QueuedPacket.newBuilder().setData(ByteString.copyFrom(record.toByteArray()));
            if (first.sender.isBound()) {
                p.setSender(ByteString.copyFrom(first.sender.bytes()));
            }
            out.add(p.build());
            if (first.data.length > room) {
                throw new IllegalStateException("recvmsg copied more than the buffer");
            }
        }
        throw tooMany(who);
    }

    private record Received(long result, byte[] data, SocketName sender) {
    }

    private static Received recv(RemoteTask task, int fd, int flags, String who) throws CryoException {
        long s = task.scratchAddress();
        int room = task.scratchSize() - DATA;
        ByteBuffer hdr = direct(IOVEC + 16);
        hdr.putLong(s + NAME).putInt(SocketName.SUN_PATH_OFFSET + SocketName.SUN_PATH_MAX).putInt(0)
                .putLong(s + IOVEC).putLong(1).putLong(s + CONTROL).putLong(CONTROL_LEN).putInt(0).putInt(0);
        hdr.position(IOVEC);
        hdr.putLong(s + DATA).putLong(room);
        task.writeMemory(s + MSGHDR, hdr.flip());
        long r = task.syscallRaw(Syscall.RECVMSG, fd, s + MSGHDR, flags);
        if (r == -EAGAIN) {
            return new Received(-1, new byte[0], SocketName.NONE);
        }
        if (r < 0) {
            throw new CryoException(CryoException.Category.KERNEL, "unix-socket/PEEK", "recvmsg(" + who
                    + ", MSG_PEEK) failed: " + Errno.describe((int) -r));
        }
        ByteBuffer meta = direct(NAME + SocketName.SUN_PATH_OFFSET + SocketName.SUN_PATH_MAX);
        task.readMemory(s, meta);
        meta.flip();
        int namelen = meta.getInt(MSGHDR + 8);
        long controllen = meta.getLong(MSGHDR + 40);
        int msgFlags = meta.getInt(MSGHDR + 48);
        if (controllen > 0) {
            checkNoFds(task, fd, controllen, who);
        }
        if ((msgFlags & MSG_CTRUNC) != 0) {
            throw fdsInFlight(who, "control data larger than " + CONTROL_LEN + " bytes");
        }
        SocketName sender = SocketName.NONE;
        if (namelen > SocketName.SUN_PATH_OFFSET) {
            byte[] raw = new byte[Math.min(namelen, meta.limit() - NAME) - SocketName.SUN_PATH_OFFSET];
            meta.get(NAME + SocketName.SUN_PATH_OFFSET, raw);
            sender = SocketName.of(raw);
        }
        int copied = (int) Math.min(r, room);
        byte[] data = new byte[copied];
        if (copied > 0) {
            ByteBuffer d = direct(copied);
            task.readMemory(s + DATA, d);
            d.flip().get(data);
        }
        return new Received(r, data, sender);
    }

    /** SCM_RIGHTS peeked: the kernel installed copies of the fds in flight into the task; close them, refuse. */
    private static void checkNoFds(RemoteTask task, int fd, long controllen, String who) throws CryoException {
        long s = task.scratchAddress();
        ByteBuffer c = direct((int) Math.min(controllen, CONTROL_LEN));
        task.readMemory(s + CONTROL, c);
        c.flip();
        int off = 0;
        boolean rights = false;
        while (off + 16 <= c.limit()) {
            long len = c.getLong(off);
            int level = c.getInt(off + 8), type = c.getInt(off + 12);
            if (len < 16) {
                break;
            }
            if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                rights = true;
                for (int p = off + 16; p + 4 <= off + len && p + 4 <= c.limit(); p += 4) {
                    task.syscallRaw(Syscall.CLOSE, c.getInt(p));
                }
            }
            off += (int) ((len + 7) & ~7L);
        }
        if (rights) {
            throw fdsInFlight(who, "file descriptors (SCM_RIGHTS)");
        }
    }

    private static CryoException fdsInFlight(String who, String what) {
        return new CryoException(CryoException.Category.UNSUPPORTED, "unix-socket/FDS_IN_FLIGHT",
                "dump refused: the receive queue of unix socket " + who + " holds " + what
                        + " not received yet; cryo does not dump file descriptors in flight",
                "let the program receive the queued messages before dumping");
    }

    private static CryoException tooMany(String who) {
        return new CryoException(CryoException.Category.UNSUPPORTED, "unix-socket/QUEUE_TOO_LONG",
                "dump refused: the receive queue of unix socket " + who + " holds more than " + MAX_RECORDS
                        + " records");
    }

    static ByteBuffer direct(int n) {
        return ByteBuffer.allocateDirect(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
