package dev.cryo.plugin.inetsocket;

import dev.cryo.api.CryoException;
import dev.cryo.api.Errno;
import dev.cryo.api.FdHolder;
import dev.cryo.api.HostKernel;
import dev.cryo.api.LocalFd;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.inetsocket.proto.InetSocketEntry;
import dev.cryo.plugin.inetsocket.proto.SocketOption;
import dev.cryo.plugin.inetsocket.proto.TcpStream;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.cryo.plugin.inetsocket.Calls.*;

/**
 * The restore half: one socket per call, installed at its fd number.
 *
 * <p>Listeners, bound, unbound and UDP sockets are built inside the process being restored with injected calls:
 * {@code socket}, every recorded option that a fresh socket reads otherwise ({@link SocketOptions}),
 * {@code bind} (with SO_REUSEADDR forced on for the bind, as CRIU does, so that the dumped tree's own connections
 * waiting in TIME_WAIT do not stand in the way; then set back), {@code listen} with the recorded backlog,
 * {@code connect} for a connected UDP socket, {@code shutdown}; then the fd is moved to its number and gets its
 * O_NONBLOCK. An established connection is rebuilt by {@link TcpRepair} in cryo's own process (repair mode needs
 * CAP_NET_ADMIN) and pushed into the process; repair is turned off at the end of the call, while the network lock still
 * drops its packets. A connection dumped with or restored with --tcp-close becomes a socket that reads end-of-file and
 * fails writes with EPIPE (shut down both ways, never connected).
 */
final class InetRebuilder {
    private InetRebuilder() {
    }

    /** Builds {@code e} in {@code task} and installs it at {@code target}. */
    static void restoreInTask(RemoteTask task, HostKernel kernel, InetSocketEntry e, TargetFd target, boolean cloexec,
                              boolean asClosed, String lockNote) throws CryoException {
        String who = who(e);
        int fd = (int) task.syscall("socket(" + familyName(e) + ", " + (e.getType() == SOCK_STREAM ? "SOCK_STREAM"
                : "SOCK_DGRAM") + ") for " + who, Syscall.SOCKET, e.getFamily(), e.getType() | SOCK_CLOEXEC,
                e.getProtocol());
        boolean placed = false;
        try {
            SocketOptions.apply(task, fd, e.getOptionsList(), who);
            if (asClosed) {
                task.syscallRaw(Syscall.SHUTDOWN, fd, 2); // ENOTCONN, but the socket is marked shut down both ways
            } else {
                InetAddr local = InetCollector.local(e);
                if (local.port() != 0 || !local.isWildcard()) {
                    bind(task, kernel, fd, e, local, who, lockNote);
                }
                if (e.getProtocol() == IPPROTO_TCP && e.getState() == TCP_LISTEN) {
                    task.syscall("listen(" + who + ", " + e.getBacklog() + ")", Syscall.LISTEN, fd, e.getBacklog());
                }
                restoreReuseAddr(task, fd, e, who);
                InetAddr peer = InetCollector.peer(e);
                if (e.getProtocol() == IPPROTO_UDP && peer != null) {
                    long r = task.syscallRaw(Syscall.CONNECT, fd, putAddr(task, peer), peer.length());
                    if (r < 0) {
                        throw failure("CONNECT", "connect(" + who + ", " + peer + ")", r);
                    }
                }
                int how = e.getShutdown() & (RCV_SHUTDOWN | SEND_SHUTDOWN);
                if (how != 0) {
                    // SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2; an unconnected socket answers ENOTCONN and is marked all the same
                    task.syscallRaw(Syscall.SHUTDOWN, fd, how == 3 ? 2 : how == SEND_SHUTDOWN ? 1 : 0);
                }
            }
            task.placeFd(fd, target, cloexec, who);
            placed = true;
            setNonblock(task, target, e, who);
        } finally {
            if (!placed) {
                task.syscallRaw(Syscall.CLOSE, fd);
            }
        }
    }

