package dev.cryo.plugin.unixsocket;

import com.google.protobuf.ByteString;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.ExternalReference;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdHolder;
import dev.cryo.api.FdInfo;
import dev.cryo.api.HostKernel;
import dev.cryo.api.LocalFd;
import dev.cryo.api.ObjectId;
import dev.cryo.api.RemoteTask;
import dev.cryo.plugin.unixsocket.proto.QueuedPacket;
import dev.cryo.plugin.unixsocket.proto.UnixSocketEntry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import static dev.cryo.api.SyscallFlags.*;
import static dev.cryo.api.UnixSocketInfo.typeName;
import static dev.cryo.plugin.unixsocket.SocketCalls.*;

/**
 * The dump half of the plugin for one dump: one sock_diag query, then per socket (the first time an fd of it is
 * collected) its record, options and queue; every socket the tree holds and every peer it needs are declared to
 * core. Keeps the reasons of references so that {@link #refusal} can say precisely why a peer outside the tree
 * breaks the image.
 */
final class SocketCollector {
    private SockDiag diag;
    private final Map<Long, UnixSocketEntry> entries = new TreeMap<>();
    /** (from, to) → how they relate, for the refusal message. */
    private final Map<List<Long>, Relation> relations = new HashMap<>();

    private record Relation(String ours, String verb, SocketName peerName, boolean peerNameless) {
    }

