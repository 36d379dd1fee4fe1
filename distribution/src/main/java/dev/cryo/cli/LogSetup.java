package dev.cryo.cli;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Configures slf4j-simple through its system properties. Must run before the first logger is created (slf4j-simple
 * reads them once); {@link CryoCli} calls it right after parsing, before any command runs. Therefore {@code -v}
 * and {@code -o} are read from the command line only, not from config files.
 */
final class LogSetup {
    private static final String P = "org.slf4j.simpleLogger.";

    private LogSetup() {
    }

    /** @return the slf4j level name for a {@code -v} count: none warn, -v info, -vv debug, -vvv trace */
    static String level(int verbosity) {
        return switch (Math.min(verbosity, 3)) {
            case 0 -> "warn";
            case 1 -> "info";
            case 2 -> "debug";
            default -> "trace";
        };
    }

    static void configure(int verbosity, Optional<Path> logFile) {
        System.setProperty(P + "defaultLogLevel", level(verbosity));
        // PF4J narrates every plugin it resolves and unloads at INFO; cryo reports plugin problems itself
        System.setProperty(P + "log.org.pf4j", verbosity >= 2 ? level(verbosity) : "warn");
        System.setProperty(P + "showThreadName", "false");
        System.setProperty(P + "showShortLogName", "true");
        System.setProperty(P + "levelInBrackets", "false");
        System.setProperty(P + "logFile", logFile.map(Path::toString).orElse("System.err"));
        // a log file gets timestamps; the terminal stays short
        System.setProperty(P + "showDateTime", Boolean.toString(logFile.isPresent()));
        if (logFile.isPresent()) {
            // only then: slf4j-simple builds the formatter whenever the format is set (calendar, zone and locale
            // data: tens of milliseconds of start-up)
            System.setProperty(P + "dateTimeFormat", "HH:mm:ss.SSS");
        } else {
            System.clearProperty(P + "dateTimeFormat");
        }
    }
}
