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
 * <p>Immutable once built; safe from any thread. Every entry was validated against its {@link OptionSet} when
 * loaded; a key it does not know (e.g. an option of a plugin that is not installed, asked for by another plugin)
 * is simply not set.
 */
public final class CryoConfig implements Config {
    private final List<ConfigEntry> chain;
    private final List<Path> files;
    private final OptionSet options;
    /** Plugins found but not enabled in this run: their options are not {@link #offers offered}. */
    private final java.util.Set<String> disabledPlugins;
    /** Per option: the entries that decide it (the last one, or all of a repeatable one). */
    private final Map<String, List<ConfigEntry>> effective = new LinkedHashMap<>();

    CryoConfig(List<ConfigEntry> chainWithoutDefaults, List<Path> files, OptionSet options) {
        this(chainWithoutDefaults, files, options, java.util.Set.of());
    }

    private CryoConfig(List<ConfigEntry> chainWithoutDefaults, List<Path> files, OptionSet options,
                       java.util.Set<String> disabledPlugins) {
        this.options = options;
        this.disabledPlugins = java.util.Set.copyOf(disabledPlugins);
        List<ConfigEntry> all = new ArrayList<>();
        for (ConfigKeys.Key k : options.all()) {
            k.defaultValue().ifPresent(v -> all.add(new ConfigEntry(k.name(), Optional.of(v), ConfigEntry.BUILT_IN)));
        }
        all.addAll(chainWithoutDefaults);
        this.chain = List.copyOf(all);
        this.files = List.copyOf(files);
        for (ConfigEntry e : chain) {
            String option = e.option();
            boolean repeatable = options.find(option).map(ConfigKeys.Key::repeatable).orElse(false);
            if (repeatable) {
                effective.computeIfAbsent(option, k -> new ArrayList<>()).add(e);
            } else {
                effective.put(option, List.of(e));
            }
        }
    }

    /** @return the built-in defaults only */
    public static CryoConfig defaults() {
        return new CryoConfig(List.of(), List.of(), OptionSet.core());
    }

    /**
     * @return the defaults followed by {@code entries}, each validated like a line of a file (for callers that
     *         build a config without files, such as tests)
     */
    public static CryoConfig of(List<ConfigEntry> entries) throws CryoException {
        return of(entries, OptionSet.core());
    }

    /** As {@link #of(List)}, validated against {@code options}. */
    public static CryoConfig of(List<ConfigEntry> entries, OptionSet options) throws CryoException {
        for (ConfigEntry e : entries) {
            ConfigLoader.validate(e, options);
        }
        return new CryoConfig(entries, List.of(), options);
    }

    /**
     * @return the defaults followed by {@code lines} in the file format, sourced {@code test:N}; for tests, e.g.
     *         {@code CryoConfig.ofLines("leave-running", "plugins.disabled pipe")}
     */
    public static CryoConfig ofLines(String... lines) throws CryoException {
        return ofLines(OptionSet.core(), lines);
    }

    /** As {@link #ofLines(String...)}, validated against {@code options}. */
    public static CryoConfig ofLines(OptionSet options, String... lines) throws CryoException {
        return new CryoConfig(ConfigLoader.parseLines("test", Arrays.asList(lines), options), List.of(), options);
    }

    /**
     * @return this config, knowing that the plugins {@code disabled} are not enabled in this run (their options are
     *         then not {@link #offers offered})
     */
    public CryoConfig withDisabledPlugins(java.util.Collection<String> disabled) {
        List<ConfigEntry> own = chain.stream().filter(e -> !e.source().equals(ConfigEntry.BUILT_IN)).toList();
        return new CryoConfig(own, files, options, java.util.Set.copyOf(disabled));
    }

    @Override
    public boolean offers(String option) {
        return options.find(option).map(k -> k.plugin().map(p -> !disabledPlugins.contains(p)).orElse(true))
                .orElse(false);
    }

    /** @return the options this config was validated against */
    public OptionSet options() {
        return options;
    }

    /**
     * @return the options set explicitly (not by a built-in default) somewhere in the chain and not negated at its
     *         end, each with where; for checking that none belongs to a disabled plugin
     */
    public Map<String, String> explicitlySet() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<ConfigEntry>> e : effective.entrySet()) {
            List<ConfigEntry> es = e.getValue();
            ConfigEntry last = es.get(es.size() - 1);
            if (!last.source().equals(ConfigEntry.BUILT_IN) && !last.negation()) {
                out.put(e.getKey(), last.source());
            }
        }
        return out;
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
     *         {@code plugins.enabled}, {@code plugins.disabled} or a plugin's list option
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
