package dev.cryo.core.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The options core itself owns, with a one-line description; options of resource kinds belong to the plugins that
 * declare them ({@link dev.cryo.api.PluginOption}) and join these in an {@link OptionSet}. Immutable; safe from
 * any thread.
 */
public final class ConfigKeys {
    /** How an option takes a value. */
    public enum Shape {
        /** A bare flag ({@code leave-running}); {@code no-<key>} negates it. */
        FLAG,
        /** Needs a value ({@code tree 812}). */
        VALUE,
        /** A bare flag or a value ({@code acme-peers} or {@code acme-peers 4711,4712}); may be negated. */
        FLAG_OR_VALUE
    }

    /**
     * One known option, of core or of a plugin.
     *
     * @param name         the long option name without {@code --}
     * @param shape        whether it is a flag, takes a value, or either
     * @param repeatable   whether values accumulate across the chain instead of the last one winning
     * @param description  one line for documentation
     * @param valuePattern values must match it when present (empty: anything)
     * @param valueHint    what a value looks like, for messages (e.g. {@code INO[,INO...]})
     * @param defaultValue the built-in default, the first link of the chain
     * @param plugin       the id of the plugin that declared it; empty for a core option
     * @param commands     the subcommands that take it on the command line (core options: declared by the CLI)
     */
    public record Key(String name, Shape shape, boolean repeatable, String description,
                      Optional<Pattern> valuePattern, String valueHint, Optional<String> defaultValue,
                      Optional<String> plugin, java.util.Set<dev.cryo.api.PluginOption.Command> commands) {
        /** @return whether {@code no-<name>} is accepted */
        public boolean negatable() {
            return shape != Shape.VALUE;
        }
    }

    public static final String PLUGINS_ENABLED = "plugins.enabled";
    public static final String PLUGINS_DISABLED = "plugins.disabled";
    public static final String TREE = "tree";
    public static final String IMAGES_DIR = "images-dir";
    public static final String LEAVE_RUNNING = "leave-running";
    public static final String LEAVE_STOPPED = "leave-stopped";
    public static final String EXTERNAL = "external";
    public static final String INHERIT_FD = "inherit-fd";
    public static final String RESTORE_DETACHED = "restore-detached";
    public static final String PIDFILE = "pidfile";
    public static final String OVERWRITE_IMAGES = "overwrite-images";
    public static final String FSYNC = "fsync";
    /** Print the pipeline's statistics when it ends (CRIU's {@code --display-stats}). */
    public static final String STATS = "stats";
    /** CRIU's {@code -j}: the tree's terminal fds are the terminal cryo runs on (read by the regular-file plugin). */
    public static final String SHELL_JOB = "shell-job";

    private static final Pattern PLUGIN_IDS = Pattern.compile("[A-Za-z0-9._/-]+(\\s*,\\s*[A-Za-z0-9._/-]+)*");

    private static final Map<String, Key> KEYS = new LinkedHashMap<>();

    static {
        add(PLUGINS_ENABLED, Shape.VALUE, true, PLUGIN_IDS, "ID[,ID...]", null,
                "plugin ids to enable; when given, only these plugins are loaded");
        add(PLUGINS_DISABLED, Shape.VALUE, true, PLUGIN_IDS, "ID[,ID...]", null,
                "plugin ids never to load; wins over plugins.enabled");
        add(TREE, Shape.VALUE, false, Pattern.compile("[0-9]+"), "PID", null,
                "pid of the root of the process tree to dump (-t)");
        add(IMAGES_DIR, Shape.VALUE, false, null, "DIR", null, "directory of the image (-D)");
        add(LEAVE_RUNNING, Shape.FLAG, false, null, "", null, "dump: let the tree run on after the dump (-R)");
        add(LEAVE_STOPPED, Shape.FLAG, false, null, "", null,
                "dump and restore: leave the tree stopped (SIGSTOP) instead of killing or resuming it (-s)");
        add(EXTERNAL, Shape.VALUE, true, null, "TYPE[ID]:VALUE", null,
                "declare a resource outside the tree, e.g. a file or a socket peer (repeatable)");
        add(INHERIT_FD, Shape.VALUE, true, null, "fd[N]:RESOURCE", null,
                "restore: give the restored tree cryo's fd N in place of RESOURCE (repeatable)");
        add(RESTORE_DETACHED, Shape.FLAG, false, null, "", null,
                "restore: return once the tree runs instead of waiting for its root (-d)");
        add(PIDFILE, Shape.VALUE, false, null, "FILE", null, "restore: write the restored root's pid to FILE");
        add(OVERWRITE_IMAGES, Shape.FLAG, false, null, "", null,
                "dump: allow writing into a non-empty image directory");
        add("file-locks", Shape.FLAG, false, null, "", null,
                "dump: record the file locks (flock, POSIX, OFD) the tree holds; restore: re-take them");
        add(SHELL_JOB, Shape.FLAG, false, null, "", null,
                "dump: accept fds on the terminal the tree runs on; restore: give the tree the terminal cryo restore"
                        + " runs on in their place (-j, as CRIU's --shell-job)");
        add(FSYNC, Shape.FLAG, false, null, "", null,
                "dump: fsync every image file and the directory before the dump completes (off: as CRIU, the page"
                        + " cache writes the image back later)");
        add(STATS, Shape.FLAG, false, null, "", null,
                "dump and restore: print the statistics (per-phase times, frozen time, pages scanned/written, image"
                        + " bytes) when done; they are kept in stats-dump.img / stats-restore.img either way");
    }

    private ConfigKeys() {
    }

    private static void add(String name, Shape shape, boolean repeatable, Pattern pattern, String hint,
                            String defaultValue, String description) {
        KEYS.put(name, new Key(name, shape, repeatable, description, Optional.ofNullable(pattern), hint,
                Optional.ofNullable(defaultValue), Optional.empty(), java.util.Set.of()));
    }

    /** @return every core option, in documentation order */
    public static List<Key> all() {
        return List.copyOf(KEYS.values());
    }

    /** @return the core option called {@code name} (without {@code --} and without {@code no-}) */
    public static Optional<Key> find(String name) {
        return Optional.ofNullable(KEYS.get(name));
    }

    /** Levenshtein distance, for "did you mean" hints (of config keys here, of options and commands in the CLI). */
    public static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
