package dev.cryo.testkit;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;

/**
 * A JUnit 5 extension that dumps and restores real processes with the plugin under test, through the real
 * {@code bin/cryo} of a private copy of a cryo distribution.
 *
 * <pre>{@code
 * class PidfdIT {
 *     @RegisterExtension
 *     static final CryoTestKit kit = CryoTestKit.forPlugin("example-pidfd");
 *
 *     @Test
 *     void thePidfdStillRefersToTheChild() {
 *         Outcome out = kit.roundTrip(WorkloadSpec.python3(SCRIPT)).assertSucceeded();
 *         assertEquals(List.of("OK signal", "OK exit"), out.lines());
 *     }
 * }
 * }</pre>
 *
 * <p>The distribution: the directory named by the system property {@value #DIST_PROPERTY} (an unpacked cryo
 * tarball), copied once per test class into {@code target/cryo-testkit/<TestClass>/cryo} (property
 * {@value #WORK_PROPERTY} moves it). The plugin under test: the jar named by {@value #PLUGIN_JAR_PROPERTY} (the
 * plugin parent POM's failsafe configuration passes the jar {@code package} just built), which replaces any jar
 * with the same {@code Plugin-Id} in the copy's {@code plugins/}; without that property the plugin must already be
 * in the distribution (cryo's bundled plugins). Before the first test the kit runs {@code cryo plugins} and fails
 * unless the plugin is listed as enabled. Everything a test ran stays in the work directory for inspection:
 * cryo's output, the images, the workloads' logs.
 *
 * <p>A workload is started with {@code setsid} (its own session), stdin {@code /dev/null}, stdout and stderr
 * appended to files, and no other fd of the JVM; the kit waits for its {@code READY} line (see the package docs
 * for the protocol). {@link #dump} runs {@code cryo dump}; on success it waits until the dumped tree is gone and
 * reaped (the JVM is made a child subreaper), so the pids are free for the restore. {@link #restoreAndRun} runs
 * {@code cryo restore} (not detached: cryo waits for the root), creates the {@code CRYO_KIT_GO} file once the
 * restored tree runs, waits for cryo to exit with the root's status and returns an {@link Outcome}.
 *
 * <p>After each test every process the test started or restored that still runs is killed and reaped. Register
 * the kit in a {@code static} field; one test class at a time (not thread-safe). Needs what cryo needs: Linux
 * x86_64, root (ptrace, restoring pids).
 */
