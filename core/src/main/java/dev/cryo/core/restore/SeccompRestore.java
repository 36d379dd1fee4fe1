package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.image.proto.SeccompFilterEntry;
import dev.cryo.core.image.proto.ThreadAttrsEntry;
import dev.cryo.core.image.proto.ThreadCoreEntry;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * Gives each restored thread its seccomp state back, dumped by {@code TaskAttributes}: strict mode with
 * {@code seccomp(SECCOMP_SET_MODE_STRICT)}, filters with {@code seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)}
 * oldest first, injected into the thread. When every thread of the process has the same filters they are installed
 * once with SECCOMP_FILTER_FLAG_TSYNC, so the threads share them as before (a later TSYNC by the program works);
 * otherwise each thread gets its own. Done after no_new_privs and before the credentials change (installing a filter
 * without no_new_privs needs CAP_SYS_ADMIN, which the thread may lose). The restored tasks are traced with seccomp
 * suspended (PTRACE_O_SUSPEND_SECCOMP, inherited from the stub), so the filters judge nothing cryo injects; they
 * apply from the detach on.
 */
final class SeccompRestore {
    private static final int SOCK_FPROG_SIZE = 16;

    private SeccompRestore() {
    }

    static void restore(LiveTask task, Map<Integer, Tracee> threads, List<ThreadCoreEntry> dumped, long area,
                        boolean suspended) throws CryoException {
        boolean any = dumped.stream().anyMatch(t -> t.getAttrs().getSeccompMode() != 0);
        if (!any) {
            return;
        }
        if (!suspended) {
            throw new CryoException(Category.KERNEL, "core/SECCOMP_SUSPEND", "cannot restore " + task.who()
                    + ": it ran under seccomp, and cryo cannot suspend seccomp here (PTRACE_O_SUSPEND_SECCOMP needs"
                    + " CAP_SYS_ADMIN and a cryo under no seccomp filter), so its filters would judge the system"
                    + " calls cryo injects", "run cryo as root with CAP_SYS_ADMIN, outside any seccomp filter");
        }
        int largest = dumped.stream().flatMap(t -> t.getAttrs().getSeccompFiltersList().stream())
                .mapToInt(f -> f.getProgram().size()).max().orElse(0);
        long size = (SOCK_FPROG_SIZE + largest + 4095) & ~4095L;
        Tracee leader = threads.get(task.pid().value());
        boolean mapped = false;
        try {
            if (largest > 0) {
                leader.injectChecked("mmap(seccomp programs)", Sys.MMAP, area, size, Sys.PROT_READ | Sys.PROT_WRITE,
                        Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS | Sys.MAP_FIXED_NOREPLACE, -1, 0);
                mapped = true;
            }
            ThreadAttrsEntry first = dumped.get(0).getAttrs();
            boolean shared = first.getSeccompMode() == 2 && dumped.stream().allMatch(t ->
                    t.getAttrs().getSeccompMode() == 2
                            && t.getAttrs().getSeccompFiltersList().equals(first.getSeccompFiltersList()));
            if (shared) {
                install(task, leader, first.getSeccompFiltersList(), area, dumped.size() > 1, task.who());
                return;
            }
            for (ThreadCoreEntry t : dumped) {
                Tracee thread = threads.get(t.getTid());
                String who = t.getTid() == task.pid().value() ? task.who() : "thread " + t.getTid() + " of "
                        + task.who();
                ThreadAttrsEntry a = t.getAttrs();
                if (a.getSeccompMode() == 2) {
                    install(task, thread, a.getSeccompFiltersList(), area, false, who);
                } else if (a.getSeccompMode() == 1) {
                    thread.injectChecked("seccomp(SECCOMP_SET_MODE_STRICT) in " + who, Sys.SECCOMP,
                            Sys.SECCOMP_SET_MODE_STRICT, 0, 0);
                }
            }
        } finally {
            if (mapped) {
                leader.inject(Sys.MUNMAP, area, size);
            }
        }
    }

    private static void install(LiveTask task, Tracee thread, List<SeccompFilterEntry> filters, long area,
                                boolean tsync, String who) throws CryoException {
        int n = 0;
        for (SeccompFilterEntry f : filters) {
            n++;
            byte[] prog = f.getProgram().toByteArray();
            ByteBuffer b = ByteBuffer.allocateDirect(SOCK_FPROG_SIZE + prog.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort(0, (short) (prog.length / 8)).putLong(8, area + SOCK_FPROG_SIZE);
            b.put(SOCK_FPROG_SIZE, prog);
            task.writeMemory(area, b);
            long flags = f.getFlags() | (tsync ? Sys.SECCOMP_FILTER_FLAG_TSYNC : 0);
            long r = thread.injectChecked("seccomp(SECCOMP_SET_MODE_FILTER, 0x" + Long.toHexString(flags) + ", filter "
                    + n + " of " + filters.size() + ", " + prog.length / 8 + " instructions) in " + who, Sys.SECCOMP,
                    Sys.SECCOMP_SET_MODE_FILTER, flags, area);
            if (r > 0) {
                throw new CryoException(Category.INTERNAL, "core/SECCOMP_TSYNC", "seccomp(TSYNC) in " + who
                        + " could not synchronize thread " + r);
            }
        }
    }
}
