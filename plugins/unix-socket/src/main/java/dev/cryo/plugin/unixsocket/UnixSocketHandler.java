package dev.cryo.plugin.unixsocket;

import dev.cryo.api.Syscall;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.api.ExternalReference;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.HostKernel;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.LocalFd;
import dev.cryo.api.ObjectDumpContext;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.plugin.unixsocket.proto.QueuedPacket;
import dev.cryo.plugin.unixsocket.proto.UnixSocketEntry;
import dev.cryo.plugin.unixsocket.proto.UnixSocketFd;
import org.pf4j.Extension;

import java.util.List;
import java.util.Optional;

import static dev.cryo.api.SyscallFlags.*;
import static dev.cryo.plugin.unixsocket.SocketCalls.*;

/**
 * The {@code unix-socket} plugin: AF_UNIX sockets of every type (stream, datagram, seqpacket) and state (unbound,
 * bound, listening, connected, shut down), their names, peers, options and queued data.
 *
 * <p><b>Dump.</b> {@link #probe} claims socket fds whose inode {@code /proc/net/unix} lists. {@link #collect} (the
 * first time a socket is seen) reads its metadata from {@code NETLINK_SOCK_DIAG} (name, bound file, peer, pending
 * connections, queue lengths, shutdown), its options with injected {@code getsockopt}, and its receive queue with
 * injected {@code recvmsg(MSG_PEEK)} walking {@code SO_PEEK_OFF} (restored afterwards), then declares the socket as
 * held and its peer, listener or waiting clients as references. {@link #dumpObjects} writes one
 * {@link UnixSocketEntry} per socket to {@code unix-socket.img}; each fd's record is a {@link UnixSocketFd}.
 *
 * <p><b>Pending connections</b> (accepted by nobody yet): a connection waiting in a listener's queue is recorded
 * through its client socket, which the tree must hold; on restore the client connects to the listener again, so the
 * connection waits to be accepted as before. Data the client already sent on such a connection sits in a socket no
 * process holds and cannot be read without {@code accept()}, which would change the tree; such a dump is refused
 * ({@code unix-socket/PENDING_DATA}).
 *
 * <p><b>Outside peers.</b> The class is also an {@link ExternalPeerHandler} of priority
 * {@link dev.cryo.api.Ordered#LAST_RESORT}: core offers it unresolved references after {@code external-unix-socket},
 * so it sees only references that plugin declined; it never accepts, and refuses with
 * {@code unix-socket/EXTERNAL_PEER} naming both ends and the fix. The decision to take an outside peer over is the
 * external-unix-socket plugin's; because this handler refuses whatever
 * was not taken over, every socket whose peer is outside when {@link #dumpObjects} runs was taken over, and its entry
 * is marked {@code peer_external}. Restore connects such sockets anew to the peer's name (see
 * {@link SocketRebuilder}); the external-unix-socket plugin checks before that that {@code ext-unix-sk} is given
 * again and the peers are there.
 *
 * <p><b>Restore.</b> At the first unix-socket fd every socket of the image is rebuilt at once ({@link SocketRebuilder})
 * and kept as a {@link LocalFd}; each fd is then installed with {@link RemoteTask#pushFd} and gets its O_NONBLOCK.
 *
 * <p>Lifetime: one instance per command (PF4J creates one per plugin load); dump or restore state is dropped at
 * {@link #preDump}/{@link #preRestore}, after {@link #dumpObjects} and in {@link #finishRestore}. Threading: the
 * tracer thread only.
 */
@Extension
public final class UnixSocketHandler implements FdHandler, ExternalPeerHandler, LifecycleListener {
    /** The kind written into images; equals the plugin id. */
    public static final String KIND = "unix-socket";

    private SocketCollector collector;
    private SocketRebuilder rebuilder;

    @Override
    public String kind() {
        return KIND;
    }

    /** Drops leftover dump state (an instance serves one command; this is only a guard). */
    @Override
    public void preDump(LifecycleEvent event) {
        collector = null;
    }

    /** Drops leftover restore state (an instance serves one command; this is only a guard). */
    @Override
    public void preRestore(LifecycleEvent event) {
        finishRestore();
    }

    /**
     * Asked last among the external-peer handlers: it only refuses what every other handler (external-unix-socket
     * for {@code --ext-unix-sk}) declined. Its fd handling and lifecycle do not depend on order.
     */
    @Override
    public int priority() {
        return LAST_RESORT;
    }

    private SocketCollector collector() {
        if (collector == null) {
            collector = new SocketCollector();
        }
        return collector;
    }

    @Override
    public boolean probe(FdInfo fd) {
        return fd.isUnixSocket();
    }

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        UnixSocketEntry e = collector().collect(ctx, fd);
        return UnixSocketFd.newBuilder().setIno(e.getIno()).setFlags(fd.flags()).build();
    }

    @Override
    public void dumpObjects(ObjectDumpContext ctx) throws CryoException {
        try {
            for (UnixSocketEntry e : collector().externalPeersMarked()) {
                ctx.objects().write(e);
            }
        } finally {
            collector = null;
        }
    }

    /**
     * Never accepts: refuses every unix-socket reference that no other plugin took over. With {@code ext-unix-sk}
     * given, reaching here means the external-unix-socket plugin is not loaded (when loaded, it accepts or refuses
     * every unix-socket reference itself), and the refusal says so.
     */
    @Override
    public Optional<Message> accept(ExternalReference reference, Config config, HostKernel kernel)
            throws CryoException {
        if (!reference.from().kind().equals(KIND)) {
            return Optional.empty();
        }
        throw collector().refusal(reference, kernel, config);
    }

    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        UnixSocketFd rec = ctx.record(UnixSocketFd.class);
        if (rebuilder == null) {
            rebuilder = new SocketRebuilder(ctx.objects().read(UnixSocketEntry.class));
        }
        RemoteTask task = ctx.task();
        LocalFd socket = rebuilder.socket(rec.getIno(), task, ctx.kernel(), ctx.config(),
                "fdinfo-" + task.pid() + ".img fd " + ctx.fd());
        task.pushFd(socket, ctx.fd(), ctx.cloexec());
        int nonblock = rec.getFlags() & O_NONBLOCK;
        // O_NONBLOCK is a flag of the open file description, which cryo's duplicate shares (a socket has only one):
        // set in cryo, no stop of the task (issue 13); made in the task when that fails, for its message
        if (ctx.kernel().self().syscallRaw(Syscall.FCNTL, socket.value(), F_SETFL, nonblock) == 0) {
            return RestoreOutcome.DONE;
        }
        task.syscall("fcntl(fd " + ctx.fd() + ", F_SETFL, " + (nonblock != 0 ? "O_NONBLOCK" : "0") + ") on unix socket"
                + " ino " + rec.getIno(), Syscall.FCNTL, ctx.fd().value(), F_SETFL, nonblock);
        return RestoreOutcome.DONE;
    }

    @Override
    public void finishRestore() {
        if (rebuilder != null) {
            rebuilder.close();
            rebuilder = null;
        }
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(UnixSocketFd.getDescriptor(), UnixSocketEntry.getDescriptor(), QueuedPacket.getDescriptor());
    }
}
