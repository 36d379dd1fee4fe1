package dev.cryo.api;

import org.pf4j.ExtensionPoint;

/**
 * Observes the pipelines, like CRIU's action scripts. Every method is called once per dump or restore, on the
 * tracer thread, in {@link #priority()} order; all default to doing nothing.
 *
 * <p>An exception from {@code preDump}, {@code postFreeze}, {@code preRestore} or {@code postRestore} aborts the
 * operation (dump: tree resumed, image removed; restore: created processes killed — {@code postRestore} runs while they are still
 * stopped). An exception from {@code postDump} or {@code postResume} is reported as a failure of the operation, but
 * what has been done is not undone: the image is complete (after a failing {@code postDump} the tree is resumed,
 * not killed), the restored processes run.
 *
 * @since 1.0.0
 */
public interface LifecycleListener extends ExtensionPoint, Ordered {

    /** Before the tree is frozen. */
    default void preDump(LifecycleEvent event) throws CryoException {
    }

    /**
     * After every thread of the tree is frozen, before anything is read from it (CRIU's {@code network-lock} point:
     * a listener can cut the tree off from the outside here; {@link #onFailure} and {@link #postDump} are where it
     * lets go again). In a dry run ({@link LifecycleEvent#dryRun()}) called too, and must take no lasting action.
     *
     * @since 1.1.0
     */
    default void postFreeze(LifecycleEvent event) throws CryoException {
    }

    /** After the image is complete (inventory written), before the tree is killed, resumed or left stopped. */
    default void postDump(LifecycleEvent event) throws CryoException {
    }

    /** After the image is validated, before any process is created. */
    default void preRestore(LifecycleEvent event) throws CryoException {
    }

    /** After every process is rebuilt, while all are still stopped. */
    default void postRestore(LifecycleEvent event) throws CryoException {
    }

    /** After the restored tree was resumed (not called with {@code --leave-stopped}). */
    default void postResume(LifecycleEvent event) throws CryoException {
    }

    /**
     * The dump or restore failed after this listener's {@code preDump} / {@code preRestore} ran: called once, after
     * core undid its work (dump: tree resumed, partial image removed; restore: created processes killed), so that a
     * listener can undo its own (e.g. lift a network lock). Must not throw; an exception is logged and ignored.
     *
     * @param cause what failed, as the user will see it
     * @since 1.1.0
     */
    default void onFailure(LifecycleEvent event, CryoException cause) {
    }
}
