package dev.cryo.cli;

import picocli.CommandLine.Model.CommandSpec;
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
    /** Name of the {@link GlobalOptions} mixin field in every command. */
    static final String MIXIN = "global";

    static Invocation of(ParseResult parseResult) {
        int verbosity = 0;
        Path logFile = null;
        Path config = null;
        boolean quiet = false;
        for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
            CommandSpec mixin = p.commandSpec().mixins().get(MIXIN);
            if (mixin == null) {
                continue;
            }
            GlobalOptions g = (GlobalOptions) mixin.userObject();
            verbosity += g.verbosity();
            logFile = g.logFile().orElse(logFile);
            config = g.config().orElse(config);
            quiet |= g.quiet;
        }
        return new Invocation(verbosity, Optional.ofNullable(logFile), Optional.ofNullable(config), quiet);
    }
}