    /** Rebuilds an established connection in cryo's own process and pushes it into {@code task}. */
    static void restoreConnection(RemoteTask task, RemoteTask self, InetSocketEntry e, TcpStream s, TargetFd target,
                                  boolean cloexec) throws CryoException {
        String who = who(e);
        int fd = (int) self.syscall("socket(" + familyName(e) + ", SOCK_STREAM) for " + who, Syscall.SOCKET,
                e.getFamily(), SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
        try (LocalFd local = self.pullFd(TargetFd.of(fd))) {
            self.syscallRaw(Syscall.CLOSE, fd);
            fd = -1;
            int l = local.value();
            SocketOptions.apply(self, l, e.getOptionsList(), who);
            TcpRepair.restore(self, l, InetCollector.local(e), InetCollector.peer(e), s, who);
            if ((e.getShutdown() & RCV_SHUTDOWN) != 0) {
                self.syscallRaw(Syscall.SHUTDOWN, l, 0);
            }
            task.pushFd(local, target, cloexec);
            long r = TcpRepair.repairOff(self, l, TcpRepair.TCP_REPAIR_OFF);
            if (r < 0) {
                throw failure("TCP_REPAIR", "setsockopt(TCP_REPAIR, 0) on " + who, r);
            }
            restoreReuseAddr(self, l, e, who); // repair off resets sk_reuse
            setNonblock(task, target, e, who);
        } finally {
            if (fd >= 0) {
                self.syscallRaw(Syscall.CLOSE, fd);
            }
        }
    }

    private static void bind(RemoteTask task, HostKernel kernel, int fd, InetSocketEntry e, InetAddr local,
                             String who, String lockNote) throws CryoException {
        SocketOption reuse = SocketOptions.find(e.getOptionsList(), SOL_SOCKET, SO_REUSEADDR);
        if (reuse == null || SocketOptions.intValue(reuse) == 0) {
            setInt(task, fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR 1 for the bind of " + who);
        }
        long r = task.syscallRaw(Syscall.BIND, fd, putAddr(task, local), local.length());
        if (r < 0) {
            if (Errno.EADDRINUSE.is(r)) {
                CryoException taken = Conflicts.find(kernel, List.of(e), lockNote, true);
                if (taken != null) {
                    throw taken;
                }
            }
            throw failure("BIND", "bind(" + who + ", " + local + ")", r);
        }
    }

    private static void restoreReuseAddr(RemoteTask t, int fd, InetSocketEntry e, String who) throws CryoException {
        SocketOption reuse = SocketOptions.find(e.getOptionsList(), SOL_SOCKET, SO_REUSEADDR);
        int want = reuse == null ? 0 : SocketOptions.intValue(reuse);
        setInt(t, fd, SOL_SOCKET, SO_REUSEADDR, want, "SO_REUSEADDR " + want + " on " + who);
    }

    static void setNonblock(RemoteTask task, TargetFd target, InetSocketEntry e, String who) throws CryoException {
        int nonblock = e.getFlags() & O_NONBLOCK;
        if (nonblock != 0) {
            task.syscall("fcntl(fd " + target + ", F_SETFL, O_NONBLOCK) on " + who, Syscall.FCNTL, target.value(),
                    F_SETFL, nonblock);
        }
    }

    static String familyName(InetSocketEntry e) {
        return e.getFamily() == InetAddr.AF_INET6 ? "AF_INET6" : "AF_INET";
    }

    /** {@code TCP listener 127.0.0.1:8080 (pid 812 "nginx" fd 6 at dump)} */
    static String who(InetSocketEntry e) {
        String what = e.getKindName().isEmpty() ? "inet socket" : e.getKindName();
        String addr = e.getPeerText().isEmpty() ? e.getLocalText() : e.getLocalText() + " -> " + e.getPeerText();
        return what + " " + addr + " (" + e.getHolder() + " at dump)";
    }

    /** The live sockets that hold an address a socket of the image binds. */
    static final class Conflicts {
        private Conflicts() {
        }

        /**
         * @param afterBindFailed true when bind already answered EADDRINUSE: then any live socket on the port counts,
         *                        whatever SO_REUSEADDR/SO_REUSEPORT say
         * @return the refusal for the first conflict, or null
         */
        static CryoException find(HostKernel kernel, List<InetSocketEntry> entries, String lockNote,
                                  boolean afterBindFailed) throws CryoException {
            Map<Integer, List<InetDiag.Socket>> live = new java.util.HashMap<>();
            for (InetSocketEntry e : entries) {
                InetAddr a = InetCollector.local(e);
                boolean tcp = e.getProtocol() == IPPROTO_TCP;
                if (!afterBindFailed && shares(e)) {
                    continue; // SO_REUSEPORT (or SO_REUSEADDR on UDP) may share the port: bind decides
                }
                List<InetDiag.Socket> sockets = live.get(e.getProtocol());
                if (sockets == null) {
                    sockets = new ArrayList<>(InetDiag.query(kernel, InetAddr.AF_INET, e.getProtocol()));
                    sockets.addAll(InetDiag.query(kernel, InetAddr.AF_INET6, e.getProtocol()));
                    live.put(e.getProtocol(), sockets);
                }
                SocketOption v6 = SocketOptions.find(e.getOptionsList(), IPPROTO_IPV6, IPV6_V6ONLY);
                boolean ourV6only = v6 != null && SocketOptions.intValue(v6) != 0;
                for (InetDiag.Socket s : sockets) {
                    if (s.local().port() != a.port() || s.ino() == 0) {
                        continue;
                    }
                    if (tcp && s.state() != TCP_LISTEN && !afterBindFailed) {
                        continue;
                    }
                    if (!overlaps(a, ourV6only, s.local(), s.v6only())) {
                        continue;
                    }
                    List<FdHolder> holders = kernel.holders("socket:[" + s.ino() + "]");
                    return Refusals.addressTaken(who(e), a, s.local() + " (" + stateName(e.getProtocol(), s.state())
                            + ")", s.ino(), holders, lockNote, !afterBindFailed);
                }
            }
            return null;
        }

        private static boolean shares(InetSocketEntry e) {
            SocketOption port = SocketOptions.find(e.getOptionsList(), SOL_SOCKET, 15);
            if (port != null && SocketOptions.intValue(port) != 0) {
                return true;
            }
            SocketOption addr = SocketOptions.find(e.getOptionsList(), SOL_SOCKET, SO_REUSEADDR);
            return e.getProtocol() == IPPROTO_UDP && addr != null && SocketOptions.intValue(addr) != 0;
        }

        /** Whether two bound addresses of the same port collide (wildcards, IPv4-mapped, dual-stack wildcards). */
        static boolean overlaps(InetAddr a, boolean aV6only, InetAddr b, boolean bV6only) {
            InetAddr x = a.unmapped(), y = b.unmapped();
            if (x.family() == y.family()) {
                return x.isWildcard() || y.isWildcard() || java.util.Arrays.equals(x.addr(), y.addr());
            }
            // one IPv4, one IPv6 (not mapped): only a dual-stack IPv6 wildcard covers IPv4
            InetAddr v6 = x.family() == InetAddr.AF_INET6 ? x : y;
            boolean v6only = x.family() == InetAddr.AF_INET6 ? aV6only : bV6only;
            return v6.isWildcard() && !v6only;
        }
    }
}
