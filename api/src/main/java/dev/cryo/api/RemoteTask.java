package dev.cryo.api;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A stopped task (thread) of a process under cryo's control: frozen during dump, or being rebuilt during
 * restore. Everything a plugin may do to a process goes through here.
 *
 * <p>Threading: only on the thread the SPI method was called on (the tracer thread); every call is synchronous.
 * Valid only during that SPI call.
 *
 * <p>Errors: native failures are {@link CryoException}s of category {@link CryoException.Category#KERNEL}
 * carrying the call and the symbolic errno.
 *
 * @since 1.0.0
 */
public interface RemoteTask {
    /** @return the task's pid (for a single-threaded process: the process id) */
    Pid pid();

    /** @return the process name ({@code comm}), for messages */
    String comm();

    /** @return {@code /proc/PID} of this task's process (during restore: of the process being rebuilt) */
    Path procDir();

    /**
     * Reads {@code dst.remaining()} bytes at {@code address} into a direct buffer, advancing its position.
     *
     * @return bytes read; short only when the range ends in unmapped memory
     */
    long readMemory(long address, ByteBuffer dst) throws CryoException;

    /** Writes {@code src.remaining()} bytes of a direct buffer at {@code address}; all or an exception. */
    void writeMemory(long address, ByteBuffer src) throws CryoException;

    /**
     * Runs one system call inside the task with the given arguments and returns its result. The task's registers
     * are preserved. Cost: about 20 µs.
     *
     * @param what a short description for error messages, e.g. {@code openat(/var/log/app.log)}
     * @param call the system call; core maps it to the running architecture's number
     * @return the non-negative result
     * @throws CryoException (KERNEL) when the call returns {@code -errno}: the message names {@code what}, the task
     *                       and the symbolic errno, and {@link CryoException#errno()} carries it
     * @since 1.1.0
     */
    default long syscall(String what, Syscall call, long... args) throws CryoException {
        throw new UnsupportedOperationException("this core implements SPI " + Spi.VERSION
                + " without named system calls");
    }

    /**
     * Like {@link #syscall(String, Syscall, long...)} but returns {@code -errno} instead of throwing (see
     * {@link Errno#ofResult(long)}).
     *
     * @since 1.1.0
     */
    default long syscallRaw(Syscall call, long... args) throws CryoException {
        throw new UnsupportedOperationException("this core implements SPI " + Spi.VERSION
                + " without named system calls");
    }

    /** One call of a batch ({@link #syscallBatchRaw}): the system call and up to six arguments. @since 1.3.0 */
    record Call(Syscall call, long... args) {
        public Call {
            java.util.Objects.requireNonNull(call, "call");
            if (args.length > 6) {
                throw new IllegalArgumentException(call + " takes at most 6 arguments, got " + args.length);
            }
            args = args.clone();
        }
    }

    /**
     * Runs {@code calls} inside the task one after the other, like {@link #syscallRaw(Syscall, long...)} each, in as
     * few stops of the task as core can (a 1.3 core: one stop per up to about a hundred calls, instead of one per
     * call: restoring a mapping costs a stop, a batch of them about as much). Every call runs, also after one failed.
     * The calls must not block and must not take an address in the scratch area as an argument: core may keep the
     * batch's table there (the scratch area's contents are undefined afterwards). Called on the tracer thread, like
     * every method of this interface.
     *
     * @return the raw result of each call, in order ({@code -errno} on failure, see {@link Errno#ofResult(long)})
     * @since 1.3.0 (a 1.2 core runs the calls one by one through this default)
     */
    default long[] syscallBatchRaw(java.util.List<Call> calls) throws CryoException {
        long[] results = new long[calls.size()];
        for (int i = 0; i < results.length; i++) {
            results[i] = syscallRaw(calls.get(i).call(), calls.get(i).args());
        }
        return results;
    }

    /**
     * Runs one system call given by its x86_64 number.
     *
     * @deprecated since 1.1.0: architecture-specific; use {@link #syscall(String, Syscall, long...)}
     */
    @Deprecated(since = "1.1.0")
    long syscall(String what, int nr, long... args) throws CryoException;

    /**
     * Like {@link #syscall(String, int, long...)} but returns {@code -errno} instead of throwing.
     *
     * @deprecated since 1.1.0: architecture-specific; use {@link #syscallRaw(Syscall, long...)}
     */
    @Deprecated(since = "1.1.0")
    long syscallRaw(int nr, long... args) throws CryoException;

    /**
     * @return the address of a read-write scratch area inside the task, {@link #scratchSize()} bytes, for
     *         syscall arguments (paths, structs). Its content is undefined between calls.
     */
    long scratchAddress();

    /** @return size of the scratch area, at least 4096 bytes */
    int scratchSize();

    /**
     * Writes a NUL-terminated string into the scratch area at {@code offset}.
     *
     * @return the address of the string in the task
     */
    default long putScratchString(int offset, String s) throws CryoException {
        byte[] b = (s + "\0").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (offset < 0 || offset + b.length > scratchSize()) {
            throw new CryoException(CryoException.Category.INTERNAL, "core/SCRATCH_OVERFLOW",
                    "string of " + b.length + " bytes does not fit the scratch area of task " + pid());
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(b.length).put(b).flip();
        writeMemory(scratchAddress() + offset, buf);
        return scratchAddress() + offset;
    }

    /**
     * How an error message names fd {@code fd} of this task: {@code pid 812 "nginx" fd 5}.
     *
     * @since 1.3.0
     */
    default String describeFd(TargetFd fd) {
        return "pid " + pid() + " \"" + comm() + "\" fd " + fd;
    }

    /**
     * During restore: moves {@code created}, an fd the handler has just made in this task (with {@code O_CLOEXEC}),
     * to the dumped number {@code at} with FD_CLOEXEC as dumped: {@code dup3(created, at, cloexec ? O_CLOEXEC : 0)}
     * and {@code close(created)} (closed also when dup3 fails), or only {@code fcntl(at, F_SETFD)} when the kernel
     * gave it that number already.
     *
     * @param what what the fd is, for error messages ({@code dup3(7, 5) for <what>})
     * @throws CryoException (KERNEL) when dup3 or fcntl fails
     * @since 1.3.0
     */
    default void placeFd(long created, TargetFd at, boolean cloexec, String what) throws CryoException {
        if (created == at.value()) {
            syscall("fcntl(" + at + ", F_SETFD) for " + what, Syscall.FCNTL, at.value(), 2 /* F_SETFD */,
                    cloexec ? 1 /* FD_CLOEXEC */ : 0);
            return;
        }
        try {
            syscall("dup3(" + created + ", " + at + ") for " + what, Syscall.DUP3, created, at.value(),
                    cloexec ? 02000000 /* O_CLOEXEC */ : 0);
        } finally {
            syscallRaw(Syscall.CLOSE, created);
        }
    }

    /**
     * Duplicates one of the task's fds into cryo ({@code pidfd_getfd}): the same open file description, so do
     * not change its flags or offset.
     */
    LocalFd pullFd(TargetFd fd) throws CryoException;

    /**
     * Installs a duplicate of cryo's {@code fd} into the task at number {@code at} (replacing what was there),
     * with FD_CLOEXEC as given. The caller still owns and closes {@code fd}.
     */
    void pushFd(LocalFd fd, TargetFd at, boolean cloexec) throws CryoException;

    /**
     * Reads {@code /proc/PID/pagemap} entries for the pages of {@code [start, end)}: bit 63 present, 62 swapped,
     * 61 file page or shared anonymous.
     */
    long[] pagemap(long start, long end) throws CryoException;
}
