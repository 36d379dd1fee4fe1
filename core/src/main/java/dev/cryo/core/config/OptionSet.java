package dev.cryo.core.config;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.PluginOption;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The options of one cryo command: core's ({@link ConfigKeys}) plus those the plugins of {@code plugins/}
 * declare with {@link PluginOption} — enabled or not, so that an option of a disabled plugin is recognised and
 * refused by name rather than called unknown. {@link ConfigLoader} validates files and the command line against it;
 * {@link CryoConfig} answers only for its keys. Immutable; safe from any thread.
 */
public final class OptionSet {
    private static final Pattern NAME = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");
    private static final OptionSet CORE = new OptionSet(ConfigKeys.all());

    private final Map<String, ConfigKeys.Key> keys = new LinkedHashMap<>();

    private OptionSet(List<ConfigKeys.Key> all) {
        all.forEach(k -> keys.put(k.name(), k));
    }

    /** @return core's options only (tests, and commands that load no plugin) */
    public static OptionSet core() {
        return CORE;
    }

    /**
     * @param declared each plugin's declarations, by plugin id
     * @return core's options plus the plugins' ones
     * @throws CryoException (PLUGIN_CONFIG, {@code core/PLUGIN_OPTION}) for a malformed declaration, a name taken
     *                       by core or by another plugin
     */
    public static OptionSet withPlugins(Map<String, List<PluginOption>> declared) throws CryoException {
        List<ConfigKeys.Key> all = new ArrayList<>(ConfigKeys.all());
        Map<String, String> owners = new LinkedHashMap<>();
        for (Map.Entry<String, List<PluginOption>> e : declared.entrySet()) {
            for (PluginOption o : e.getValue()) {
                String plugin = e.getKey();
                String name = o.name();
                if (!NAME.matcher(name).matches() || name.startsWith("no-")) {
                    throw bad(plugin, "declares option '" + name + "', which is not lower-case words joined by '-'"
                            + " (and must not start with 'no-')");
                }
                if (ConfigKeys.find(name).isPresent()) {
                    throw bad(plugin, "declares option '" + name + "', which is a core option");
                }
                String other = owners.putIfAbsent(name, plugin);
                if (other != null) {
                    throw bad(plugin, other.equals(plugin) ? "declares option '" + name + "' twice"
                            : "declares option '" + name + "', which plugin '" + other + "' declares too");
                }
                Optional<Pattern> pattern;
                try {
                    pattern = o.valuePattern().isEmpty() ? Optional.empty()
                            : Optional.of(Pattern.compile(o.valuePattern()));
                } catch (PatternSyntaxException ex) {
                    throw bad(plugin, "declares option '" + name + "' with an invalid valuePattern: "
                            + ex.getDescription());
                }
                ConfigKeys.Shape shape = ConfigKeys.Shape.valueOf(o.shape().name());
                EnumSet<PluginOption.Command> commands = EnumSet.noneOf(PluginOption.Command.class);
                commands.addAll(List.of(o.commands()));
                all.add(new ConfigKeys.Key(name, shape, o.repeatable(), o.help(), pattern,
                        o.valueHint().isEmpty() && shape != ConfigKeys.Shape.FLAG ? "VALUE" : o.valueHint(),
                        o.defaultValue().isEmpty() ? Optional.empty() : Optional.of(o.defaultValue()),
                        Optional.of(plugin), commands));
            }
        }
        return new OptionSet(all);
    }

    private static CryoException bad(String plugin, String what) {
        return new CryoException(Category.PLUGIN_CONFIG, "core/PLUGIN_OPTION", "plugin '" + plugin + "' " + what,
                "rename the option in the plugin (@PluginOption), or add '" + plugin
                        + "' to plugins.disabled in conf/cryo.conf");
    }

    /** @return the option called {@code name} (without {@code --} and without {@code no-}) */
    public Optional<ConfigKeys.Key> find(String name) {
        return Optional.ofNullable(keys.get(name));
    }

    /** @return every option: core's in documentation order, then the plugins' by plugin id in declaration order */
    public List<ConfigKeys.Key> all() {
        return List.copyOf(keys.values());
    }

    /** @return the options {@code plugin} declared */
    public List<ConfigKeys.Key> ofPlugin(String plugin) {
        return keys.values().stream().filter(k -> k.plugin().equals(Optional.of(plugin))).toList();
    }

    /** @return the known option whose name is closest to {@code unknown}, when it is plausibly a typo */
    public Optional<String> closest(String unknown) {
        String bare = unknown.startsWith("no-") ? unknown.substring(3) : unknown;
        return keys.keySet().stream()
                .map(k -> Map.entry(k, ConfigKeys.distance(bare, k)))
                .filter(e -> e.getValue() <= Math.max(2, e.getKey().length() / 3))
                .min(Comparator.comparingInt((Map.Entry<String, Integer> e) -> e.getValue())
                        .thenComparing(Map.Entry::getKey))
                .map(Map.Entry::getKey);
    }

    /** @return {@code key VALUE} as a config line or usage shows it */
    public static String usage(ConfigKeys.Key k) {
        return switch (k.shape()) {
            case FLAG -> k.name();
            case VALUE -> k.name() + " " + k.valueHint();
            case FLAG_OR_VALUE -> k.name() + " [" + k.valueHint() + "]";
        };
    }
}
