package dev.cryo.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A workload the kit started: the root of the tree a test dumps. Its stdout and stderr are files in its
 * directory, which the restored process goes on writing.
 */
public final class Workload {
    private final String name;
    private final ProcStat stat;
    private final Path dir;
    private final Process process;
    private final String readyLine;
    private int linesAtDump = -1;

    Workload(String name, ProcStat stat, Path dir, Process process, String readyLine) {
        this.name = name;
        this.stat = stat;
        this.dir = dir;
        this.process = process;
        this.readyLine = readyLine;
    }

    /** @return the root's pid (the restored root gets the same one) */
    public long pid() {
        return stat.pid();
    }

    /** @return the root's name ({@code comm}) */
    public String comm() {
        return stat.comm();
    }

    /** @return the line the workload announced itself with, e.g. {@code READY child=4711 fd=3} */
    public String readyLine() {
        return readyLine;
    }

    /** @return the workload's own directory: its cwd, with {@code stdout.log} and {@code stderr.log} */
    public Path dir() {
        return dir;
    }

    /** @return every line the workload (original, then restored) wrote to stdout so far */
    public List<String> stdoutLines() {
        return read(dir.resolve("stdout.log")).lines().toList();
    }

    /** @return what the workload wrote to stderr so far */
    public String stderr() {
        return read(dir.resolve("stderr.log"));
    }

    /** @return whether the original process (not a restored one with its pid) still runs */
    public boolean isAlive() {
        return stat.stillRuns();
    }

    /** Kills the original process (SIGKILL) if it still runs, and waits until it is gone. */
    public void kill() {
        if (stat.stillRuns()) {
            process.destroyForcibly();
        }
        try {
            process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    Process process() {
        return process;
    }

    ProcStat stat() {
        return stat;
    }

    void markDumped() {
        linesAtDump = stdoutLines().size();
    }

    /** @return the number of stdout lines written before the dump, -1 if never dumped */
    int linesAtDump() {
        return linesAtDump;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public String toString() {
        return name + " (pid " + pid() + " \"" + comm() + "\")";
    }
}
