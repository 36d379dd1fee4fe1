package dev.cryo.testkit;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What to start as a workload: a command line, or a python3 script. Immutable; each {@code with...} returns a copy.
 *
 * <p>The program follows the kit's protocol (see the package docs): print {@code READY...} once it holds the
 * resource, wait for the file {@code $CRYO_KIT_GO}, check, print findings, exit 0 when all is well.
 */
public final class WorkloadSpec {
    /** How long a workload may take to print its ready line by default. */
    public static final Duration DEFAULT_READY_TIMEOUT = Duration.ofSeconds(30);

    private final String name;
    private final List<String> command;
    private final String pythonSource;
    private final Map<String, String> env;
    private final String readyPrefix;
    private final Duration readyTimeout;

    private WorkloadSpec(String name, List<String> command, String pythonSource, Map<String, String> env,
                         String readyPrefix, Duration readyTimeout) {
        this.name = name;
        this.command = List.copyOf(command);
        this.pythonSource = pythonSource;
        this.env = Map.copyOf(env);
        this.readyPrefix = readyPrefix;
        this.readyTimeout = readyTimeout;
    }

    /**
     * A program and its arguments, e.g. {@code command("/path/to/holder", "--fds", "3")}. A relative program name
     * is looked up on PATH when started.
     */
    public static WorkloadSpec command(String program, String... args) {
        List<String> argv = new java.util.ArrayList<>();
        argv.add(Objects.requireNonNull(program, "program"));
        argv.addAll(List.of(args));
        String base = program.substring(program.lastIndexOf('/') + 1);
        return new WorkloadSpec(base, argv, null, Map.of(), "READY", DEFAULT_READY_TIMEOUT);
    }

    /**
     * A python3 program given as source text, written to {@code <name>.py} in the workload's directory and run by
     * the real python3 interpreter ({@code sys.executable} of the python3 on PATH: a pyenv shim is a script),
     * with {@code args}.
     */
    public static WorkloadSpec python3(String source, String... args) {
        return new WorkloadSpec("workload", List.of(args), Objects.requireNonNull(source, "source"),
                Map.of("PYTHONUNBUFFERED", "1"), "READY", DEFAULT_READY_TIMEOUT);
    }

    /**
     * A python3 program from a class-path resource of the test, e.g. {@code workloads/holder.py} in
     * {@code src/test/resources}; named after the file.
     */
    public static WorkloadSpec python3Resource(String resource, String... args) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        try (java.io.InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no class-path resource " + resource);
            }
            String file = resource.substring(resource.lastIndexOf('/') + 1);
            String name = file.endsWith(".py") ? file.substring(0, file.length() - 3) : file;
            return python3(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), args)
                    .withName(name);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + resource, e);
        }
    }

    /** @return a copy named {@code name} (the workload's directory and, for python, its script file) */
    public WorkloadSpec withName(String name) {
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("a workload name is letters, digits, '_', '.', '-': " + name);
        }
        return new WorkloadSpec(name, command, pythonSource, env, readyPrefix, readyTimeout);
    }

    /** @return a copy with one more environment variable */
    public WorkloadSpec withEnv(String key, String value) {
        Map<String, String> e = new LinkedHashMap<>(env);
        e.put(key, value);
        return new WorkloadSpec(name, command, pythonSource, e, readyPrefix, readyTimeout);
    }

    /** @return a copy that is ready at the first stdout line starting with {@code prefix} (default {@code READY}) */
    public WorkloadSpec withReadyLine(String prefix) {
        return new WorkloadSpec(name, command, pythonSource, env, Objects.requireNonNull(prefix), readyTimeout);
    }

    /** @return a copy that may take {@code timeout} to print its ready line */
    public WorkloadSpec withReadyTimeout(Duration timeout) {
        return new WorkloadSpec(name, command, pythonSource, env, readyPrefix, Objects.requireNonNull(timeout));
    }

    String name() {
        return name;
    }

    /** For a command: the argv; for python: the script's arguments. */
    List<String> command() {
        return command;
    }

    /** @return the python source, or null for a command */
    String pythonSource() {
        return pythonSource;
    }

    Map<String, String> env() {
        return env;
    }

    String readyPrefix() {
        return readyPrefix;
    }

    Duration readyTimeout() {
        return readyTimeout;
    }

    @Override
    public String toString() {
        return pythonSource != null ? "python3 " + name + ".py " + String.join(" ", command) : String.join(" ", command);
    }
}
