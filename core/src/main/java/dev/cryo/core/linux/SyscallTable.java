package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Syscall;

/**
 * The running architecture's number of each {@link Syscall}: the one table of system call numbers plugins use
 * (core's own injections use {@link Sys}). Only x86_64 is supported; {@link #checkArchitecture()} refuses any other
 * machine at start-up.
 */
public final class SyscallTable {
    private SyscallTable() {
    }

    /** @return the x86_64 number of {@code call} */
    public static int number(Syscall call) {
        return switch (call) {
            case READ -> 0;
            case WRITE -> 1;
            case CLOSE -> 3;
            case FSTAT -> 5;
            case LSEEK -> 8;
            case MMAP -> 9;
            case MPROTECT -> 10;
            case MUNMAP -> 11;
            case MREMAP -> 25;
            case MADVISE -> 28;
            case IOCTL -> 16;
            case PREAD64 -> 17;
            case PWRITE64 -> 18;
            case DUP -> 32;
            case DUP3 -> 292;
            case PIPE2 -> 293;
            case TEE -> 276;
            case SPLICE -> 275;
            case VMSPLICE -> 278;
            case SENDFILE -> 40;
            case SOCKET -> 41;
            case SOCKETPAIR -> 53;
            case CONNECT -> 42;
            case ACCEPT4 -> 288;
            case BIND -> 49;
            case LISTEN -> 50;
            case SHUTDOWN -> 48;
            case GETSOCKNAME -> 51;
            case GETPEERNAME -> 52;
            case GETSOCKOPT -> 55;
            case SETSOCKOPT -> 54;
            case SENDTO -> 44;
            case RECVFROM -> 45;
            case SENDMSG -> 46;
            case RECVMSG -> 47;
            case FCNTL -> 72;
            case FLOCK -> 73;
            case FSYNC -> 74;
            case FTRUNCATE -> 77;
            case FALLOCATE -> 285;
            case CHDIR -> 80;
            case FCHDIR -> 81;
            case FCHMOD -> 91;
            case FCHOWN -> 93;
            case OPENAT -> 257;
            case MKDIRAT -> 258;
            case UNLINKAT -> 263;
            case LINKAT -> 265;
            case RENAMEAT2 -> 316;
            case READLINKAT -> 267;
            case NAME_TO_HANDLE_AT -> 303;
            case OPEN_BY_HANDLE_AT -> 304;
            case MEMFD_CREATE -> 319;
            case PRCTL -> 157;
            case GETPID -> 39;
            case GETTID -> 186;
            case KILL -> 62;
            case TGKILL -> 234;
            case EPOLL_CREATE1 -> 291;
            case EPOLL_CTL -> 233;
            case EPOLL_WAIT -> 232;
            case EVENTFD2 -> 290;
            case SIGNALFD4 -> 289;
            case TIMERFD_CREATE -> 283;
            case TIMERFD_SETTIME -> 286;
            case TIMERFD_GETTIME -> 287;
            case INOTIFY_INIT1 -> 294;
            case INOTIFY_ADD_WATCH -> 254;
            case INOTIFY_RM_WATCH -> 255;
            case TIMER_CREATE -> 222;
            case TIMER_SETTIME -> 223;
            case TIMER_GETTIME -> 224;
            case TIMER_GETOVERRUN -> 225;
            case TIMER_DELETE -> 226;
            case CLOCK_GETTIME -> 228;
            case KCMP -> 312;
            case CLOSE_RANGE -> 436;
            case PIDFD_OPEN -> 434;
            case PIDFD_GETFD -> 438;
            case SETNS -> 308;
            case PPOLL -> 271;
            case FCHMODAT -> 268;
            case FCHOWNAT -> 260;
            case MLOCK2 -> 325;
            case MSEAL -> 462;
            case SHMGET -> 29;
            case SHMAT -> 30;
            case SHMCTL -> 31;
            case SHMDT -> 67;
        };
    }

    /** Refuses to run anywhere but x86_64: the injection code, registers and syscall numbers are x86_64's. */
    public static void checkArchitecture() throws CryoException {
        String arch = System.getProperty("os.arch", "?");
        String os = System.getProperty("os.name", "?");
        if (!os.equals("Linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new CryoException(Category.KERNEL, "core/UNSUPPORTED_ARCH", "cryo runs on Linux x86_64 only; this is "
                    + os + " " + arch, "run cryo on an x86_64 Linux machine (processes are dumped and restored on the "
                    + "same architecture)");
        }
    }
}
