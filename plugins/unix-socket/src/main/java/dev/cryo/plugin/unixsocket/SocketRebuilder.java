package dev.cryo.plugin.unixsocket;

import dev.cryo.api.Errno;
import dev.cryo.api.Syscall;
import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.HostKernel;
import dev.cryo.api.LocalFd;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.unixsocket.proto.QueuedPacket;
import dev.cryo.plugin.unixsocket.proto.UnixSocketEntry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.cryo.api.SyscallFlags.*;
import static dev.cryo.api.UnixSocketInfo.typeName;
import static dev.cryo.plugin.unixsocket.SocketCalls.*;

/**
 * The restore half of the plugin for one restore: at the first unix-socket fd it rebuilds every socket of the image
 * at once inside that process (temporary fd numbers), pulls each into cryo as a {@link LocalFd} and closes the
 * temporary numbers; {@link UnixSocketHandler#restore} then pushes the socket into each process that held it, at its
 * fd number. Sockets do not belong to a process, so a socket created in one process of the tree can be installed in
 * another (only {@code SO_PEERCRED} then names the creating process).
 *
 * <p>Order inside the builder: listeners (bound, listening); unconnected and datagram sockets (bound); connected
 * stream/seqpacket pairs (a pair where one end carries a name is made by connecting the other end to a listener with
 * that name — the tree's own listener, or a temporary one — and accepting, so both getsockname and getpeername read
 * as before); clients whose connections wait in a listener's queue (connected again, in queue order, not accepted);
 * connected sockets whose peer was gone (a socketpair whose other end is closed after the queue is filled); every
 * receive queue, sent from the peer or from a socket bound to the datagram's sender name; shutdown; datagram
 * connects; names of sockets whose file had been unlinked are unlinked again; options last.
 */
final class SocketRebuilder {
    private final Map<Long, UnixSocketEntry> table = new LinkedHashMap<>();
    private final Map<Long, LocalFd> built = new HashMap<>();
    private boolean done;

    // during build only
    private RemoteTask task;
    private HostKernel kernel;
    private Config config;
    private SockDiag live;
    private final Map<Long, Integer> tfd = new HashMap<>();
    /** Duplicates in cryo of the task's temporary fds, by number, for the calls made in cryo ({@link #io}). */
    private final Map<Integer, LocalFd> pulled = new HashMap<>();
    /** cryo's own process ({@link HostKernel#self()}): option calls on {@link #pulled} duplicates, no stop. */
    private RemoteTask io;
    /** Stream/seqpacket sends queued by {@link #fill}, run as one batch by {@link #flushSends}. */
    private final List<PendingSend> sends = new ArrayList<>();
    /** Socket-peer-gone partners, temporary listeners and senders: closed at the end of the build. */
    private final List<Integer> scratchFds = new ArrayList<>();
    private final List<Path> unlinkAtEnd = new ArrayList<>();
    /**
     * Directories created to bind names under directories gone since the dump (removed or renamed), in creation
     * order: removed at the end of the build, after the names in them are unlinked, deepest first.
     */
    private final List<Path> createdDirs = new ArrayList<>();

    SocketRebuilder(List<UnixSocketEntry> entries) {
        for (UnixSocketEntry e : entries) {
            table.put(e.getIno(), e);
        }
    }

    boolean isBuilt() {
        return done;
    }

    /** @return the socket of inode {@code ino}, built with everything else at the first call */
    LocalFd socket(long ino, RemoteTask t, HostKernel k, Config c, String imageFile) throws CryoException {
        if (!done) {
            build(t, k, c);
        }
        LocalFd fd = built.get(ino);
        if (fd == null) {
            throw new CryoException(Category.IMAGE, "unix-socket/NO_SUCH_SOCKET", imageFile + " names unix socket ino "
                    + ino + ", which the object table unix-socket.img does not hold");
        }
        return fd;
    }

    void close() {
        for (LocalFd fd : built.values()) {
            fd.close();
        }
        built.clear();
    }

    // ------------------------------------------------------------------ build

