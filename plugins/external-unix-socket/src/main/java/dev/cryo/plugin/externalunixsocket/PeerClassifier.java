package dev.cryo.plugin.externalunixsocket;

import dev.cryo.api.UnixSocketInfo;
import dev.cryo.plugin.externalunixsocket.proto.Connection;

import java.util.Optional;

import static dev.cryo.plugin.externalunixsocket.ProcNetUnix.SOCK_DGRAM;

/**
 * Decides whether a reference from a unix socket of the tree to one outside can be reconnected on restore, and how
 * the tree's socket was connected. Pure: works on a {@link ProcNetUnix} snapshot, so it is unit-tested on data.
 *
 * <p>Reconnectable: a datagram socket connected to a named datagram socket; a stream/seqpacket client whose peer is an
 * accepted connection of an outside listener still bound to that name (restore connects anew: a new connection for the
 * server); a client whose connection waits in an outside listener's queue. Not reconnectable: a nameless peer (the
 * other end of a socketpair held outside, an unbound socket); a stream peer that is a client of the tree's own listener
 * or an accepted connection whose listener is gone; a listener of the tree with an outside client waiting; a peer
 * bound to a relative path (which directory it is relative to is the outside process's business); a peer gone
 * already.
 */
final class PeerClassifier {
    /** The outcome for one reference. */
    sealed interface Verdict permits Accepted, Refused {
    }

    /**
     * The peer can be reconnected.
     *
     * @param listener STREAM_*: the outside listener reached through the peer's name
     */
    record Accepted(Connection connection, UnixSocketInfo ours, UnixSocketInfo peer,
                    Optional<UnixSocketInfo> listener) implements Verdict {
    }

    /** @param why why the peer cannot be reconnected, as the tail of the refusal sentence */
    record Refused(String why) implements Verdict {
    }

    private PeerClassifier() {
    }

    static Verdict classify(ProcNetUnix sockets, long oursIno, long peerIno) {
        Optional<UnixSocketInfo> o = sockets.get(oursIno);
        Optional<UnixSocketInfo> p = sockets.get(peerIno);
        if (o.isEmpty()) {
            return new Refused("the tree's socket is no longer listed in /proc/net/unix");
        }
        if (p.isEmpty()) {
            return new Refused("the peer is already closed (no longer listed in /proc/net/unix): there is nothing"
                    + " to reconnect to");
        }
        UnixSocketInfo ours = o.get(), peer = p.get();
        if (ours.listening()) {
            return new Refused("a client outside the tree waits in the accept queue of this listener; only that"
                    + " client could connect again");
        }
        if (!peer.isBound()) {
            return new Refused("the peer has no name (the other end of a socketpair, or an unbound socket, held"
                    + " outside): a restored socket would have nothing to connect to");
        }
        if (peer.isPath() && peer.name()[0] != '/') {
            return new Refused("the peer is bound to the relative path " + peer.nameText() + "; cryo cannot tell"
                    + " which directory it is relative to");
        }
        if (ours.type() == SOCK_DGRAM) {
            return new Accepted(Connection.DGRAM_CONNECTED, ours, peer, Optional.empty());
        }
        if (peer.listening()) {
            return new Accepted(Connection.STREAM_PENDING, ours, peer, Optional.of(peer));
        }
        if (ours.isBound() && sockets.listenerAt(ours.name(), ours.type(), ours.ino()).isPresent()) {
            return new Refused("the tree's socket is a connection its own listener at " + ours.nameText()
                    + " accepted from the peer; only the client outside could connect again");
        }
        Optional<UnixSocketInfo> listener = sockets.listenerAt(peer.name(), peer.type(), peer.ino());
        if (listener.isEmpty()) {
            return new Refused("the " + peer.typeName() + " peer is a connected socket named " + peer.nameText()
                    + ", not an accepted connection of a listener reachable by that name (no socket listens there"
                    + " now)");
        }
        return new Accepted(Connection.STREAM_ACCEPTED, ours, peer, listener);
    }
}
