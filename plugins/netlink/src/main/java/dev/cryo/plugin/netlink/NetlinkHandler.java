package dev.cryo.plugin.netlink;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.Errno;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.api.Syscall;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.netlink.proto.NetlinkSocketEntry;
import org.pf4j.Extension;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * The netlink socket handler: {@code socket(AF_NETLINK, …)} fds, as dnsmasq, avahi, DHCP clients and udev listeners
 * hold them to hear of addresses, links and devices.
 *
 * <p>Dump: {@link #collect} reads the socket from {@code NETLINK_SOCK_DIAG} (type, protocol, port id, connected peer,
 * the whole multicast group bitmap, the PKTINFO/BROADCAST_ERROR/NO_ENOBUFS/LISTEN_ALL_NSID/CAP_ACK flags, buffer
 * sizes, bytes unread) and injects {@code getsockopt} for what sock_diag does not show: NETLINK_EXT_ACK,
 * NETLINK_GET_STRICT_CHK and the SOL_SOCKET options in {@link #SOL_SOCKET_OPTIONS}. Refused: unread messages (a
 * restored socket would start empty, and notifications the program has not seen yet would be lost), a dump the
 * socket asked for still being produced (its rest would never come), and a socket not in cryo's network namespace.
 *
 * <p>Restore: {@code socket} in the process (so the file carries the process's own credentials, which netlink
 * checks), {@code bind} to the same port id, every group joined with {@code NETLINK_ADD_MEMBERSHIP}, {@code connect}
 * when it was, the options set, then {@code dup3} to the dumped fd number. The port id was the original process's
 * and is free again once it is gone; another socket holding it by then makes the restore fail naming it.
 *
 * <p>Threading: the tracer thread only, per the SPI. Stateless.
 */