    private void build(RemoteTask t, HostKernel k, Config c) throws CryoException {
        this.task = t;
        this.kernel = k;
        this.config = c;
        this.io = k.self();
        done = true;
        boolean complete = false;
        try {
            buildAll();
            for (Map.Entry<Long, Integer> e : tfd.entrySet()) {
                LocalFd fd = pulled.remove(e.getValue());
                built.put(e.getKey(), fd != null ? fd : task.pullFd(TargetFd.of(e.getValue())));
            }
            complete = true;
        } finally {
            for (LocalFd fd : pulled.values()) {
                fd.close();
            }
            pulled.clear();
            sends.clear();
            // the temporary numbers, closed in one batch (no pointer arguments; close does not block here)
            List<RemoteTask.Call> closes = new ArrayList<>();
            for (int fd : tfd.values()) {
                closes.add(new RemoteTask.Call(Syscall.CLOSE, fd));
            }
            for (int fd : scratchFds) {
                closes.add(new RemoteTask.Call(Syscall.CLOSE, fd));
            }
            task.syscallBatchRaw(closes);
            for (Path p : unlinkAtEnd) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // the name is already gone
                }
            }
            tfd.clear();
            scratchFds.clear();
            unlinkAtEnd.clear();
            removeCreatedDirs(complete);
        }
    }

    /**
     * Creates the missing directories above {@code path} (the name of {@code e}, which is unlinked at the end of the
     * build), so that bind can make its name; {@link #removeCreatedDirs} removes exactly these again.
     */
    private void createMissingDirs(Path path, UnixSocketEntry e) throws CryoException {
        java.util.Deque<Path> missing = new java.util.ArrayDeque<>();
        for (Path d = path.getParent(); d != null && !Files.exists(d, LinkOption.NOFOLLOW_LINKS); d = d.getParent()) {
            missing.push(d);
        }
        for (Path d : missing) {
            try {
                Files.createDirectory(d);
            } catch (IOException ex) {
                throw new CryoException(Category.KERNEL, "unix-socket/MKDIR", "mkdir(" + d + "), to bind " + who(e)
                        + " to its name " + path + " under a directory gone since the dump, failed: " + ex);
            }
            createdDirs.add(d);
        }
    }

    /**
     * Removes the directories {@link #createMissingDirs} made, deepest first. One that is no longer empty (another
     * program wrote into it meanwhile) stays; after a complete build that fails the restore naming it, since the
     * restore would otherwise leave the file system changed.
     */
    private void removeCreatedDirs(boolean complete) throws CryoException {
        List<String> left = new ArrayList<>();
        for (int i = createdDirs.size() - 1; i >= 0; i--) {
            try {
                Files.delete(createdDirs.get(i));
            } catch (IOException ex) {
                left.add(createdDirs.get(i) + " (" + ex + ")");
            }
        }
        createdDirs.clear();
        if (complete && !left.isEmpty()) {
            throw new CryoException(Category.CONFLICT, "unix-socket/TEMPORARY_DIR", "cannot remove the directories "
                    + String.join(", ", left) + " created to bind unix sockets under directories gone since the dump",
                    "remove what was put into them meanwhile, then restore again");
        }
    }

    private void buildAll() throws CryoException {
        List<UnixSocketEntry> dgramConnects = new ArrayList<>();
        // 1. listeners
        for (UnixSocketEntry e : table.values()) {
            if (e.getState() == TCP_LISTEN) {
                int fd = socket(e.getType(), e);
                bindName(fd, e, false);
                task.syscall("listen(" + who(e) + ", " + e.getBacklog() + ")", Syscall.LISTEN, fd, e.getBacklog());
            }
        }
        // 2. everything that is neither listening nor a connected stream/seqpacket pair
        for (UnixSocketEntry e : table.values()) {
            if (tfd.containsKey(e.getIno()) || e.getState() == TCP_LISTEN) {
                continue;
            }
            if (e.getType() == SOCK_DGRAM) {
                UnixSocketEntry p = table.get(e.getPeerIno());
                if (p != null && p.getPeerIno() == e.getIno() && !tfd.containsKey(p.getIno())
                        && (!name(p).isBound() || !name(e).isBound())) {
                    // a datagram socketpair (one unnamed end can only have been connected by socketpair)
                    int[] pair = socketpair(e.getType(), e);
                    tfd.put(e.getIno(), pair[0]);
                    tfd.put(p.getIno(), pair[1]);
                    bindName(pair[0], e, false);
                    bindName(pair[1], p, false);
                } else {
                    int fd = socket(e.getType(), e);
                    bindName(fd, e, false);
                    if (e.getPeerIno() != 0) {
                        dgramConnects.add(e);
                    }
                }
            } else if (e.getState() != TCP_ESTABLISHED) {
                int fd = socket(e.getType(), e);
                bindName(fd, e, false);
            }
        }
        // 3. connected stream/seqpacket pairs with both ends in the image: the nameless ones first, in one batch
        socketpairs();
        for (UnixSocketEntry e : table.values()) {
            if (tfd.containsKey(e.getIno()) || e.getType() == SOCK_DGRAM || e.getState() != TCP_ESTABLISHED) {
                continue;
            }
            UnixSocketEntry p = table.get(e.getPeerIno());
            if (p == null || p.getPeerIno() != e.getIno()) {
                continue;
            }
            connectPair(e, p);
        }
        // 4. clients waiting in a listener's queue, in queue order
        for (UnixSocketEntry l : table.values()) {
            if (l.getState() != TCP_LISTEN) {
                continue;
            }
            for (long client : l.getPendingList()) {
                UnixSocketEntry c = table.get(client);
                if (c != null && !tfd.containsKey(client)) {
                    int fd = socket(c.getType(), c);
                    bindName(fd, c, false);
                    connect(fd, name(l), c, "the listener ino " + l.getIno());
                }
            }
        }
        // 5. connected sockets whose peer is gone or outside the image
        for (UnixSocketEntry e : table.values()) {
            if (tfd.containsKey(e.getIno()) || e.getType() == SOCK_DGRAM || e.getState() != TCP_ESTABLISHED) {
                continue;
            }
            long peer = e.getPeerIno() != 0 ? e.getPeerIno() : e.getPendingOn();
            if (peer == 0) {
                int[] pair = socketpair(e.getType(), e);
                tfd.put(e.getIno(), pair[0]);
                scratchFds.add(pair[1]);
                fill(e, pair[1]);
                flushSends();
                if (e.getPendingError() != 0) {
                    // a peer closed with unread data leaves ECONNRESET for the next read: so does the stand-in
                    send(pair[0], new byte[] {0}, null, e.getType() == SOCK_STREAM, e);
                }
                closeTemporary(pair[1]);
                scratchFds.remove(Integer.valueOf(pair[1]));
            } else {
                reconnectExternal(e);
            }
        }
        // 6. receive queues
        for (UnixSocketEntry e : table.values()) {
            if (e.getQueueCount() == 0 || (e.getPeerIno() == 0 && e.getType() != SOCK_DGRAM)) {
                continue; // peer-gone sockets were filled in step 5
            }
            if (e.getType() == SOCK_DGRAM) {
                fillDatagrams(e);
            } else {
                Integer sender = tfd.get(e.getPeerIno());
                if (sender == null || !table.containsKey(e.getPeerIno())) {
                    throw new CryoException(Category.UNSUPPORTED, "unix-socket/EXTERNAL_QUEUE", "cannot put back the "
                            + e.getQueuedBytes() + " bytes queued for " + who(e) + ": they came from its peer ino "
                            + e.getPeerIno() + " outside the image, which this restore connected anew");
                }
                fill(e, sender);
            }
        }
        flushSends();
        // 7. shutdown (one batch; a failed call is made again on its own for its message), datagram connects, options
        List<RemoteTask.Call> shutdowns = new ArrayList<>();
        List<String> shutdownWhat = new ArrayList<>();
        for (UnixSocketEntry e : table.values()) {
            int how = e.getShutdown() & (RCV_SHUTDOWN | SEND_SHUTDOWN);
            // a stream socket whose peer is gone got both bits when its stand-in peer was closed
            boolean peerGone = e.getType() != SOCK_DGRAM && e.getPeerIno() == 0;
            if (how != 0 && !peerGone && tfd.containsKey(e.getIno())) {
                int shut = how == (RCV_SHUTDOWN | SEND_SHUTDOWN) ? 2 : how == SEND_SHUTDOWN ? 1 : 0;
                shutdowns.add(new RemoteTask.Call(Syscall.SHUTDOWN, tfd.get(e.getIno()), shut));
                shutdownWhat.add("shutdown(" + who(e) + ", " + shut + ")");
            }
        }
        long[] shut = task.syscallBatchRaw(shutdowns);
        for (int i = 0; i < shut.length; i++) {
            if (shut[i] < 0) {
                RemoteTask.Call c = shutdowns.get(i);
                task.syscall(shutdownWhat.get(i), Syscall.SHUTDOWN, c.args());
            }
        }
        for (UnixSocketEntry e : dgramConnects) {
            UnixSocketEntry p = table.get(e.getPeerIno());
            if (p != null) {
                connect(tfd.get(e.getIno()), name(p), e, "its peer ino " + p.getIno());
            } else {
                reconnectExternal(e);
            }
        }
        for (UnixSocketEntry e : table.values()) {
            if (e.getNameUnlinked() && !isAcceptedEnd(e)) {
                unlinkAtEnd.add(resolved(e));
            }
            applyOptions(e, tfd.get(e.getIno()));
        }
    }

    /** A connected pair: socketpair when nameless, else connect + accept through a listener of the right name. */
    private void connectPair(UnixSocketEntry a, UnixSocketEntry b) throws CryoException {
        SocketName na = name(a), nb = name(b);
        if (!na.isBound() && !nb.isBound()) {
            int[] pair = socketpair(a.getType(), a);
            tfd.put(a.getIno(), pair[0]);
            tfd.put(b.getIno(), pair[1]);
            return;
        }
        // the accepted end carries its listener's name; with two names, the later socket (higher inode) was accepted
        UnixSocketEntry accepted = !nb.isBound() || (na.isBound() && a.getIno() > b.getIno()) ? a : b;
        UnixSocketEntry client = accepted == a ? b : a;
        SocketName name = name(accepted);
        Integer listener = null;
        for (UnixSocketEntry l : table.values()) {
            if (l.getState() == TCP_LISTEN && l.getType() == accepted.getType() && name(l).equals(name)) {
                listener = tfd.get(l.getIno());
            }
        }
        boolean temporary = listener == null;
        if (temporary) {
            listener = socket(accepted.getType(), accepted);
            tfd.remove(accepted.getIno());
            bindName(listener, accepted, true);
            task.syscall("listen(temporary listener " + name + ")", Syscall.LISTEN, listener, 1);
        }
        int c = socket(client.getType(), client);
        bindName(c, client, false);
        connect(c, name, client, "a listener at " + name + " to recreate the accepted end ino " + accepted.getIno());
        int s = (int) task.syscall("accept4(listener " + name + ") for " + who(accepted), Syscall.ACCEPT4, listener, 0, 0,
                SOCK_CLOEXEC | SOCK_NONBLOCK);
        tfd.put(accepted.getIno(), s);
        if (temporary) {
            closeTemporary(listener);
            if (name.isPath()) {
                unlinkAtEnd.add(resolved(accepted));
            }
        }
    }

    /** @return the inode of the peer outside the image (peer, or listener of a pending connection), or 0 */
    private long externalPeer(UnixSocketEntry e) {
        long peer = e.getPeerIno() != 0 ? e.getPeerIno() : e.getPendingOn();
        return peer != 0 && (e.getPeerExternal() || !table.containsKey(peer)) ? peer : 0;
    }

    /**
     * A socket whose peer is outside the image: connected anew to the peer's name (the external-unix-socket
     * plugin's checkRestore made sure, before any process existed, that {@code ext-unix-sk} allows it and the name is
     * bound). An image written with the peer outside can only exist when that plugin accepted it at dump, and a
     * restore of it needs that plugin enabled (core checks the image's plugins). A datagram socket is already bound to its own name; a stream client makes
     * a new connection (the server sees a new client).
     */
    private void reconnectExternal(UnixSocketEntry e) throws CryoException {
        SocketName peer = SocketName.of(e.getPeerName().toByteArray());
        long peerIno = e.getPeerIno() != 0 ? e.getPeerIno() : e.getPendingOn();
        if (!peer.isBound()) {
            throw new CryoException(Category.UNSUPPORTED, "unix-socket/EXTERNAL_PEER", "cannot restore " + who(e)
                    + ": its peer ino " + peerIno + " outside the dumped tree has no name to connect to");
        }
        Integer fd = tfd.get(e.getIno());
        if (fd == null) {
            fd = socket(e.getType(), e);
            bindName(fd, e, false);
        }
        long s = task.scratchAddress();
        task.writeMemory(s + QueuePeeker.NAME, peer.sockaddr());
        long r = task.syscallRaw(Syscall.CONNECT, fd, s + QueuePeeker.NAME, peer.sockaddrLength());
        if (r < 0) {
            String why = switch ((int) -r) {
                case 2 -> ": no such path";
                case 111 -> e.getType() == SOCK_DGRAM ? ": no socket is bound there (a stale socket file?)"
                        : ": nothing listens there (a stale socket file?)";
                case EAGAIN -> ": the listener's accept queue is full";
                default -> "";
            };
            throw new CryoException(Category.CONFLICT, "unix-socket/EXTERNAL_PEER_ABSENT", "cannot reconnect " + who(e)
                    + " to its peer outside the dumped tree at " + peer + " (" + typeName(e.getType())
                    + ", peer ino " + peerIno + " at dump): connect() failed: " + Errno.describe((int) -r) + why,
                    "start the server " + (e.getType() == SOCK_DGRAM ? "bound to " : "listening at ") + peer
                            + " before restoring; --ext-unix-sk connects anew and starts nothing");
        }
    }

    private boolean isAcceptedEnd(UnixSocketEntry e) {
        if (e.getType() == SOCK_DGRAM || e.getState() != TCP_ESTABLISHED) {
            return false;
        }
        for (UnixSocketEntry l : table.values()) {
            if (l.getState() == TCP_LISTEN && name(l).equals(name(e))) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ queues

    /**
     * Stream/seqpacket data for {@code e}, to be sent in order from {@code sender}, its peer, by the next
     * {@link #flushSends}.
     */
    private void fill(UnixSocketEntry e, int sender) throws CryoException {
        if (e.getQueueCount() == 0) {
            return;
        }
        forceSndbuf(sender, e.getQueuedBytes(), e);
        for (QueuedPacket p : e.getQueueList()) {
            sends.add(new PendingSend(e, sender, p.getData().toByteArray()));
        }
    }

    /** One packet {@link #fill} queued: all of {@code data} sent from {@code fd} to the receive queue of {@code e}. */
    private record PendingSend(UnixSocketEntry e, int fd, byte[] data) {
    }

    /** Most bytes of queued packets put into the task at once by {@link #flushSends}. */
    private static final int SEND_AREA = 16 << 20;

    /**
     * Sends the packets {@link #fill} queued, in batches: the data goes into a temporary mapping of the task (not the
     * scratch area, which a batch may overwrite), each packet whole in one {@code sendto(MSG_DONTWAIT)}, in order.
     * After a short or failed send on a socket, every later send on it fails too (its buffer is full, nothing
     * reads it), so the rest of that socket's packets is sent one call at a time as before, which fails with the
     * same message when the buffer is really full.
     */
    private void flushSends() throws CryoException {
        if (sends.isEmpty()) {
            return;
        }
        List<PendingSend> all = new ArrayList<>(sends);
        sends.clear();
        int from = 0;
        while (from < all.size()) {
            int to = from;
            long bytes = 0;
            while (to < all.size() && (to == from || bytes + all.get(to).data().length <= SEND_AREA)) {
                bytes += all.get(to++).data().length;
            }
            sendBatch(all.subList(from, to), bytes);
            from = to;
        }
    }

    private void sendBatch(List<PendingSend> batch, long bytes) throws CryoException {
        long len = Math.max(4096, (bytes + 4095) & ~4095L);
        long area = task.syscall("mmap(" + len + ") for the receive queues of " + batch.size() + " unix sockets",
                Syscall.MMAP, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        try {
            ByteBuffer data = ByteBuffer.allocateDirect((int) bytes);
            List<RemoteTask.Call> calls = new ArrayList<>(batch.size());
            long at = area;
            for (PendingSend p : batch) {
                data.put(p.data());
                calls.add(new RemoteTask.Call(Syscall.SENDTO, p.fd(), at, p.data().length,
                        MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0));
                at += p.data().length;
            }
            if (bytes > 0) {
                task.writeMemory(area, data.flip());
            }
            long[] r = task.syscallBatchRaw(calls);
            Map<Integer, Integer> firstShort = new HashMap<>();
            for (int i = 0; i < r.length; i++) {
                PendingSend p = batch.get(i);
                Integer first = firstShort.get(p.fd());
                if (first == null) {
                    if (r[i] != p.data().length) {
                        firstShort.put(p.fd(), i);
                    }
                } else if (r[i] > 0) {
                    throw new CryoException(Category.KERNEL, "unix-socket/REFILL", "sendto(" + p.data().length
                            + " bytes) to put back the receive queue of " + who(p.e()) + " succeeded after an earlier"
                            + " packet of that queue was sent short: the queue would be out of order");
                }
            }
            for (Map.Entry<Integer, Integer> f : firstShort.entrySet()) {
                for (int i = f.getValue(); i < r.length; i++) {
                    PendingSend p = batch.get(i);
                    if (p.fd() != f.getKey()) {
                        continue;
                    }
                    int sent = i == f.getValue() && r[i] > 0 ? (int) r[i] : 0;
                    send(p.fd(), java.util.Arrays.copyOfRange(p.data(), sent, p.data().length), null,
                            p.e().getType() == SOCK_STREAM, p.e());
                }
            }
        } finally {
            task.syscallRaw(Syscall.MUNMAP, area, len);
        }
    }

    /** Datagrams, each from its socketpair partner, a socket of the image with its sender's name, or a stand-in. */
    private void fillDatagrams(UnixSocketEntry e) throws CryoException {
        UnixSocketEntry partner = table.get(e.getPeerIno());
        boolean mutual = partner != null && partner.getPeerIno() == e.getIno();
        for (QueuedPacket p : e.getQueueList()) {
            SocketName from = SocketName.of(p.getSender().toByteArray());
            byte[] data = p.getData().toByteArray();
            if (mutual && from.equals(name(partner))) {
                forceSndbuf(tfd.get(partner.getIno()), e.getQueuedBytes(), e);
                send(tfd.get(partner.getIno()), data, null, false, e);
                continue;
            }
            Integer sender = null;
            if (from.isBound()) {
                for (UnixSocketEntry s : table.values()) {
                    if (name(s).equals(from) && s.getType() == SOCK_DGRAM && tfd.containsKey(s.getIno())) {
                        sender = tfd.get(s.getIno());
                    }
                }
            }
            if (sender == null) {
                sender = (int) task.syscall("socket(AF_UNIX, SOCK_DGRAM) to send a queued datagram to " + who(e),
                        Syscall.SOCKET, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                scratchFds.add(sender);
                if (from.isBound()) {
                    UnixSocketEntry stand = UnixSocketEntry.newBuilder().setIno(0).setType(SOCK_DGRAM)
                            .setName(p.getSender()).setCwd(e.getCwd()).setHolder("sender of a datagram queued for "
                                    + who(e)).build();
                    bindName(sender, stand, true);
                    if (from.isPath()) {
                        unlinkAtEnd.add(resolved(stand));
                    }
                }
            }
            forceSndbuf(sender, e.getQueuedBytes(), e);
            send(sender, data, name(e), false, e);
        }
    }

    private void forceSndbuf(int fd, long queued, UnixSocketEntry e) throws CryoException {
        int want = (int) Math.min(Integer.MAX_VALUE / 4, queued * 2 + (1 << 20));
        if (setInCryo(fd, SO_SNDBUFFORCE, want)) {
            return;
        }
        if (task.syscallRaw(Syscall.SETSOCKOPT, fd, SOL_SOCKET, SO_SNDBUFFORCE, putInt(want), 4) < 0) {
            QueuePeeker.setIntOption(task, fd, SO_SNDBUF, want, "sender for " + who(e));
        }
    }

    /**
     * Sets an int option of the task's socket {@code fd} in cryo, on its duplicate: the same socket, no stop of the
     * task (issue 13).
     *
     * @return false when it failed: the caller then makes the call in the task as before, for its fallback or message
     */
    /** Closes the task's fd {@code fd} before the end of the build, and cryo's duplicate of it (the number is reused). */
    private void closeTemporary(int fd) throws CryoException {
        LocalFd local = pulled.remove(fd);
        if (local != null) {
            local.close();
        }
        task.syscallRaw(Syscall.CLOSE, fd);
    }

    private boolean setInCryo(int fd, int opt, int value) throws CryoException {
        LocalFd local = pulled.get(fd);
        if (local == null) {
            local = task.pullFd(TargetFd.of(fd));
            pulled.put(fd, local);
        }
        long s = io.scratchAddress();
        io.writeMemory(s, QueuePeeker.direct(4).putInt(value).flip());
        return io.syscallRaw(Syscall.SETSOCKOPT, local.value(), SOL_SOCKET, opt, s, 4) == 0;
    }

    private long putInt(int v) throws CryoException {
        long s = task.scratchAddress();
        task.writeMemory(s + QueuePeeker.OPTVAL, QueuePeeker.direct(4).putInt(v).flip());
        return s + QueuePeeker.OPTVAL;
    }

    /** Sends {@code data} (all of it; a stream in chunks, a record in one call) without blocking. */
    private void send(int fd, byte[] data, SocketName to, boolean stream, UnixSocketEntry e) throws CryoException {
        long s = task.scratchAddress();
        int room = task.scratchSize() - QueuePeeker.DATA;
        long nameAddr = 0;
        int nameLen = 0;
        if (to != null) {
            task.writeMemory(s + QueuePeeker.NAME, to.sockaddr());
            nameAddr = s + QueuePeeker.NAME;
            nameLen = to.sockaddrLength();
        }
        long buf = s + QueuePeeker.DATA;
        long mapped = 0;
        int mappedLen = 0;
        if (!stream && data.length > room) {
            mappedLen = (data.length + 4095) & ~4095;
            mapped = task.syscall("mmap(" + mappedLen + ") for a record queued for " + who(e), Syscall.MMAP, 0, mappedLen,
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            buf = mapped;
            room = mappedLen;
        }
        try {
            int off = 0;
            do {
                int n = Math.min(room, data.length - off);
                if (n > 0) {
                    task.writeMemory(buf, ByteBuffer.allocateDirect(n).put(data, off, n).flip());
                }
                long r = task.syscallRaw(Syscall.SENDTO, fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL, nameAddr, nameLen);
                if (r < 0) {
                    String why = r == -EAGAIN ? (e.getType() == SOCK_DGRAM
                            ? "; the receive queue is full (more datagrams than net.unix.max_dgram_qlen?)"
                            : "; the sender's buffer is full") : "";
                    throw new CryoException(Category.KERNEL, "unix-socket/REFILL", "sendto(" + n + " bytes"
                            + (to == null ? "" : " to " + to) + ") to put back the receive queue of " + who(e)
                            + " failed: " + Errno.describe((int) -r) + why);
                }
                off += (int) r;
            } while (off < data.length);
        } finally {
            if (mapped != 0) {
                task.syscallRaw(Syscall.MUNMAP, mapped, mappedLen);
            }
        }
    }

    // ------------------------------------------------------------------ options

    private void applyOptions(UnixSocketEntry e, Integer fd) throws CryoException {
        if (fd == null) {
            return;
        }
        String who = who(e);
        if (e.getSndbuf() > 0 && !setInCryo(fd, SO_SNDBUFFORCE, e.getSndbuf() / 2) && task.syscallRaw(Syscall.SETSOCKOPT, fd, SOL_SOCKET, SO_SNDBUFFORCE,
                putInt(e.getSndbuf() / 2), 4) < 0) {
            QueuePeeker.setIntOption(task, fd, SO_SNDBUF, e.getSndbuf() / 2, who);
        }
        if (e.getRcvbuf() > 0 && !setInCryo(fd, SO_RCVBUFFORCE, e.getRcvbuf() / 2) && task.syscallRaw(Syscall.SETSOCKOPT, fd, SOL_SOCKET, SO_RCVBUFFORCE,
                putInt(e.getRcvbuf() / 2), 4) < 0) {
            QueuePeeker.setIntOption(task, fd, SO_RCVBUF, e.getRcvbuf() / 2, who);
        }
        if (e.getPasscred() && !setInCryo(fd, SO_PASSCRED, 1)) {
            QueuePeeker.setIntOption(task, fd, SO_PASSCRED, 1, who);
        }
        if (e.getPasssec() && !setInCryo(fd, SO_PASSSEC, 1)) {
            QueuePeeker.setIntOption(task, fd, SO_PASSSEC, 1, who);
        }
        if (e.getPeekOff() >= 0 && !setInCryo(fd, SO_PEEK_OFF, e.getPeekOff())) {
            QueuePeeker.setIntOption(task, fd, SO_PEEK_OFF, e.getPeekOff(), who);
        }
    }

    // ------------------------------------------------------------------ injected calls

    private int socket(int type, UnixSocketEntry e) throws CryoException {
        int fd = (int) task.syscall("socket(AF_UNIX, " + typeName(type) + ") for " + who(e), Syscall.SOCKET, AF_UNIX,
                type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        tfd.put(e.getIno(), fd);
        return fd;
    }

    /**
     * The nameless connected stream/seqpacket pairs of step 3, made in one batch: each {@code socketpair} writes its
     * two fds into a temporary mapping of the task (a batch must not point into the scratch area). A failed one is
     * made again on its own ({@link #socketpair}), which fails with the message it always had.
     */
    private void socketpairs() throws CryoException {
        List<UnixSocketEntry[]> pairs = new ArrayList<>();
        java.util.Set<Long> taken = new java.util.HashSet<>();
        for (UnixSocketEntry e : table.values()) {
            if (tfd.containsKey(e.getIno()) || taken.contains(e.getIno()) || e.getType() == SOCK_DGRAM
                    || e.getState() != TCP_ESTABLISHED) {
                continue;
            }
            UnixSocketEntry p = table.get(e.getPeerIno());
            if (p == null || p.getPeerIno() != e.getIno() || name(e).isBound() || name(p).isBound()) {
                continue;
            }
            pairs.add(new UnixSocketEntry[] {e, p});
            taken.add(e.getIno());
            taken.add(p.getIno());
        }
        if (pairs.size() < 2) {
            return; // connectPair makes it
        }
        long len = ((long) pairs.size() * 8 + 4095) & ~4095L;
        long area = task.syscall("mmap(" + len + ") for " + pairs.size() + " unix socketpairs", Syscall.MMAP, 0, len,
                PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        try {
            List<RemoteTask.Call> calls = new ArrayList<>(pairs.size());
            for (int i = 0; i < pairs.size(); i++) {
                calls.add(new RemoteTask.Call(Syscall.SOCKETPAIR, AF_UNIX,
                        pairs.get(i)[0].getType() | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, area + 8L * i));
            }
            long[] r = task.syscallBatchRaw(calls);
            ByteBuffer fds = QueuePeeker.direct(pairs.size() * 8);
            task.readMemory(area, fds);
            fds.flip();
            for (int pass = 0; pass < 2; pass++) {   // the made ones first: closed at the end whatever follows
                for (int i = 0; i < pairs.size(); i++) {
                    if ((r[i] == 0) != (pass == 0)) {
                        continue;
                    }
                    UnixSocketEntry a = pairs.get(i)[0], b = pairs.get(i)[1];
                    int[] pair = pass == 0 ? new int[] {fds.getInt(8 * i), fds.getInt(8 * i + 4)}
                            : socketpair(a.getType(), a);
                    tfd.put(a.getIno(), pair[0]);
                    tfd.put(b.getIno(), pair[1]);
                }
            }
        } finally {
            task.syscallRaw(Syscall.MUNMAP, area, len);
        }
    }

    private int[] socketpair(int type, UnixSocketEntry e) throws CryoException {
        long s = task.scratchAddress();
        task.syscall("socketpair(AF_UNIX, " + typeName(type) + ") for " + who(e), Syscall.SOCKETPAIR, AF_UNIX,
                type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, s + QueuePeeker.OPTVAL);
        ByteBuffer b = QueuePeeker.direct(8);
        task.readMemory(s + QueuePeeker.OPTVAL, b);
        b.flip();
        return new int[] {b.getInt(), b.getInt()};
    }

    private void connect(int fd, SocketName to, UnixSocketEntry e, String what) throws CryoException {
        long s = task.scratchAddress();
        task.writeMemory(s + QueuePeeker.NAME, to.sockaddr());
        long r = task.syscallRaw(Syscall.CONNECT, fd, s + QueuePeeker.NAME, to.sockaddrLength());
        if (r < 0) {
            throw new CryoException(Category.CONFLICT, "unix-socket/CONNECT", "connect(" + who(e) + ", " + to
                    + ") to " + what + " failed: " + Errno.describe((int) -r),
                    r == -111 || r == -2 ? "make sure something listens at " + to + " before restoring" : null);
        }
    }

    /**
     * Binds {@code e}'s name. A path left over from the dumped socket (a socket file no live socket is bound to) is
     * unlinked first; a path held by a live socket or by another kind of file is a conflict naming it.
     */
    private void bindName(int fd, UnixSocketEntry e, boolean temporary) throws CryoException {
        SocketName name = name(e);
        if (!name.isBound()) {
            return;
        }
        if (name.isPath()) {
            Path p = resolved(e);
            clearStale(p, e);
            if (temporary || e.getNameUnlinked()) {
                // the name is unlinked at the end of the build: the directories it was under may be gone meanwhile
                createMissingDirs(p, e);
            }
            if (name.isRelativePath()) {
                task.syscall("chdir(" + e.getCwd() + ") to bind the relative name " + name, Syscall.CHDIR,
                        task.putScratchString(QueuePeeker.DATA, e.getCwd()));
            }
        }
        long s = task.scratchAddress();
        task.writeMemory(s + QueuePeeker.NAME, name.sockaddr());
        long r = task.syscallRaw(Syscall.BIND, fd, s + QueuePeeker.NAME, name.sockaddrLength());
        if (r < 0) {
            String holder = "";
            if (r == -98 && name.isAbstract()) {
                holder = liveHolder(name);
            }
            Path dir = name.isPath() ? resolved(e).getParent() : null;
            boolean noDir = r == -2 && dir != null && !Files.isDirectory(dir);
            throw new CryoException(Category.CONFLICT, "unix-socket/BIND", "bind(" + who(e) + ", " + name
                    + (temporary ? ", temporarily" : "") + ") failed: " + Errno.describe((int) -r) + holder
                    + (noDir ? ": the directory " + dir + " of its name, which held its file at dump, is gone" : ""),
                    r == -98 ? "stop whatever holds " + name + " before restoring"
                            : noDir ? "recreate " + dir + " (the socket's file is made again in it), then restore"
                            + " again" : null);
        }
        if (!temporary && name.isPath() && e.getNameAttrs()) {
            // bind made the file with the restoring process's umask and credentials: owner first (chown clears
            // set-id bits), then the mode
            String path = resolved(e).toString();
            long addr = task.putScratchString(QueuePeeker.DATA, path);
            task.syscall("fchownat(" + path + ", " + e.getNameUid() + ", " + e.getNameGid() + ") for " + who(e),
                    Syscall.FCHOWNAT, AT_FDCWD, addr, e.getNameUid(), e.getNameGid(), AT_SYMLINK_NOFOLLOW);
            task.syscall("fchmodat(" + path + ", 0" + Integer.toOctalString(e.getNameMode()) + ") for " + who(e),
                    Syscall.FCHMODAT, AT_FDCWD, addr, e.getNameMode());
        }
    }

    private void clearStale(Path p, UnixSocketEntry e) throws CryoException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        long dev, ino;
        int mode;
        try {
            mode = ((Number) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)).intValue();
            dev = ((Number) Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS)).longValue();
            ino = ((Number) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
        } catch (IOException ex) {
            throw new CryoException(Category.KERNEL, "unix-socket/STAT", "stat(" + p + ") to rebind " + who(e)
                    + " failed: " + ex.getMessage());
        }
        if ((mode & 0170000) != 0140000) {
            throw new CryoException(Category.CONFLICT, "unix-socket/NAME_TAKEN", "cannot rebind " + who(e) + " to "
                    + p + ": that path exists and is not a socket (mode 0" + Integer.toOctalString(mode) + ")",
                    "move " + p + " away before restoring");
        }
        if (live == null) {
            live = SockDiag.query(kernel);
        }
        for (long other : live.inodesNamed(name(e))) {
            SockDiag.Socket s = live.get(other);
            if (s.vfsDev() == dev && s.vfsIno() == ino) {
                throw new CryoException(Category.CONFLICT, "unix-socket/NAME_IN_USE", "cannot rebind " + who(e)
                        + " to " + p + ": a live socket (ino " + other + ", "
                        + SocketCollector.owner(kernel, other).map(o -> "pid " + o.pid() + " \"" + o.comm() + "\"")
                                .orElse("held by no process")
                        + ") is bound to it", "stop the process holding " + p + " before restoring");
            }
        }
        try {
            Files.delete(p);
        } catch (IOException ex) {
            throw new CryoException(Category.KERNEL, "unix-socket/UNLINK", "unlink(" + p + "), a stale socket file"
                    + " in the way of " + who(e) + ", failed: " + ex.getMessage());
        }
    }

    private String liveHolder(SocketName name) {
        try {
            if (live == null) {
                live = SockDiag.query(kernel);
            }
            for (long other : live.inodesNamed(name)) {
                return " (held by socket ino " + other + ", "
                        + SocketCollector.owner(kernel, other).map(o -> "pid " + o.pid() + " \"" + o.comm() + "\"")
                                .orElse("held by no process") + ")";
            }
        } catch (CryoException ignored) {
            // the message without a holder is still right
        }
        return "";
    }

    private static Path resolved(UnixSocketEntry e) {
        SocketName n = name(e);
        Path p = Path.of(n.pathString());
        return n.isRelativePath() && !e.getCwd().isEmpty() ? Path.of(e.getCwd()).resolve(p) : p;
    }

    static SocketName name(UnixSocketEntry e) {
        return SocketName.of(e.getName().toByteArray());
    }

    static String who(UnixSocketEntry e) {
        return "unix socket ino " + e.getIno() + (e.getHolder().isEmpty() ? "" : " (" + e.getHolder() + " at dump)");
    }
}
