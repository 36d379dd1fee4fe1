package dev.cryo.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code cryo} command running in the background (typically {@code cryo restore} without {@code -d}, which stays
 * the parent and waiter of the restored root). Its output goes to files, never to JVM pipes.
 *
 * @param command the command line
 * @param process the running {@code cryo}
 * @param out the file its stdout goes to
 * @param err the file its stderr goes to
 */
public record RunningCryo(List<String> command, Process process, Path out, Path err) {

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** @return what it printed so far */
    public CryoResult snapshot() {
        return new CryoResult(command, process.isAlive() ? -1 : process.exitValue(), read(out), read(err));
    }

    /**
     * Waits for it to exit.
     *
     * @throws AssertionError if it is still running after the timeout (it is left running; cleanup kills it)
     */
    public CryoResult awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("cryo still running after " + timeout.toSeconds() + " s: "
                        + snapshot().describe());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        return new CryoResult(command, process.exitValue(), read(out), read(err));
    }

    /**
     * Fails fast if cryo exited while the test expected it to keep running (e.g. a restore that failed).
     */
    public void assertRunning() {
        if (!process.isAlive()) {
            throw new AssertionError("cryo exited early: " + awaitExit(Duration.ofSeconds(1)).describe());
        }
    }

    static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + p + ": " + e + ")";
        }
    }
}
