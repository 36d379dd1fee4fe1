package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.linux.ProcFs;

import java.util.List;

/** What makes a process dumpable by this version, checked before the freeze and again once frozen. */
final class ProcessChecks {
    private static final long SELF = ProcessHandle.current().pid();

    private ProcessChecks() {
    }

    /** @return the process name */
    static String checkDumpable(int pid) throws CryoException {
        if (!ProcFs.exists(pid)) {
            throw new CryoException(Category.USAGE, "core/NO_SUCH_PROCESS", "no process with pid " + pid,
                    "check the pid given with -t/--tree");
        }
        ProcFs.Stat stat = ProcFs.stat(pid);
        String comm = stat.comm();
        String who = "pid " + pid + " \"" + comm + "\"";
        if (stat.kernelThread()) {
            throw new CryoException(Category.UNSUPPORTED, "core/KERNEL_THREAD", "dump refused: " + who
                    + " is a kernel thread", "give the pid of a user-space process with -t");
        }
        for (ProcessHandle h = ProcessHandle.current(); h != null; h = h.parent().orElse(null)) {
            if (h.pid() == pid) {
                throw new CryoException(Category.USAGE, "core/SELF_DUMP", "dump refused: " + who
                        + " is cryo itself or one of its ancestors", "give the pid of another process tree");
            }
        }
        if (stat.state() == 'Z' || stat.state() == 'X') {
            throw new CryoException(Category.UNSUPPORTED, "core/ZOMBIE", "dump refused: " + who + " is a zombie",
                    "let its parent reap it; there is nothing to dump");
        }
        checkStillDumpable(pid, comm);
        return comm;
    }

    /** The checks that must hold again once the process is frozen (it may have changed meanwhile). */
    static void checkStillDumpable(int pid, String comm) throws CryoException {
        String who = "pid " + pid + " \"" + comm + "\"";
        List<Integer> threads = ProcFs.threads(pid);
        if (threads.size() > 1) {
            throw new CryoException(Category.UNSUPPORTED, "core/THREADS", "dump refused: " + who + " has "
                    + threads.size() + " threads (tids " + threads + "); this version dumps single-threaded"
                    + " processes only", "dump a single-threaded process (multi-threaded support is planned)");
        }
        List<Integer> children = ProcFs.children(pid);
        if (!children.isEmpty()) {
            StringBuilder names = new StringBuilder();
            for (int c : children) {
                names.append(names.length() == 0 ? "" : ", ").append(c).append(" \"").append(ProcFs.comm(c))
                        .append('"');
            }
            throw new CryoException(Category.UNSUPPORTED, "core/CHILDREN", "dump refused: " + who
                    + " has child processes (pid " + names + "); this version dumps a single process, not a tree",
                    "dump a process without children (process trees are planned)");
        }
    }

    static long self() {
        return SELF;
    }
}
