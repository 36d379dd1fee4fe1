package dev.cryo.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Options accepted both before and after the subcommand ({@code cryo -v dump -v ...}). The root's and the
 * subcommand's copies are combined by {@link Invocation}: {@code -v} counts add up, a file given after the
 * subcommand wins over one given before it.
 */
public final class GlobalOptions {
    @Option(names = {"-v", "--verbose"},
            description = "More output; repeat for more: -v info (and stack traces of errors), -vv debug, -vvv trace.")
    boolean[] verbose = new boolean[0];

    @Option(names = {"-q", "--quiet"},
            description = "No progress line on stderr (shown on a terminal for a dump or restore that takes more than a second).")
    boolean quiet;

    @Option(names = {"-o", "--log-file"}, paramLabel = "FILE",
            description = "Write the log to FILE instead of stderr (errors are still printed on stderr).")
    Path logFile;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Read options from FILE after /etc/cryo/cryo.conf and $CRYO_CONFIG, before the command line.")
    Path config;

    int verbosity() {
        return verbose.length;
    }

    Optional<Path> logFile() {
        return Optional.ofNullable(logFile);
    }

    Optional<Path> config() {
        return Optional.ofNullable(config);
    }
}
