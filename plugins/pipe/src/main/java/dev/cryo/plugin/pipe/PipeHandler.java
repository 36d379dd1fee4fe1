package dev.cryo.plugin.pipe;

import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.RestoreOutcome;
import org.pf4j.Extension;

/**
 * The handler of kind {@code pipe} — <b>not implemented yet: it handles no fd</b>. {@link #probe} declines every
 * fd, so a tree holding a pipe is refused by core as holding an fd no plugin claims, and {@link #collect} and
 * {@link #restore}, which core never calls for a declined fd, refuse with {@code pipe/NOT_IMPLEMENTED}.
 *
 * <p>What it is to become (CRIU's {@code pipes.c}): claim {@code pipe:[INO]} fds, record each pipe once by inode
 * with both ends as references, save the data in flight with {@code tee()} from a pulled read end, and on restore
 * create the pipe in one process and pass the ends to the others.
 *
 * <p>Stateless; called on the tracer thread only.
 */
@Extension
public final class PipeHandler implements FdHandler {
    /** The kind written into images; equals the plugin id. */
    public static final String KIND = "pipe";

    @Override
    public String kind() {
        return KIND;
    }

    /** @return {@code false} for every fd: this plugin does not handle pipes yet */
    @Override
    public boolean probe(FdInfo fd) {
        return false;
    }

    /** @throws CryoException always (UNSUPPORTED, {@code pipe/NOT_IMPLEMENTED}) */
    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        throw notImplemented("fd " + fd.fd() + " (" + fd.link() + ") of pid " + ctx.task().pid());
    }

    /** @throws CryoException always (UNSUPPORTED, {@code pipe/NOT_IMPLEMENTED}) */
    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        throw notImplemented("fd " + ctx.fd() + " of restored pid " + ctx.task().pid());
    }

    private static CryoException notImplemented(String what) {
        return new CryoException(CryoException.Category.UNSUPPORTED, "pipe/NOT_IMPLEMENTED",
                what + ": the pipe plugin does not handle pipes yet",
                "close the pipe before dumping (or dump a tree that holds none)");
    }
}
