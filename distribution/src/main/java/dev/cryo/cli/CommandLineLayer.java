package dev.cryo.cli;

import dev.cryo.core.config.ConfigEntry;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The command line as the top layer of the config chain: one {@link ConfigEntry} per option actually given (one
 * per value for repeatable options), keyed by the option's long name without {@code --}, so every option can also be
 * set in a config file under the same name. Options that steer the CLI itself are not entries.
 */
final class CommandLineLayer {
    static final String SOURCE = "command line";

    /**
     * Options that are about this invocation, not settings: help, version, logging, which config file, what
     * {@code cryo plugins} lists.
     */
    private static final Set<String> NOT_CONFIG = Set.of("help", "version", "verbose", "log-file", "config", "options", "output", "json", "pid", "file",
            "out", "format", "quiet");

    private CommandLineLayer() {
    }

    /** @return the entries of the root command and its subcommand, in command-line order per option */
    static List<ConfigEntry> entries(ParseResult parseResult) {
        List<ConfigEntry> entries = new ArrayList<>();
        for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
            // matchedOptions() lists a repeated option once per occurrence; its values hold all occurrences
            for (OptionSpec option : p.matchedOptions().stream().distinct().toList()) {
                String key = key(option);
                if (NOT_CONFIG.contains(key)) {
                    continue;
                }
                List<String> values = option.originalStringValues();
                if (option.arity().max() == 0 || values.isEmpty()) {
                    entries.add(new ConfigEntry(key, Optional.empty(), SOURCE));
                    continue;
                }
                for (String value : values) {
                    // a flag-or-value option given alone: picocli records the empty fallback value; it is a bare flag
                    entries.add(new ConfigEntry(key, value.isEmpty() ? Optional.empty() : Optional.of(value), SOURCE));
                }
            }
        }
        return entries;
    }

    static String key(OptionSpec option) {
        String name = option.longestName();
        return name.startsWith("--") ? name.substring(2) : name.replaceFirst("^-+", "");
    }
}
