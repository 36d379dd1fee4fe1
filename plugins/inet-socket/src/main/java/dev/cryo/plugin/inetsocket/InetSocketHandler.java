package dev.cryo.plugin.inetsocket;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.HostKernel;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.ObjectDumpContext;
import dev.cryo.api.PluginOption;
import dev.cryo.api.RestoreCheckContext;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.plugin.inetsocket.proto.InetSocketEntry;
import dev.cryo.plugin.inetsocket.proto.SocketOption;
import dev.cryo.plugin.inetsocket.proto.TcpStream;
import org.pf4j.Extension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.cryo.plugin.inetsocket.Calls.*;

/**
 * The {@code inet-socket} plugin: AF_INET and AF_INET6 TCP and UDP sockets.
 *
 * <p><b>What is kept, per kind</b> (each restored at its fd number, with FD_CLOEXEC and O_NONBLOCK):
 * <ul>
 *   <li>TCP listener: address, port, backlog (sock_diag's {@code idiag_wqueue}), options. Connections the kernel
 *       accepted and the program did not are refused ({@code inet-socket/IN_FLIGHT}); with {@code --skip-in-flight}
 *       they are dropped (their clients see a reset).</li>
 *   <li>TCP socket bound and not listening, unbound TCP socket: address, port, options.</li>
 *   <li>UDP socket: bound address, connected peer, shutdown, options. Datagrams queued and unread at dump are not
 *       kept: cryo cannot send them again from their senders' addresses, and UDP may lose datagrams.</li>
 *   <li>Established TCP connection: refused without an option ({@code inet-socket/ESTABLISHED}, naming pid, fd,
 *       addresses, state and the options). With {@code --tcp-established}: kept through TCP_REPAIR — sequence
 *       numbers, both queues (nothing lost, nothing doubled), MSS, window scales, SACK, timestamps, windows — under
 *       a {@link NetworkLock} from the dump to the restore; both ends inside the tree are each kept that way. With
 *       {@code --tcp-close}: restored as a socket that reads end-of-file.</li>
 *   <li>Options kept: see {@link SocketOptions} (SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT,
 *       TCP_NODELAY, IPV6_V6ONLY, SO_RCVBUF/SNDBUF, SO_LINGER, timeouts, TOS/TTL...).</li>
 * </ul>
 *
 * <p><b>Dump.</b> {@link #probe} claims sockets whose family core found to be {@code inet}/{@code inet6};
 * {@link #collect} reads each through its task ({@link InetCollector}); {@link #dumpObjects} takes the network lock
 * and reads the established connections in repair mode into {@code inet-socket.img}. {@link #postDump} then either
 * turns repair off and lifts the lock (the tree goes on running or stays stopped) or leaves both (the tree is killed:
 * its sockets close without a FIN or RST, and the peers wait behind the lock until the restore).
 *
 * <p><b>Restore.</b> {@link #checkRestore}, before any process exists: the options the image needs, and no live socket
 * holding an address a socket must bind (naming address, port and holder). {@link #restore} per socket
 * ({@link InetRebuilder}); {@link #postRestore} lifts the lock once every process is rebuilt; a failed restore lifts it
 * too ({@link #onFailure}), a refused one keeps it and says how to lift it by hand.
 *
 * <p>One instance serves one command (PF4J creates one per plugin load); state is dropped at {@link #preDump} and
 * {@link #preRestore}. Threading: the tracer thread only.
 */
@Extension
@PluginOption(name = Refusals.TCP_ESTABLISHED, help = "Keep established TCP connections (TCP_REPAIR): the peer sees"
        + " no break. Dump takes an nftables network lock on the connections (table inet cryo_lock_*), which the"
        + " restore lifts. Give it on restore too.")
@PluginOption(name = Refusals.TCP_CLOSE, help = "Dump: accept connected TCP sockets without keeping their state."
        + " Restore: restore connected TCP sockets as closed (they read end-of-file). Give it on restore too.")
@PluginOption(name = Refusals.SKIP_IN_FLIGHT, commands = PluginOption.Command.DUMP, help = "Drop connections a TCP"
        + " listener's kernel queue holds and the program has not accepted yet, instead of refusing the dump; their"
        + " clients see a reset.")
public final class InetSocketHandler implements FdHandler, LifecycleListener {
    /** The kind written into images; equals the plugin id. */
    public static final String KIND = "inet-socket";
    private static final Logger LOG = LoggerFactory.getLogger(InetSocketHandler.class);

    // dump
    private InetCollector collector;
    private HostKernel dumpKernel;
    private LifecycleEvent dumpEvent;
    // restore
    private Map<Long, TcpStream> streams;
    private final Set<String> lockTables = new LinkedHashSet<>();

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public void preDump(LifecycleEvent event) {
        collector = new InetCollector();
        dumpKernel = null;
        dumpEvent = event;
    }

