package dev.cryo.plugin.externalunixsocket;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.api.ExternalReference;
import dev.cryo.api.FdHolder;
import dev.cryo.api.HostKernel;
import dev.cryo.api.PluginOption;
import dev.cryo.api.RestoreCheckContext;
import dev.cryo.api.UnixSocketInfo;
import dev.cryo.plugin.externalunixsocket.proto.Connection;
import dev.cryo.plugin.externalunixsocket.proto.ExternalUnixPeerEntry;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The external-peer handler of kind {@code external-unix-socket}: CRIU's {@code --ext-unix-sk}. It is where cryo
 * decides that a unix socket of the tree may keep a peer outside the tree.
 *
 * <p><b>When.</b> Core calls {@link #accept} once per unresolved reference per dump, after every process is collected,
 * on the tracer thread, in priority order: this handler has the default priority, the unix-socket plugin's own
 * handler {@link dev.cryo.api.Ordered#LAST_RESORT}, so it refuses ({@code unix-socket/EXTERNAL_PEER}) whatever this
 * one declined.
 *
 * <p><b>What.</b> Without {@code ext-unix-sk}: declines (the unix-socket plugin's refusal then names the option). With
 * it, for a reference between two unix sockets: accepts when the peer can be reconnected on restore and the option
 * allows its inode (the bare flag allows all, {@code --ext-unix-sk=INO,...} only the listed peer inodes), and returns
 * an {@link ExternalUnixPeerEntry} (stored by core in {@code external.img}): the peer's inode, type, bound name, the
 * path's st_dev/st_ino at dump, the owning process (diagnostics), and how the tree's socket was connected
 * ({@link Connection}). Otherwise it refuses, saying why ({@link PeerClassifier}): a nameless peer, an accepted stream
 * connection whose listener cannot be reached by name, a peer that is the client of the tree's own listener, a peer
 * not in the list. Once the option is given, it never declines a unix-socket reference: it accepts or refuses.
 *
 * <p><b>Restore.</b> {@link #checkRestore} decides from this handler's own records, before any process exists: the
 * option must be given again and each peer's name bound (else an error naming every such socket). The unix-socket
 * plugin then rebuilds the socket (it owns the socket calls) and, because the peer is not in its image, connects it
 * anew to the peer's name. A datagram socket binds its own name first (if it had one) and connects to the peer's name.
 * A stream client makes a <b>new</b> connection to the listener's name: the server sees a new client. Data the client
 * had written before the dump that the server had not read yet is still in the server's old connection (the server
 * reads it there, then end-of-file); data the server had sent that the client had not read yet cannot be put back on
 * a new connection, so such a dump is refused by the unix-socket plugin ({@code unix-socket/EXTERNAL_QUEUE}). A peer
 * that is not there at restore (no such path, nothing listening, ECONNREFUSED) fails the restore naming the path,
 * the fd and the pid; core kills what it created.
 *
 * <p>Stateless (one instance serves one command); thread: the tracer thread only.
 */
@Extension
@PluginOption(name = ExtUnixSkOption.KEY, shape = PluginOption.Shape.FLAG_OR_VALUE, valueHint = "INO[,INO...]",
        valuePattern = "[0-9]+(\\s*,\\s*[0-9]+)*",
        help = "Allow unix sockets connected to named peers outside the tree; alone: any such peer, with inodes: only"
                + " the outside peers with these inodes. Nameless peers (socketpair ends) and stream peers not"
                + " reachable through a listener's name are refused. Give it on restore too: the sockets are"
                + " connected anew to the peers' names (a stream client makes a NEW connection).")
public final class ExternalUnixSocketHandler implements ExternalPeerHandler {
    /** The kind written into images; equals the plugin id. */
    public static final String KIND = "external-unix-socket";
    /** The kind of the objects this handler takes references between. */
    static final String UNIX_SOCKET = "unix-socket";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public Optional<Message> accept(ExternalReference reference, Config config, HostKernel kernel)
            throws CryoException {
        return accept(reference, config, ProcNetUnix.of(kernel), ino -> owner(kernel, ino));
    }

    /** A process holding socket {@code ino}, from the host view. */
    private static Optional<FdHolder> owner(HostKernel kernel, long ino) {
        try {
            return kernel.holders("socket:[" + ino + "]").stream().findFirst();
        } catch (CryoException e) {
            return Optional.empty();
        }
    }

    /** {@link #accept} on a given snapshot of the host's sockets and their owners (tests). */
    Optional<Message> accept(ExternalReference ref, Config config, ProcNetUnix sockets,
                             Function<Long, Optional<FdHolder>> owners) throws CryoException {
        if (!ref.from().kind().equals(UNIX_SOCKET) || !ref.to().kind().equals(UNIX_SOCKET)) {
            return Optional.empty();
        }
        ExtUnixSkOption option = ExtUnixSkOption.of(config);
        if (!option.given()) {
            return Optional.empty();
        }
        long ours = ref.from().id(), peerIno = ref.to().id();
        PeerClassifier.Verdict verdict = PeerClassifier.classify(sockets, ours, peerIno);
        String head = "dump refused: unix socket ino " + ours + " (pid " + ref.holder() + " \"" + ref.holderComm()
                + "\", fd " + ref.fd() + ") " + verb(sockets, ours, peerIno) + " ino " + peerIno + " "
                + ref.description() + " outside the dumped tree";
        if (verdict instanceof PeerClassifier.Refused refused) {
            String tree = owners.apply(peerIno).map(o -> "dump pid " + o.pid() + "'s tree too")
                    .orElse("dump the tree holding the peer too");
            throw new CryoException(Category.UNSUPPORTED, KIND + "/NOT_RECONNECTABLE", head + ", and "
                    + option.spelled() + " cannot take it over: " + refused.why(), tree
                    + ", or close the socket before dumping");
        }
        if (!option.allows(peerIno)) {
            throw new CryoException(Category.UNSUPPORTED, KIND + "/PEER_NOT_LISTED", head + ", and "
                    + option.spelled() + " does not list ino " + peerIno,
                    "add it to the list (" + option.spelled() + "," + peerIno + "), or pass --ext-unix-sk alone to"
                            + " accept every outside peer that can be reconnected");
        }
        return Optional.of(record(ref, (PeerClassifier.Accepted) verdict, owners));
    }

    private static String verb(ProcNetUnix sockets, long ours, long peer) {
        if (sockets.get(ours).map(UnixSocketInfo::listening).orElse(false)) {
            return "has a pending connection from";
        }
        if (sockets.get(peer).map(UnixSocketInfo::listening).orElse(false)) {
            return "waits to be accepted by";
        }
        return "is connected to";
    }

    private static ExternalUnixPeerEntry record(ExternalReference ref, PeerClassifier.Accepted a,
                                                Function<Long, Optional<FdHolder>> owners) {
        UnixSocketInfo peer = a.peer();
        ExternalUnixPeerEntry.Builder b = ExternalUnixPeerEntry.newBuilder()
                .setIno(a.ours().ino()).setType(a.ours().type())
                .setHolderPid(ref.holder().value()).setHolderComm(ref.holderComm()).setHolderFd(ref.fd().value())
                .setConnection(a.connection())
                .setPeerIno(peer.ino()).setPeerName(ByteString.copyFrom(peer.name()))
                .setPeerAbstract(peer.isAbstract())
                .setTypeName(a.ours().typeName()).setPeerNameText(peer.nameText())
                .setConnectionText(connectionText(a));
        if (peer.isPath()) {
            Path p = Path.of(peer.nameText());
            try {
                b.setPeerPathDev(((Number) Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS)).longValue())
                        .setPeerPathIno(((Number) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS))
                                .longValue());
            } catch (IOException | RuntimeException e) {
                // the path is gone already: 0/0 records that no file was there at dump
            }
        }
        owners.apply(peer.ino()).ifPresent(o -> b.setPeerOwnerPid(o.pid().value()).setPeerOwnerComm(o.comm()));
        a.listener().ifPresent(l -> {
            b.setListenerIno(l.ino());
            owners.apply(l.ino()).ifPresent(o -> b.setListenerOwnerPid(o.pid().value())
                    .setListenerOwnerComm(o.comm()));
        });
        return b.build();
    }

    private static String connectionText(PeerClassifier.Accepted a) {
        String name = a.peer().nameText();
        return switch (a.connection()) {
            case DGRAM_CONNECTED -> "datagram socket connected to " + name + ": restore connects to it again";
            case STREAM_ACCEPTED -> "client accepted by the listener at " + name
                    + ": restore makes a new connection (the server sees a new client)";
            case STREAM_PENDING -> "client waiting in the accept queue of " + name
                    + ": restore queues a new connection";
            default -> "unknown";
        };
    }

    /**
     * Before any process exists: every outside peer taken over at dump needs {@code ext-unix-sk} again on restore
     * (the user's statement that the peers exist), listing its inode when the option lists any, and a peer bound
     * to that name now (a datagram socket, or a listener for a stream client). One error names every socket that
     * cannot be reconnected, with its path, fd and pid.
     */
    @Override
    public void checkRestore(RestoreCheckContext ctx) throws CryoException {
        ExtUnixSkOption option = ExtUnixSkOption.of(ctx.config());
        ProcNetUnix now = ProcNetUnix.of(ctx.kernel());
        List<String> notAllowed = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (ExternalUnixPeerEntry e : ctx.externals().read(ExternalUnixPeerEntry.class)) {
            String who = "unix " + e.getTypeName() + " socket ino " + e.getIno() + " (pid " + e.getHolderPid() + " \""
                    + e.getHolderComm() + "\", fd " + e.getHolderFd() + ") to ino " + e.getPeerIno() + " ("
                    + e.getPeerNameText() + ")";
            if (!option.allows(e.getPeerIno())) {
                notAllowed.add(who);
                names.add(e.getPeerNameText());
            } else if (now.boundAt(e.getPeerName().toByteArray(), e.getType()).isEmpty()) {
                absent.add(who + ": " + whyAbsent(e));
            }
        }
        if (!notAllowed.isEmpty()) {
            throw new CryoException(Category.UNSUPPORTED, KIND + "/OPTION_MISSING", "cannot restore "
                    + notAllowed.size() + (notAllowed.size() == 1 ? " unix socket" : " unix sockets")
                    + " connected at dump to peers outside the dumped tree "
                    + (option.given() ? "that " + option.spelled() + " does not list" : "without --ext-unix-sk") + ": "
                    + String.join("; ", notAllowed),
                    "pass " + (option.given() ? "--ext-unix-sk without a list, or with these peer inodes," : "--ext-unix-sk")
                            + " on restore (or add ext-unix-sk to conf/cryo.conf) once " + String.join(", ", names)
                            + " can be connected to again: the sockets are connected anew");
        }
        if (!absent.isEmpty()) {
            throw new CryoException(Category.CONFLICT, KIND + "/PEER_ABSENT", "cannot restore "
                    + String.join("; ", absent),
                    "start the server that owns that name first (--ext-unix-sk promises it is there), then restore"
                            + " again");
        }
    }

    /** Why a peer's name cannot be connected to now, in the words connect(2) would use. */
    private static String whyAbsent(ExternalUnixPeerEntry e) {
        boolean stream = e.getType() != ProcNetUnix.SOCK_DGRAM;
        if (!e.getPeerAbstract()) {
            Path p = Path.of(e.getPeerNameText());
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                return p + " does not exist (connect would fail with ENOENT)";
            }
            return stream ? "nothing listens there at " + p + " (connect would fail with ECONNREFUSED)"
                    : "nothing is bound to " + p + " (connect would fail with ECONNREFUSED)";
        }
        return (stream ? "nothing listens at " : "nothing is bound to ") + e.getPeerNameText()
                + " (connect would fail with ECONNREFUSED)";
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(ExternalUnixPeerEntry.getDescriptor());
    }
}
