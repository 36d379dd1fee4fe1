package dev.cryo.plugin.inetsocket;

import com.google.protobuf.ByteString;
import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdInfo;
import dev.cryo.api.HostKernel;
import dev.cryo.api.LocalFd;
import dev.cryo.api.RemoteTask;
import dev.cryo.plugin.inetsocket.proto.InetSocketEntry;
import dev.cryo.plugin.inetsocket.proto.TcpStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.cryo.plugin.inetsocket.Calls.*;

/**
 * The dump half of the plugin for one dump. {@link #collect} records one socket through its task (injected
 * getsockopt/getsockname/getpeername, sock_diag for the backlog, the accept queue and the shutdown state) and refuses
 * what cannot be kept; an established connection kept with --tcp-established is only noted there (and pulled into
 * cryo): {@link #dumpConnections} locks them all at once and reads them in repair mode, once every process is
 * collected, while the tree is still frozen.
 */
final class InetCollector {
    private static final Logger LOG = LoggerFactory.getLogger(InetCollector.class);

    /** A connection to read in repair mode: the socket pulled into cryo, its record, who holds it. */
    record Pending(LocalFd fd, InetSocketEntry entry) {
    }

    private final Map<String, List<InetDiag.Socket>> diag = new HashMap<>();
    private final Map<Long, Pending> connections = new LinkedHashMap<>();
    private final List<LocalFd> repaired = new ArrayList<>();
    private String lockTable;

