package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.linux.ProcFs;


/**
 * What makes a root pid dumpable at all, checked before anything is frozen; and what the dump of a process must
 * refuse because a restore could not bring it back (a deleted working directory, a namespace fd).
 */
final class ProcessChecks {
    private static final java.util.regex.Pattern NAMESPACE_LINK = java.util.regex.Pattern.compile(
            "(net|mnt|pid|pid_for_children|uts|ipc|user|cgroup|time|time_for_children):\\[\\d+\\]");

    private ProcessChecks() {
    }

    /**
     * Refuses a working directory or root that was deleted ({@code /proc/PID/cwd} reads {@code PATH (deleted)}):
     * a restore could not enter it again.
     */
    static void checkDirectory(String who, String what, String link) throws CryoException {
        if (link.endsWith(" (deleted)")) {
            String path = link.substring(0, link.length() - " (deleted)".length());
            throw new CryoException(Category.UNSUPPORTED, "core/DIRECTORY_DELETED", "dump refused: the " + what
                    + " of " + who + ", " + path + ", was deleted; a restore could not enter it again",
                    "let the program change to a directory that exists, then dump again (a new " + path
                            + " would be another directory)");
        }
    }

    /**
     * Refuses an fd on a namespace ({@code /proc/PID/ns/*}, reading {@code net:[4026531833]}): cryo does not dump
     * namespaces, and a restore could not open it again by that name.
     */
    static void checkFd(String who, int fd, String link) throws CryoException {
        if (isNamespace(link)) {
            String kind = link.substring(0, link.indexOf(':'));
            throw new CryoException(Category.UNSUPPORTED, "core/NAMESPACE_FD", "dump refused: fd " + fd + " of "
                    + who + " is a " + kind + " namespace (" + link + ", opened from /proc/PID/ns/" + kind
                    + "); cryo does not dump namespaces and could not open it again",
                    "dump the tree before it opens a namespace file, or let it close that fd");
        }
    }

    /** {@link #checkFd(String, int, String)} naming {@code task} only when it refuses (once per fd of a dump). */
    static void checkFd(dev.cryo.core.linux.LiveTask task, int fd, String link) throws CryoException {
        if (isNamespace(link)) {
            checkFd(task.who(), fd, link);
        }
    }

    /** A namespace's link ends with its inode in brackets: most links (a path) are told without the regex. */
    private static boolean isNamespace(String link) {
        return link.endsWith("]") && NAMESPACE_LINK.matcher(link).matches();
    }

    /** @return the process name */
    static String checkDumpable(int pid) throws CryoException {
        if (!ProcFs.exists(pid)) {
            throw new CryoException(Category.NO_SUCH_PROCESS, "core/NO_SUCH_PROCESS", "no process with pid " + pid,
                    "check the pid given with -t/--tree (`ps -p " + pid + "`)");
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
