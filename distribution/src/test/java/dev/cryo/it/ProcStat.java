package dev.cryo.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One snapshot of {@code /proc/PID/stat}: the fields tests use to know a pid is still the process they mean
 * (start time, field 22) and what it is doing (state, field 3).
 *
 * @param pid the pid
 * @param comm the command name (field 2, without the parentheses)
 * @param state the state letter: R running, S sleeping, T stopped, t traced, Z zombie...
 * @param ppid the parent pid
 * @param pgrp the process group
 * @param session the session id
 * @param startTime start time in clock ticks after boot
 */
public record ProcStat(long pid, String comm, char state, long ppid, long pgrp, long session, long startTime) {

    /** @return the current stat of {@code pid}, empty if there is no such process (or it vanished while reading) */
    public static Optional<ProcStat> read(long pid) {
        String s;
        try {
            s = readProcFile(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (IOException e) {
            return Optional.empty();
        }
        int open = s.indexOf('(');
        int close = s.lastIndexOf(')');
        if (open < 0 || close < open) {
            return Optional.empty();
        }
        String[] f = s.substring(close + 2).trim().split(" ");
        // f[0] is field 3 (state); field N is f[N - 3]
        return Optional.of(new ProcStat(pid, s.substring(open + 1, close), f[0].charAt(0), Long.parseLong(f[1]),
                Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[19])));
    }

    /**
     * Reads a /proc file through a stream: {@code Files.readString} trusts the reported size (0) and returns only
     * the first byte of sysctl files such as /proc/sys/kernel/pid_max.
     */
    public static String readProcFile(Path p) throws IOException {
        try (var in = Files.newInputStream(p)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    public boolean isZombie() {
        return state == 'Z' || state == 'X';
    }

    /** @return the comm of {@code pid}, or "?" */
    public static String commOf(long pid) {
        return read(pid).map(ProcStat::comm).orElse("?");
    }
}
