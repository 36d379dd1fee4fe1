package dev.cryo.plugin.eventfd;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.api.Syscall;

/**
 * What the three handlers share: each claims the fds whose link is its anon-inode name
 * ({@code anon_inode:[eventfd]}, …), and on restore makes the fd in the task, sets it up and moves it to the dumped
 * number.
 */
abstract class AnonInodeHandler implements FdHandler {
    private final String kind;
    private final String link;

    AnonInodeHandler(String kind, String link) {
        this.kind = kind;
        this.link = link;
    }

    @Override
    public final String kind() {
        return kind;
    }

    @Override
    public final boolean probe(FdInfo fd) {
        return fd.link().equals(link);
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
