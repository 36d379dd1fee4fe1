package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One process a test started or restored, pinned by pid and start time: every signal and assertion first checks
 * that the pid still belongs to that process (pids are reused quickly: pid_max is 32768).
 *
 * <p>Workloads follow the protocol of {@code src/test/c/workload.h}: a {@code READY k=v...} line, {@code tick N}
 * lines, and on SIGUSR2 one {@code VERDICT PASS|FAIL} line. Instances are created by {@link Workloads}, which
 * kills and reaps them when the test ends. Not thread-safe; one test thread uses it.
 */
public final class Workload {
    public static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final String name;
    private final long pid;
    private final long startTime;
    private final String comm;
    private final LogFile log;
    private final Path workdir;
    private final Process process;
    private Map<String, String> ready = Map.of();

    Workload(String name, long pid, long startTime, String comm, LogFile log, Path workdir, Process process) {
        this.name = name;
        this.pid = pid;
        this.startTime = startTime;
        this.comm = comm;
        this.log = log;
        this.workdir = workdir;
        this.process = process;
    }

    public String name() {
        return name;
    }

    public long pid() {
        return pid;
    }

    /** @return the command name the kernel shows (e.g. "st_workload"; at most 15 characters) */
    public String comm() {
        return comm;
    }

    public LogFile log() {
        return log;
    }

    public Path workdir() {
        return workdir;
    }

    /** @return the JDK process handle when the test started it with ProcessBuilder, else empty (restored) */
    public Optional<Process> process() {
        return Optional.ofNullable(process);
    }

    /** @return true if the pid is still this process and it has not exited (a zombie is not alive) */
    public boolean isAlive() {
        return ProcStat.read(pid).filter(s -> s.startTime() == startTime && !s.isZombie()).isPresent();
    }

    /** @return the current stat of this process, empty if it is gone or the pid now belongs to another process */
    public Optional<ProcStat> stat() {
        return ProcStat.read(pid).filter(s -> s.startTime() == startTime);
    }

    /** Waits for the READY line, parses its {@code key=value} words and returns them. */
    public Map<String, String> awaitReady() {
        String line = log.awaitPrefix(0, "READY", TIMEOUT);
        Map<String, String> m = new LinkedHashMap<>();
        for (String word : line.substring("READY".length()).trim().split("\\s+")) {
            int eq = word.indexOf('=');
            if (eq > 0) {
                m.put(word.substring(0, eq), word.substring(eq + 1));
            }
        }
        ready = m;
        return m;
    }

    /** @return a field of the READY line (call {@link #awaitReady()} first) */
    public String ready(String key) {
        String v = ready.get(key);
        if (v == null) {
            throw new AssertionError(name + " READY line has no " + key + "= (have " + ready + ")");
        }
        return v;
    }

    /** Sends a signal after checking the pid is still this process. */
    public void signal(int sig) {
        if (!isAlive()) {
            throw new AssertionError(this + " is not running (state " + ProcStat.read(pid).map(s -> s.state() + " "
                    + s.comm()).orElse("gone") + "), cannot send signal " + sig + "; log ends:\n" + log.tail(10));
        }
        ProcessControl.kill(pid, sig);
    }

    /** Sends SIGUSR2 and returns the VERDICT line the workload prints. */
    public String verify() {
        long mark = log.size();
        signal(ProcessControl.SIGUSR2);
        return log.awaitPrefix(mark, "VERDICT", TIMEOUT);
    }

    /** {@link #verify()} and assert the verdict is PASS; returns the line. */
    public String assertVerifyPass() {
        String v = verify();
        assertTrue(v.startsWith("VERDICT PASS"), name + " pid " + pid + ": " + v);
        return v;
    }

    /**
     * Asserts that this process was left running by a refused dump: it is alive, ticks twice more and passes its own
     * check.
     *
     * @return its verdict line
     */
    public String assertLeftRunning() {
        assertTrue(isAlive(), this + " was not left running after the refused dump");
        awaitNewTicks(2);
        return assertVerifyPass();
    }

    /** Waits until {@code n} new tick lines appear after the current end of the log. */
    public long awaitNewTicks(int n) {
        return log.awaitTicks(log.size(), n, TIMEOUT);
    }

    /** Waits until the process is gone (exited, reaped or a zombie). */
    public void awaitGone(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (isAlive()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(this + " still running after " + timeout.toSeconds() + " s");
            }
            ProcessControl.sleep(20);
        }
    }

    /** Waits until the state letter (field 3 of /proc/PID/stat) is {@code state}. */
    public void awaitState(char state, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<ProcStat> st = stat();
            if (st.isPresent() && st.get().state() == state) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(this + " state is " + st.map(s -> String.valueOf(s.state())).orElse("gone")
                        + ", expected " + state + " within " + timeout.toSeconds() + " s");
            }
            ProcessControl.sleep(20);
        }
    }

    /**
     * Waits until the process's main thread is blocked in one of the system calls {@code nrs} (x86_64 numbers, as
     * {@code /proc/PID/syscall} shows them): a positive sign that it is waiting where it should, instead of a fixed
     * sleep standing for "nothing happened".
     */
    public void awaitInSyscall(Duration timeout, int... nrs) {
        awaitInSyscall(pid(), toString(), timeout, nrs);
    }

    /** {@link #awaitInSyscall(Duration, int...)} for any pid. */
    public static void awaitInSyscall(long pid, String who, Duration timeout, int... nrs) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String seen = "";
        while (true) {
            try {
                seen = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "syscall"))
                        .trim();
            } catch (java.io.IOException e) {
                seen = "gone";
            }
            String nr = seen.split(" ")[0];
            for (int n : nrs) {
                if (nr.equals(Integer.toString(n))) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(who + " is not blocked in syscall " + java.util.Arrays.toString(nrs)
                        + " within " + timeout.toSeconds() + " s: /proc/" + pid + "/syscall says '" + seen + "'");
            }
            ProcessControl.sleep(20);
        }
    }

    /** SIGKILLs the process if it is still this one and reaps it when it is ours to reap; idempotent. */
    public void kill() {
        if (ProcStat.read(pid).filter(s -> s.startTime() == startTime).isPresent()) {
            ProcessControl.kill(pid, ProcessControl.SIGKILL);
        }
        if (process != null) {
            try {
                process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else {
            ProcessControl.reap(pid, Duration.ofSeconds(2));
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + pid + ", \"" + comm + "\")";
    }
}
