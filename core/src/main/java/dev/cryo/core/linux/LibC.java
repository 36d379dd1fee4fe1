package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The libc calls cryo makes itself (x86_64), through {@code lib/libcryo-linux.so}, a small JNI library built with the
 * restore stub ({@code core/src/main/c/cryo_linux.c}). Everything not wrapped by glibc goes through {@link #syscall}.
 * Memory arguments are native addresses ({@link NativeMemory#address()}, {@link #address(ByteBuffer)}); 0 is NULL.
 *
 * <p>Why JNI and not a run-time generated binding (jnr-ffi, used before): binding here is a {@code System.load}
 * and a symbol lookup on first call, a fraction of a millisecond, where jnr-ffi generated and loaded some 300
 * classes on every start (~0.3–0.5 s of each cryo command).
 *
 * <p>Loaded once, on first use of {@link #INSTANCE}; {@link #isAvailable()} / {@link #unavailabilityCause()} say
 * whether loading worked (the Netty native-transport pattern). The library is
 * {@code <cryo.home>/lib/libcryo-linux.so}; the {@code cryo.native} system property names another file (tests
 * inside the build). Calls are thread-safe; {@link #errno()} is per thread.
 */
public final class LibC {
    /** System property naming the JNI library, overriding {@code <cryo.home>/lib/libcryo-linux.so}. */
    public static final String PROPERTY = "cryo.native";
    public static final String FILE_NAME = "libcryo-linux.so";
    private static final int ABI_VERSION = 2;

    private static final Throwable UNAVAILABILITY_CAUSE = load();

    /** The bound library. Using it when {@link #isAvailable()} is false throws {@link UnsatisfiedLinkError}. */
    public static final LibC INSTANCE = new LibC();

    private LibC() {
    }

    private static Throwable load() {
        Path lib = library();
        try {
            if (!Files.isRegularFile(lib)) {
                return new UnsatisfiedLinkError(lib + " does not exist");
            }
            System.load(lib.toString());
            int abi = abiVersion();
            if (abi != ABI_VERSION) {
                return new UnsatisfiedLinkError(lib + " has ABI version " + abi + ", this cryo needs " + ABI_VERSION);
            }
            return null;
        } catch (UnsatisfiedLinkError | SecurityException e) {
            return e;
        }
    }

    /** @return the library file cryo loads */
    public static Path library() {
        String override = System.getProperty(PROPERTY);
        if (override != null) {
            return Path.of(override);
        }
        String home = System.getProperty("cryo.home", ".");
        return Path.of(home, "lib", FILE_NAME).toAbsolutePath().normalize();
    }

    /** @return whether the JNI library is loaded */
    public static boolean isAvailable() {
        return UNAVAILABILITY_CAUSE == null;
    }

    /** @return why the JNI library could not be loaded, null when it is */
    public static Throwable unavailabilityCause() {
        return UNAVAILABILITY_CAUSE;
    }

    /**
     * @throws CryoException PLUGIN_CONFIG {@code core/NATIVE_LIBRARY} naming the library and why it did not load
     */
    public static void require() throws CryoException {
        if (UNAVAILABILITY_CAUSE != null) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/NATIVE_LIBRARY", "cannot load cryo's native "
                    + "library " + library() + ": " + UNAVAILABILITY_CAUSE.getMessage(),
                    "reinstall cryo (lib/" + FILE_NAME + " is part of the distribution; x86_64 Linux with glibc), "
                            + "and run it through bin/cryo, which sets -Dcryo.home");
        }
    }

    private static native int abiVersion();

    private static native int errno0();

    /** @return the native address of a direct buffer's storage */
    public static native long address(ByteBuffer direct);

    /**
     * @return a direct buffer over {@code length} bytes of native memory at {@code address} (no copy); valid while
     * that memory is (e.g. until the mapping is unmapped: never use the buffer after)
     */
    public static native ByteBuffer wrap(long address, long length);

    /** @return errno of the last failed call on this thread */
    public static int errno() {
        return errno0();
    }

    /** glibc's variadic ptrace with a fixed arity: correct on x86_64 SysV for integer arguments. */
    public native long ptrace(int request, int pid, long addr, long data);

    public native long syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

    /** @param status receives the wait status in element 0 (may be null) */
    public native int waitpid(int pid, int[] status, int options);

    public native long process_vm_readv(int pid, long localIov, long liovcnt, long remoteIov, long riovcnt,
                                        long flags);

    public native long process_vm_writev(int pid, long localIov, long liovcnt, long remoteIov, long riovcnt,
                                         long flags);

    public native int kill(int pid, int sig);

    public native int close(int fd);

    public native long read(int fd, long buf, long n);

    public native long pread(int fd, long buf, long n, long offset);

    /** @param newLimit address of a {@code struct rlimit} or 0; {@code oldLimit} likewise */
    public native int prlimit(int pid, int resource, long newLimit, long oldLimit);

    public native int prctl(int option, long a2, long a3, long a4, long a5);

    public native String strerror(int errnum);

    /** signal(2) with the handler as a raw value: 0 = SIG_DFL, 1 = SIG_IGN. */
    public native long signal(int sig, long handler);

    /**
     * stat(2) ({@code lstat} when {@code nofollow}).
     *
     * @param out receives mode, dev, ino, rdev, size, mtime in ns
     * @return 0, or -1 with {@link #errno()}
     */
    public native int stat(String path, boolean nofollow, long[] out);

    /** @return the target of the symbolic link {@code path} as bytes, or null with {@link #errno()} */
    public native byte[] readlink(String path);

    /**
     * Reads a small file ({@code /proc/PID/fdinfo/N}...) whole into {@code buf}: open, read to EOF or until
     * {@code buf} is full, close.
     *
     * @return the number of bytes read, or -1 with {@link #errno()}
     */
    public native int readFile(String path, byte[] buf);

    /** open(2) with O_CLOEXEC added; @return the fd, or -1 with {@link #errno()} */
    public native int open(String path, int flags);

    /** mmap(2) in cryo's own process; @return the address, or -1 with {@link #errno()} */
    public native long mmap(long addr, long length, int prot, int flags, int fd, long offset);

    public native int munmap(long addr, long length);

    /**
     * posix_spawn of {@code path} with {@code argv}, fds 0, 1 and 2 on {@code /dev/null}, no other fd (glibc 2.34+)
     * and an empty environment.
     *
     * @return the pid of the child, or {@code -errno}
     */
    public native int spawnDetachedStdio(String path, String[] argv);
}
