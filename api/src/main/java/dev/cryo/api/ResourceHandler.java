package dev.cryo.api;

import org.pf4j.ExtensionPoint;

import java.util.List;

/**
 * What every resource handler ({@link FdHandler}, {@link MemoryHandler}, {@link ExternalPeerHandler}) has: a kind
 * written into images, a place in the dispatch order, a check before a restore creates anything, a release at its
 * end, and the record types {@code cryo show} decodes. A plugin class may implement several handler kinds; these
 * methods then serve all of them.
 *
 * @since 1.1.0 (the methods existed on each handler interface in 1.0; 1.0 plugins keep working unchanged)
 */
public interface ResourceHandler extends ExtensionPoint, Ordered {
    /**
     * @return the stable kind written into images, e.g. {@code pipe}; vendors namespace theirs
     *         ({@code acme/gpu-fd}). Called at load time and per record; must be constant.
     */
    String kind();

    /**
     * Checks, before any process of a restore exists, that what this handler recorded can be restored here:
     * options it needs given again, inherited fds handed over, outside servers present, files unchanged. Called
     * once per restore whose image holds records of this kind, on the tracer thread, after the image is validated
     * and before {@link LifecycleListener#preRestore}. The default checks nothing.
     *
     * @throws CryoException to refuse the restore (nothing has been created yet)
     * @since 1.1.0
     */
    default void checkRestore(RestoreCheckContext ctx) throws CryoException {
    }

    /**
     * Called once at the end of a restore, on the tracer thread, whether it succeeded (the processes run) or
     * failed (they are about to be killed): close any {@link LocalFd} or other state kept between restore calls.
     * Must not throw.
     */
    default void finishRestore() {
    }

    /**
     * The protobuf message types this handler writes, so that {@code cryo show} can render them. Called once
     * when {@code show} starts; the default lists none (records are then shown as undecoded bytes).
     */
    default List<com.google.protobuf.Descriptors.Descriptor> recordTypes() {
        return List.of();
    }
}
