package dev.cryo.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The fields of {@code /proc/PID/stat} the kit needs to tell one process from another that later got the same
 * pid (a restored process has the dumped pid but a new start time).
 *
 * @param pid       the process id
 * @param comm      its name
 * @param state     the state letter ({@code Z} zombie)
 * @param ppid      its parent
 * @param startTime field 22, in clock ticks since boot
 */
record ProcStat(long pid, String comm, char state, long ppid, long startTime) {

    boolean isZombie() {
        return state == 'Z' || state == 'X';
    }

    /** @return the process now, empty when there is none with that pid */
    static Optional<ProcStat> read(long pid) {
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "stat"));
            return Optional.of(parse(pid, new String(b, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Parses one {@code stat} line; the name is between the first '(' and the last ')' and may hold anything. */
    static ProcStat parse(long pid, String line) {
        int open = line.indexOf('(');
        int close = line.lastIndexOf(')');
        if (open < 0 || close < open) {
            throw new IllegalArgumentException("not a /proc/PID/stat line: " + line);
        }
        String comm = line.substring(open + 1, close);
        String[] f = line.substring(close + 2).trim().split(" ");
        // f[0] is field 3 (state): field N is f[N - 3]
        return new ProcStat(pid, comm, f[0].charAt(0), Long.parseLong(f[1]), Long.parseLong(f[19]));
    }

    /** @return whether {@code pid} still runs the process this snapshot saw (same start time, not a zombie) */
    boolean stillRuns() {
        return read(pid).filter(s -> s.startTime == startTime && !s.isZombie()).isPresent();
    }

    /** @return every descendant of {@code pid} now: children of all its threads, recursively */
    static List<Long> descendantsOf(long pid) {
        List<Long> out = new ArrayList<>();
        ArrayDeque<Long> todo = new ArrayDeque<>(List.of(pid));
        while (!todo.isEmpty()) {
            long p = todo.poll();
            try (var tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(p), "task"))) {
                for (Path t : tasks) {
                    String children = Files.readString(t.resolve("children"), StandardCharsets.US_ASCII).trim();
                    for (String c : children.split("\\s+")) {
                        if (!c.isEmpty()) {
                            out.add(Long.parseLong(c));
                            todo.add(Long.parseLong(c));
                        }
                    }
                }
            } catch (IOException e) {
                // gone meanwhile: it has no descendants to report
            }
        }
        return out;
    }
}
