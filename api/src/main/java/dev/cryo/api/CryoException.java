package dev.cryo.api;

import java.util.Objects;

/**
 * A failure a person can act on: what failed and on what (identity first: pid and name, fd, kind, inode,
 * peer, path), optionally a {@link #fix()} line, a stable {@link #code()} and a {@link Category} that decides
 * the CLI's exit status.
 *
 * <p>Plugins throw it to refuse (an unsupported fd, an external peer, a file that changed). The code is
 * {@code <plugin-id>/<UPPER_SNAKE>} for plugins and {@code core/<UPPER_SNAKE>} for core; codes are part of the
 * public contract and never change meaning.
 *
 * @since 1.0.0
 */
public class CryoException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Failure categories; each maps to one CLI exit status (see {@code cryo --help}). */
    public enum Category {
        /** Wrong command line or option values. Exit 2. */
        USAGE(2),
        /** The tree holds a resource no enabled plugin can handle, or an external reference. Exit 3. */
        UNSUPPORTED(3),
        /** A kernel call failed or was not permitted. Exit 4. */
        KERNEL(4),
        /** A plugin or configuration problem. Exit 5. */
        PLUGIN_CONFIG(5),
        /** The image is missing, incomplete, corrupt or of another format. Exit 6. */
        IMAGE(6),
        /** The system conflicts with the image: pid in use, file changed, peer absent. Exit 7. */
        CONFLICT(7),
        /**
         * The process a command was given (with {@code -t}) does not exist, or exited before cryo could look at
         * it. Exit 8.
         *
         * @since 1.1.0
         */
        NO_SUCH_PROCESS(8),
        /** A bug in cryo or a plugin. Exit 70. */
        INTERNAL(70);

        private final int exitCode;

        Category(int exitCode) {
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    private final String code;
    private final Category category;
    private final String fix;
    private final int errno;

    public CryoException(Category category, String code, String message) {
        this(category, code, message, null, null);
    }

    public CryoException(Category category, String code, String message, String fix) {
        this(category, code, message, fix, null);
    }

    public CryoException(Category category, String code, String message, String fix, Throwable cause) {
        this(category, code, message, fix, 0, cause);
    }

    /**
     * A failure of a kernel call that returned {@code errno}; {@link #errno()} carries it, so callers branch on the
     * constant, never on the message.
     *
     * @param errno the positive errno value (0: none)
     * @since 1.1.0
     */
    public CryoException(Category category, String code, String message, String fix, int errno, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.category = Objects.requireNonNull(category, "category");
        this.code = Objects.requireNonNull(code, "code");
        this.fix = fix;
        this.errno = errno;
    }

    /**
     * {@code call failed: ENOENT (No such file or directory)}, category KERNEL, with the errno attached.
     *
     * @param code  the stable code, e.g. {@code acme-gpu/IOCTL}
     * @param call  the call and its arguments as the message should show them, e.g. {@code openat(/dev/gpu0)}
     * @param errno the positive errno value
     * @since 1.1.0
     */
    public static CryoException kernel(String code, String call, int errno) {
        return new CryoException(Category.KERNEL, code, call + " failed: " + Errno.describe(errno), null, errno, null);
    }

    /**
     * @return the errno of the failed kernel call this exception reports, empty when it reports none (or one
     *         {@link Errno} does not name; see {@link #errnoValue()})
     * @since 1.1.0
     */
    public java.util.Optional<Errno> errno() {
        return errno == 0 ? java.util.Optional.empty() : Errno.of(errno);
    }

    /**
     * @return the positive errno value of the failed kernel call, 0 when none
     * @since 1.1.0
     */
    public int errnoValue() {
        return errno;
    }

    /** @return the stable code, e.g. {@code core/PID_IN_USE} or {@code unix-socket/EXTERNAL_PEER} */
    public String code() {
        return code;
    }

    public Category category() {
        return category;
    }

    /** @return what the user can do about it, or {@code null} */
    public String fix() {
        return fix;
    }

    /** The message as the CLI prints it: the failure, a {@code Fix:} line when there is one, the code. */
    public String render() {
        StringBuilder sb = new StringBuilder(getMessage());
        if (fix != null && !fix.isBlank()) {
            sb.append(System.lineSeparator()).append("Fix: ").append(fix);
        }
        return sb.append(System.lineSeparator()).append('[').append(code).append(']').toString();
    }
}