    InetSocketEntry collect(FdDumpContext ctx, FdInfo fd, Options options) throws CryoException {
        RemoteTask task = ctx.task();
        int n = fd.fd().value();
        String holder = "fd " + fd.fd() + " of pid " + task.pid() + " \"" + task.comm() + "\"";
        int family = getInt(task, n, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN of " + holder);
        int type = getInt(task, n, SOL_SOCKET, SO_TYPE, "SO_TYPE of " + holder);
        int protocol = getInt(task, n, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL of " + holder);
        if ((family != InetAddr.AF_INET && family != InetAddr.AF_INET6)
                || !((type == SOCK_STREAM && protocol == IPPROTO_TCP) || (type == SOCK_DGRAM && protocol == IPPROTO_UDP))) {
            throw Refusals.protocol(holder, family, type, protocol);
        }
        boolean tcp = protocol == IPPROTO_TCP;
        String proto = (tcp ? "TCP" : "UDP") + (family == InetAddr.AF_INET6 ? "v6" : "");
        InetAddr local = sockName(task, n, holder);
        InetAddr peer = peerName(task, n, holder);
        if (local == null) {
            local = InetAddr.any(family);
        }
        InetDiag.Socket d = diag(ctx.kernel(), family, protocol, fd.inode());
        int state;
        if (tcp) {
            byte[] info = getOptionOrNull(task, n, IPPROTO_TCP, TcpRepair.TCP_INFO, 1);
            state = info != null && info.length > 0 ? info[0] & 0xff : d != null ? d.state() : TCP_CLOSE;
        } else {
            state = peer != null ? TCP_ESTABLISHED : TCP_CLOSE;
        }
        String stateName = stateName(protocol, state);
        InetSocketEntry.Builder b = InetSocketEntry.newBuilder().setIno(fd.inode()).setFlags(fd.flags())
                .setFamily(family).setType(type).setProtocol(protocol).setState(state)
                .setLocalAddr(ByteString.copyFrom(local.addr())).setLocalPort(local.port()).setLocalScope(local.scope())
                .setHolder(task.describeFd(fd.fd()))
                .setLocalText(local.toString()).setStateName(stateName);
        if (peer != null) {
            b.setPeerAddr(ByteString.copyFrom(peer.addr())).setPeerPort(peer.port()).setPeerScope(peer.scope())
                    .setPeerText(peer.toString());
        }
        if (d != null && d.shutdown() > 0) {
            b.setShutdown(d.shutdown());
        }
        boolean connected = tcp && state != TCP_CLOSE && state != TCP_LISTEN;
        if (tcp && state == TCP_LISTEN) {
            b.setKindName(proto + " listener");
            if (d == null) {
                throw new CryoException(Category.KERNEL, "inet-socket/NOT_IN_SOCK_DIAG", "the " + proto + " listener "
                        + local + " (" + holder + ") is not listed by NETLINK_SOCK_DIAG; is the process in another"
                        + " network namespace than cryo?", "run cryo in the network namespace of the dumped tree");
            }
            b.setBacklog((int) d.wqueue());
            if (d.rqueue() > 0) {
                if (!options.skipInFlight()) {
                    throw Refusals.inFlight(holder, proto, local, d.rqueue());
                }
                b.setSkippedInFlight((int) d.rqueue());
            }
        } else if (connected) {
            b.setKindName(proto + " connection");
            InetAddr p = peer != null ? peer : InetAddr.any(family);
            if (options.tcpClose()) {
                b.setClosedByOption(true);
            } else if (state != TCP_ESTABLISHED) {
                throw Refusals.stateNotKept(holder, proto, local, p, stateName);
            } else if (!options.tcpEstablished()) {
                throw Refusals.established(holder, proto, local, p, stateName);
            }
        } else {
            b.setKindName(tcp ? proto + (local.port() != 0 ? " socket, bound" : " socket, unbound")
                    : proto + " socket" + (peer != null ? ", connected" : local.port() != 0 ? ", bound" : ", unbound"));
            if (!tcp && d != null && d.rqueue() > 0) {
                b.setDroppedQueue((int) d.rqueue());
                LOG.info("{}: {} bytes of unread datagrams on {} are not kept (UDP may lose datagrams)", holder,
                        d.rqueue(), local);
            }
        }
        b.addAllOptions(SocketOptions.read(task, n, family, protocol, connected));
        InetSocketEntry e = b.build();
        if (connected && !e.getClosedByOption()) {
            connections.put(e.getIno(), new Pending(task.pullFd(fd.fd()), e));
        }
        return e;
    }

    /** The sock_diag entry of socket {@code ino}: queried once per family and protocol, again when not found. */
    private InetDiag.Socket diag(HostKernel kernel, int family, int protocol, long ino) throws CryoException {
        String key = family + "/" + protocol;
        for (int attempt = 0; attempt < 2; attempt++) {
            List<InetDiag.Socket> l = diag.get(key);
            if (l == null || attempt == 1) {
                l = InetDiag.query(kernel, family, protocol);
                diag.put(key, l);
            }
            for (InetDiag.Socket s : l) {
                if (s.ino() == ino) {
                    return s;
                }
            }
        }
        return null; // unbound, or bound and not listening: sock_diag does not list those
    }

    boolean hasConnections() {
        return !connections.isEmpty();
    }

    /**
     * Locks every noted connection and reads it in repair mode, in cryo's own process.
     *
     * @return one TcpStream per connection, by inode
     */
    Map<Long, TcpStream> dumpConnections(HostKernel kernel, int rootPid, String imageDir) throws CryoException {
        Map<Long, TcpStream> out = new LinkedHashMap<>();
        if (connections.isEmpty()) {
            return out;
        }
        RemoteTask self = kernel.self();
        List<NetworkLock.Tuple> tuples = new ArrayList<>();
        for (Pending p : connections.values()) {
            tuples.add(new NetworkLock.Tuple(local(p.entry()), peer(p.entry())));
        }
        String table = NetworkLock.tableName(rootPid, System.currentTimeMillis());
        NetworkLock.lock(table, "cryo network lock of a dump of pid " + rootPid + "; lift by hand: nft delete table"
                + " inet " + table, tuples);
        lockTable = table;
        LOG.info("network lock: nftables table inet {} drops the packets of {} TCP connection(s) dumped into {}",
                table, connections.size(), imageDir);
        for (Pending p : connections.values()) {
            String who = "TCP connection " + p.entry().getLocalText() + " -> " + p.entry().getPeerText() + " ("
                    + p.entry().getHolder() + ")";
            TcpRepair.repairOn(self, p.fd().value(), who);
            repaired.add(p.fd());
            out.put(p.entry().getIno(), TcpRepair.dump(self, p.fd().value(), who).toBuilder().setLockTable(table)
                    .build());
        }
        return out;
    }

    String lockTable() {
        return lockTable;
    }

    /**
     * After a dump that leaves the tree running or stopped, or after a failed dump: repair off, the lock lifted, the
     * pulled sockets closed. Never throws; a lock that cannot be lifted is reported with the command that lifts it.
     */
    void release(HostKernel kernel) {
        RemoteTask self = kernel.self();
        for (LocalFd fd : repaired) {
            TcpRepair.repairOff(self, fd.value(), TcpRepair.TCP_REPAIR_OFF);
        }
        repaired.clear();
        unlock();
        closeFds();
    }

    /** After a dump that kills the tree: the sockets stay in repair mode (they close silently), the lock stays. */
    void keepForRestore() {
        repaired.clear();
        closeFds();
    }

    private void unlock() {
        if (lockTable != null) {
            try {
                NetworkLock.unlock(lockTable);
            } catch (CryoException e) {
                LOG.warn("the network lock could not be lifted: {}; lift it by hand: nft delete table inet {}",
                        e.getMessage(), lockTable);
            }
            lockTable = null;
        }
    }

    private void closeFds() {
        for (Pending p : connections.values()) {
            p.fd().close();
        }
        connections.clear();
    }

    static InetAddr local(InetSocketEntry e) {
        return new InetAddr(e.getFamily(), e.getLocalAddr().toByteArray(), e.getLocalPort(), e.getLocalScope());
    }

    static InetAddr peer(InetSocketEntry e) {
        return e.getPeerAddr().isEmpty() ? null
                : new InetAddr(e.getFamily(), e.getPeerAddr().toByteArray(), e.getPeerPort(), e.getPeerScope());
    }

    /** The plugin's options as this dump or restore sees them. */
    record Options(boolean tcpEstablished, boolean tcpClose, boolean skipInFlight) {
        static Options of(Config c) {
            return new Options(c.isSet(Refusals.TCP_ESTABLISHED), c.isSet(Refusals.TCP_CLOSE),
                    c.isSet(Refusals.SKIP_IN_FLIGHT));
        }
    }
}