@Extension
public final class NetlinkHandler implements FdHandler {
    public static final String KIND = "netlink";
    static final int AF_NETLINK = 16;
    static final int SOL_SOCKET = 1, SOL_NETLINK = 270;
    static final int SO_TYPE = 3, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33,
            SO_PROTOCOL = 38;
    static final int NETLINK_ADD_MEMBERSHIP = 1, NETLINK_EXT_ACK = 11, NETLINK_GET_STRICT_CHK = 12;
    /** SOL_NETLINK option of each NDIAG_FLAG_* bit kept: PKTINFO, BROADCAST_ERROR, NO_ENOBUFS, LISTEN_ALL_NSID, CAP_ACK. */
    static final Map<Integer, Integer> FLAG_OPTIONS = Map.of(0x2, 3, 0x4, 4, 0x8, 5, 0x10, 8, 0x20, 10);
    /**
     * SOL_SOCKET options read at dump, with the value a new socket has: SO_PRIORITY, SO_PASSCRED, SO_RCVLOWAT,
     * SO_TIMESTAMP, SO_TIMESTAMPNS, SO_MARK, SO_RXQ_OVFL. Those that differ are recorded and set again.
     */
    static final Map<Integer, Integer> SOL_SOCKET_OPTIONS = Map.of(12, 0, 16, 0, 18, 1, 29, 0, 35, 0, 36, 0, 40, 0);
    static final int SOCK_NONBLOCK = 04000, SOCK_CLOEXEC = 02000000, O_NONBLOCK = 04000;
    /** Scratch layout: an int option value at 0, its length at 8, a sockaddr_nl at 16. */
    private static final int OPTVAL = 0, OPTLEN = 8, ADDR = 16;

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public boolean probe(FdInfo fd) {
        return fd.isSocket() && fd.socketFamily().equals("netlink");
    }

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        RemoteTask task = ctx.task();
        String who = task.describeFd(fd.fd());
        java.util.Optional<NetlinkDiag.Socket> listed = NetlinkDiag.find(ctx.kernel(), fd.inode());
        if (listed.isEmpty()) {
            return unbound(task, fd, who);
        }
        NetlinkDiag.Socket s = listed.get();
        String what = who + " (" + NetlinkDiag.protocolName(s.protocol()) + " socket, port id "
                + Integer.toUnsignedString(s.portid()) + ")";
        if (s.unread() > 0) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "netlink/UNREAD", "dump refused: " + what
                    + " has " + s.unread() + " bytes of messages the program has not read yet; a restored netlink "
                    + "socket starts empty, so they would be lost",
                    "dump again once the program has read them (it usually does within moments)");
        }
        if ((s.flags() & NetlinkDiag.FLAG_CB_RUNNING) != 0) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "netlink/DUMP_RUNNING", "dump refused: "
                    + what + " is in the middle of a netlink dump (NLM_F_DUMP) whose rest the kernel has not sent "
                    + "yet; a restored socket would never get it", "dump again once the program has read its reply");
        }
        NetlinkSocketEntry.Builder b = NetlinkSocketEntry.newBuilder().setProtocol(s.protocol()).setType(s.type())
                .setPortid(s.portid()).setConnected(s.state() == NetlinkDiag.NETLINK_CONNECTED).setDstPortid(s.dstPortid())
                .setDstGroup(s.dstGroup()).setDiagFlags(s.flags() & NetlinkDiag.FLAGS_KEPT)
                .setRcvbuf(s.rcvbuf()).setSndbuf(s.sndbuf()).setFlags(fd.flags() & O_NONBLOCK)
                .setExtAck(option(task, fd.fd(), SOL_NETLINK, NETLINK_EXT_ACK, who) != 0)
                .setStrictChk(option(task, fd.fd(), SOL_NETLINK, NETLINK_GET_STRICT_CHK, who) != 0);
        for (int g : s.groups()) {
            b.addGroups(g);
        }
        solSocketOptions(task, fd.fd(), who, b);
        return b.build();
    }

    /**
     * sock_diag lists only sockets with a port id: one it does not list is either unbound (never bound, connected or
     * joined to a group, so it holds no messages) — recorded from getsockopt — or in another network namespace.
     */
    private static NetlinkSocketEntry unbound(RemoteTask task, FdInfo fd, String who) throws CryoException {
        long s = task.scratchAddress();
        task.writeMemory(s + OPTLEN, le(12));
        task.syscall("getsockname(" + who + ")", Syscall.GETSOCKNAME, fd.fd().value(), s + ADDR, s + OPTLEN);
        ByteBuffer a = ByteBuffer.allocateDirect(12).order(ByteOrder.LITTLE_ENDIAN);
        task.readMemory(s + ADDR, a);
        if (a.getInt(4) != 0) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "netlink/NOT_LISTED", "dump refused: " + who
                    + " is the netlink socket " + fd.link() + " with port id " + Integer.toUnsignedString(a.getInt(4))
                    + ", which NETLINK_SOCK_DIAG does not list in cryo's network namespace (is the process in "
                    + "another one?)", "run cryo in the process's network namespace (`nsenter -t PID -n cryo dump …`)");
        }
        TargetFd f = fd.fd();
        int diagFlags = 0;
        for (Map.Entry<Integer, Integer> o : FLAG_OPTIONS.entrySet()) {
            if (option(task, f, SOL_NETLINK, o.getValue(), who) != 0) {
                diagFlags |= o.getKey();
            }
        }
        NetlinkSocketEntry.Builder b = NetlinkSocketEntry.newBuilder()
                .setProtocol(option(task, f, SOL_SOCKET, SO_PROTOCOL, who))
                .setType(option(task, f, SOL_SOCKET, SO_TYPE, who)).setDiagFlags(diagFlags)
                .setRcvbuf(option(task, f, SOL_SOCKET, SO_RCVBUF, who))
                .setSndbuf(option(task, f, SOL_SOCKET, SO_SNDBUF, who)).setFlags(fd.flags() & O_NONBLOCK)
                .setExtAck(option(task, f, SOL_NETLINK, NETLINK_EXT_ACK, who) != 0)
                .setStrictChk(option(task, f, SOL_NETLINK, NETLINK_GET_STRICT_CHK, who) != 0);
        solSocketOptions(task, f, who, b);
        return b.build();
    }

    private static void solSocketOptions(RemoteTask task, TargetFd fd, String who, NetlinkSocketEntry.Builder b)
            throws CryoException {
        for (Map.Entry<Integer, Integer> o : SOL_SOCKET_OPTIONS.entrySet()) {
            int v = option(task, fd, SOL_SOCKET, o.getKey(), who);
            if (v != o.getValue()) {
                b.putSolSocket(o.getKey(), v);
            }
        }
    }

    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        NetlinkSocketEntry e = ctx.record(NetlinkSocketEntry.class);
        RemoteTask task = ctx.task();
        String who = task.describeFd(ctx.fd()) + " (" + NetlinkDiag.protocolName(e.getProtocol()) + " socket)";
        long type = e.getType() | SOCK_CLOEXEC | ((e.getFlags() & O_NONBLOCK) != 0 ? SOCK_NONBLOCK : 0);
        long fd = task.syscall("socket(AF_NETLINK, " + type + ", " + e.getProtocol() + ") for " + who,
                Syscall.SOCKET, AF_NETLINK, type, e.getProtocol());
        try {
            if (e.getPortid() != 0) {
                long r = task.syscallRaw(Syscall.BIND, fd, sockaddr(task, e.getPortid(), 0), 12);
                if (r == -Errno.EADDRINUSE.number()) {
                    throw new CryoException(CryoException.Category.CONFLICT, "netlink/PORTID_IN_USE",
                            "restore failed: " + who + " had the port id " + Integer.toUnsignedString(e.getPortid())
                                    + ", which another netlink socket on this host holds now",
                            "find it with `ss -f netlink -p | grep " + Integer.toUnsignedString(e.getPortid())
                                    + "` and end its program, then restore again");
                } else if (r < 0) {
                    throw CryoException.kernel("netlink/BIND", "bind(netlink port id "
                            + Integer.toUnsignedString(e.getPortid()) + ") for " + who, (int) -r);
                }
            }
            for (int g : NetlinkDiag.groupNumbers(e.getGroupsList())) {
                setInt(task, fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g, "NETLINK_ADD_MEMBERSHIP " + g + " for "
                        + who);
            }
            if (e.getConnected()) {
                task.syscall("connect(netlink " + Integer.toUnsignedString(e.getDstPortid()) + "/" + e.getDstGroup()
                        + ") for " + who, Syscall.CONNECT, fd, sockaddr(task, e.getDstPortid(), e.getDstGroup()), 12);
            }
            for (Map.Entry<Integer, Integer> f : FLAG_OPTIONS.entrySet()) {
                if ((e.getDiagFlags() & f.getKey()) != 0) {
                    setInt(task, fd, SOL_NETLINK, f.getValue(), 1, "SOL_NETLINK option " + f.getValue() + " for "
                            + who);
                }
            }
            if (e.getExtAck()) {
                setInt(task, fd, SOL_NETLINK, NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK for " + who);
            }
            if (e.getStrictChk()) {
                setInt(task, fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1, "NETLINK_GET_STRICT_CHK for " + who);
            }
            // the kernel doubles what it is given (and keeps at least its minimum): halves give the dumped sizes back
            if (e.getRcvbuf() > 0) {
                setInt(task, fd, SOL_SOCKET, SO_RCVBUFFORCE, e.getRcvbuf() / 2, "SO_RCVBUFFORCE for " + who);
            }
            if (e.getSndbuf() > 0) {
                setInt(task, fd, SOL_SOCKET, SO_SNDBUFFORCE, e.getSndbuf() / 2, "SO_SNDBUFFORCE for " + who);
            }
            for (Map.Entry<Integer, Integer> o : e.getSolSocketMap().entrySet()) {
                setInt(task, fd, SOL_SOCKET, o.getKey(), o.getValue(), "SOL_SOCKET option " + o.getKey() + " for "
                        + who);
            }
        } catch (CryoException ex) {
            task.syscallRaw(Syscall.CLOSE, fd);
            throw ex;
        }
        task.placeFd(fd, ctx.fd(), ctx.cloexec(), who);
        return RestoreOutcome.DONE;
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(NetlinkSocketEntry.getDescriptor());
    }

    /** @return the int value of a socket option of fd {@code fd} in {@code task} */
    private static int option(RemoteTask task, TargetFd fd, int level, int name, String who) throws CryoException {
        long s = task.scratchAddress();
        task.writeMemory(s + OPTLEN, le(4));
        task.syscall("getsockopt(" + level + ", " + name + ") of " + who, Syscall.GETSOCKOPT, fd.value(), level, name,
                s + OPTVAL, s + OPTLEN);
        ByteBuffer v = le(0);
        task.readMemory(s + OPTVAL, v);
        return v.getInt(0);
    }

    private static void setInt(RemoteTask task, long fd, int level, int name, int value, String what)
            throws CryoException {
        long s = task.scratchAddress();
        task.writeMemory(s + OPTVAL, le(value));
        task.syscall("setsockopt(" + what + ", " + value + ")", Syscall.SETSOCKOPT, fd, level, name, s + OPTVAL, 4);
    }

    /** Writes a {@code sockaddr_nl} into the scratch area; returns its address. */
    private static long sockaddr(RemoteTask task, int portid, int groups) throws CryoException {
        ByteBuffer a = ByteBuffer.allocateDirect(12).order(ByteOrder.LITTLE_ENDIAN);
        a.putShort((short) AF_NETLINK).putShort((short) 0).putInt(portid).putInt(groups).flip();
        task.writeMemory(task.scratchAddress() + ADDR, a);
        return task.scratchAddress() + ADDR;
    }

    private static ByteBuffer le(int v) {
        return ByteBuffer.allocateDirect(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v);
    }
}
