package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.Errno;
import dev.cryo.api.Pid;
import dev.cryo.core.RestoredTree;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.Sys;

/** A restored root that is a child of cryo's process. */
final class ChildTree implements RestoredTree {
    private final Pid root;
    private final dev.cryo.core.image.proto.StatsEntry stats;

    ChildTree(Pid root, dev.cryo.core.image.proto.StatsEntry stats) {
        this.root = root;
        this.stats = stats;
    }

    @Override
    public dev.cryo.core.image.proto.StatsEntry stats() {
        return stats;
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
                reapStragglers();
                return Sys.exited(st[0]) ? Sys.exitCode(st[0]) : 128 + Sys.termSig(st[0]);
            }
            if (r > 0) {
                continue;
            }
            int e = LibC.errno();
            if (e != Errno.EINTR.number()) {
                throw Errors.failure("waitpid(" + root + ")", e);
            }
        }
    }

    /**
     * Reaps the restored processes that died with the root (a tree killed as a whole is handed to cryo at once),
     * allowing them a moment to finish exiting, so that no zombie of ours outlives cryo holding a pid.
     */
    private static void reapStragglers() {
        int[] st = new int[1];
        long deadline = System.nanoTime() + 200_000_000L;
        while (System.nanoTime() < deadline) {
            int r = LibC.INSTANCE.waitpid(-1, st, Sys.WNOHANG);
            if (r > 0) {
                continue;
            }
            if (r < 0) {
                return; // ECHILD: no children left
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void detach() {
        // nothing to do: the child runs on; when cryo exits it is reparented to the nearest subreaper or init
    }
}