    UnixSocketEntry collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        if (diag == null) {
            diag = SockDiag.query(ctx.kernel());
        }
        RemoteTask task = ctx.task();
        long ino = fd.inode();
        String holder = task.describeFd(fd.fd());
        SockDiag.Socket d = diag.get(ino);
        if (d == null) {
            diag = SockDiag.query(ctx.kernel());
            d = diag.get(ino);
            if (d == null) {
                throw new CryoException(Category.KERNEL, "unix-socket/NOT_IN_SOCK_DIAG", "unix socket ino " + ino
                        + " (" + holder + ") is not listed by NETLINK_SOCK_DIAG; is the process in another network"
                        + " namespace than cryo?", "run cryo in the network namespace of the dumped tree");
            }
        }
        ObjectId ours = new ObjectId(UnixSocketHandler.KIND, ino);
        ctx.holds(ours);
        UnixSocketEntry e = entries.get(ino);
        if (e == null) {
            // the socket's options and queue are read in cryo on a duplicate of the fd (the same socket): one
            // pidfd_getfd instead of a dozen injected calls per socket (issue 13)
            try (LocalFd local = task.pullFd(fd.fd())) {
                e = record(task, ctx.kernel().self(), local.value(), d, holder);
            }
            entries.put(ino, e);
            declare(ctx, e, d, holder);
        }
        return e;
    }

    /**
     * @param task the task holding the socket (for its cwd)
     * @param io   where the socket calls run: cryo itself ({@link HostKernel#self()}), on {@code fd}, its duplicate
     */
    private UnixSocketEntry record(RemoteTask task, RemoteTask io, int fd, SockDiag.Socket d, String holder)
            throws CryoException {
        String who = holder + " (unix socket ino " + d.ino() + ")";
        UnixSocketEntry.Builder b = UnixSocketEntry.newBuilder().setIno(d.ino()).setType(d.type())
                .setState(d.state()).setName(ByteString.copyFrom(d.name().bytes())).setShutdown(d.shutdown())
                .setPeerIno(d.peer()).setHolder(holder);
        if (d.name().isPath()) {
            b.setNameDev(d.vfsDev()).setNameIno(d.vfsIno());
            Path p = Path.of(d.name().pathString());
            if (d.name().isRelativePath()) {
                try {
                    String cwd = Files.readSymbolicLink(task.procDir().resolve("cwd")).toString();
                    b.setCwd(cwd);
                    p = Path.of(cwd).resolve(p);
                } catch (IOException ex) {
                    throw new CryoException(Category.KERNEL, "unix-socket/CWD", "cannot read the cwd of " + holder
                            + " to resolve the relative socket name " + d.name() + ": " + ex.getMessage());
                }
            }
            boolean unlinked = !sameFile(p, d.vfsDev(), d.vfsIno());
            b.setNameUnlinked(unlinked);
            if (!unlinked) {
                try {
                    Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
                    b.setNameAttrs(true).setNameMode(((Number) a.get("mode")).intValue() & 07777)
                            .setNameUid(((Number) a.get("uid")).intValue())
                            .setNameGid(((Number) a.get("gid")).intValue());
                } catch (IOException | UnsupportedOperationException | IllegalArgumentException ex) {
                    throw new CryoException(Category.KERNEL, "unix-socket/STAT", "stat(" + p + "), the socket file of "
                            + who + ", failed: " + ex.getMessage());
                }
            }
        }
        if (d.peer() != 0) {
            SockDiag.Socket peer = diag.get(d.peer());
            if (peer != null) {
                b.setPeerName(ByteString.copyFrom(peer.name().bytes()));
            }
        }
        if (d.state() == TCP_LISTEN) {
            b.setBacklog((int) d.wqueue()).addAllPending(d.icons());
        } else if (d.state() == TCP_ESTABLISHED && d.peer() == 0 && d.type() != SOCK_DGRAM) {
            SockDiag.Socket listener = diag.listenerWithPending(d.ino());
            if (listener != null) {
                b.setPendingOn(listener.ino()).setPeerName(ByteString.copyFrom(listener.name().bytes()));
                if (d.wqueue() > 0) {
                    throw new CryoException(Category.UNSUPPORTED, "unix-socket/PENDING_DATA", "dump refused: "
                            + who + " has sent data on a connection that listener ino " + listener.ino() + " ("
                            + listener.name() + ") has not accepted yet; cryo cannot read data queued in a"
                            + " connection no process holds", "let the server accept the connection before dumping");
                }
            }
        }
        b.setSndbuf(QueuePeeker.getIntOption(io, fd, SO_SNDBUF, who))
                .setRcvbuf(QueuePeeker.getIntOption(io, fd, SO_RCVBUF, who))
                .setPasscred(QueuePeeker.getIntOption(io, fd, SO_PASSCRED, who) != 0)
                .setPasssec(QueuePeeker.getIntOption(io, fd, SO_PASSSEC, who) != 0);
        int peekOff = QueuePeeker.getIntOption(io, fd, SO_PEEK_OFF, who);
        b.setPeekOff(peekOff);
        // an unconnected stream/seqpacket socket has no queue (and recvmsg refuses it: EINVAL, ENOTCONN); a pending
        // error (a peer closed with unread data: ECONNRESET) is consumed by any receive that finds no data, so it is
        // seen with poll first and the queue read only as far as it goes
        boolean queue = d.state() != TCP_LISTEN && (d.type() == SOCK_DGRAM || d.state() == TCP_ESTABLISHED);
        long limit = -1;
        if (d.state() != TCP_LISTEN && QueuePeeker.pendingError(io, fd, who)) {
            b.setPendingError(ECONNRESET);
            if (d.type() == SOCK_DGRAM || d.peer() != 0 || (d.type() == SOCK_SEQPACKET && d.rqueue() > 0)) {
                String why = d.rqueue() > 0 && d.type() != SOCK_STREAM
                        ? "a read of its queue would consume the error (the program would never see it)"
                        : "cryo cannot make the same error again on a restored " + typeName(d.type()) + " socket"
                                + (d.peer() != 0 ? " with a live peer" : "");
                throw new CryoException(Category.UNSUPPORTED, "unix-socket/PENDING_ERROR", "dump refused: " + who
                        + " (" + typeName(d.type()) + ", " + (d.peer() != 0 ? "peer ino " + d.peer() : "no peer")
                        + ", " + d.rqueue() + " bytes queued) has an error (ECONNRESET) waiting to be read; " + why,
                        "let the program read from the socket (it gets the error) before dumping");
            }
            limit = d.rqueue();
            queue = limit > 0;
        }
        if (queue) {
            List<QueuedPacket> q = QueuePeeker.peek(io, fd, d.type(), peekOff, d.shutdown(), limit, who);
            long bytes = 0;
            for (QueuedPacket p : q) {
                bytes += p.getData().size();
            }
            b.addAllQueue(q).setQueuedBytes(bytes).setQueuedRecords(q.size());
        }
        b.setTypeName(typeName(d.type())).setNameText(d.name().toString())
                .setStateName(b.getPendingOn() != 0 ? "pending" : stateName(d.state()))
                .setPeerNameText(SocketName.of(b.getPeerName().toByteArray()).toString());
        return b.build();
    }

    private static boolean sameFile(Path p, long dev, long ino) {
        try {
            Object fdev = Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS);
            Object fino = Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
            return ((Number) fdev).longValue() == dev && ((Number) fino).longValue() == ino;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Declares what the socket needs: its peer, the listener it waits on, the clients waiting on it. */
    private void declare(FdDumpContext ctx, UnixSocketEntry e, SockDiag.Socket d, String holder) {
        ObjectId ours = new ObjectId(UnixSocketHandler.KIND, e.getIno());
        String self = typeName(e.getType()) + ", " + d.name();
        if (e.getPeerIno() != 0) {
            relate(ctx, ours, e.getPeerIno(), self, "is connected to");
        }
        if (e.getPendingOn() != 0) {
            relate(ctx, ours, e.getPendingOn(), self, "waits to be accepted by");
        }
        for (long client : e.getPendingList()) {
            if (client != 0) {
                relate(ctx, ours, client, self, "has a pending connection from");
            }
        }
    }

    private void relate(FdDumpContext ctx, ObjectId ours, long peerIno, String self, String verb) {
        SockDiag.Socket peer = diag.get(peerIno);
        SocketName peerName = peer == null ? SocketName.NONE : peer.name();
        boolean nameless = peer == null || !peerName.isBound()
                || (peer.type() != SOCK_DGRAM && peer.state() != TCP_LISTEN && !isAcceptedOfLiveListener(peer));
        relations.put(List.of(ours.id(), peerIno), new Relation(self, verb, peerName, nameless));
        // the peer's holder (a scan of every process's fds) only for a message: a peer outside the tree
        HostKernel kernel = ctx.kernel();
        // a class, not a lambda: a plugin's lambdas are not in the class data archive (issue 13)
        ctx.references(ours, new ObjectId(UnixSocketHandler.KIND, peerIno), new java.util.function.Supplier<String>() {
            @Override
            public String get() {
                return describe(peerName, owner(kernel, peerIno));
            }
        });
    }

    /** An accepted stream socket carries its listener's name; a new connection to that name reaches the server. */
    private boolean isAcceptedOfLiveListener(SockDiag.Socket s) {
        for (long other : diag.inodesNamed(s.name())) {
            SockDiag.Socket o = diag.get(other);
            if (o != null && o.state() == TCP_LISTEN && o.name().equals(s.name())) {
                return true;
            }
        }
        return false;
    }

    /** A process holding socket {@code ino}, from core's host view (one scan of /proc per command). */
    static Optional<FdHolder> owner(HostKernel kernel, long ino) {
        try {
            return kernel.holders("socket:[" + ino + "]").stream().findFirst();
        } catch (CryoException e) {
            return Optional.empty();
        }
    }

    /** {@code (/run/app.sock, pid 77 "syslogd")}: the peer's name and the process holding it. */
    private static String describe(SocketName name, Optional<FdHolder> owner) {
        String shown = name.toString();
        if (name.isRelativePath() && owner.isPresent()) {
            try {  // a relative name means little in a message: resolve it against its holder's cwd
                shown = Files.readSymbolicLink(Path.of("/proc", owner.get().pid().toString(), "cwd"))
                        .resolve(name.pathString()).toString();
            } catch (IOException | RuntimeException ignored) {
                // keep the name as bound
            }
        }
        return "(" + shown + ", " + owner.map(o -> "pid " + o.pid() + " \"" + o.comm() + "\"").orElse("held by no process")
                + ")";
    }

    /**
     * The refusal for a reference no other plugin took over: which socket of the tree, how it relates to the peer
     * outside, who holds the peer, and what to do.
     */
    CryoException refusal(ExternalReference ref, HostKernel kernel, dev.cryo.api.Config config) {
        String extUnixSk = config.offers("ext-unix-sk") ? "pass --ext-unix-sk on dump and restore, or "
                : "enable the external-unix-socket plugin and pass --ext-unix-sk on dump and restore, or ";
        Relation rel = relations.get(List.of(ref.from().id(), ref.to().id()));
        String self = rel == null ? "" : ", " + rel.ours();
        String verb = rel == null ? "refers to" : rel.verb();
        Optional<FdHolder> owner = owner(kernel, ref.to().id());
        String msg = "dump refused: unix socket ino " + ref.from().id() + " (pid " + ref.holder() + " \""
                + ref.holderComm() + "\", fd " + ref.fd() + self + ") " + verb + " ino " + ref.to().id() + " "
                + ref.description() + " outside the dumped tree; a restored copy would have no peer";
        String tree = owner.map(o -> "dump pid " + o.pid() + "'s tree too").orElse("dump the tree holding it too");
        String fix;
        if (rel != null && rel.peerNameless()) {
            fix = tree + " (the peer " + (rel.peerName().isBound() ? "is an accepted connection" : "has no name")
                    + ", so --ext-unix-sk could not reconnect it)";
        } else {
            fix = extUnixSk + tree;
        }
        return new CryoException(Category.UNSUPPORTED, "unix-socket/EXTERNAL_PEER", msg, fix);
    }

    /** @return every socket recorded, by inode */
    java.util.Collection<UnixSocketEntry> entries() {
        return entries.values();
    }

    /**
     * Every socket recorded, by inode, those whose peer (or listener of a pending connection) is outside the tree
     * marked {@code peer_external}. Called from {@code dumpObjects}, after core's closure check: a peer still outside
     * then was taken over by an external-peer handler (this plugin's own refuses everything it is offered).
     *
     * @throws CryoException when such a stream socket holds data its outside peer sent: a restore connects anew and
     *                       cannot put it back ({@code unix-socket/EXTERNAL_QUEUE}); likewise datagrams from the
     *                       outside peer's name, which cryo cannot send from a name a live socket holds
     */
    List<UnixSocketEntry> externalPeersMarked() throws CryoException {
        List<UnixSocketEntry> out = new java.util.ArrayList<>(entries.size());
        for (UnixSocketEntry e : entries.values()) {
            long peer = e.getPeerIno() != 0 ? e.getPeerIno() : e.getPendingOn();
            if (peer == 0 || entries.containsKey(peer)) {
                out.add(e);
                continue;
            }
            String who = "unix socket ino " + e.getIno() + " (" + e.getHolder() + ")";
            String peerText = "its peer ino " + peer + " outside the tree (" + e.getPeerNameText() + ")";
            if (e.getType() != SOCK_DGRAM && e.getQueueCount() > 0) {
                throw new CryoException(Category.UNSUPPORTED, "unix-socket/EXTERNAL_QUEUE", "dump refused: " + who
                        + " holds " + e.getQueuedBytes() + " unread bytes from " + peerText + "; a restore connects"
                        + " it anew (--ext-unix-sk) and cannot put them back",
                        "let the process read what its peer sent, then dump again");
            }
            for (QueuedPacket p : e.getQueueList()) {
                if (!p.getSender().isEmpty() && p.getSender().equals(e.getPeerName())) {
                    throw new CryoException(Category.UNSUPPORTED, "unix-socket/EXTERNAL_QUEUE", "dump refused: "
                            + who + " holds unread datagrams from " + peerText + "; cryo cannot send them again"
                            + " from a name a live socket outside holds",
                            "let the process read what its peer sent, then dump again");
                }
            }
            out.add(e.toBuilder().setPeerExternal(true).build());
        }
        return out;
    }
}
