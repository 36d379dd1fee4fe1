package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;
import dev.cryo.core.image.proto.RlimitEntry;

import java.util.ArrayList;
import java.util.List;

/** Resource limits of another process through prlimit(2), no injection needed. */
public final class Rlimits {
    public static final String[] NAMES = {"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
            "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS",
            "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};

    private Rlimits() {
    }

    /**
     * Reads every limit of the process of {@code task} with prlimit(2) from cryo; when the kernel refuses that
     * (EPERM: the process runs under another uid and cryo lacks CAP_SYS_RESOURCE) the process is asked itself,
     * with an injected {@code prlimit64(0, r, NULL, &old)}.
     */
    public static List<RlimitEntry> read(LiveTask task) throws CryoException {
        int pid = task.pid().value();
        NativeMemory old = NativeMemory.allocate(16);
        java.nio.ByteBuffer injected = java.nio.ByteBuffer.allocateDirect(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        List<RlimitEntry> out = new ArrayList<>();
        for (int r = 0; r < NAMES.length; r++) {
            long cur;
            long max;
            if (LibC.INSTANCE.prlimit(pid, r, 0, old.address()) == 0) {
                cur = old.getLong(0);
                max = old.getLong(8);
            } else if (LibC.errno() == Errno.EPERM.number()) {
                task.syscall("prlimit64(0, " + NAMES[r] + ", NULL, &old)", Sys.PRLIMIT64, 0, r, 0,
                        task.scratchAddress());
                injected.clear();
                task.readMemory(task.scratchAddress(), injected);
                cur = injected.getLong(0);
                max = injected.getLong(8);
            } else {
                throw Errors.failure("prlimit(" + pid + ", " + NAMES[r] + ")", LibC.errno());
            }
            out.add(RlimitEntry.newBuilder().setResource(r).setName(NAMES[r]).setCur(cur).setMax(max).build());
        }
        return out;
    }

    /** Sets one limit of {@code pid}; a value this user may not set is an error naming it. */
    public static void write(int pid, RlimitEntry e, String who) throws CryoException {
        NativeMemory p = NativeMemory.allocate(32);
        if (LibC.INSTANCE.prlimit(pid, e.getResource(), 0, p.address(16)) != 0) {
            throw Errors.failure("prlimit(" + pid + ", " + e.getName() + ")", LibC.errno());
        }
        if (p.getLong(16) == e.getCur() && p.getLong(24) == e.getMax()) {
            return;
        }
        p.putLong(0, e.getCur());
        p.putLong(8, e.getMax());
        if (LibC.INSTANCE.prlimit(pid, e.getResource(), p.address(), 0) != 0) {
            int errno = LibC.errno();
            throw new CryoException(Category.KERNEL, "core/RLIMIT", "cannot restore " + e.getName() + " of " + who
                    + " to soft " + unsigned(e.getCur()) + " hard " + unsigned(e.getMax()) + " (cryo's hard limit is "
                    + unsigned(p.getLong(24)) + "): prlimit failed: " + Errors.describe(errno),
                    "raising a hard limit needs CAP_SYS_RESOURCE; restore from a context whose hard limit is at least "
                            + unsigned(e.getMax()) + " (ulimit -H)");
        }
    }

    private static String unsigned(long v) {
        return v == -1L ? "unlimited" : Long.toUnsignedString(v);
    }

    /** Sets RLIMIT_CORE of {@code pid} to 0 (a restored zombie re-dies by its signal without dumping core). */
    public static void disableCoreDumps(int pid) throws CryoException {
        NativeMemory p = NativeMemory.allocate(16);
        if (LibC.INSTANCE.prlimit(pid, 4 /* RLIMIT_CORE */, p.address(), 0) != 0) {
            throw Errors.failure("prlimit(" + pid + ", RLIMIT_CORE, 0)", LibC.errno());
        }
    }
}
