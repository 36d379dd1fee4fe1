package dev.cryo.api;

/**
 * A system call by name, for {@link RemoteTask#syscall(String, Syscall, long...)}: plugins never write
 * architecture-specific numbers; core maps each name to the running architecture's number (x86_64 today) and
 * refuses at start-up on a machine it has no table for. Arguments are the raw register values the kernel's
 * entry point takes ({@code mmap} has six, {@code pipe2} two...), as documented in the call's man page (section 2);
 * where libc and the kernel differ (e.g. {@code sigset_t} sizes) the kernel's form applies.
 *
 * <p>New constants may be added in minor SPI versions; none is removed before 2.0.
 *
 * @since 1.1.0
 */
public enum Syscall {
    READ,
    WRITE,
    CLOSE,
    FSTAT,
    LSEEK,
    MMAP,
    MPROTECT,
    MUNMAP,
    MREMAP,
    MADVISE,
    IOCTL,
    PREAD64,
    PWRITE64,
    DUP,
    DUP3,
    PIPE2,
    TEE,
    SPLICE,
    VMSPLICE,
    SENDFILE,
    SOCKET,
    SOCKETPAIR,
    CONNECT,
    ACCEPT4,
    BIND,
    LISTEN,
    SHUTDOWN,
    GETSOCKNAME,
    GETPEERNAME,
    GETSOCKOPT,
    SETSOCKOPT,
    SENDTO,
    RECVFROM,
    SENDMSG,
    RECVMSG,
    FCNTL,
    FLOCK,
    FSYNC,
    FTRUNCATE,
    FALLOCATE,
    CHDIR,
    FCHDIR,
    FCHMOD,
    FCHOWN,
    OPENAT,
    MKDIRAT,
    UNLINKAT,
    LINKAT,
    RENAMEAT2,
    READLINKAT,
    NAME_TO_HANDLE_AT,
    OPEN_BY_HANDLE_AT,
    MEMFD_CREATE,
    PRCTL,
    GETPID,
    GETTID,
    KILL,
    TGKILL,
    EPOLL_CREATE1,
    EPOLL_CTL,
    EPOLL_WAIT,
    EVENTFD2,
    SIGNALFD4,
    TIMERFD_CREATE,
    TIMERFD_SETTIME,
    TIMERFD_GETTIME,
    INOTIFY_INIT1,
    INOTIFY_ADD_WATCH,
    INOTIFY_RM_WATCH,
    TIMER_CREATE,
    TIMER_SETTIME,
    TIMER_GETTIME,
    TIMER_GETOVERRUN,
    TIMER_DELETE,
    CLOCK_GETTIME,
    KCMP,
    CLOSE_RANGE,
    PIDFD_OPEN,
    PIDFD_GETFD,
    SETNS,
    /** @since 1.1.0, added with the unix-socket plugin's pending-error check */
    PPOLL,
    /** @since 1.1.0 */
    FCHMODAT,
    /** @since 1.1.0 */
    FCHOWNAT,
    /** @since 1.1.0, added with the memory plugin's mlocked mappings */
    MLOCK2,
    /** @since 1.1.0, added with the memory plugin's sealed mappings (kernel 6.10+) */
    MSEAL,
    /** @since 1.1.0, added with the sysv-shm plugin */
    SHMGET,
    /** @since 1.1.0, added with the sysv-shm plugin */
    SHMAT,
    /** @since 1.1.0, added with the sysv-shm plugin */
    SHMDT,
    /** @since 1.1.0, added with the sysv-shm plugin */
    SHMCTL;

    /** @return the name as in the man page, e.g. {@code epoll_ctl} */
    public String callName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
