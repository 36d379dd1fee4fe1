package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.Sys;

/**
 * Makes cryo a child subreaper (PR_SET_CHILD_SUBREAPER), so that restored processes orphaned while cryo waits for
 * the root are reparented to cryo and reaped at once instead of lingering as zombies that block their pids.
 */
final class Subreaper {
    private Subreaper() {
    }

    static void become() throws CryoException {
        if (LibC.INSTANCE.prctl(Sys.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
            throw Errors.failure("prctl(PR_SET_CHILD_SUBREAPER)", LibC.errno());
        }
        // SIGCHLD ignored (inherited from a shell's trap) makes the kernel reap children itself: cryo could then
        // neither wait for the restored root nor see its status. Take the default disposition back.
        LibC.INSTANCE.signal(Sys.SIGCHLD, 0 /* SIG_DFL */);
    }
}
