package dev.cryo.it;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the distribution's {@code bin/cryo} exactly as a user would (CRIU's option spelling), with stdin
 * {@code /dev/null} and stdout/stderr captured in files under the test's directory.
 *
 * <p>The distribution is the directory given by the {@code cryo.dist} system property (the unpacked tarball), or
 * any copy of it ({@link #Cryo(Path, Path, Workloads)}). {@code CRYO_CONFIG} is removed from cryo's environment so
 * only the files a test names apply. Background runs are registered with the test's {@link Workloads} so that
 * cleanup kills them. Not thread-safe.
 */
public final class Cryo {
    /** System property: the unpacked distribution directory (contains bin/cryo). */
    public static final String PROPERTY = "cryo.dist";
    /** How long a foreground command may take. */
    public static final Duration TIMEOUT = Duration.ofSeconds(120);

    private final Path dist;
    private final Path outDir;
    private final Workloads tracker;
    private final java.util.Map<String, String> environment = new java.util.TreeMap<>();
    private Path launcher;
    private int seq;

    /**
     * @param dist the distribution directory
     * @param outDir where cryo's captured output files go
     * @param tracker the test's process tracker (background runs are killed by its close())
     */
    public Cryo(Path dist, Path outDir, Workloads tracker) {
        this.dist = dist;
        this.outDir = outDir;
        this.tracker = tracker;
    }

    /** The distribution named by {@code -Dcryo.dist}. */
    public static Cryo fromSystemProperty(Path outDir, Workloads tracker) {
        return new Cryo(distribution(), outDir, tracker);
    }

    /** @return the directory of {@code -Dcryo.dist}, checked to contain an executable bin/cryo */
    public static Path distribution() {
        String d = System.getProperty(PROPERTY);
        if (d == null) {
            throw new IllegalStateException("system property " + PROPERTY + " is not set (the build sets it to the "
                    + "unpacked distribution); run the ITs through Maven failsafe");
        }
        Path p = Path.of(d).toAbsolutePath();
        if (!Files.isExecutable(p.resolve("bin/cryo"))) {
            throw new IllegalStateException(p.resolve("bin/cryo") + " is missing or not executable");
        }
        return p;
    }

    /** Sets {@code name=value} in the environment of the commands this runner starts from now on (null: unset). */
    public Cryo environment(String name, String value) {
        if (value == null) {
            environment.remove(name);
        } else {
            environment.put(name, value);
        }
        return this;
    }

    public Path dist() {
        return dist;
    }

    public Path executable() {
        return launcher != null ? launcher : dist.resolve("bin").resolve("cryo");
    }

    /** Runs cryo through {@code launcher} (e.g. a symlink to {@code bin/cryo}) from now on. */
    public Cryo launchedThrough(Path launcher) {
        this.launcher = launcher;
        return this;
    }

    /** Runs {@code cryo args...} in the foreground and returns its result; fails the test after {@link #TIMEOUT}. */
    public CryoResult run(String... args) {
        RunningCryo r = start(args);
        try {
            return r.awaitExit(TIMEOUT);
        } finally {
            if (r.isAlive()) {
                r.process().destroyForcibly();
            }
        }
    }

    /** Starts {@code cryo args...} in the background. */
    public RunningCryo start(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(executable().toString());
        cmd.addAll(List.of(args));
        int n = ++seq;
        String verb = args.length > 0 ? args[0].replaceAll("[^A-Za-z0-9_-]", "") : "cryo";
        Path out = outDir.resolve("cryo-" + n + "-" + verb + ".out");
        Path err = outDir.resolve("cryo-" + n + "-" + verb + ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        pb.environment().remove("CRYO_CONFIG");
        pb.environment().putAll(environment);
        try {
            Files.createDirectories(outDir);
            Process p = ProcessControl.registerJdkChild(pb.start());
            tracker.trackProcess(p);
            return new RunningCryo(cmd, p, out, err);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + cmd, e);
        }
    }

    /** {@code cryo dump -t PID -D DIR extra...} */
    public CryoResult dump(long pid, Path dir, String... extra) {
        return run(concat(List.of("dump", "-t", Long.toString(pid), "-D", dir.toString()), extra));
    }

    /** {@code cryo restore -D DIR extra...} in the foreground (use with {@code -d}, or for restores that must fail). */
    public CryoResult restore(Path dir, String... extra) {
        return run(concat(List.of("restore", "-D", dir.toString()), extra));
    }

    /** {@code cryo restore -D DIR extra...} in the background: cryo stays the parent and waiter of the root. */
    public RunningCryo restoreInBackground(Path dir, String... extra) {
        return start(concat(List.of("restore", "-D", dir.toString()), extra));
    }

    /** {@code cryo show --json -D DIR}, asserted to succeed, parsed. */
    public ShowOutput show(Path dir) {
        CryoResult r = run("show", "--json", "-D", dir.toString()).assertOk();
        return ShowOutput.parse(r.stdout());
    }

    /** Writes a config file (one long option per line, no leading --) into the output directory. */
    public Path writeConfig(String name, String... lines) {
        Path p = outDir.resolve(name);
        try {
            Files.createDirectories(outDir);
            Files.writeString(p, String.join("\n", lines) + "\n");
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + p, e);
        }
        return p;
    }

    /**
     * Copies the whole distribution (permissions kept) into {@code target} and returns a runner for the copy;
     * tests that modify {@code plugins/} or {@code conf/} work on such a copy.
     */
    public Cryo copyTo(Path target) {
        try (var walk = Files.walk(dist)) {
            for (Path src : (Iterable<Path>) walk::iterator) {
                Path dst = target.resolve(dist.relativize(src).toString());
                if (Files.isDirectory(src, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(src, dst, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot copy " + dist + " to " + target, e);
        }
        return new Cryo(target, outDir, tracker);
    }

    private static String[] concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all.toArray(String[]::new);
    }

    /** Waits for a background run, or fails; convenience for {@code awaitExit} with the default timeout. */
    public static CryoResult await(RunningCryo r) {
        return r.awaitExit(TIMEOUT);
    }
}
