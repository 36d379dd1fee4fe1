package dev.cryo.plugin.unixsocket;

import dev.cryo.api.CryoException;
import dev.cryo.api.HostKernel;
import dev.cryo.api.SockDiagMessages;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code NETLINK_SOCK_DIAG} says about the AF_UNIX sockets of cryo's network namespace: one
 * {@code SOCK_DIAG_BY_FAMILY} dump request with {@code UDIAG_SHOW_NAME|VFS|PEER|ICONS|RQLEN}, parsed into
 * {@link Socket}s by inode. Built once per command (all processes of the tree are frozen meanwhile).
 */
final class SockDiag {
    static final int UDIAG_SHOW_NAME = 0x01, UDIAG_SHOW_VFS = 0x02, UDIAG_SHOW_PEER = 0x04, UDIAG_SHOW_ICONS = 0x08,
            UDIAG_SHOW_RQLEN = 0x10;
    static final int UNIX_DIAG_NAME = 0, UNIX_DIAG_VFS = 1, UNIX_DIAG_PEER = 2, UNIX_DIAG_ICONS = 3,
            UNIX_DIAG_RQLEN = 4, UNIX_DIAG_SHUTDOWN = 6;

    /**
     * One socket as sock_diag reports it.
     *
     * @param vfsDev  st_dev (userspace encoding) of the bound socket file, 0 when none
     * @param icons   a listener: the inodes of the clients whose connections wait to be accepted, in queue order
     * @param rqueue  a listener: connections waiting; otherwise bytes in the receive queue
     * @param wqueue  a listener: the backlog; otherwise memory of sent data not yet read by the peer
     */
    record Socket(long ino, int type, int state, SocketName name, long vfsDev, long vfsIno, long peer,
                  List<Long> icons, long rqueue, long wqueue, int shutdown) {
    }

    private final Map<Long, Socket> byIno;

    private SockDiag(Map<Long, Socket> byIno) {
        this.byIno = byIno;
    }

    static SockDiag query(HostKernel kernel) throws CryoException {
        return parse(kernel.netlink(SockDiagMessages.NETLINK_SOCK_DIAG, request()));
    }

    /** {@code nlmsghdr} + {@code unix_diag_req} asking for every AF_UNIX socket in every state. */
    static byte[] request() {
        ByteBuffer b = SockDiagMessages.dumpRequest(24);
        b.put((byte) SocketCalls.AF_UNIX).put((byte) 0).putShort((short) 0)
                .putInt(~0)   // udiag_states
                .putInt(0)    // udiag_ino
                .putInt(UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN)
                .putInt(-1).putInt(-1);  // cookie
        return b.array();
    }

    static SockDiag parse(List<byte[]> messages) throws CryoException {
        Map<Long, Socket> out = new HashMap<>();
        for (byte[] m : messages) {
            Socket s = parseOne(m);
            if (s.ino() != 0) {
                out.put(s.ino(), s);
            }
        }
        return new SockDiag(out);
    }

    static Socket parseOne(byte[] msg) throws CryoException {
        ByteBuffer b = ByteBuffer.wrap(msg).order(ByteOrder.LITTLE_ENDIAN);
        if (msg.length < 32) {
            throw malformed("a reply of " + msg.length + " bytes");
        }
        int type = b.get(17) & 0xff;
        int state = b.get(18) & 0xff;
        long ino = b.getInt(20) & 0xffffffffL;
        SocketName name = SocketName.NONE;
        long vfsDev = 0, vfsIno = 0, peer = 0, rq = 0, wq = 0;
        int shutdown = 0;
        List<Long> icons = List.of();
        SockDiagMessages.Attributes a = SockDiagMessages.attributes(b, 16 + 16);
        while (a.next()) {
            int p = a.payload(), plen = a.length();
            switch (a.type()) {
                case UNIX_DIAG_NAME -> {
                    byte[] raw = new byte[plen];
                    System.arraycopy(msg, p, raw, 0, plen);
                    name = SocketName.of(raw);
                }
                case UNIX_DIAG_VFS -> {
                    vfsIno = b.getInt(p) & 0xffffffffL;
                    vfsDev = userDev(b.getInt(p + 4) & 0xffffffffL);
                }
                case UNIX_DIAG_PEER -> peer = b.getInt(p) & 0xffffffffL;
                case UNIX_DIAG_ICONS -> {
                    List<Long> l = new ArrayList<>(plen / 4);
                    for (int i = 0; i + 4 <= plen; i += 4) {
                        l.add(b.getInt(p + i) & 0xffffffffL);
                    }
                    icons = Collections.unmodifiableList(l);
                }
                case UNIX_DIAG_RQLEN -> {
                    rq = b.getInt(p) & 0xffffffffL;
                    wq = b.getInt(p + 4) & 0xffffffffL;
                }
                case UNIX_DIAG_SHUTDOWN -> shutdown = b.get(p) & 0xff;
                default -> {
                }
            }
        }
        if (a.malformed()) {
            throw malformed("rtattr of length " + a.rawLength() + " at offset " + a.offset() + " of socket ino " + ino);
        }
        return new Socket(ino, type, state, name, vfsDev, vfsIno, peer, icons, rq, wq, shutdown);
    }

    /** The kernel's dev_t (major &lt;&lt; 20 | minor) as {@code st_dev} encodes it ({@code new_encode_dev}). */
    static long userDev(long kdev) {
        long major = kdev >>> 20, minor = kdev & 0xfffff;
        return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);
    }

    private static CryoException malformed(String what) {
        return new CryoException(CryoException.Category.KERNEL, "unix-socket/SOCK_DIAG",
                "malformed NETLINK_SOCK_DIAG reply: " + what);
    }

    Socket get(long ino) {
        return byIno.get(ino);
    }

    /** @return the listener whose accept queue holds a connection from {@code client}, or null */
    Socket listenerWithPending(long client) {
        for (Socket s : byIno.values()) {
            if (s.state() == SocketCalls.TCP_LISTEN && s.icons().contains(client)) {
                return s;
            }
        }
        return null;
    }

    /** @return the inodes of every socket bound to {@code name} (a listener and the connections it accepted) */
    List<Long> inodesNamed(SocketName name) {
        List<Long> out = new ArrayList<>();
        for (Socket s : byIno.values()) {
            if (s.name().equals(name)) {
                out.add(s.ino());
            }
        }
        return out;
    }
}
