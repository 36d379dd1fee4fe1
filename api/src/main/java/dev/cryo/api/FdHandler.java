package dev.cryo.api;

import com.google.protobuf.Message;

/**
 * Handles one kind of file descriptor (regular files, pipes, unix sockets, a vendor's device...).
 *
 * <p>Dump: for every fd of every frozen process core calls {@link #probe} on the enabled handlers in
 * {@link #priority()} order; the first that claims the fd gets {@link #collect}. When every process has been
 * collected, core calls {@link #dumpObjects} once per handler. An fd no handler claims makes core refuse the dump,
 * naming the fd.
 *
 * <p>Restore: first {@link #checkRestore} once, before any process exists; then for every fd record of this
 * {@link #kind()} core calls {@link #restore} inside the process being rebuilt, in fd order, repeating rounds for
 * handlers that answered {@link RestoreOutcome#RETRY_LATER}.
 *
 * <p>Lifetime: one handler instance serves one command (one dump or one restore), so it may keep state across
 * calls — e.g. the ends of a pipe it created in one process, as {@link LocalFd}s, to install the other end into
 * another process later with {@link RemoteTask#pushFd}. Core restores processes parents first and, within a
 * process, fds in ascending order. Release such state in {@link #finishRestore()}.
 *
 * <p>Threading: all methods run on the tracer thread, never concurrently. Errors: see the package docs.
 *
 * @since 1.0.0
 */
public interface FdHandler extends ResourceHandler {
    /**
     * @return the stable kind written into images, e.g. {@code regular-file}; vendors namespace theirs
     *         ({@code acme/gpu-fd}). Called at load time and per fd; must be constant.
     */
    String kind();

    /**
     * Whether this handler takes the fd. Called once per fd per dump, before {@link #collect}; must be cheap and
     * must not change the task.
     */
    boolean probe(FdInfo fd);

    /**
     * Records one fd the handler claimed. Called once per claimed fd, process by process.
     *
     * @return the per-fd record core stores in {@code fdinfo-PID.img} under this kind and hands back to
     *         {@link #restore}
     * @throws CryoException to refuse the fd (e.g. an unlinked file); the dump stops and the tree resumes
     */
    Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException;

    /**
     * Writes the handler's object table once every process is collected (pipes, sockets: one record per
     * object however many fds refer to it). Called once per dump; the default writes nothing.
     */
    default void dumpObjects(ObjectDumpContext ctx) throws CryoException {
    }

    /**
     * Installs one fd into the process being rebuilt, at {@link FdRestoreContext#fd()}. Called once per fd
     * record of this kind, more often when it answers {@link RestoreOutcome#RETRY_LATER}; core gives up with an
     * error when a whole round makes no progress.
     *
     * @throws CryoException when the object cannot be recreated (a file missing or changed); the restore
     *                       stops and everything it created is killed
     */
    RestoreOutcome restore(FdRestoreContext ctx) throws CryoException;

}
