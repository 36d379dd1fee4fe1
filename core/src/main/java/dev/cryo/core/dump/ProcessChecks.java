package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.linux.ProcFs;


/** What makes a root pid dumpable at all, checked before anything is frozen. */
final class ProcessChecks {
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
        return comm;
    }

}
