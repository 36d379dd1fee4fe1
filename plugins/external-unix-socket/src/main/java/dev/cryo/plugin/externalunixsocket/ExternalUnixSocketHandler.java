package dev.cryo.plugin.externalunixsocket;

import com.google.protobuf.Message;
import dev.cryo.api.Config;
import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.api.ExternalReference;
import org.pf4j.Extension;

import java.util.Optional;

/**
 * The external-peer handler of kind {@code external-unix-socket} — <b>not implemented yet: it accepts no
 * reference</b>. {@link #accept} declines everything, even with {@code ext-unix-sk} set, so a tree whose unix
 * socket is connected to a peer outside it is refused by core naming both ends.
 *
 * <p>What it is to become (CRIU's {@code --ext-unix-sk}): when {@code ext-unix-sk} is set (for all sockets or
 * the listed inodes), accept a reference from a unix socket of the tree to a peer outside, record the peer's
 * bound name, and on restore reconnect to that name.
 *
 * <p>Stateless; called on the tracer thread only.
 */
@Extension
public final class ExternalUnixSocketHandler implements ExternalPeerHandler {
    /** The kind written into images; equals the plugin id. */
    public static final String KIND = "external-unix-socket";

    @Override
    public String kind() {
        return KIND;
    }

    /** @return always empty: this plugin does not take responsibility for external unix socket peers yet */
    @Override
    public Optional<Message> accept(ExternalReference reference, Config config) {
        return Optional.empty();
    }
}
