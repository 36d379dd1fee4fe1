package dev.cryo.core;

import dev.cryo.api.CryoException;
import dev.cryo.api.Pid;

/** A restored tree whose root is a child of this cryo process. */
public interface RestoredTree {
    /** @return the restored root's pid (the dumped one) */
    Pid root();

    /**
     * Waits until the root exits (reaping any orphaned restored descendants meanwhile).
     *
     * @return its exit status, or 128 + signal number when a signal killed it
     */
    int waitForExit() throws CryoException;

    /** Lets the tree go: cryo no longer waits for it (with {@code -d}). */
    void detach();

    /**
     * @return the restore's statistics (phases, counts, pages loaded), as written to {@code stats-restore.img}; the
     *         default instance when unknown
     */
    default dev.cryo.core.image.proto.StatsEntry stats() {
        return dev.cryo.core.image.proto.StatsEntry.getDefaultInstance();
    }
}
