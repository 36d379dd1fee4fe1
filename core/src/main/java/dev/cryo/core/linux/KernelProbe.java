package dev.cryo.core.linux;

import dev.cryo.core.KernelCheck;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code cryo check}: tries each kernel feature cryo needs, for real, on a throw-away child ({@code sleep}).
 * Each probe runs on one dedicated thread (ptrace is per thread).
 */
public final class KernelProbe {
    private static final LibC C = LibC.INSTANCE;

    private KernelProbe() {
    }

    public static List<KernelCheck> checkAll() {
        List<KernelCheck> out = new ArrayList<>();
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
            long r = C.ptrace(Sys.PTRACE_SEIZE, p, 0, 0);
            boolean seized = r == 0;
            String why = seized ? "" : Errors.describe(LibC.errno());
            if (seized) {
                seized = C.ptrace(Sys.PTRACE_INTERRUPT, p, 0, 0) == 0;
                int[] st = new int[1];
                seized = seized && C.waitpid(p, st, Sys.WALL) == p && Sys.stopped(st[0]);
            }
            out.add(new KernelCheck("ptrace seize", seized, seized ? "PTRACE_SEIZE + PTRACE_INTERRUPT" : why));

            Pointer buf = Memory.allocateDirect(LibC.runtime(), 4096, true);
            Pointer iov = Memory.allocateDirect(LibC.runtime(), 32, true);
            long rsp = stackAddress(p);
            iov.putLong(0, buf.address());
            iov.putLong(8, 8);
            iov.putLong(16, rsp);
            iov.putLong(24, 8);
            long n = C.process_vm_readv(p, iov, 1, iov.slice(16), 1, 0);
            out.add(new KernelCheck("process_vm_readv", n == 8, n == 8 ? "read 8 bytes of the test process"
                    : Errors.describe(LibC.errno())));

            long pidfd = C.syscall(Sys.PIDFD_OPEN, p, 0, 0, 0, 0, 0);
            long fd = pidfd >= 0 ? C.syscall(Sys.PIDFD_GETFD, pidfd, 0, 0, 0, 0, 0) : -1;
            out.add(new KernelCheck("pidfd_getfd", fd >= 0, fd >= 0 ? "pulled fd 0 of the test process"
                    : Errors.describe(LibC.errno())));
            if (fd >= 0) {
                C.close((int) fd);
            }
            if (pidfd >= 0) {
                C.close((int) pidfd);
            }
            // clone3 with set_tid: EINVAL for size/layout is "present"; EPERM means missing privileges
            Pointer args = Memory.allocateDirect(LibC.runtime(), 96, true);
            Pointer tid = Memory.allocateDirect(LibC.runtime(), 4, true);
            tid.putInt(0, p);                    // in use: expect EEXIST without creating anything
            args.putLong(64, tid.address());
            args.putLong(72, 1);
            args.putLong(32, Sys.SIGCHLD);
            long c = C.syscall(Sys.CLONE3, args.address(), 88, 0, 0, 0, 0);
            int e = LibC.errno();
            boolean setTid = c == -1 && e == Errors.EEXIST;
            if (c == 0) {
                C.syscall(Sys.EXIT_GROUP, 0, 0, 0, 0, 0, 0); // never reached in practice: the pid is taken
            }
            out.add(new KernelCheck("clone3 set_tid", setTid, setTid ? "EEXIST for a taken pid, as expected"
                    : "clone3 answered " + (c == -1 ? Errors.describe(e) : "pid " + c)));

            boolean mm = Files.exists(Path.of("/proc/self/auxv"));
            out.add(new KernelCheck("PR_SET_MM_MAP", mm && prSetMmSupported(), "prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE)"));

            long sk = C.syscall(41 /* socket */, 16 /* AF_NETLINK */, 3 /* SOCK_RAW */, 4 /* NETLINK_SOCK_DIAG */, 0, 0,
                    0);
            out.add(new KernelCheck("sock_diag", sk >= 0, sk >= 0 ? "socket(AF_NETLINK, NETLINK_SOCK_DIAG)"
                    : Errors.describe(LibC.errno())));
            if (sk >= 0) {
                C.close((int) sk);
            }
        } finally {
            C.kill(p, Sys.SIGKILL);
            int[] st = new int[1];
            C.waitpid(p, st, Sys.WALL);
            C.waitpid(p, st, Sys.WALL);
        }
    }

    private static boolean prSetMmSupported() {
        Pointer size = Memory.allocateDirect(LibC.runtime(), 4, true);
        // PR_SET_MM_MAP_SIZE = 15 writes sizeof(struct prctl_mm_map)
        return C.prctl(Sys.PR_SET_MM, 15, size.address(), 0, 0) == 0 && size.getInt(0) == 104;
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
