package dev.cryo.api;

import java.util.Objects;

/**
 * A base for an {@link FdHandler} that claims exactly the fds whose link ({@link FdInfo#link()}) is one fixed text,
 * as the anonymous inodes are: {@code anon_inode:[eventfd]}, {@code anon_inode:[eventpoll]},
 * {@code anon_inode:inotify}, {@code anon_inode:[pidfd]}… It answers {@link #kind()} and {@link #probe} from the two
 * strings its constructor is given; the subclass writes {@link #collect}, {@link #restore} and the rest.
 *
 * <pre>{@code
 * @Extension
 * public final class PidfdHandler extends FixedLinkFdHandler {
 *     public PidfdHandler() {
 *         super("acme/pidfd", "anon_inode:[pidfd]");
 *     }
 *     ...
 * }
 * }</pre>
 *
 * <p>The same contract as {@link FdHandler}: PF4J creates the extension with its public no-argument constructor,
 * every method runs on the tracer thread.
 *
 * @since 1.4.0
 */
public abstract class FixedLinkFdHandler implements FdHandler {
    private final String kind;
    private final String link;

    /**
     * @param kind the stable kind written into images ({@link FdHandler#kind()})
     * @param link the link of the fds to claim, compared in full, e.g. {@code anon_inode:[eventfd]}
     */
    protected FixedLinkFdHandler(String kind, String link) {
        this.kind = Objects.requireNonNull(kind, "kind");
        this.link = Objects.requireNonNull(link, "link");
    }

    @Override
    public final String kind() {
        return kind;
    }

    /** @return whether the fd's link is this handler's link, the whole of it */
    @Override
    public final boolean probe(FdInfo fd) {
        return fd.link().equals(link);
    }

    /** @return the link this handler claims, e.g. {@code anon_inode:[eventfd]} */
    public final String link() {
        return link;
    }
}
