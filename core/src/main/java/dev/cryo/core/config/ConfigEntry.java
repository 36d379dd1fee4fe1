package dev.cryo.core.config;

import java.util.Objects;
import java.util.Optional;

/**
 * One option as given in one place of the chain: a line of a configuration file or an option of the command
 * line.
 *
 * @param key    the option name without {@code --}; {@code no-<key>} negates a flag given earlier
 * @param value  the value, empty for a bare flag
 * @param source where it was given: {@code /etc/cryo/cryo.conf:12}, {@code command line} or
 *               {@link #BUILT_IN}
 */
public record ConfigEntry(String key, Optional<String> value, String source) {
    /** Source of the built-in defaults, the first link of the chain. */
    public static final String BUILT_IN = "built-in default";
    /** Source the CLI uses for its options. */
    public static final String COMMAND_LINE = "command line";

    public ConfigEntry {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(source, "source");
    }

    /** @return a flag given on the command line */
    public static ConfigEntry flag(String key) {
        return new ConfigEntry(key, Optional.empty(), COMMAND_LINE);
    }

    /** @return an option with a value given on the command line */
    public static ConfigEntry of(String key, String value) {
        return new ConfigEntry(key, Optional.of(value), COMMAND_LINE);
    }

    /** @return whether this entry is a {@code no-<key>} negation */
    public boolean negation() {
        return key.startsWith("no-") && ConfigKeys.find(key).isEmpty();
    }

    /** @return the option this entry is about ({@code leave-running} for {@code no-leave-running}) */
    public String option() {
        return negation() ? key.substring(3) : key;
    }

    @Override
    public String toString() {
        return source + ": " + key + value.map(v -> " " + v).orElse("");
    }
}
