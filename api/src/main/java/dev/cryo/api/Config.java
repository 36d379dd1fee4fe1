package dev.cryo.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The effective options of this run, after the chain built-in defaults, {@code /etc/cryo/cryo.conf},
 * {@code $CRYO_CONFIG}, {@code --config FILE}, command line. Keys are the long option names without
 * {@code --} (e.g. {@code ext-unix-sk}, {@code skip-file-size-check}). Read-only; safe from any thread.
 *
 * @since 1.0.0
 */
public interface Config {
    /** @return the last value given for {@code key}, or empty when unset (or set to a bare flag) */
    Optional<String> value(String key);

    /** @return every value given for a repeatable key ({@code external}, {@code inherit-fd}), in order */
    List<String> values(String key);

    /**
     * @return {@code true} when the key was given as a flag or with a value and not negated by a later
     *         {@code no-<key>}
     */
    boolean isSet(String key);

    /**
     * Whether {@code option} (a long name without {@code --}, e.g. {@code ext-unix-sk}) can be given in this run:
     * core declares it or an enabled plugin does. A refusal's fix line should suggest an option only when it is
     * offered; otherwise it names the plugin to enable. Safe from any thread; cheap.
     *
     * @since 1.1.0
     */
    default boolean offers(String option) {
        return true;
    }

    /**
     * A fixed config, for a plugin's unit tests (and any code that must hand a {@code Config} on): each key with the
     * values given for it, in order; a key with an empty list was given as a bare flag. {@link #value} is the last
     * value, {@link #isSet} is whether the key is there, {@link #offers} is always {@code true}. The map is copied.
     *
     * @since 1.3.0
     */
    static Config of(Map<String, List<String>> values) {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        values.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        return new Config() {
            @Override
            public Optional<String> value(String key) {
                List<String> v = values(key);
                return v.isEmpty() ? Optional.empty() : Optional.of(v.get(v.size() - 1));
            }

            @Override
            public List<String> values(String key) {
                return copy.getOrDefault(key, List.of());
            }

            @Override
            public boolean isSet(String key) {
                return copy.containsKey(key);
            }
        };
    }
}
