package dev.cryo.core.linux;

/** x86_64 system call numbers and the kernel constants cryo uses. */
public final class Sys {
    public static final int READ = 0, WRITE = 1, CLOSE = 3, LSEEK = 8, MMAP = 9, MPROTECT = 10, MUNMAP = 11,
            BRK = 12, RT_SIGACTION = 13, RT_SIGPROCMASK = 14, GETITIMER = 36, SETITIMER = 38, GETPID = 39,
            CLONE = 56, EXIT = 60, KILL = 62, FCNTL = 72, CHDIR = 80, FCHDIR = 81, UMASK = 95, SETUID = 105,
            SETGID = 106, SETPGID = 109, SETSID = 112, SETRESUID = 117, SETRESGID = 119, SETGROUPS = 116,
            SETFSUID = 122, SETFSGID = 123, RT_SIGQUEUEINFO = 129, PRCTL = 157, ARCH_PRCTL = 158, CHROOT = 161,
            GETTID = 186, SET_TID_ADDRESS = 218, EXIT_GROUP = 231, OPENAT = 257, SET_ROBUST_LIST = 273,
            GET_ROBUST_LIST = 274, DUP3 = 292, RT_TGSIGQUEUEINFO = 297, PRLIMIT64 = 302, RSEQ = 334, PIDFD_OPEN = 434,
            CLONE3 = 435, CLOSE_RANGE = 436, PIDFD_GETFD = 438, MREMAP = 25, SIGALTSTACK = 131, FLOCK = 73,
            RESTART_SYSCALL = 219, TGKILL = 234;
    public static final int F_SETLK = 6, F_OFD_SETLK = 37, F_RDLCK = 0, F_WRLCK = 1, SEEK_SET = 0;
    /** fcntl of signal-driven I/O: owner ({@code struct f_owner_ex}: type and pid), signal, O_ASYNC in the flags. */
    public static final int F_GETFL = 3, F_SETFL = 4, F_SETSIG = 10, F_GETSIG = 11, F_SETOWN_EX = 15, F_GETOWN_EX = 16,
            F_OWNER_TID = 0, F_OWNER_PID = 1, F_OWNER_PGRP = 2, O_ASYNC = 020000, O_PATH = 010000000;
    public static final int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4;

    public static final int PTRACE_CONT = 7, PTRACE_KILL = 8, PTRACE_SINGLESTEP = 9, PTRACE_DETACH = 17, PTRACE_SYSCALL = 24,
            PTRACE_SETOPTIONS = 0x4200, PTRACE_GETEVENTMSG = 0x4201, PTRACE_GETSIGINFO = 0x4202,
            PTRACE_GETREGSET = 0x4204, PTRACE_SETREGSET = 0x4205, PTRACE_SEIZE = 0x4206, PTRACE_INTERRUPT = 0x4207,
            PTRACE_LISTEN = 0x4208, PTRACE_PEEKSIGINFO = 0x4209, PTRACE_GETSIGMASK = 0x420a,
            PTRACE_SETSIGMASK = 0x420b, PTRACE_GET_RSEQ_CONFIGURATION = 0x420f;
    public static final int PTRACE_O_TRACESYSGOOD = 0x1, PTRACE_O_TRACEFORK = 0x2, PTRACE_O_TRACECLONE = 0x8, PTRACE_O_EXITKILL = 0x100000,
            PTRACE_O_SUSPEND_SECCOMP = 0x200000;
    public static final int PTRACE_SECCOMP_GET_FILTER = 0x420c, PTRACE_SECCOMP_GET_METADATA = 0x420d;
    public static final int SECCOMP_SET_MODE_STRICT = 0, SECCOMP_SET_MODE_FILTER = 1, SECCOMP_FILTER_FLAG_TSYNC = 1;
    public static final int PTRACE_EVENT_FORK = 1, PTRACE_EVENT_CLONE = 3, PTRACE_EVENT_STOP = 128;
    public static final int PTRACE_PEEKSIGINFO_SHARED = 1;
    public static final int NT_PRSTATUS = 1, NT_X86_XSTATE = 0x202;
    public static final int WALL = 0x40000000, WNOHANG = 1;

    public static final int SIGHUP = 1, SIGKILL = 9, SIGTRAP = 5, SIGSTOP = 19, SIGCONT = 18, SIGCHLD = 17,
            SIGURG = 23, SIGWINCH = 28;
    public static final int SIG_SETMASK = 2;

    public static final int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    public static final int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_POPULATE = 0x8000,
            MAP_FIXED_NOREPLACE = 0x100000;
    public static final int MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;
    public static final int O_RDONLY = 0, O_RDWR = 2, O_CLOEXEC = 0x80000, AT_FDCWD = -100;

    public static final int CAPGET = 125, CAPSET = 126, PERSONALITY = 135, SCHED_SETATTR = 314,
            SCHED_GETATTR = 315, SECCOMP = 317, TIMER_CREATE = 222, TIMER_SETTIME = 223, TIMER_GETTIME = 224,
            TIMER_GETOVERRUN = 225, TIMER_DELETE = 226;
    public static final int PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_CAPBSET_DROP = 24,
            PR_GET_SECUREBITS = 27, PR_SET_SECUREBITS = 28, PR_SET_TIMERSLACK = 29, PR_GET_TIMERSLACK = 30,
            PR_GET_CHILD_SUBREAPER = 37, PR_SET_NO_NEW_PRIVS = 38, PR_SET_THP_DISABLE = 41, PR_GET_THP_DISABLE = 42,
            PR_CAP_AMBIENT = 47, PR_CAP_AMBIENT_RAISE = 2,
            PR_SET_MEMORY_MERGE = 67, PR_TIMER_CREATE_RESTORE_IDS = 77;
    public static final int SECBIT_NO_SETUID_FIXUP = 1 << 2;
    public static final int PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4, PR_SET_NAME = 15, PR_SET_MM = 35, PR_SET_MM_MAP = 14, PR_SET_CHILD_SUBREAPER = 36,
            PR_GET_TID_ADDRESS = 40;
    public static final int RSEQ_FLAG_UNREGISTER = 1;
    public static final int CLONE_PARENT = 0x8000;
    public static final int CLONE_FILES = 0x400;

    public static final int ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514,
            ERESTART_RESTARTBLOCK = 516;

    private Sys() {
    }

    // wait status decoding
    public static boolean stopped(int status) {
        return (status & 0xff) == 0x7f;
    }

    public static int stopSig(int status) {
        return (status >> 8) & 0xff;
    }

    public static int event(int status) {
        return (status >> 16) & 0xff;
    }

    public static boolean exited(int status) {
        return (status & 0x7f) == 0;
    }

    public static int exitCode(int status) {
        return (status >> 8) & 0xff;
    }

    public static int termSig(int status) {
        return status & 0x7f;
    }

    public static String describeStatus(int s) {
        if (stopped(s)) {
            return String.format("stopped by signal %d (event %d)", stopSig(s), event(s));
        }
        if (exited(s)) {
            return "exited with status " + exitCode(s);
        }
        return "killed by signal " + termSig(s);
    }
}
