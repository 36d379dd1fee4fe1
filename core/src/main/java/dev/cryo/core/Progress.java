package dev.cryo.core;

/**
 * What a dump or restore tells about its progress as it goes, for a display ({@code cryo dump} on a terminal): the
 * phase it is in and the page bytes moved of an estimated total. Called on the pipeline's threads (the tracer thread;
 * {@link #advance} also from the page loader's helper); an implementation must be thread-safe and cheap, and must
 * never throw.
 */
public interface Progress {
    /** Tells nothing. */
    Progress NONE = new Progress() {
    };

    /** The pipeline entered phase {@code name} ({@code freeze}, {@code memory}, {@code fds}...). */
    default void phase(String name) {
    }

    /**
     * The page bytes the pipeline expects to move: a dump's estimate (the tree's anonymous memory), a restore's
     * exact figure (the page data of the image). May be called again with a better figure.
     */
    default void total(long bytes) {
    }

    /** {@code bytes} more page bytes were read from the tree (dump) or written into it (restore). */
    default void advance(long bytes) {
    }

    /** The pipeline is over, done or failed: nothing more follows. */
    default void finished() {
    }
}
