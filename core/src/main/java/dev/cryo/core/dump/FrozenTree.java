package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Discovers the tree under a root ({@code /proc/PID/task/*}/children, recursively) and freezes it consistently:
 * seize + interrupt every thread, re-scan until no new task appeared (a task forking or spawning a thread during
 * the freeze is caught), then checks the tree. {@link #release()} lets everything go unchanged.
 */
final class FrozenTree {
    private static final int MAX_ROUNDS = 100;
    /**
     * Syscall stops marked (injection drives a parked task with PTRACE_SYSCALL), seccomp suspended while cryo holds a
     * task when the kernel allows it (see {@link Tracee#canSuspendSeccomp}). Never PTRACE_O_EXITKILL: a task of a
     * dumped tree must outlive cryo.
     */
    private static final int SEIZE_OPTIONS = Sys.PTRACE_O_TRACESYSGOOD
            | (Tracee.canSuspendSeccomp() ? Sys.PTRACE_O_SUSPEND_SECCOMP : 0);

    /** Processes parents first (breadth-first from the root). */
    final List<FrozenProcess> processes = new ArrayList<>();
    private final Map<Integer, FrozenProcess> byPid = new LinkedHashMap<>();
    private final Set<Integer> seized = new HashSet<>();

    FrozenProcess root() {
        return processes.get(0);
    }

    FrozenProcess process(int pid) {
        return byPid.get(pid);
    }

    boolean contains(int pid) {
        return byPid.containsKey(pid);
    }

    static FrozenTree freeze(int rootPid, String rootComm) throws CryoException {
        FrozenTree tree = new FrozenTree();
        try {
            for (int round = 0; ; round++) {
                if (round == MAX_ROUNDS) {
                    throw new CryoException(Category.KERNEL, "core/FREEZE", "the tree of pid " + rootPid
                            + " kept creating tasks through " + MAX_ROUNDS + " rounds of freezing");
                }
                if (!tree.seizeNewTasks(rootPid, rootComm)) {
                    break;
                }
            }
            return tree;
        } catch (CryoException | RuntimeException e) {
            tree.release();
            throw e;
        }
    }

    /** @return whether a task not seized before was found (and seized) */
    private boolean seizeNewTasks(int rootPid, String rootComm) throws CryoException {
        boolean found = false;
        Deque<Integer> queue = new ArrayDeque<>();
        queue.add(rootPid);
        List<Integer> order = new ArrayList<>();
        while (!queue.isEmpty()) {
            int pid = queue.poll();
            order.add(pid);
            ProcFs.Stat st = ProcFs.stat(pid);
            FrozenProcess p = byPid.get(pid);
            if (p == null) {
                p = new FrozenProcess(pid, pid == rootPid ? rootComm : st.comm());
                p.root = pid == rootPid;
                byPid.put(pid, p);
                processes.add(p);
            }
            if ((st.state() == 'Z' || st.state() == 'X') && ProcFs.threads(pid).size() > 1) {
                throw new CryoException(Category.UNSUPPORTED, "core/LEADER_EXITED", "dump refused: the main thread of"
                        + " pid " + pid + " \"" + st.comm() + "\" has exited while its threads " + ProcFs.threads(pid)
                        + " run on; cryo cannot restore a process without its main thread",
                        "dump the process before its main thread calls pthread_exit, or keep main alive");
            }
            if (st.state() == 'Z' || st.state() == 'X') {
                if (pid == rootPid) {
                    throw new CryoException(Category.UNSUPPORTED, "core/ZOMBIE", "dump refused: pid " + pid + " \""
                            + st.comm() + "\" is a zombie (exited, not yet reaped by its parent pid " + st.ppid()
                            + "): there is nothing to dump", "give the pid of a live process with -t");
                }
                // exited, its parent (frozen) has not reaped it: recorded and restored as a zombie
                p.zombie(st);
                continue;
            }
            for (int tid : ProcFs.threads(pid)) {
                if (seized.contains(tid)) {
                    continue;
                }
                Tracee t = new Tracee(tid, p.comm);
                try {
                    t.seize(SEIZE_OPTIONS);
                } catch (CryoException e) {
                    // an exiting task refuses PTRACE_SEIZE (EPERM): let it finish dying, then take it as it is
                    Exiting outcome = awaitExit(pid, tid);
                    if (outcome == Exiting.THREAD_GONE) {
                        continue;
                    }
                    if (outcome == Exiting.ZOMBIE && p.threads.isEmpty()) {
                        p.zombie(ProcFs.stat(pid));
                        found = true;
                        break;
                    }
                    throw e;
                }
                seized.add(tid);
                found = true;
                try {
                    t.freeze();
                } catch (CryoException e) {
                    // it exited between the seize and the stop (a short-lived child): take it as it now is
                    if (!e.code().equals("core/TASK_VANISHED")) {
                        throw e;
                    }
                    Exiting outcome = awaitExit(pid, tid);
                    if (outcome == Exiting.THREAD_GONE) {
                        continue;
                    }
                    if (outcome == Exiting.ZOMBIE && p.threads.isEmpty()) {
                        p.zombie(ProcFs.stat(pid));
                        break;
                    }
                    throw e;
                }
                p.addStopped(t);
                checkSeccomp(p, t);
            }
            queue.addAll(ProcFs.children(pid));
        }
        // keep the process list parents first, in discovery order (positions looked up once: a List.indexOf per
        // comparison made sorting a 257-process tree quadratic)
        Map<Integer, Integer> position = new HashMap<>();
        for (int i = 0; i < order.size(); i++) {
            position.putIfAbsent(order.get(i), i);
        }
        processes.sort(new ByPosition(position));
        for (FrozenProcess p : processes) {
            p.threads.sort(new LeaderFirst(p.pid));
        }
        return found;
    }

    /*
     * Comparator classes, not lambdas: this runs while the tree is frozen, and the first run of a lambda call site
     * links it (a bootstrap method call, ~0.3 ms each on the development machine; issue 13).
     */

    /** Processes in the order of their positions (one not there first). */
    private record ByPosition(Map<Integer, Integer> position) implements java.util.Comparator<FrozenProcess> {
        @Override
        public int compare(FrozenProcess a, FrozenProcess b) {
            return Integer.compare(position.getOrDefault(a.pid, -1), position.getOrDefault(b.pid, -1));
        }
    }

    /** The leader first (injection goes through it), then the other threads by tid. */
    private record LeaderFirst(int pid) implements java.util.Comparator<FrozenProcess.FrozenThread> {
        @Override
        public int compare(FrozenProcess.FrozenThread a, FrozenProcess.FrozenThread b) {
            return a.tracee.tid() == pid ? -1 : b.tracee.tid() == pid ? 1
                    : Integer.compare(a.tracee.tid(), b.tracee.tid());
        }
    }

    /**
     * Refuses a task under seccomp when cryo could not suspend seccomp for it: an injected system call could be
     * refused or, in strict mode, kill it. Checked right after the stop, before any injection.
     */
    private static void checkSeccomp(FrozenProcess p, Tracee t) throws CryoException {
        if (t.seccompSuspended()) {
            return;
        }
        String mode = ProcFs.taskStatus(p.pid, t.tid()).getOrDefault("Seccomp", "0");
        if (!mode.equals("0")) {
            throw new CryoException(Category.UNSUPPORTED, "core/SECCOMP_SUSPEND", "dump refused: "
                    + (t.tid() == p.pid ? p.who() : "thread " + t.tid() + " of " + p.who()) + " runs under seccomp"
                    + " (mode " + mode + ") and cryo cannot suspend seccomp (PTRACE_O_SUSPEND_SECCOMP needs"
                    + " CAP_SYS_ADMIN and a cryo under no seccomp filter): a system call cryo injects could kill it",
                    "run cryo as root with CAP_SYS_ADMIN, outside any seccomp filter (grep Seccomp /proc/self/status)");
        }
    }

    /** @return the pids of the processes that are not zombies, parents first */
    List<Integer> livePids() {
        List<Integer> pids = new ArrayList<>();
        for (FrozenProcess p : processes) {
            if (!p.isZombie()) {
                pids.add(p.pid);
            }
        }
        return pids;
    }

    /** Lets every task go exactly as it was (running, or stopped if it was). Never throws. */
    void release() {
        for (int i = processes.size() - 1; i >= 0; i--) {
            processes.get(i).release(false);
        }
    }

    /** Lets every task go, stopped (dump --leave-stopped): untraced, cryo's traces gone, resumed by SIGCONT. */
    void releaseStopped() {
        for (int i = processes.size() - 1; i >= 0; i--) {
            processes.get(i).release(true);
        }
    }

    /** Kills every process of the tree and waits until the tracer has seen each thread exit. */
    void kill() {
        for (FrozenProcess p : processes) {
            LibC.INSTANCE.kill(p.pid, Sys.SIGKILL);
        }
        for (FrozenProcess p : processes) {
            // other threads first: a traced thread stays a zombie until its tracer waits for it, and the
            // leader's exit is reported only once every other thread of its group is gone
            for (int i = p.threads.size() - 1; i >= 0; i--) {
                FrozenProcess.FrozenThread t = p.threads.get(i);
                try {
                    int s;
                    do {
                        s = t.tracee.waitStatus();
                    } while (Sys.stopped(s));
                } catch (CryoException e) {
                    // already gone (ECHILD): nothing to wait for
                }
            }
            p.threads.clear();
            p.scratch = 0;
        }
    }

    private enum Exiting { THREAD_GONE, ZOMBIE, ALIVE }

    /** Waits up to half a second for a task that refused the seize to finish exiting. */
    private static Exiting awaitExit(int pid, int tid) {
        for (int i = 0; i < 50; i++) {
            if (!ProcFs.dir(pid).resolve("task").resolve(Integer.toString(tid)).toFile().exists()) {
                return Exiting.THREAD_GONE;
            }
            try {
                char state = ProcFs.stat(pid).state();
                if (state == 'Z' || state == 'X') {
                    return Exiting.ZOMBIE;
                }
            } catch (CryoException e) {
                return Exiting.THREAD_GONE;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return Exiting.ALIVE;
            }
        }
        return Exiting.ALIVE;
    }
}
