package dev.cryo.core.config;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The effective options of one cryo command: the chain of {@link ConfigLoader} resolved. For an ordinary option
 * the last entry of the chain wins ({@code no-<key>} turns a flag off again); for a repeatable option
 * ({@link ConfigKeys.Key#repeatable()}: {@code plugins.enabled}, {@code plugins.disabled}, {@code external},
 * {@code inherit-fd}) values accumulate in chain order.
 *
 * <p>Immutable once built; safe from any thread. Asking for a key that {@link ConfigKeys} does not know is a
 * programming error ({@link IllegalArgumentException}).
 */
public final class CryoConfig implements Config {
    private final List<ConfigEntry> chain;
    private final List<Path> files;
    /** Per option: the entries that decide it (the last one, or all of a repeatable one). */
    private final Map<String, List<ConfigEntry>> effective = new LinkedHashMap<>();

    CryoConfig(List<ConfigEntry> chainWithoutDefaults, List<Path> files) {
        List<ConfigEntry> all = new ArrayList<>();
        for (ConfigKeys.Key k : ConfigKeys.all()) {
            k.defaultValue().ifPresent(v -> all.add(new ConfigEntry(k.name(), Optional.of(v), ConfigEntry.BUILT_IN)));
        }
        all.addAll(chainWithoutDefaults);
        this.chain = List.copyOf(all);
        this.files = List.copyOf(files);
        for (ConfigEntry e : chain) {
            String option = e.option();
            boolean repeatable = ConfigKeys.find(option).map(ConfigKeys.Key::repeatable).orElse(false);
            if (repeatable) {
                effective.computeIfAbsent(option, k -> new ArrayList<>()).add(e);
            } else {
                effective.put(option, List.of(e));
            }
        }
    }

    /** @return the built-in defaults only */
    public static CryoConfig defaults() {
        return new CryoConfig(List.of(), List.of());
    }

    /**
     * @return the defaults followed by {@code entries}, each validated like a line of a file (for callers that
     *         build a config without files, such as tests)
     */
    public static CryoConfig of(List<ConfigEntry> entries) throws CryoException {
        for (ConfigEntry e : entries) {
            ConfigLoader.validate(e);
        }
        return new CryoConfig(entries, List.of());
    }

    /**
     * @return the defaults followed by {@code lines} in the file format, sourced {@code test:N}; for tests, e.g.
     *         {@code CryoConfig.ofLines("ext-unix-sk", "plugins.disabled pipe")}
     */
    public static CryoConfig ofLines(String... lines) throws CryoException {
        return new CryoConfig(ConfigLoader.parseLines("test", Arrays.asList(lines)), List.of());
    }

    @Override
    public Optional<String> value(String key) {
        List<ConfigEntry> es = decisive(key);
        if (es.isEmpty()) {
            return Optional.empty();
        }
        ConfigEntry last = es.get(es.size() - 1);
        return last.negation() ? Optional.empty() : last.value();
    }

    @Override
    public List<String> values(String key) {
        return decisive(key).stream().filter(e -> !e.negation()).flatMap(e -> e.value().stream()).toList();
    }

    @Override
    public boolean isSet(String key) {
        List<ConfigEntry> es = decisive(key);
        return !es.isEmpty() && !es.get(es.size() - 1).negation();
    }

    /**
     * @return where the effective value of {@code key} came from, e.g. {@code /etc/cryo/cryo.conf:12},
     *         {@code command line} or {@code built-in default}; for a flag turned off by {@code no-<key>}, where
     *         that was written; for a repeatable key, the last place it was given; empty when never given
     */
    public Optional<String> source(String key) {
        List<ConfigEntry> es = decisive(key);
        return es.isEmpty() ? Optional.empty() : Optional.of(es.get(es.size() - 1).source());
    }

    /** @return for a repeatable key, the source of each of {@link #values(String)}, in the same order */
    public List<String> sources(String key) {
        return decisive(key).stream().filter(e -> !e.negation() && e.value().isPresent())
                .map(ConfigEntry::source).toList();
    }

    /**
     * @return every value of {@code key} split on commas, trimmed, blanks dropped, in chain order; for
     *         {@code plugins.enabled}, {@code plugins.disabled} or {@code ext-unix-sk}
     */
    public List<String> list(String key) {
        return values(key).stream().flatMap(v -> Arrays.stream(v.split(",")))
                .map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /** @return the value as a path (relative paths are relative to the current directory) */
    public Optional<Path> path(String key) {
        return value(key).map(Path::of);
    }

    /** @return the value as an int, or {@code fallback} when unset (values are validated when loaded) */
    public int intValue(String key, int fallback) {
        return value(key).map(Integer::parseInt).orElse(fallback);
    }

    /** @return the whole chain in order, defaults first */
    public List<ConfigEntry> entries() {
        return chain;
    }

    /** @return the configuration files that were read, in chain order */
    public List<Path> files() {
        return files;
    }

    private List<ConfigEntry> decisive(String key) {
        if (ConfigKeys.find(key).isEmpty()) {
            throw new IllegalArgumentException("unknown option key '" + key + "' (not in ConfigKeys)");
        }
        return effective.getOrDefault(key, List.of());
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, List<ConfigEntry>> e : effective.entrySet()) {
            for (ConfigEntry c : e.getValue()) {
                sb.append(c.key()).append(c.value().map(v -> " " + v).orElse(""))
                        .append("    # ").append(c.source()).append('\n');
            }
        }
        return sb.toString();
    }
}
