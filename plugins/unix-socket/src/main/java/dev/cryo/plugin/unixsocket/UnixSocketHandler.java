package dev.cryo.plugin.unixsocket;

import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.RestoreOutcome;
import org.pf4j.Extension;

/**
 * The handler of kind {@code unix-socket} — <b>not implemented yet: it handles no fd</b>. {@link #probe} declines
 * every fd, so a tree holding a unix socket is refused by core as holding an fd no plugin claims, and
 * {@link #collect} and {@link #restore}, which core never calls for a declined fd, refuse with
 * {@code unix-socket/NOT_IMPLEMENTED}.
 *
 * <p>What it is to become (CRIU's {@code sk-unix.c}): claim {@code socket:[INO]} fds of family AF_UNIX (found
 * with {@code NETLINK_SOCK_DIAG}), record each socket once with its peer as a reference, its bound name and its
 * queued data ({@code MSG_PEEK}), and on restore recreate socket pairs, listeners and connections.
 *
 * <p>Stateless; called on the tracer thread only.
 */
@Extension
public final class UnixSocketHandler implements FdHandler {
    /** The kind written into images; equals the plugin id. */
    public static final String KIND = "unix-socket";

    @Override
    public String kind() {
        return KIND;
    }

    /** @return {@code false} for every fd: this plugin does not handle unix sockets yet */
    @Override
    public boolean probe(FdInfo fd) {
        return false;
    }

    /** @throws CryoException always (UNSUPPORTED, {@code unix-socket/NOT_IMPLEMENTED}) */
    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        throw notImplemented("fd " + fd.fd() + " (" + fd.link() + ") of pid " + ctx.task().pid());
    }

    /** @throws CryoException always (UNSUPPORTED, {@code unix-socket/NOT_IMPLEMENTED}) */
    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        throw notImplemented("fd " + ctx.fd() + " of restored pid " + ctx.task().pid());
    }

    private static CryoException notImplemented(String what) {
        return new CryoException(CryoException.Category.UNSUPPORTED, "unix-socket/NOT_IMPLEMENTED",
                what + ": the unix-socket plugin does not handle unix sockets yet",
                "close the socket before dumping (or dump a tree that holds none)");
    }
}
