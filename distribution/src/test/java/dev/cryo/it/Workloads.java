package dev.cryo.it;

import dev.cryo.testkit.CryoTestKit;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Starts and tracks the processes of one test, and cleans all of them up in {@link #close()} (call it from
 * {@code @AfterEach}, it runs even when the test failed).
 *
 * <p>Workloads are started as a user should start a program to checkpoint (README, "The CLI by example"): {@code setsid <program> args} (setsid in a child
 * that is not a group leader execs in place, so the pid is the workload's), stdin {@code /dev/null}, stdout and
 * stderr appended to a log file, so they hold no JVM pipe and are in their own session. The C workloads are found
 * in the directory given by the {@code cryo.workloads} system property.
 *
 * <p>The JVM is made a child subreaper, so restored processes that lose their parent come back to the test and
 * are reaped here. Not thread-safe.
 */
public final class Workloads implements AutoCloseable {
    /** System property: the directory holding the compiled C workloads. */
    public static final String PROPERTY = "cryo.workloads";

    private final Path root;
    private final List<Workload> started = new ArrayList<>();
    private final List<Process> others = new ArrayList<>();
    private final List<ProcStat> foreignPids = new ArrayList<>();
    private int seq;

    /** @param root a per-test temporary directory; workdirs and logs are created inside */
    public Workloads(Path root) {
        this.root = root;
        ProcessControl.ensureSubreaper();
    }

    /** @return the path of a compiled C workload, checked to be executable */
    public static Path binary(String name) {
        String dir = System.getProperty(PROPERTY);
        if (dir == null) {
            throw new IllegalStateException("system property " + PROPERTY + " is not set (the build sets it to "
                    + "distribution/target/workloads); run the ITs through Maven failsafe");
        }
        Path p = Path.of(dir, name);
        if (!Files.isExecutable(p)) {
            throw new IllegalStateException("workload " + p + " is missing or not executable");
        }
        return p;
    }

    /** @return a new empty directory under this test's root */
    public Path newDir(String prefix) {
        try {
            return Files.createDirectories(root.resolve(prefix + "-" + (++seq))).toRealPath();
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a directory under " + root, e);
        }
    }

    /**
     * Starts a C workload with a fresh workdir as its first argument, then {@code extraArgs}, and waits for READY.
     */
    public Workload start(String name, String... extraArgs) {
        Path workdir = newDir(name);
        List<String> cmd = new ArrayList<>();
        cmd.add(binary(name).toString());
        cmd.add(workdir.toString());
        cmd.addAll(List.of(extraArgs));
        Workload w = startCommand(name, cmd, workdir);
        w.awaitReady();
        return w;
    }

    /** Starts {@code sleep <seconds>} (coreutils, dynamic) in its own session. */
    public Workload sleep(long seconds) {
        Path workdir = newDir("sleep");
        return startCommand("sleep", List.of(which("sleep"), Long.toString(seconds)), workdir);
    }

    /**
     * Writes {@code script} to the workdir and starts the real python3 binary (not a pyenv shim) on it, with the
     * workdir as argument; waits for READY.
     */
    public Workload python(String name, String script) {
        Path workdir = newDir(name);
        Path file = workdir.resolve(name + ".py");
        try {
            Files.writeString(file, script, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + file, e);
        }
        Workload w = startCommand(name, List.of(python3(), file.toString(), workdir.toString()), workdir);
        w.awaitReady();
        return w;
    }

    /**
     * Starts any command as a workload: {@code setsid} + the command, stdin /dev/null, output appended to
     * {@code <workdir>/<name>.log}. Returns once the process has exec'd the command (its comm changed from setsid).
     */
    public Workload startCommand(String name, List<String> command, Path workdir) {
        return startCommand(name, command, workdir, comm -> !comm.equals("setsid"));
    }

    /**
     * Like {@link #startCommand(String, List, Path)}, for a command that execs another ({@code setpriv ... postgres}):
     * returns once the process's comm is accepted by {@code execd}.
     */
    public Workload startCommand(String name, List<String> command, Path workdir,
                                 java.util.function.Predicate<String> execd) {
        Path logPath = workdir.resolve(name + ".log");
        List<String> cmd = new ArrayList<>();
        cmd.add(which("setsid"));
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workdir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logPath.toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(logPath.toFile()));
        Process p;
        try {
            p = ProcessControl.registerJdkChild(pb.start());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + cmd, e);
        }
        others.add(p);
        long pid = p.pid();
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        ProcStat st;
        while (true) {
            Optional<ProcStat> s = ProcStat.read(pid);
            if (s.isPresent() && execd.test(s.get().comm())) {
                st = s.get();
                break;
            }
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("workload " + cmd + " did not start; log:\n" + new LogFile(logPath).tail(20));
            }
            ProcessControl.sleep(5);
        }
        Workload w = new Workload(name, pid, st.startTime(), st.comm(), new LogFile(logPath), workdir, p);
        started.add(w);
        return w;
    }

    /**
     * Takes charge of a restored process: waits until {@code pid} runs a process named like {@code original}
     * and pins its start time. The returned workload shares the original's log and workdir; it is killed and
     * reaped by {@link #close()}.
     */
    public Workload adoptRestored(Workload original, long pid) {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (true) {
            Optional<ProcStat> s = ProcStat.read(pid).filter(x -> !x.isZombie());
            if (s.isPresent() && s.get().comm().equals(original.comm())) {
                Workload w = new Workload(original.name(), pid, s.get().startTime(), s.get().comm(), original.log(),
                        original.workdir(), null);
                started.add(w);
                return w;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no restored process \"" + original.comm() + "\" with pid " + pid + " within "
                        + Workload.TIMEOUT.toSeconds() + " s (pid " + pid + " is "
                        + ProcStat.read(pid).map(ProcStat::toString).orElse("gone") + ")");
            }
            ProcessControl.sleep(10);
        }
    }

    /** Adopts a restored process with the original's pid (the usual case). */
    public Workload adoptRestored(Workload original) {
        return adoptRestored(original, original.pid());
    }

    /**
     * The pid {@code w} printed as {@code child=<pid>} in its READY line, registered (as {@link #trackForeignPid})
     * to be killed at the end: a child the workload forked, which the test did not start.
     */
    public long trackChild(Workload w) {
        return trackReadyPid(w, "child");
    }

    /**
     * The pid {@code w} printed as {@code key=<pid>} in its READY line (a child or a helper it forked, which the test
     * did not start), registered (as {@link #trackForeignPid}) to be killed at the end.
     */
    public long trackReadyPid(Workload w, String key) {
        long pid = Long.parseLong(w.ready(key));
        trackForeignPid(pid);
        return pid;
    }

    /** Registers a pid the test did not start (e.g. a helper a workload double-forked) to be killed at the end. */
    public void trackForeignPid(long pid) {
        ProcStat.read(pid).ifPresent(foreignPids::add);
    }

    /** Registers a JDK process (e.g. a background {@code cryo restore}) to be killed at the end if still running. */
    public void trackProcess(Process p) {
        others.add(p);
    }

    /** @return the real python3 executable: {@code sys.executable} of the python3 on PATH (pyenv shims are scripts) */
    public static synchronized String python3() {
        if (python3 == null) {
            python3 = CryoTestKit.realPython3("python3", "/root/.pyenv/shims/python3", "/usr/bin/python3");
        }
        return python3;
    }

    private static String python3;

    /** @return the absolute path of a program on PATH (/usr/bin, /bin as fallback) */
    public static String which(String program) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/bin:/bin";
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p) && !Files.isDirectory(p)) {
                return p.toString();
            }
        }
        throw new IllegalStateException(program + " not found on PATH");
    }

    /**
     * Kills everything this test started or adopted (SIGKILL), then any other child left to this JVM (restored
     * processes orphaned by a failed test), and reaps what is ours to reap. Never throws.
     */
    @Override
    public void close() {
        for (Workload w : started) {
            quietly(w::kill);
        }
        for (ProcStat f : foreignPids) {
            quietly(() -> {
                if (ProcStat.read(f.pid()).filter(s -> s.startTime() == f.startTime()).isPresent()) {
                    ProcessControl.kill(f.pid(), ProcessControl.SIGKILL);
                }
            });
        }
        for (Process p : others) {
            quietly(() -> {
                p.destroyForcibly();
                p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            });
        }
        for (ProcStat f : foreignPids) {
            quietly(() -> ProcessControl.reap(f.pid(), Duration.ofSeconds(2)));
        }
        quietly(() -> ProcessControl.killOrphans(Duration.ofSeconds(2)));
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void quietly(Step step) {
        try {
            step.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception | AssertionError e) {
            // cleanup goes on; the test's own failure is the one to report
        }
    }
}
