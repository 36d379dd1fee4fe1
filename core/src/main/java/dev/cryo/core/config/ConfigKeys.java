package dev.cryo.core.config;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Every option cryo knows, with a one-line description. {@link ConfigLoader} validates configuration files and
 * command-line entries against this list; the distribution documents {@code conf/cryo.conf} from it
 * ({@link #describe()}). Immutable; safe from any thread.
 */
public final class ConfigKeys {
    /** How an option takes a value. */
    public enum Shape {
        /** A bare flag ({@code leave-running}); {@code no-<key>} negates it. */
        FLAG,
        /** Needs a value ({@code tree 812}). */
        VALUE,
        /** A bare flag or a value ({@code ext-unix-sk} or {@code ext-unix-sk 4711,4712}); may be negated. */
        FLAG_OR_VALUE
    }

    /**
     * One known option.
     *
     * @param name         the long option name without {@code --}
     * @param shape        whether it is a flag, takes a value, or either
     * @param repeatable   whether values accumulate across the chain instead of the last one winning
     * @param description  one line for documentation
     * @param valuePattern values must match it when present (empty: anything)
     * @param valueHint    what a value looks like, for messages (e.g. {@code INO[,INO...]})
     * @param defaultValue the built-in default, the first link of the chain
     */
    public record Key(String name, Shape shape, boolean repeatable, String description,
                      Optional<Pattern> valuePattern, String valueHint, Optional<String> defaultValue) {
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
    public static final String LOG_FILE = "log-file";
    public static final String VERBOSITY = "verbosity";
    public static final String EXT_UNIX_SK = "ext-unix-sk";
    public static final String EXTERNAL = "external";
    public static final String INHERIT_FD = "inherit-fd";
    public static final String SKIP_FILE_SIZE_CHECK = "skip-file-size-check";
    public static final String RESTORE_DETACHED = "restore-detached";
    public static final String PIDFILE = "pidfile";
    public static final String OVERWRITE_IMAGES = "overwrite-images";
    public static final String STDIO_INHERIT = "stdio-inherit";
    public static final String FSYNC = "fsync";

    private static final Pattern PLUGIN_IDS = Pattern.compile("[A-Za-z0-9._/-]+(\\s*,\\s*[A-Za-z0-9._/-]+)*");
    private static final Pattern INODES = Pattern.compile("[0-9]+(\\s*,\\s*[0-9]+)*");

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
        add(LOG_FILE, Shape.VALUE, false, null, "FILE", null, "write the log to FILE instead of stderr (-o)");
        add(VERBOSITY, Shape.VALUE, false, Pattern.compile("[0-4]"), "0..4", "0",
                "log level: 0 errors only ... 4 everything (-v, repeatable on the command line)");
        add(EXT_UNIX_SK, Shape.FLAG_OR_VALUE, false, INODES, "INO[,INO...]", null,
                "allow unix sockets connected to peers outside the tree (all, or only these socket inodes)");
        add(EXTERNAL, Shape.VALUE, true, null, "TYPE[ID]:VALUE", null,
                "declare a resource outside the tree, e.g. a file or a socket peer (repeatable)");
        add(INHERIT_FD, Shape.VALUE, true, null, "fd[N]:RESOURCE", null,
                "restore: give the restored tree cryo's fd N in place of RESOURCE (repeatable)");
        add(SKIP_FILE_SIZE_CHECK, Shape.FLAG, false, null, "", null,
                "restore: do not refuse a regular file whose size changed since the dump");
        add(RESTORE_DETACHED, Shape.FLAG, false, null, "", null,
                "restore: return once the tree runs instead of waiting for its root (-d)");
        add(PIDFILE, Shape.VALUE, false, null, "FILE", null, "restore: write the restored root's pid to FILE");
        add(OVERWRITE_IMAGES, Shape.FLAG, false, null, "", null,
                "dump: allow writing into a non-empty image directory");
        add(STDIO_INHERIT, Shape.FLAG, false, null, "", null,
                "dump: accept a pipe to outside the tree held on fd 0, 1 or 2; restore: replace it by cryo's own fd"
                        + " 0, 1 or 2");
        add(FSYNC, Shape.FLAG, false, null, "", null,
                "dump: fsync every image file and the directory before the dump completes (off: as CRIU, the page"
                        + " cache writes the image back later)");
    }

    private ConfigKeys() {
    }

    private static void add(String name, Shape shape, boolean repeatable, Pattern pattern, String hint,
                            String defaultValue, String description) {
        KEYS.put(name, new Key(name, shape, repeatable, description, Optional.ofNullable(pattern), hint,
                Optional.ofNullable(defaultValue)));
    }

    /** @return every known option, in documentation order */
    public static List<Key> all() {
        return List.copyOf(KEYS.values());
    }

    /** @return the option called {@code name} (without {@code --} and without {@code no-}) */
    public static Optional<Key> find(String name) {
        return Optional.ofNullable(KEYS.get(name));
    }

    /** @return the known option whose name is closest to {@code unknown}, when it is plausibly a typo */
    public static Optional<String> closest(String unknown) {
        String bare = unknown.startsWith("no-") ? unknown.substring(3) : unknown;
        return KEYS.keySet().stream()
                .map(k -> Map.entry(k, distance(bare, k)))
                .filter(e -> e.getValue() <= Math.max(2, e.getKey().length() / 3))
                .min(Comparator.comparingInt((Map.Entry<String, Integer> e) -> e.getValue())
                        .thenComparing(Map.Entry::getKey))
                .map(Map.Entry::getKey);
    }

    /** @return {@code # key VALUE  description} lines, for the head of {@code conf/cryo.conf} */
    public static String describe() {
        StringBuilder sb = new StringBuilder();
        for (Key k : KEYS.values()) {
            String usage = switch (k.shape()) {
                case FLAG -> k.name();
                case VALUE -> k.name() + " " + k.valueHint();
                case FLAG_OR_VALUE -> k.name() + " [" + k.valueHint() + "]";
            };
            sb.append(String.format("# %-36s %s%s%n", usage, k.description(),
                    k.repeatable() ? " (repeatable)" : ""));
        }
        return sb.toString();
    }

    private static int distance(String a, String b) {
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
