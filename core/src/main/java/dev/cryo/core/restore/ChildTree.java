package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.Pid;
import dev.cryo.core.RestoredTree;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.Sys;

/** A restored root that is a child of cryo's process. */
final class ChildTree implements RestoredTree {
    private final Pid root;

    ChildTree(Pid root) {
        this.root = root;
    }

    @Override
    public Pid root() {
        return root;
    }

    /**
     * Waits for the root, reaping every other child meanwhile: cryo is a child subreaper during a restore, so
     * restored processes orphaned by their parents come to cryo and must not linger as zombies holding their pids.
     */
    @Override
    public int waitForExit() throws CryoException {
        int[] st = new int[1];
        for (;;) {
            int r = LibC.INSTANCE.waitpid(-1, st, 0);
            if (r == root.value()) {
                return Sys.exited(st[0]) ? Sys.exitCode(st[0]) : 128 + Sys.termSig(st[0]);
            }
            if (r > 0) {
                continue;
            }
            int e = LibC.errno();
            if (e != Errors.EINTR) {
                throw Errors.failure("waitpid(" + root + ")", e);
            }
        }
    }

    @Override
    public void detach() {
        // nothing to do: the child runs on; when cryo exits it is reparented to the nearest subreaper or init
    }
}
