package dev.cryo.cli;

import picocli.CommandLine.ParseResult;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The global options of one parsed command line, combined over the root command and the subcommand.
 *
 * @param verbosity  total number of {@code -v}
 * @param logFile    {@code -o/--log-file}, the subcommand's winning over the root's
 * @param configFile {@code --config}, the subcommand's winning over the root's
 * @param quiet      {@code -q/--quiet} given before or after the subcommand
 */
record Invocation(int verbosity, Optional<Path> logFile, Optional<Path> configFile, boolean quiet) {
    static Invocation of(ParseResult parseResult) {
        int verbosity = 0;
        Path logFile = null;
        Path config = null;
        boolean quiet = false;
        for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
            // a level without the global options (picocli's help command) matches none of them
            verbosity += p.matchedOptionValue("--verbose", new boolean[0]).length;
            logFile = p.matchedOptionValue("--log-file", logFile);
            config = p.matchedOptionValue("--config", config);
            quiet |= p.matchedOptionValue("--quiet", false);
        }
        return new Invocation(verbosity, Optional.ofNullable(logFile), Optional.ofNullable(config), quiet);
    }
}
