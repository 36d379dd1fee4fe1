package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;

/**
 * The outcome of one {@code cryo} command: exit status and everything it printed.
 *
 * @param command the command line
 * @param exit the exit status (0 ok, 2 usage, 3 unsupported resource, 4 kernel/permission, 5 plugin/config,
 *     6 image, 7 conflict, 70 internal; a restore without -d: the root's status or 128+signal)
 * @param stdout what it printed on stdout
 * @param stderr what it printed on stderr
 */
public record CryoResult(List<String> command, int exit, String stdout, String stderr) {
    public static final int OK = 0;
    public static final int USAGE = 2;
    public static final int UNSUPPORTED = 3;
    public static final int KERNEL = 4;
    public static final int PLUGIN = 5;
    public static final int IMAGE = 6;
    public static final int CONFLICT = 7;
    public static final int NO_SUCH_PROCESS = 8;
    public static final int INTERNAL = 70;

    /** @return a description for assertion messages: the command, the exit status and both outputs */
    public String describe() {
        return String.join(" ", command) + "\n  exit " + exit + "\n  stdout: " + indent(stdout) + "\n  stderr: "
                + indent(stderr);
    }

    private static String indent(String s) {
        return s.isBlank() ? "(empty)" : s.strip().replace("\n", "\n          ");
    }

    public CryoResult assertExit(int expected) {
        assertEquals(expected, exit, () -> "unexpected exit status of " + describe());
        return this;
    }

    public CryoResult assertOk() {
        return assertExit(OK);
    }

    /** Asserts a failure (non-zero exit) whose stderr has a message line, a {@code Fix:} line and a {@code [code]}. */
    public CryoResult assertFailedWithFix(int expected) {
        assertExit(expected);
        assertTrue(stderr.contains("Fix:"), () -> "no Fix: line in stderr of " + describe());
        assertTrue(stderr.matches("(?s).*\\[[\\w./-]+\\].*"), () -> "no [code] in stderr of " + describe());
        return this;
    }

    public CryoResult assertFailed() {
        assertNotEquals(OK, exit, () -> "expected a failure: " + describe());
        return this;
    }

    /** Asserts stderr contains every fragment (case-insensitive). */
    public CryoResult assertStderrMentions(String... fragments) {
        String low = stderr.toLowerCase(Locale.ROOT);
        for (String f : fragments) {
            assertTrue(low.contains(f.toLowerCase(Locale.ROOT)), () -> "stderr does not mention '" + f + "': "
                    + describe());
        }
        return this;
    }

    /** Asserts stderr matches the regex somewhere (case-insensitive). */
    public CryoResult assertStderrMatches(String regex, String what) {
        assertTrue(java.util.regex.Pattern.compile(regex, java.util.regex.Pattern.CASE_INSENSITIVE).matcher(stderr)
                .find(), () -> "stderr does not name " + what + " (/" + regex + "/): " + describe());
        return this;
    }

    /** Asserts stderr names the pid as a number of its own (not as part of a longer number). */
    public CryoResult assertStderrNamesPid(long pid) {
        return assertStderrMatches("(?<!\\d)" + pid + "(?!\\d)", "pid " + pid);
    }
}