public final class CryoTestKit implements BeforeAllCallback, AfterEachCallback {
    /** System property: the unpacked cryo distribution to copy (holds {@code bin/cryo}). */
    public static final String DIST_PROPERTY = "cryo.dist";
    /** System property: the plugin jar under test; empty or unset when the distribution already holds it. */
    public static final String PLUGIN_JAR_PROPERTY = "cryo.testkit.plugin-jar";
    /** System property: where the kit works; default {@code target/cryo-testkit}. */
    public static final String WORK_PROPERTY = "cryo.testkit.work";
    /** How long one cryo command may run. */
    public static final Duration CRYO_TIMEOUT = Duration.ofSeconds(120);
    /** How long a restored workload may run after it was told to go on. */
    public static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);

    private final String pluginId;
    private final List<String> configLines = new ArrayList<>();
    private String testClass = "default";
    private Path work;
    private Path home;
    private int seq;
    private final List<Process> started = new ArrayList<>(); // workloads and cryo commands, JDK-managed
    private final List<ProcStat> treeProcesses = new ArrayList<>();
    private final List<Long> dumpedPids = new ArrayList<>();

    private CryoTestKit(String pluginId) {
        this.pluginId = pluginId;
    }

    /** @param pluginId the {@code Plugin-Id} of the plugin under test; the kit checks that cryo loads it */
    public static CryoTestKit forPlugin(String pluginId) {
        if (pluginId == null || pluginId.isBlank()) {
            throw new IllegalArgumentException("pluginId");
        }
        return new CryoTestKit(pluginId);
    }

    /**
     * Adds lines to the copy's {@code conf/cryo.conf} (one long option per line, without {@code --}), e.g.
     * {@code plugins.enabled memory,regular-file,example-pidfd}. Call before the first test runs.
     */
    public CryoTestKit withConfig(String... lines) {
        if (home != null) {
            throw new IllegalStateException("withConfig after the distribution was prepared");
        }
        configLines.addAll(List.of(lines));
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        testClass = context.getRequiredTestClass().getSimpleName();
        distribution();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        cleanUp();
    }

    /** @return the private distribution (prepared on first use): {@code bin/cryo}, {@code plugins/}, {@code conf/} */
    public synchronized Path distribution() {
        if (home == null) {
            prepare();
        }
        return home;
    }

    /** @return the plugin under test's id */
    public String pluginId() {
        return pluginId;
    }

    // ------------------------------------------------------------------------------------------------ cryo

    /** Runs {@code cryo args...} in the foreground (stdin /dev/null) and returns its result. */
    public CryoResult cryo(String... args) {
        return run(Arrays.asList(args), Optional.empty());
    }

    /** Writes a config file into the work directory, for {@code --config FILE}; returns its path. */
    public Path writeConfig(String name, String... lines) {
        Path p = workDir().resolve(name);
        write(p, String.join("\n", lines) + "\n");
        return p;
    }

    /**
     * {@code cryo dump -t PID -D DIR options...}. When it succeeds and the options leave the tree to be killed
     * (no {@code -R}/{@code -s}), waits until the dumped processes are gone and reaped.
     */
    public CryoResult dump(Workload w, String... options) {
        List<Long> descendants = ProcStat.descendantsOf(w.pid());
        Path image = workDir().resolve("images").resolve("img-" + (++seq));
        List<String> args = new ArrayList<>(List.of("dump", "-t", Long.toString(w.pid()), "-D", image.toString()));
        args.addAll(List.of(options));
        w.markDumped();
        CryoResult r = run(args, Optional.of(image));
        List<String> opts = List.of(options);
        boolean killed = r.exitCode() == 0 && opts.stream().noneMatch(o -> List.of("-R", "--leave-running", "-s",
                "--leave-stopped").contains(o));
        if (killed) {
            awaitExit(w.process(), "the dumped root " + w);
            for (long pid : descendants) {
                if (!Reaper.reap(pid, Duration.ofSeconds(10))) {
                    throw new AssertionError("dumped process " + pid + " of " + w + " did not exit after the dump");
                }
            }
            dumpedPids.add(w.pid());
            dumpedPids.addAll(descendants);
        }
        return r;
    }

    /**
     * {@code cryo restore -D IMAGE --pidfile F options...} in the background; once the restored tree runs, creates
     * the workload's {@code CRYO_KIT_GO} file and waits for cryo, which exits with the restored root's status.
     */
    public Outcome restoreAndRun(Workload original, CryoResult dump, String... options) {
        Path pidfile = workDir().resolve("restored-" + (++seq) + ".pid");
        List<String> args = new ArrayList<>(List.of("restore", "-D", dump.image().toString(), "--pidfile",
                pidfile.toString()));
        args.addAll(List.of(options));
        RunningCryo rc = start(args, Optional.empty());
        long deadline = System.nanoTime() + CRYO_TIMEOUT.toNanos();
        boolean restored = false;
        while (System.nanoTime() < deadline) {
            if (Files.exists(pidfile)) {
                restored = true;
                break;
            }
            if (!rc.process().isAlive()) {
                restored = Files.exists(pidfile);
                break;
            }
            Reaper.sleep(5);
        }
        if (restored) {
            write(original.dir().resolve("go"), "");
        }
        CryoResult r = rc.await(restored ? RUN_TIMEOUT : CRYO_TIMEOUT);
        List<String> out = original.stdoutLines();
        int from = Math.max(0, Math.min(original.linesAtDump(), out.size()));
        return new Outcome(dump, r, restored, r.exitCode(), List.copyOf(out.subList(from, out.size())),
                original.stderr());
    }

    /** Starts {@code spec}, dumps it and restores it with the same options, and reports what it found. */
    public Outcome roundTrip(WorkloadSpec spec, String... options) {
        return roundTrip(spec, List.of(options), List.of(options));
    }

    /**
     * Starts {@code spec}, dumps it with {@code dumpOptions} (the dump must succeed), restores it with
     * {@code restoreOptions}, lets it check its resource and reports what it found.
     */
    public Outcome roundTrip(WorkloadSpec spec, List<String> dumpOptions, List<String> restoreOptions) {
        Workload w = start(spec);
        CryoResult d = dump(w, dumpOptions.toArray(String[]::new));
        if (d.exitCode() != 0) {
            throw new AssertionError("the dump of " + w + " failed:\n" + d.describe());
        }
        return restoreAndRun(w, d, restoreOptions.toArray(String[]::new));
    }

    // ------------------------------------------------------------------------------------------------ workloads

    /** Starts a workload in its own session and waits for its ready line. */
    public Workload start(WorkloadSpec spec) {
        Path dir = workDir().resolve(spec.name() + "-" + (++seq));
        List<String> cmd = new ArrayList<>();
        cmd.add(which("setsid"));
        if (spec.pythonSource() != null) {
            Path script = dir.resolve(spec.name() + ".py");
            write(script, spec.pythonSource());
            cmd.add(python3());
            cmd.add(script.toString());
            cmd.addAll(spec.command());
        } else {
            String program = spec.command().get(0);
            cmd.add(program.contains("/") ? program : which(program));
            cmd.addAll(spec.command().subList(1, spec.command().size()));
        }
        Path stdout = dir.resolve("stdout.log");
        Path stderr = dir.resolve("stderr.log");
        write(stdout, "");
        write(stderr, "");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(stdout.toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile()));
        Map<String, String> env = pb.environment();
        env.remove("CRYO_CONFIG");
        env.putAll(spec.env());
        env.put("CRYO_KIT_GO", dir.resolve("go").toString());
        env.put("CRYO_KIT_DIR", dir.toString());
        Reaper.becomeSubreaper();
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
        started.add(p);
        long deadline = System.nanoTime() + spec.readyTimeout().toNanos();
        while (true) {
            Optional<String> ready = lines(stdout).stream().filter(l -> l.startsWith(spec.readyPrefix())).findFirst();
            Optional<ProcStat> st = ProcStat.read(p.pid()).filter(s -> !s.comm().equals("setsid"));
            if (ready.isPresent() && st.isPresent()) {
                Workload w = new Workload(spec.name(), st.get(), dir, p, ready.get());
                treeProcesses.add(st.get());
                return w;
            }
            if (!p.isAlive()) {
                throw new AssertionError("workload " + spec + " exited with status " + p.exitValue() + " before "
                        + "printing a line starting with " + spec.readyPrefix() + "\n  stdout: "
                        + CryoResult.indent(String.join("\n", lines(stdout))) + "\n  stderr: "
                        + CryoResult.indent(read(stderr)));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("workload " + spec + " printed no line starting with " + spec.readyPrefix()
                        + " within " + spec.readyTimeout().toSeconds() + " s\n  stderr: "
                        + CryoResult.indent(read(stderr)));
            }
            Reaper.sleep(5);
        }
    }

    /** @return the real python3 executable: {@code sys.executable} of the python3 on PATH */
    public static synchronized String python3() {
        if (python3 == null) {
            python3 = realPython3("python3", "/usr/bin/python3");
        }
        return python3;
    }

    private static String python3;

    /**
     * The real python3 interpreter: the first of {@code candidates} that runs, asked for its {@code sys.executable}.
     *
     * @param candidates python3 commands (looked up on PATH) or paths, tried in this order
     * @return the real executable of the first candidate that runs: its {@code sys.executable}, links resolved (a
     *         pyenv shim is a script that picks an interpreter)
     * @throws IllegalStateException if none runs
     */
    public static String realPython3(String... candidates) {
        for (String candidate : candidates) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import sys; print(sys.executable)")
                        .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (p.waitFor() == 0 && !out.isEmpty() && Files.isExecutable(Path.of(out))) {
                    return Path.of(out).toRealPath().toString();
                }
            } catch (IOException e) {
                // try the next candidate
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        throw new IllegalStateException("no python3 found (tried " + String.join(", ", candidates) + ")");
    }

    // ------------------------------------------------------------------------------------------------ internals

    private Path workDir() {
        distribution();
        return work;
    }

    private void prepare() {
        String d = System.getProperty(DIST_PROPERTY, "");
        if (d.isBlank()) {
            throw new IllegalStateException("no cryo distribution: set -D" + DIST_PROPERTY + "=DIR to an unpacked "
                    + "cryo tarball (e.g. mvn verify -Dcryo.dist=/opt/cryo-0.1.0); the test kit dumps and restores "
                    + "with its bin/cryo");
        }
        Path dist = Path.of(d).toAbsolutePath().normalize();
        if (!Files.isExecutable(dist.resolve("bin/cryo")) || !Files.isDirectory(dist.resolve("plugins"))) {
            throw new IllegalStateException(dist + " is not a cryo distribution (no executable bin/cryo or no "
                    + "plugins/); -D" + DIST_PROPERTY + " must name an unpacked cryo tarball");
        }
        Path base = Path.of(System.getProperty(WORK_PROPERTY, "target/cryo-testkit")).toAbsolutePath();
        work = base.resolve(testClass);
        deleteTree(work);
        Path copy = work.resolve("cryo");
        copyTree(dist, copy);

        String jar = System.getProperty(PLUGIN_JAR_PROPERTY, "");
        Path plugins = copy.resolve("plugins");
        if (!jar.isBlank()) {
            Path jarPath = Path.of(jar);
            if (!Files.isRegularFile(jarPath)) {
                throw new IllegalStateException("the plugin jar under test " + jarPath + " does not exist: run the "
                        + "test kit's tests in `mvn verify` (failsafe runs them after `package` built the jar)");
            }
            String id = pluginIdOf(jarPath).orElseThrow(() -> new IllegalStateException(jarPath
                    + " has no Plugin-Id in its manifest: build it with the cryo-plugin-parent POM"));
            if (!id.equals(pluginId)) {
                throw new IllegalStateException(jarPath + " is plugin '" + id + "', the test kit was set up for '"
                        + pluginId + "'");
            }
            for (Path p : jars(plugins)) {
                if (pluginIdOf(p).filter(pluginId::equals).isPresent()) {
                    delete(p);
                }
            }
            copyFile(jarPath, plugins.resolve(jarPath.getFileName()));
        } else if (jars(plugins).stream().noneMatch(p -> pluginIdOf(p).filter(pluginId::equals).isPresent())) {
            throw new IllegalStateException("no plugin '" + pluginId + "' in " + dist.resolve("plugins") + " and no -D"
                    + PLUGIN_JAR_PROPERTY + "=JAR to add");
        }
        if (!configLines.isEmpty()) {
            Path conf = copy.resolve("conf/cryo.conf");
            try {
                Files.createDirectories(conf.getParent());
                Files.writeString(conf, "\n# added by the test kit\n" + String.join("\n", configLines) + "\n",
                        StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        home = copy;
        CryoResult r = cryo("plugins");
        boolean enabled = r.exitCode() == 0 && r.stdout().lines().map(l -> l.trim().split("\\s+"))
                .anyMatch(f -> f.length >= 3 && f[0].equals(pluginId) && f[2].equals("enabled"));
        if (!enabled) {
            home = null;
            throw new IllegalStateException("cryo does not list plugin '" + pluginId + "' as enabled in " + copy
                    + ":\n" + r.describe());
        }
    }

    /** Kills and reaps what the last test left: background cryo commands, workloads, restored processes. */
    private void cleanUp() {
        long self = ProcessHandle.current().pid();
        java.util.Set<Long> ours = new java.util.LinkedHashSet<>();
        for (ProcStat root : treeProcesses) {
            if (root.stillRuns()) {
                ours.add(root.pid());
                ours.addAll(ProcStat.descendantsOf(root.pid()));
            }
        }
        for (long pid : dumpedPids) { // restored processes have the dumped pids
            ours.add(pid);
            ours.addAll(ProcStat.descendantsOf(pid));
        }
        ours.removeIf(pid -> !descendsFrom(pid, self));
        for (long pid : ours) {
            Reaper.kill(pid, Reaper.SIGKILL);
        }
        for (Process p : started) {
            p.destroyForcibly();
        }
        for (Process p : started) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // what the JDK did not start is ours to reap once it was reparented to us
        for (long pid : ours) {
            if (ProcStat.read(pid).filter(s -> s.ppid() == self).isPresent()) {
                Reaper.reap(pid, Duration.ofSeconds(5));
            }
        }
        started.clear();
        dumpedPids.clear();
        treeProcesses.clear();
    }

    /** @return whether {@code pid} is {@code ancestor} or runs below it */
    private static boolean descendsFrom(long pid, long ancestor) {
        long p = pid;
        for (int depth = 0; depth < 64 && p > 1; depth++) {
            if (p == ancestor) {
                return true;
            }
            Optional<ProcStat> st = ProcStat.read(p);
            if (st.isEmpty()) {
                return false;
            }
            p = st.get().ppid();
        }
        return p == ancestor;
    }

    private CryoResult run(List<String> args, Optional<Path> image) {
        return start(args, image).await(CRYO_TIMEOUT);
    }

    private record RunningCryo(List<String> command, Process process, Path out, Path err, Optional<Path> image) {
        CryoResult await(Duration timeout) {
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                    throw new AssertionError(String.join(" ", command) + " did not finish within "
                            + timeout.toSeconds() + " s\n  stderr: " + CryoResult.indent(read(err)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            return new CryoResult(command, process.exitValue(), read(out), read(err), image);
        }
    }

    private RunningCryo start(List<String> args, Optional<Path> image) {
        Path bin = distribution().resolve("bin/cryo");
        List<String> cmd = new ArrayList<>();
        cmd.add(bin.toString());
        cmd.addAll(args);
        int n = ++seq;
        String verb = args.isEmpty() ? "cryo" : args.get(0).replaceAll("[^A-Za-z0-9_-]", "");
        Path out = work.resolve("cryo-output").resolve(n + "-" + verb + ".out");
        Path err = work.resolve("cryo-output").resolve(n + "-" + verb + ".err");
        try {
            Files.createDirectories(out.getParent());
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().remove("CRYO_CONFIG");
            Process p = pb.start();
            started.add(p);
            return new RunningCryo(cmd, p, out, err, image);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    private static void awaitExit(Process p, String what) {
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                throw new AssertionError(what + " still runs 10 s after a successful dump");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** @return the {@code Plugin-Id} of a plugin jar's manifest */
    static Optional<String> pluginIdOf(Path jar) {
        try (JarFile j = new JarFile(jar.toFile())) {
            return Optional.ofNullable(j.getManifest()).map(m -> m.getMainAttributes().getValue("Plugin-Id"))
                    .map(String::trim).filter(s -> !s.isEmpty());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static List<Path> jars(Path dir) {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String which(String program) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/bin:/bin";
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program)) && !Files.isDirectory(Path.of(dir, program))) {
                return Path.of(dir, program).toString();
            }
        }
        throw new IllegalStateException(program + " not found on PATH");
    }

    private static List<String> lines(Path p) {
        return read(p).lines().toList();
    }

    private static String read(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static void write(Path p, String s) {
        try {
            Files.createDirectories(p.getParent());
            Files.writeString(p, s, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copyFile(Path from, Path to) {
        try {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path p) {
        try {
            Files.delete(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies a directory tree keeping file modes (bin/cryo stays executable); symlinks are copied as links. */
    static void copyTree(Path from, Path to) {
        try (var walk = Files.walk(from)) {
            for (Path src : (Iterable<Path>) walk::iterator) {
                Path dst = to.resolve(from.relativize(src).toString());
                if (Files.isDirectory(src, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(src, dst, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + from + " to " + to, e);
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
