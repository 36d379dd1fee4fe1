package dev.cryo.api;

import com.google.protobuf.Message;

import java.util.Optional;

/**
 * Takes responsibility for a reference that leaves the dumped tree (see {@link FdDumpContext#references}).
 *
 * <p>Dump: after every process is collected, core offers each unresolved reference to the enabled handlers in
 * {@link #priority()} order; the first to return a record accepts it and the record is stored in
 * {@code external.img} under its
 * {@link #kind()}. If none accepts, the dump is refused naming both ends.
 *
 * <p>Restore: {@link #checkRestore} gets the handler's own records back from {@code external.img} before any
 * process exists, to check that the peers are there and the user gave the option again.
 *
 * <p>Threading: the tracer thread, never concurrently. Errors: see the package docs; throwing refuses the dump
 * with the handler's message (e.g. "this peer is nameless and cannot be reconnected").
 *
 * @since 1.0.0
 */
public interface ExternalPeerHandler extends ResourceHandler {
    /** @return the stable kind written into images; constant */
    String kind();

    /**
     * Called once per unresolved reference per dump (SPI 1.0 form; 1.1 cores call
     * {@link #accept(ExternalReference, Config, HostKernel)}, which delegates here unless overridden).
     *
     * @return the peer's metadata to store when this handler takes responsibility, empty to decline
     */
    default Optional<Message> accept(ExternalReference reference, Config config) throws CryoException {
        return Optional.empty();
    }

    /**
     * Called once per unresolved reference per dump, with the host view (who holds the peer, the host's unix
     * sockets). The default delegates to {@link #accept(ExternalReference, Config)}.
     *
     * @return the peer's metadata to store when this handler takes responsibility, empty to decline
     * @since 1.1.0
     */
    default Optional<Message> accept(ExternalReference reference, Config config, HostKernel kernel)
            throws CryoException {
        return accept(reference, config);
    }


}
