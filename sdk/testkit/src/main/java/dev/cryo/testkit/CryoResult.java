package dev.cryo.testkit;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One finished {@code bin/cryo} command: its command line, exit status and output.
 *
 * @param command  the command line as run
 * @param exitCode cryo's exit status (for {@code cryo restore} without {@code -d}: the restored root's)
 * @param stdout   what it printed on stdout
 * @param stderr   what it printed on stderr (cryo's messages: the failure, a {@code Fix:} line, {@code [code]})
 * @param imageDir for a dump: the image directory
 */
public record CryoResult(List<String> command, int exitCode, String stdout, String stderr, Optional<Path> imageDir) {

    /** @return the image directory of this dump */
    public Path image() {
        return imageDir.orElseThrow(() -> new IllegalStateException(String.join(" ", command) + " is not a dump"));
    }

    /** @return the error code cryo printed last ({@code [plugin/CODE]}), empty when none */
    public Optional<String> errorCode() {
        List<String> lines = stderr.lines().map(String::strip).filter(l -> l.matches("\\[[^\\]\\s]+/[A-Z0-9_]+\\]"))
                .toList();
        return lines.isEmpty() ? Optional.empty()
                : Optional.of(lines.get(lines.size() - 1).substring(1, lines.get(lines.size() - 1).length() - 1));
    }

    /** Fails the test unless cryo exited 0. */
    public CryoResult assertOk() {
        return assertExit(0);
    }

    /** Fails the test unless cryo exited with {@code expected}. */
    public CryoResult assertExit(int expected) {
        if (exitCode != expected) {
            throw new AssertionError("expected exit " + expected + " from " + describe());
        }
        return this;
    }

    /** Fails the test unless cryo's stderr contains {@code text}. */
    public CryoResult assertStderrContains(String text) {
        if (!stderr.contains(text)) {
            throw new AssertionError("expected \"" + text + "\" in the stderr of " + describe());
        }
        return this;
    }

    /** @return the command, its exit status and its output, for failure messages */
    public String describe() {
        return String.join(" ", command) + "\n  exit " + exitCode + "\n  stdout: " + indent(stdout)
                + "\n  stderr: " + indent(stderr);
    }

    static String indent(String s) {
        return s.isBlank() ? "(empty)" : s.strip().replace("\n", "\n          ");
    }
}
