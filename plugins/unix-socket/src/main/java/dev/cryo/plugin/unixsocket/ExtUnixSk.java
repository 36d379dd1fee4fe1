package dev.cryo.plugin.unixsocket;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What this plugin needs to know about {@code ext-unix-sk}: whether it is given (and which peer inodes it lists), and
 * whether the plugin that acts on it at dump, {@code external-unix-socket}, is switched off by the configuration.
 * The decision to take an outside peer over belongs to that plugin; this plugin only refuses what nobody took over,
 * and on restore connects anew the sockets whose peers were taken over.
 */
final class ExtUnixSk {
    static final String KEY = "ext-unix-sk";
    static final String PLUGIN = "external-unix-socket";

    private ExtUnixSk() {
    }

    static boolean given(Config config) {
        return config.isSet(KEY);
    }

    /** @return the peer inodes listed with {@code --ext-unix-sk=INO,...}; empty for the bare flag or when not given */
    static Set<Long> listed(Config config) {
        Set<Long> out = new LinkedHashSet<>();
        if (given(config)) {
            config.value(KEY).ifPresent(v -> {
                for (String part : v.split(",")) {
                    if (!part.isBlank()) {
                        out.add(Long.parseLong(part.strip()));
                    }
                }
            });
        }
        return out;
    }

    /** @return {@code --ext-unix-sk} or {@code --ext-unix-sk=1,2} as given */
    static String spelled(Config config) {
        Set<Long> l = listed(config);
        return l.isEmpty() ? "--" + KEY : "--" + KEY + "=" + String.join(",", l.stream().map(String::valueOf).toList());
    }

    /**
     * @return why the external-unix-socket plugin is not loaded, as far as the configuration says ({@code
     *         plugins.disabled} names it, or {@code plugins.enabled} is given without it); empty when it should load
     */
    static Optional<String> pluginSwitchedOff(Config config) {
        if (ids(config.values("plugins.disabled")).contains(PLUGIN)) {
            return Optional.of("plugins.disabled names it");
        }
        Set<String> enabled = ids(config.values("plugins.enabled"));
        if (!enabled.isEmpty() && !enabled.contains(PLUGIN)) {
            return Optional.of("plugins.enabled does not list it");
        }
        return Optional.empty();
    }

    /**
     * Refuses {@code ext-unix-sk} when the configuration switches the external-unix-socket plugin off: without it the
     * option would silently do nothing. Called before a dump or restore.
     */
    static void checkPluginFor(Config config, String operation) throws CryoException {
        if (!given(config)) {
            return;
        }
        Optional<String> off = pluginSwitchedOff(config);
        if (off.isPresent()) {
            throw pluginMissing(spelled(config) + " is given for this " + operation + ", but the " + PLUGIN
                    + " plugin that acts on it is disabled (" + off.get() + ")");
        }
    }

    static CryoException pluginMissing(String message) {
        return new CryoException(Category.PLUGIN_CONFIG, "unix-socket/EXT_UNIX_SK_WITHOUT_PLUGIN", message,
                "enable the " + PLUGIN + " plugin (list it in plugins.enabled, remove it from plugins.disabled, in"
                        + " conf/cryo.conf or --config), or drop --ext-unix-sk");
    }

    private static Set<String> ids(List<String> values) {
        Set<String> out = new LinkedHashSet<>();
        for (String v : values) {
            for (String id : v.split(",")) {
                if (!id.isBlank()) {
                    out.add(id.strip());
                }
            }
        }
        return out;
    }
}
