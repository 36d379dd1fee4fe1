package dev.cryo.core.linux;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * The libc calls cryo makes itself (x86_64). Everything not wrapped by glibc goes through {@link #syscall}.
 * Loaded once; {@link #available()} says whether loading worked.
 */
public interface LibC {
    /** glibc's variadic ptrace with a fixed arity: correct on x86_64 SysV for integer arguments. */
    @SaveError
    long ptrace(int request, int pid, long addr, long data);

    @SaveError
    long syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

    @SaveError
    int waitpid(int pid, @Out int[] status, int options);

    @SaveError
    long process_vm_readv(int pid, Pointer localIov, long liovcnt, Pointer remoteIov, long riovcnt, long flags);

    @SaveError
    long process_vm_writev(int pid, Pointer localIov, long liovcnt, Pointer remoteIov, long riovcnt, long flags);

    @SaveError
    int kill(int pid, int sig);

    @SaveError
    int close(int fd);

    @SaveError
    long read(int fd, Pointer buf, long n);

    @SaveError
    long pread(int fd, Pointer buf, long n, long offset);

    @SaveError
    int prlimit(int pid, int resource, Pointer newLimit, Pointer oldLimit);

    @SaveError
    int prctl(int option, long a2, long a3, long a4, long a5);

    String strerror(int errnum);

    /** signal(2) with the handler as a raw value: 0 = SIG_DFL, 1 = SIG_IGN. */
    long signal(int sig, long handler);

    /** posix_spawn_file_actions_t is 80 bytes on x86_64 glibc; callers allocate it. */
    int posix_spawn_file_actions_init(Pointer actions);

    int posix_spawn_file_actions_addopen(Pointer actions, int fd, String path, int flags, int mode);

    int posix_spawn_file_actions_destroy(Pointer actions);

    /** Returns an errno value (not -1/errno). {@code argv}/{@code envp} are NULL-terminated pointer arrays. */
    int posix_spawn(@Out int[] pid, String path, Pointer actions, Pointer attr, Pointer argv, Pointer envp);

    /** The loaded library. */
    LibC INSTANCE = LibraryLoader.create(LibC.class).load("c");

    /** The jnr runtime of {@link #INSTANCE}. */
    static Runtime runtime() {
        return Runtime.getRuntime(INSTANCE);
    }

    /** @return errno of the last failed call on this thread */
    static int errno() {
        return runtime().getLastError();
    }
}
