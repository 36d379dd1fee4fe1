package dev.cryo.api;

/**
 * A file descriptor owned by cryo's own process, for example one pulled out of a target with
 * {@link RemoteTask#pullFd(TargetFd)}. It is closed exactly once, by {@link #close()}; the owner of the object
 * must close it.
 *
 * @since 1.0.0
 */
public interface LocalFd extends AutoCloseable {
    /**
     * @return the fd number in cryo's process
     * @throws IllegalStateException if already closed
     */
    int value();

    /** Closes the fd; later calls do nothing. Never throws. */
    @Override
    void close();
}