    @Override
    public boolean probe(FdInfo fd) {
        return fd.isInetSocket();
    }

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        if (collector == null) {
            collector = new InetCollector();
        }
        dumpKernel = ctx.kernel();
        return collector.collect(ctx, fd, InetCollector.Options.of(ctx.config()));
    }

    @Override
    public void dumpObjects(ObjectDumpContext ctx) throws CryoException {
        if (collector == null || !collector.hasConnections() || ctx.dryRun()) {
            return; // a dry run (cryo check -t) takes no network lock and puts no socket in repair mode
        }
        dumpKernel = ctx.kernel();
        int root = dumpEvent == null ? 0 : dumpEvent.root().value();
        String dir = dumpEvent == null ? "?" : dumpEvent.imageDir().toString();
        try {
            for (TcpStream s : collector.dumpConnections(ctx.kernel(), root, dir).entrySet().stream()
                    .map(e -> e.getValue().toBuilder().setIno(e.getKey()).build()).toList()) {
                ctx.objects().write(s);
            }
        } catch (CryoException | RuntimeException e) {
            collector.release(ctx.kernel());
            throw e;
        }
    }

    @Override
    public void postDump(LifecycleEvent event) {
        if (collector == null || dumpKernel == null) {
            return;
        }
        String table = collector.lockTable();
        boolean treeStays = event.dryRun() || event.config().isSet("leave-running")
                || event.config().isSet("leave-stopped");
        if (treeStays) {
            collector.release(dumpKernel);
        } else {
            collector.keepForRestore();
            if (table != null) {
                LOG.warn("network lock: nftables table inet {} drops the packets of the dumped TCP connections until"
                        + " `cryo restore --tcp-established` (or --tcp-close) lifts it; to give the connections up"
                        + " instead: nft delete table inet {}", table, table);
            }
        }
        collector = null;
    }

    @Override
    public void onFailure(LifecycleEvent event, CryoException cause) {
        if (collector != null && dumpKernel != null) {
            collector.release(dumpKernel); // a failed dump: repair off, lock lifted
            collector = null;
        }
        unlockAll(); // a failed restore: the connections cannot come back
    }

    // ---------------------------------------------------------------- restore

    @Override
    public void preRestore(LifecycleEvent event) {
        // streams and lock tables were read by checkRestore, which runs before
    }

    @Override
    public void checkRestore(RestoreCheckContext ctx) throws CryoException {
        streams = new HashMap<>();
        lockTables.clear();
        for (TcpStream s : ctx.objects().read(TcpStream.class)) {
            streams.put(s.getIno(), s);
            if (!s.getLockTable().isEmpty()) {
                lockTables.add(s.getLockTable());
            }
        }
        InetCollector.Options options = InetCollector.Options.of(ctx.config());
        String lockNote = Refusals.lockNote(new ArrayList<>(lockTables));
        List<InetSocketEntry> entries = new ArrayList<>();
        int kept = 0, closed = 0;
        String firstKept = null, firstClosed = null;
        for (RestoreCheckContext.FdRecord r : ctx.fdRecords()) {
            InetSocketEntry e = r.unpack(InetSocketEntry.class);
            entries.add(e);
            if (e.getClosedByOption()) {
                closed++;
                firstClosed = firstClosed == null ? InetRebuilder.who(e) : firstClosed;
            } else if (streams.containsKey(e.getIno())) {
                kept++;
                firstKept = firstKept == null ? InetRebuilder.who(e) : firstKept;
            }
        }
        if (kept > 0 && !options.tcpEstablished() && !options.tcpClose()) {
            throw Refusals.needsOption(kept, firstKept, lockNote);
        }
        if (closed > 0 && !options.tcpClose()) {
            throw Refusals.needsTcpClose(closed, firstClosed);
        }
        List<InetSocketEntry> binding = new ArrayList<>();
        for (InetSocketEntry e : entries) {
            boolean connection = e.getClosedByOption() || streams.containsKey(e.getIno());
            if (!connection && (e.getLocalPort() != 0)) {
                binding.add(e);
            }
        }
        CryoException taken = InetRebuilder.Conflicts.find(ctx.kernel(), binding, lockNote, false);
        if (taken != null) {
            throw taken;
        }
        if (!lockTables.isEmpty()) {
            NetworkLock.nft(); // fail now, not after the processes exist, when the lock cannot be lifted
        }
    }

    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        InetSocketEntry e = ctx.record(InetSocketEntry.class);
        if (streams == null) {
            streams = new HashMap<>();
            for (TcpStream s : ctx.objects().read(TcpStream.class)) {
                streams.put(s.getIno(), s);
            }
        }
        InetCollector.Options options = InetCollector.Options.of(ctx.config());
        TcpStream s = streams.get(e.getIno());
        String lockNote = Refusals.lockNote(new ArrayList<>(lockTables));
        if (s != null && !options.tcpClose()) {
            InetRebuilder.restoreConnection(ctx.task(), ctx.kernel().self(), e, s, ctx.fd(), ctx.cloexec());
        } else {
            boolean asClosed = s != null || e.getClosedByOption();
            InetRebuilder.restoreInTask(ctx.task(), ctx.kernel(), e, ctx.fd(), ctx.cloexec(), asClosed, lockNote);
        }
        return RestoreOutcome.DONE;
    }

    /** Every process is rebuilt (and still stopped): the connections are in place, the lock can go. */
    @Override
    public void postRestore(LifecycleEvent event) throws CryoException {
        for (String t : new ArrayList<>(lockTables)) {
            NetworkLock.unlock(t);
            lockTables.remove(t);
        }
    }

    @Override
    public void finishRestore() {
        streams = null;
    }

    private void unlockAll() {
        for (String t : new ArrayList<>(lockTables)) {
            try {
                NetworkLock.unlock(t);
            } catch (CryoException e) {
                LOG.warn("the network lock could not be lifted: {}; lift it by hand: nft delete table inet {}",
                        e.getMessage(), t);
            }
            lockTables.remove(t);
        }
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(InetSocketEntry.getDescriptor(), TcpStream.getDescriptor(), SocketOption.getDescriptor());
    }
}
