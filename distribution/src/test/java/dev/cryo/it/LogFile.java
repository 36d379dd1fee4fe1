package dev.cryo.it;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A log file a workload appends to (its stdout and stderr). Tests wait for lines with a deadline, starting at a
 * byte offset ({@link #size()} taken before the action whose output they expect), never with fixed sleeps.
 */
public final class LogFile {
    private static final long POLL_MS = 20;
    private final Path path;

    public LogFile(Path path) {
        this.path = path;
    }

    public Path path() {
        return path;
    }

    /** @return the current size in bytes: an offset for {@link #awaitLine} */
    public long size() {
        try {
            return Files.exists(path) ? Files.size(path) : 0;
        } catch (IOException e) {
            throw new IllegalStateException("cannot stat " + path, e);
        }
    }

    /** @return the complete lines written at or after {@code from} */
    public java.util.List<String> linesFrom(long from) {
        if (!Files.exists(path)) {
            return java.util.List.of();
        }
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "r")) {
            long len = f.length();
            if (from >= len) {
                return java.util.List.of();
            }
            byte[] b = new byte[(int) (len - from)];
            f.seek(from);
            f.readFully(b);
            String s = new String(b, StandardCharsets.UTF_8);
            int end = s.lastIndexOf('\n');
            if (end < 0) {
                return java.util.List.of();
            }
            return java.util.List.of(s.substring(0, end).split("\n", -1));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + path, e);
        }
    }

    /**
     * Waits for the first complete line at or after byte {@code from} that matches.
     *
     * @throws AssertionError on timeout, quoting the end of the log
     */
    public String awaitLine(long from, Predicate<String> match, String what, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (String line : linesFrom(from)) {
                if (match.test(line)) {
                    return line;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + what + " in " + path + " within " + timeout.toSeconds() + " s; log ends:\n"
                        + tail(20));
            }
            ProcessControl.sleep(POLL_MS);
        }
    }

    /** Waits for a line starting with {@code prefix} at or after {@code from}. */
    public String awaitPrefix(long from, String prefix, Duration timeout) {
        return awaitLine(from, l -> l.startsWith(prefix), "line starting with '" + prefix + "'", timeout);
    }

    /** Waits until {@code count} {@code tick N} lines appeared at or after {@code from}; returns the last N. */
    public long awaitTicks(long from, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long seen = 0;
            long last = -1;
            for (String line : linesFrom(from)) {
                Matcher m = TICK.matcher(line);
                if (m.matches()) {
                    seen++;
                    last = Long.parseLong(m.group(1));
                }
            }
            if (seen >= count) {
                return last;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + seen + " of " + count + " new ticks in " + path + " within "
                        + timeout.toSeconds() + " s; log ends:\n" + tail(20));
            }
            ProcessControl.sleep(POLL_MS);
        }
    }

    private static final Pattern TICK = Pattern.compile("tick (\\d+)");

    /** @return the last {@code n} lines, for failure messages */
    public String tail(int n) {
        java.util.List<String> all = linesFrom(0);
        return String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
    }
}
