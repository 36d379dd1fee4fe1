package dev.cryo.plugin.eventfd;

import dev.cryo.api.CryoException;
import dev.cryo.api.FixedLinkFdHandler;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.api.Syscall;
import dev.cryo.api.TargetFd;

import static dev.cryo.api.SyscallFlags.O_CLOEXEC;
import static dev.cryo.api.SyscallFlags.O_NONBLOCK;

/**
 * What the three handlers share: each claims the fds whose link is its anon-inode name
 * ({@code anon_inode:[eventfd]}, …), and on restore makes the fd in the task, sets it up and moves it to the dumped
 * number.
 */
abstract class AnonInodeHandler extends FixedLinkFdHandler {

    AnonInodeHandler(String kind, String link) {
        super(kind, link);
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

    /** A set-up step on an fd just made in the task. */
    interface SetUp {
        void run() throws CryoException;
    }

    /**
     * Runs {@code setUp} on {@code fd}, which the handler has just made in the task with O_CLOEXEC, closes it when
     * that fails, and else moves it to the dumped number with FD_CLOEXEC as dumped.
     */
    static RestoreOutcome setUpAndPlace(FdRestoreContext ctx, long fd, String who, SetUp setUp) throws CryoException {
        try {
            setUp.run();
        } catch (CryoException ex) {
            ctx.task().syscallRaw(Syscall.CLOSE, fd);
            throw ex;
        }
        ctx.task().placeFd(fd, ctx.fd(), ctx.cloexec(), who);
        return RestoreOutcome.DONE;
    }
}
