package dev.cryo.plugin.eventfd;

import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.FixedLinkFdHandler;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.api.Syscall;
import dev.cryo.api.TargetFd;

import static dev.cryo.api.SyscallFlags.O_CLOEXEC;
import static dev.cryo.api.SyscallFlags.O_NONBLOCK;

/**
 * What the three handlers share: each claims the fds whose link is its anon-inode name
 * ({@code anon_inode:[eventfd]}, …), and on restore makes the fd in the task ({@link #create}), sets it up
 * ({@link #setUp}) and moves it to the dumped number.
 *
 * @param <R> the handler's record
 */
abstract class AnonInodeHandler<R extends Message> extends FixedLinkFdHandler {
    private final Class<R> recordType;

    AnonInodeHandler(String kind, String link, Class<R> recordType) {
        super(kind, link);
        this.recordType = recordType;
    }

    /** How messages name the task's fd: {@code pid 812 "nginx" fd 5 (eventfd)}. */
    final String who(RemoteTask task, TargetFd fd) {
        return task.describeFd(fd) + " (" + kind() + ")";
    }

    /**
     * The flags of the call that makes the fd ({@code eventfd2}, {@code signalfd4}, {@code timerfd_create}: their
     * CLOEXEC and NONBLOCK flags are O_CLOEXEC and O_NONBLOCK): close-on-exec until it is placed, non-blocking as
     * the dumped open flags {@code dumpedFlags} say.
     */
    static long createFlags(int dumpedFlags) {
        return O_CLOEXEC | (dumpedFlags & O_NONBLOCK);
    }

    /**
     * Makes the fd the record {@code e} describes in the task, with O_CLOEXEC ({@link #createFlags}).
     *
     * @return its number in the task
     */
    abstract long create(RemoteTask task, R e, String who) throws CryoException;

    /** Gives the fd {@code fd} just made what the call that made it could not; nothing by default. */
    void setUp(RemoteTask task, R e, long fd, String who) throws CryoException {
    }

    /**
     * Makes the fd ({@link #create}) and sets it up ({@link #setUp}), closes it when that fails, and else moves it to
     * the dumped number with FD_CLOEXEC as dumped.
     */
    @Override
    public final RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        R e = ctx.record(recordType);
        RemoteTask task = ctx.task();
        String who = who(task, ctx.fd());
        long fd = create(task, e, who);
        try {
            setUp(task, e, fd, who);
        } catch (CryoException ex) {
            task.syscallRaw(Syscall.CLOSE, fd);
            throw ex;
        }
        task.placeFd(fd, ctx.fd(), ctx.cloexec(), who);
        return RestoreOutcome.DONE;
    }
}
