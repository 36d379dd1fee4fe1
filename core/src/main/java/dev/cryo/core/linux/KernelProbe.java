package dev.cryo.core.linux;

import dev.cryo.api.Errno;
import dev.cryo.core.KernelCheck;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code cryo check}: tries each kernel feature cryo needs, for real, on a throw-away child ({@code sleep}).
 * Each probe runs on one dedicated thread (ptrace is per thread).
 */
public final class KernelProbe {
    private KernelProbe() {
    }

    public static List<KernelCheck> checkAll() {
        List<KernelCheck> out = new ArrayList<>();
        out.add(new KernelCheck("native library", LibC.isAvailable(), LibC.isAvailable() ? LibC.library().toString()
                : LibC.library() + ": " + LibC.unavailabilityCause().getMessage()));
        if (!LibC.isAvailable()) {
            return out;
        }
        Thread t = new Thread(() -> probe(out), "cryo-check");
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    private static void probe(List<KernelCheck> out) {
        LibC libc = LibC.INSTANCE;
        String sleep = Files.isExecutable(Path.of("/usr/bin/sleep")) ? "/usr/bin/sleep" : "/bin/sleep";
        long pid;
        try {
            pid = Spawner.spawnDetachedStdio(sleep, List.of("sleep", "30"));
        } catch (dev.cryo.api.CryoException e) {
            out.add(new KernelCheck("test process", false, e.getMessage()));
            return;
        }
        int p = (int) pid;
        try {
            long r = libc.ptrace(Sys.PTRACE_SEIZE, p, 0, 0);
            boolean seized = r == 0;
            String why = seized ? "" : Errors.describe(LibC.errno());
            if (seized) {
                seized = libc.ptrace(Sys.PTRACE_INTERRUPT, p, 0, 0) == 0;
                int[] st = new int[1];
                seized = seized && libc.waitpid(p, st, Sys.WALL) == p && Sys.stopped(st[0]);
            }
            out.add(new KernelCheck("ptrace seize", seized, seized ? "PTRACE_SEIZE + PTRACE_INTERRUPT" : why));

            NativeMemory buf = NativeMemory.allocate(4096);
            NativeMemory iov = NativeMemory.allocate(32);
            long rsp = stackAddress(p);
            iov.putLong(0, buf.address());
            iov.putLong(8, 8);
            iov.putLong(16, rsp);
            iov.putLong(24, 8);
            long n = libc.process_vm_readv(p, iov.address(), 1, iov.address(16), 1, 0);
            out.add(new KernelCheck("process_vm_readv", n == 8, n == 8 ? "read 8 bytes of the test process"
                    : Errors.describe(LibC.errno())));

            long pidfd = libc.syscall(Sys.PIDFD_OPEN, p, 0, 0, 0, 0, 0);
            long fd = pidfd >= 0 ? libc.syscall(Sys.PIDFD_GETFD, pidfd, 0, 0, 0, 0, 0) : -1;
            out.add(new KernelCheck("pidfd_getfd", fd >= 0, fd >= 0 ? "pulled fd 0 of the test process"
                    : Errors.describe(LibC.errno())));
            if (fd >= 0) {
                libc.close((int) fd);
            }
            if (pidfd >= 0) {
                libc.close((int) pidfd);
            }
            // clone3 with set_tid: EINVAL for size/layout is "present"; EPERM means missing privileges
            NativeMemory args = NativeMemory.allocate(96);
            NativeMemory tid = NativeMemory.allocate(4);
            tid.putInt(0, p);                    // in use: expect EEXIST without creating anything
            args.putLong(64, tid.address());
            args.putLong(72, 1);
            args.putLong(32, Sys.SIGCHLD);
            long c = libc.syscall(Sys.CLONE3, args.address(), 88, 0, 0, 0, 0);
            int e = LibC.errno();
            boolean setTid = c == -1 && e == Errno.EEXIST.number();
            if (c == 0) {
                libc.syscall(Sys.EXIT_GROUP, 0, 0, 0, 0, 0, 0); // never reached in practice: the pid is taken
            }
            out.add(new KernelCheck("clone3 set_tid", setTid, setTid ? "EEXIST for a taken pid, as expected"
                    : "clone3 answered " + (c == -1 ? Errors.describe(e) : "pid " + c)));

            boolean mm = Files.exists(Path.of("/proc/self/auxv"));
            out.add(new KernelCheck("PR_SET_MM_MAP", mm && prSetMmSupported(), "prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE)"));

            long sk = libc.syscall(41 /* socket */, 16 /* AF_NETLINK */, 3 /* SOCK_RAW */, 4 /* NETLINK_SOCK_DIAG */, 0, 0,
                    0);
            out.add(new KernelCheck("sock_diag", sk >= 0, sk >= 0 ? "socket(AF_NETLINK, NETLINK_SOCK_DIAG)"
                    : Errors.describe(LibC.errno())));
            if (sk >= 0) {
                libc.close((int) sk);
            }
        } finally {
            libc.kill(p, Sys.SIGKILL);
            int[] st = new int[1];
            libc.waitpid(p, st, Sys.WALL);
            libc.waitpid(p, st, Sys.WALL);
        }
    }

    private static boolean prSetMmSupported() {
        NativeMemory size = NativeMemory.allocate(4);
        // PR_SET_MM_MAP_SIZE = 15 writes sizeof(struct prctl_mm_map)
        return LibC.INSTANCE.prctl(Sys.PR_SET_MM, 15, size.address(), 0, 0) == 0 && size.getInt(0) == 104;
    }

    private static long stackAddress(int pid) {
        try {
            for (var m : ProcFs.mapsOnly(pid)) {
                if (m.name().equals("[stack]")) {
                    return m.end() - 4096;
                }
            }
        } catch (Exception e) {
            return 0;
        }
        return 0;
    }
}
