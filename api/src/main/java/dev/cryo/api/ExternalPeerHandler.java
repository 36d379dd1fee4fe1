package dev.cryo.api;

import com.google.protobuf.Message;
import org.pf4j.ExtensionPoint;

import java.util.Optional;

/**
 * Takes responsibility for a reference that leaves the dumped tree (see {@link FdDumpContext#references}).
 *
 * <p>Dump: after every process is collected, core offers each unresolved reference to the enabled handlers;
 * the first to return a record accepts it and the record is stored in {@code external.img} under its
 * {@link #kind()}. If none accepts, the dump is refused naming both ends.
 *
 * <p>Threading: the tracer thread, never concurrently. Errors: see the package docs; throwing refuses the dump
 * with the handler's message (e.g. "this peer is nameless and cannot be reconnected").
 *
 * @since 1.0.0
 */
public interface ExternalPeerHandler extends ExtensionPoint {
    /** @return the stable kind written into images; constant */
    String kind();

    /**
     * Called once per unresolved reference per dump.
     *
     * @return the peer's metadata to store when this handler takes responsibility, empty to decline
     */
    Optional<Message> accept(ExternalReference reference, Config config) throws CryoException;

    /**
     * The protobuf message types this handler writes, so that {@code cryo show} can render them. Called once
     * when {@code show} starts; the default lists none (records are then shown as undecoded bytes).
     */
    default java.util.List<com.google.protobuf.Descriptors.Descriptor> recordTypes() {
        return java.util.List.of();
    }
}
