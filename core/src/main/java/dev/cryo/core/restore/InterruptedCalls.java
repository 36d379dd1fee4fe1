package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.image.proto.ThreadCoreEntry;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Regs;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * System calls a thread was blocked in when it was dumped: after the restore each carries on as if the thread had
 * never been stopped — no EINTR where the kernel itself would have restarted the call, and a relative sleep keeps
 * the time it had left.
 *
 * <p>A thread frozen inside a blocking call stops on its way out of the kernel with {@code orig_rax} = the call and
 * {@code rax} = the kernel's verdict, which the kernel acts on when the thread resumes; a restored thread resumes
 * with {@code orig_rax = -1}, so cryo acts on it here, per thread:
 * <ul>
 *   <li>{@code -ERESTARTSYS}, {@code -ERESTARTNOINTR}, {@code -ERESTARTNOHAND} (read, wait, accept, futex without
 *       timeout, poll without timeout, ppoll, select, pselect6, an absolute clock_nanosleep...): the call is
 *       executed again ({@code rip -= 2}, {@code rax = orig_rax}), as the kernel does. ppoll, select and pselect6
 *       wrote the time left into the caller's timeout when they were interrupted, and an absolute sleep keeps its
 *       deadline, so these end on time.</li>
 *   <li>{@code -EINTR} from {@code epoll_wait}, {@code epoll_pwait}, {@code epoll_pwait2}: the kernel never restarts
 *       these (a stop makes them fail with EINTR, see signal(7)); a restored event loop would see a spurious EINTR,
 *       so the call is executed again with its timeout in full.</li>
 *   <li>{@code -ERESTART_RESTARTBLOCK}: the kernel keeps a restart block (the call's absolute expiry) that died with
 *       the dumped process. For {@code nanosleep} and a relative {@code clock_nanosleep} given a remaining-time
 *       pointer ({@code rmtp}), the kernel wrote the time left there when the dump interrupted the call (it is in the
 *       restored memory): cryo makes the kernel build the same restart block in the restored thread — it injects the
 *       same call for that time left with the same {@code rmtp}, interrupts it once the thread sleeps in it
 *       ({@code PTRACE_INTERRUPT}), and resumes the thread with {@code rax = restart_syscall}, {@code rip -= 2},
 *       exactly as the kernel resumes a stopped sleeper. The sleep ends when it would have ended had the dump and the
 *       time in the image not happened, and the program sees nothing. Without {@code rmtp} ({@code usleep}) and for
 *       {@code poll} and {@code futex} with a relative timeout, the time left is nowhere to read: the call is executed
 *       again with its timeout in full — it never fails and never ends early, but ends late by the time it had slept
 *       before the dump.</li>
 *   <li>{@code -ERESTART_RESTARTBLOCK} from {@code restart_syscall} itself (a call the kernel had already restarted
 *       once, after an earlier stop or restore — a sleep that was dumped and restored once already): the registers
 *       still hold the original call's arguments, and the kernel wrote the time left to its {@code rmtp} again.
 *       {@code nanosleep(req, rmtp)} (two user pointers) and a relative {@code clock_nanosleep(clock, 0, req, rmtp)}
 *       (a small clock id, flags 0, two user pointers) are recognised by them ({@link #restartedSleep}; poll and
 *       futex, the other calls the kernel restarts this way, have a count or an operation where those have a
 *       pointer) and get their restart block rebuilt as above. Any other restarted call returns EINTR (as CRIU
 *       does).</li>
 * </ul>
 * Runs on the tracer thread while the process is still being rebuilt (its scratch area and the threads' injection
 * sites still exist), after its memory is restored.
 */
final class InterruptedCalls {
    private static final Logger LOG = LoggerFactory.getLogger(InterruptedCalls.class);
    static final int EINTR = 4;
    static final int NR_NANOSLEEP = 35, NR_CLOCK_NANOSLEEP = 230, NR_RESTART_SYSCALL = 219, NR_EPOLL_WAIT = 232,
            NR_EPOLL_PWAIT = 281, NR_EPOLL_PWAIT2 = 441;
    static final int TIMER_ABSTIME = 1;
    private static final long SLEEP_WAIT_NS = 5_000_000_000L;

    /** What to do with a thread's registers when it resumes. */
    enum Action {
        /** Not in an interrupted call, or one that returns what it returned: registers as dumped. */
        AS_IS,
        /** Execute the call again with the same registers. */
        REEXECUTE,
        /** The kernel's restart block was rebuilt: resume into {@code restart_syscall}. */
        RESTART_BLOCK,
        /** The rebuilt sleep ended already while cryo set it up: the call returns 0. */
        COMPLETED,
        /** The call returns EINTR. */
        EINTR
    }

    private final Map<Integer, Action> actions = new HashMap<>();

    private InterruptedCalls() {
    }

    /**
     * Decides for every thread and rebuilds the restart blocks that need the thread's memory and injection site.
     *
     * @param data an area of the process (at least 16 bytes) cryo may write while it rebuilds it
     */
    static InterruptedCalls rebuild(LiveTask task, Map<Integer, Tracee> threads, List<ThreadCoreEntry> dumped,
                                    long data) throws CryoException {
        InterruptedCalls calls = new InterruptedCalls();
        for (ThreadCoreEntry t : dumped) {
            long[] r = regs(t);
            Action a = decide(r);
            if (a == Action.RESTART_BLOCK) {
                a = rebuildRestartBlock(task, threads.get(t.getTid()), r, data);
            }
            if (a != Action.AS_IS) {
                LOG.debug("pid {} thread {}: interrupted call {} (rax {}): {}", task.pid(), t.getTid(),
                        r[Regs.ORIG_RAX], r[Regs.RAX], a);
            }
            calls.actions.put(t.getTid(), a);
        }
        return calls;
    }

    /** Sets the registers of thread {@code tid} for its resume, as decided by {@link #rebuild}. */
    void apply(int tid, long[] r) {
        apply(actions.getOrDefault(tid, decide(r)), r);
    }

    static long[] regs(ThreadCoreEntry t) {
        long[] r = new long[Regs.COUNT];
        for (int i = 0; i < Regs.COUNT; i++) {
            r[i] = t.getGpregs(i);
        }
        return r;
    }

    /** The action the dumped registers call for; {@link Action#RESTART_BLOCK} when the restart block can be rebuilt. */
    static Action decide(long[] r) {
        long rax = r[Regs.RAX];
        long orig = r[Regs.ORIG_RAX];
        if (orig < 0) {
            return Action.AS_IS;
        }
        if (rax == -Sys.ERESTARTSYS || rax == -Sys.ERESTARTNOINTR || rax == -Sys.ERESTARTNOHAND) {
            return Action.REEXECUTE;
        }
        if (rax == -EINTR && (orig == NR_EPOLL_WAIT || orig == NR_EPOLL_PWAIT || orig == NR_EPOLL_PWAIT2)) {
            return Action.REEXECUTE;
        }
        if (rax == -Sys.ERESTART_RESTARTBLOCK) {
            if (orig == NR_RESTART_SYSCALL) {
                return rmtp(r) != 0 ? Action.RESTART_BLOCK : Action.EINTR;
            }
            return rmtp(r) != 0 ? Action.RESTART_BLOCK : Action.REEXECUTE;
        }
        return Action.AS_IS;
    }

    /** @return the call of an interrupted sleep: {@code orig_rax}, or for restart_syscall {@link #restartedSleep} */
    static long originalCall(long[] r) {
        long orig = r[Regs.ORIG_RAX];
        return orig == NR_RESTART_SYSCALL ? restartedSleep(r) : orig;
    }

    /**
     * The sleep a thread inside {@code restart_syscall} restarts, from the original call's arguments still in its
     * registers: {@code nanosleep(req, rmtp)} has two user pointers, a relative
     * {@code clock_nanosleep(clockid, 0, req, rmtp)} a clock id (small, or negative for a CPU clock), flags 0 and two
     * user pointers; poll (fds, nfds, timeout) and futex (uaddr, op, ...) have a count or an operation in the second
     * argument, never a mappable address.
     *
     * @return {@link #NR_NANOSLEEP}, {@link #NR_CLOCK_NANOSLEEP}, or -1 when the registers fit neither
     */
    static long restartedSleep(long[] r) {
        long rdi = r[Regs.RDI];
        long rsi = r[Regs.RSI];
        if (userPointer(rdi) && userPointer(rsi)) {
            return NR_NANOSLEEP;
        }
        if (rdi < 16 && rdi >= Integer.MIN_VALUE && rsi == 0 && userPointer(r[Regs.RDX]) && userPointer(r[Regs.R10])) {
            return NR_CLOCK_NANOSLEEP;
        }
        return -1;
    }

    /** @return whether {@code v} may be a mapped user address: at least mmap_min_addr (64 KiB), below 2^56 */
    private static boolean userPointer(long v) {
        return v >= 0x10000 && v < (1L << 56);
    }

    /** The remaining-time pointer of an interrupted relative nanosleep/clock_nanosleep, 0 for anything else. */
    static long rmtp(long[] r) {
        long orig = originalCall(r);
        if (orig == NR_NANOSLEEP) {
            return r[Regs.RSI];
        }
        if (orig == NR_CLOCK_NANOSLEEP && (r[Regs.RSI] & TIMER_ABSTIME) == 0) {
            return r[Regs.R10];
        }
        return 0;
    }

    static void apply(Action a, long[] r) {
        switch (a) {
            case REEXECUTE -> {
                r[Regs.RIP] -= 2;
                r[Regs.RAX] = r[Regs.ORIG_RAX];
            }
            case RESTART_BLOCK -> {
                r[Regs.RIP] -= 2;
                r[Regs.RAX] = NR_RESTART_SYSCALL;
            }
            case COMPLETED -> r[Regs.RAX] = 0;
            case EINTR -> r[Regs.RAX] = -EINTR;
            case AS_IS -> {
            }
        }
        r[Regs.ORIG_RAX] = -1;
    }

    /**
     * Makes the kernel hold, in thread {@code t}, the restart block of the interrupted sleep of {@code r}: the same
     * call for the time left (read from its {@code rmtp} in the restored memory), interrupted once it sleeps.
     */
    private static Action rebuildRestartBlock(LiveTask task, Tracee t, long[] r, long data) throws CryoException {
        long rmtp = rmtp(r);
        ByteBuffer left = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN);
        // restart_syscall re-executed in a thread without a restart block returns EINTR
        Action fallback = r[Regs.ORIG_RAX] == NR_RESTART_SYSCALL ? Action.EINTR : Action.REEXECUTE;
        if (task.tracee().readMemory(rmtp, Tracee.address(left), 16) != 16) {
            // rmtp unreadable: the kernel could not have written the time left either
            return fallback;
        }
        long sec = left.getLong(0);
        long nsec = left.getLong(8);
        if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000L) {
            return fallback;
        }
        task.writeMemory(data, left);
        long nr = originalCall(r);
        long[] args = nr == NR_NANOSLEEP ? new long[]{data, rmtp} : new long[]{r[Regs.RDI], 0, data, rmtp};
        long result = sleepInterrupted(t, nr, args, task.pid().value());
        if (result == 0) {
            return Action.COMPLETED;
        }
        if (result == -Sys.ERESTART_RESTARTBLOCK) {
            return Action.RESTART_BLOCK;
        }
        throw new CryoException(Category.KERNEL, "core/RESTART_BLOCK", "cannot rebuild the " + callName(nr)
                + " thread " + t.tid() + " of pid " + task.pid() + " was sleeping in: the injected call returned "
                + Errors.describe((int) -result), null, (int) -result, null);
    }

    private static String callName(long nr) {
        return nr == NR_NANOSLEEP ? "nanosleep" : "clock_nanosleep";
    }

    /**
     * Injects {@code nr(args)} into {@code t}, waits until the thread sleeps in it, interrupts it, and leaves the
     * thread in an ordinary injection stop with its saved registers.
     *
     * @return the call's result: {@code -ERESTART_RESTARTBLOCK} when interrupted, 0 when it finished first
     */
    static long sleepInterrupted(Tracee t, long nr, long[] args, int pid) throws CryoException {
        long[] r = t.savedRegs();
        r[Regs.RAX] = nr;
        r[Regs.ORIG_RAX] = -1;
        r[Regs.RIP] = t.syscallInsn();
        long[] slots = {Regs.RDI, Regs.RSI, Regs.RDX, Regs.R10, Regs.R8, Regs.R9};
        for (int i = 0; i < slots.length; i++) {
            r[(int) slots[i]] = i < args.length ? args[i] : 0;
        }
        t.setRegs(r);
        step(t);
        Path syscall = ProcFs.dir(pid).resolve("task").resolve(Integer.toString(t.tid())).resolve("syscall");
        long deadline = System.nanoTime() + SLEEP_WAIT_NS;
        int[] status = new int[1];
        boolean stopped = false;
        while (true) {
            int w = LibC.INSTANCE.waitpid(t.tid(), status, Sys.WALL | Sys.WNOHANG);
            if (w == t.tid()) {
                stopped = true; // the sleep ended before cryo could interrupt it
                break;
            }
            if (sleepingIn(syscall, nr)) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new CryoException(Category.KERNEL, "core/RESTART_BLOCK", "thread " + t.tid() + " of pid " + pid
                        + " did not enter the injected " + callName(nr) + " within 5 s");
            }
            Thread.onSpinWait();
        }
        long result;
        boolean sawEventStop = false;
        boolean sawTrap = false;
        Long first = null;
        if (stopped) {
            first = t.getRegs()[Regs.RAX];
            sawTrap = Sys.stopSig(status[0]) == Sys.SIGTRAP && Sys.event(status[0]) == 0;
            if (!sawTrap) {
                throw stop(t, status[0]);
            }
            sawEventStop = true; // no interrupt was sent: there is no trap stop to wait for
        } else {
            t.interrupt();
        }
        while (!(sawEventStop && sawTrap)) {
            int s = t.waitStop();
            if (first == null) {
                first = t.getRegs()[Regs.RAX];
            }
            if (Sys.event(s) == Sys.PTRACE_EVENT_STOP) {
                sawEventStop = true;
            } else if (Sys.stopSig(s) == Sys.SIGTRAP && Sys.event(s) == 0) {
                sawTrap = true;
            } else {
                throw stop(t, s);
            }
            if (!(sawEventStop && sawTrap)) {
                // on to the other stop; should the thread reach user space first, it runs a getpid and traps
                long[] g = t.savedRegs();
                g[Regs.RAX] = Sys.GETPID;
                g[Regs.ORIG_RAX] = -1;
                g[Regs.RIP] = t.syscallInsn();
                t.setRegs(g);
                step(t);
            }
        }
        result = first;
        t.setRegs(t.savedRegs());
        return result;
    }

    private static boolean sleepingIn(Path syscall, long nr) {
        try {
            String s = ProcFs.readText(syscall).strip();
            int sp = s.indexOf(' ');
            return sp > 0 && s.substring(0, sp).equals(Long.toString(nr));
        } catch (IOException e) {
            return false;
        }
    }

    private static void step(Tracee t) throws CryoException {
        if (LibC.INSTANCE.ptrace(Sys.PTRACE_SINGLESTEP, t.tid(), 0, 0) == -1) {
            throw Errors.failure("PTRACE_SINGLESTEP of thread " + t.tid(), LibC.errno());
        }
    }

    private static CryoException stop(Tracee t, int status) {
        return new CryoException(Category.INTERNAL, "core/INJECTION_STOP", "thread " + t.tid() + " ended the injected"
                + " sleep in an unexpected stop: " + Sys.describeStatus(status));
    }
}
