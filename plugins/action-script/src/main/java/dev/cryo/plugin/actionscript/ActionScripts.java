package dev.cryo.plugin.actionscript;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.LifecycleEvent;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The scripts given with {@code --action-script}, and how one action runs them: each in the order given, as its own
 * process ({@code execve} of the path, no shell; argv[0] is the path), in cryo's working directory, with cryo's
 * environment plus CRIU's variables:
 * <ul>
 *   <li>{@code CRTOOLS_SCRIPT_ACTION}: the action ({@link Action#name}).</li>
 *   <li>{@code CRTOOLS_IMAGE_DIR}: the image directory, absolute (CRIU gives a {@code /proc/PID/fd/N} path to the
 *       same directory).</li>
 *   <li>{@code CRTOOLS_INIT_PID}: the root pid of the tree — in every action of a dump, and in a restore from
 *       {@code post-restore} on; as in CRIU, {@code pre-restore} runs before the tree exists and does not get it
 *       (nor an inherited value from cryo's environment).</li>
 * </ul>
 * Standard input is {@code /dev/null}; standard output and error both go to cryo's standard error, so that
 * {@code --output json} keeps standard output for its result. Cryo waits for the script; the first that exits
 * non-zero stops the action with an error naming the script, the action and the status (CRIU runs all and fails if
 * any failed; stopping at the first keeps a later script from acting on a step that already failed). No timeout:
 * CRIU has none either.
 */
final class ActionScripts {
    /** The option (and config key). */
    static final String OPTION = "action-script";

    /** The actions, named as in CRIU's {@code CRTOOLS_SCRIPT_ACTION}. */
    enum Action {
        PRE_DUMP("pre-dump", "dump refused", "the tree was not stopped"),
        NETWORK_LOCK("network-lock", "dump failed", "the tree was resumed"),
        POST_DUMP("post-dump", "dump failed", "the image is complete; the tree was resumed, not killed"),
        /** After {@code post-dump} of a dump that leaves the tree running ({@code -R}). */
        NETWORK_UNLOCK("network-unlock", "dump failed", "the image is complete; the tree was resumed"),
        PRE_RESTORE("pre-restore", "restore refused", "no process was created"),
        POST_RESTORE("post-restore", "restore failed", "the restored processes were killed"),
        /** After {@code post-restore}. */
        NETWORK_UNLOCK_RESTORE("network-unlock", "restore failed", "the restored processes were killed"),
        POST_RESUME("post-resume", "restore failed", "the restored processes run on");

        /** The value of {@code CRTOOLS_SCRIPT_ACTION}. */
        final String name;
        private final String failure;
        private final String consequence;

        Action(String name, String failure, String consequence) {
            this.name = name;
            this.failure = failure;
            this.consequence = consequence;
        }
    }

    private final List<Path> paths;

    private ActionScripts(List<Path> paths) {
        this.paths = paths;
    }

    /** The scripts of {@code values} (the option's values, in order), made absolute against cryo's directory. */
    static ActionScripts of(List<String> values) {
        List<Path> paths = new ArrayList<>();
        for (String v : values) {
            paths.add(Path.of(v).toAbsolutePath().normalize());
        }
        return new ActionScripts(List.copyOf(paths));
    }

    boolean isEmpty() {
        return paths.isEmpty();
    }

    List<String> paths() {
        return paths.stream().map(Path::toString).toList();
    }

    /** Refuses, before anything happens, a script that is not an executable regular file. */
    void checkRunnable() throws CryoException {
        for (Path p : paths) {
            String problem = !Files.exists(p) ? "does not exist"
                    : !Files.isRegularFile(p) ? "is not a regular file"
                    : !Files.isExecutable(p) ? "is not executable" : null;
            if (problem != null) {
                throw new CryoException(Category.USAGE, "action-script/NOT_EXECUTABLE", "the action script " + p
                        + " (--" + OPTION + ") " + problem, "give the path of an executable file (chmod +x "
                        + p.getFileName() + "), or drop --" + OPTION + " " + p);
            }
        }
    }

    /**
     * Runs every script for {@code action}, one after the other.
     *
     * @param withPid whether {@code CRTOOLS_INIT_PID} is set
     * @throws CryoException naming the first script that could not be started or exited non-zero
     */
    void run(Action action, LifecycleEvent event, boolean withPid) throws CryoException {
        for (Path p : paths) {
            int status = runOne(p, action, event, withPid);
            if (status != 0) {
                throw failed(p, action, status);
            }
        }
    }

    private static int runOne(Path script, Action action, LifecycleEvent event, boolean withPid)
            throws CryoException {
        ProcessBuilder pb = new ProcessBuilder(script.toString());
        Map<String, String> env = pb.environment();
        env.put("CRTOOLS_SCRIPT_ACTION", action.name);
        env.put("CRTOOLS_IMAGE_DIR", event.imageDir().toAbsolutePath().toString());
        if (withPid) {
            env.put("CRTOOLS_INIT_PID", Integer.toString(event.root().value()));
        } else {
            env.remove("CRTOOLS_INIT_PID");
        }
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectErrorStream(true);
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new CryoException(Category.PLUGIN_CONFIG, "action-script/NOT_STARTED", action.failure + ": the "
                    + action.name + " action script " + script + " could not be started: " + e.getMessage(),
                    "check its first line (#!interpreter) and its permissions, or drop --" + OPTION + " " + script,
                    e);
        }
        try (InputStream out = process.getInputStream()) {
            copy(out, System.err);
            return process.waitFor();
        } catch (IOException e) {
            process.destroyForcibly();
            throw new CryoException(Category.INTERNAL, "action-script/OUTPUT", "reading the output of the action"
                    + " script " + script + " (" + action.name + "): " + e.getMessage(), null, e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CryoException(Category.INTERNAL, "action-script/INTERRUPTED", "interrupted while the "
                    + action.name + " action script " + script + " ran; it was killed", null, e);
        }
    }

    private static void copy(InputStream in, PrintStream to) throws IOException {
        byte[] buf = new byte[8192];
        OutputStream sink = to;
        for (int n; (n = in.read(buf)) >= 0; ) {
            sink.write(buf, 0, n);
            sink.flush();
        }
    }

    /** The error for {@code script} exiting with {@code status} in {@code action}. */
    static CryoException failed(Path script, Action action, int status) {
        return new CryoException(Category.PLUGIN_CONFIG, "action-script/FAILED", action.failure + ": the "
                + action.name + " action script " + script + " exited with status " + status + "; "
                + action.consequence, "its output is above; fix what the script checks, or drop --" + OPTION + " "
                + script);
    }
}
