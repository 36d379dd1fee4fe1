package dev.cryo.core.config;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Builds the effective {@link CryoConfig} from the chain, CRIU style; later links win:
 * <ol>
 *   <li>built-in defaults ({@link ConfigKeys.Key#defaultValue()}),</li>
 *   <li>{@code <cryo home>/conf/cryo.conf} (skipped when absent),</li>
 *   <li>{@code /etc/cryo/cryo.conf} (skipped when absent),</li>
 *   <li>the file named by {@code $CRYO_CONFIG} (when set, it must exist),</li>
 *   <li>{@code --config FILE} (must exist),</li>
 *   <li>the command line.</li>
 * </ol>
 * A file read twice (e.g. {@code $CRYO_CONFIG} naming {@code /etc/cryo/cryo.conf}) counts once.
 *
 * <p>File format: one long option per line without {@code --}: {@code key value}, {@code key=value} or a bare
 * {@code key} (a flag); {@code no-<key>} negates a flag given earlier in the chain; {@code #} at the start of
 * a line or after a blank starts a comment; blank lines are ignored; a value may be quoted with {@code "} or
 * {@code '}. Files are UTF-8.
 *
 * <p>Run as root, every file is checked by {@link FileTrust} before it is read: one that another user could
 * change is refused ({@code core/UNSAFE_FILE}).
 *
 * <p>Called once per command, on the CLI's thread. Errors are {@link CryoException}s naming the file and line:
 * {@code core/UNKNOWN_OPTION}, {@code core/BAD_OPTION} (a value missing, unexpected or malformed) of category
 * PLUGIN_CONFIG (USAGE for the command line), {@code core/CONFIG_NOT_FOUND}, {@code core/CONFIG_UNREADABLE} and
 * {@code core/UNSAFE_FILE}.
 */
public final class ConfigLoader {
    /** The system-wide file of the chain. */
    public static final Path SYSTEM_FILE = Path.of("/etc/cryo/cryo.conf");
    /** The environment variable naming one more file of the chain. */
    public static final String ENV_VAR = "CRYO_CONFIG";

    private ConfigLoader() {
    }

    /**
     * Loads the whole chain.
     *
     * @param home         the distribution directory; {@code home/conf/cryo.conf} is read when present
     * @param env          the environment (for {@code $CRYO_CONFIG}), usually {@code System.getenv()}
     * @param explicitFile the file given with {@code --config}
     * @param commandLine  options from the command line, in the order given
     */
    public static CryoConfig load(Path home, Map<String, String> env, Optional<Path> explicitFile,
                                  List<ConfigEntry> commandLine, OptionSet options) throws CryoException {
        return load(home, SYSTEM_FILE, env, explicitFile, commandLine, options);
    }

    /** As {@link #load(Path, Map, Optional, List, OptionSet)} with core's options only. */
    public static CryoConfig load(Path home, Map<String, String> env, Optional<Path> explicitFile,
                                  List<ConfigEntry> commandLine) throws CryoException {
        return load(home, SYSTEM_FILE, env, explicitFile, commandLine, OptionSet.core());
    }

    /** As {@link #load(Path, Map, Optional, List, OptionSet)} with another system-wide file (tests). */
    static CryoConfig load(Path home, Path systemFile, Map<String, String> env, Optional<Path> explicitFile,
                           List<ConfigEntry> commandLine) throws CryoException {
        return load(home, systemFile, env, explicitFile, commandLine, OptionSet.core());
    }

    static CryoConfig load(Path home, Path systemFile, Map<String, String> env, Optional<Path> explicitFile,
                           List<ConfigEntry> commandLine, OptionSet options) throws CryoException {
        Objects.requireNonNull(home, "home");
        List<ConfigEntry> chain = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        Reader reader = new Reader(chain, files, seen, options, FileTrust.of(env));

        reader.readOptional(home.resolve("conf").resolve("cryo.conf"));
        reader.readOptional(systemFile);

        String fromEnv = env.get(ENV_VAR);
        if (fromEnv != null && !fromEnv.isBlank()) {
            Path p = Path.of(fromEnv);
            if (!Files.exists(p)) {
                throw new CryoException(Category.PLUGIN_CONFIG, "core/CONFIG_NOT_FOUND",
                        "$" + ENV_VAR + " names " + p + ", which does not exist",
                        "create " + p + " or unset " + ENV_VAR);
            }
            reader.read(p);
        }
        if (explicitFile.isPresent()) {
            Path p = explicitFile.get();
            if (!Files.exists(p)) {
                throw new CryoException(Category.USAGE, "core/CONFIG_NOT_FOUND",
                        "--config " + p + ": no such file", "give --config an existing file");
            }
            reader.read(p);
        }
        for (ConfigEntry e : commandLine) {
            validate(e, options);
            chain.add(e);
        }
        return new CryoConfig(chain, files, options);
    }

    /**
     * Parses one configuration file and validates every line against {@code options}.
     *
     * @return the file's options in order, each with its {@code file:line} source
     */
    public static List<ConfigEntry> parse(Path file, OptionSet options) throws CryoException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/CONFIG_NOT_FOUND",
                    "configuration file " + file + " does not exist", "create it or do not name it", e);
        } catch (AccessDeniedException e) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/CONFIG_UNREADABLE",
                    "cannot read configuration file " + file + ": permission denied",
                    "make it readable by the user running cryo", e);
        } catch (MalformedInputException e) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/CONFIG_UNREADABLE",
                    "cannot read configuration file " + file + ": not UTF-8 text", "save it as UTF-8", e);
        } catch (IOException e) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/CONFIG_UNREADABLE",
                    "cannot read configuration file " + file + ": " + e, null, e);
        }
        return parseLines(file.toString(), lines, options);
    }

    /**
     * Parses lines in the file format; {@code origin} names them in sources ({@code origin:line}).
     * Used for files and by tests that need a config without a file.
     */
    public static List<ConfigEntry> parseLines(String origin, List<String> lines, OptionSet options)
            throws CryoException {
        List<ConfigEntry> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (i == 0 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            Optional<ConfigEntry> e = parseLine(line, origin + ":" + (i + 1));
            if (e.isPresent()) {
                validate(e.get(), options);
                out.add(e.get());
            }
        }
        return out;
    }

    static Optional<ConfigEntry> parseLine(String raw, String source) throws CryoException {
        String line = stripComment(raw).strip();
        if (line.isEmpty()) {
            return Optional.empty();
        }
        if (line.startsWith("--")) {
            line = line.substring(2);
        }
        int eq = line.indexOf('=');
        int ws = firstBlank(line);
        String key;
        String value;
        if (eq >= 0 && (ws < 0 || eq < ws)) {
            key = line.substring(0, eq);
            value = line.substring(eq + 1).strip();
        } else if (ws >= 0) {
            key = line.substring(0, ws);
            value = line.substring(ws).strip();
            if (value.startsWith("=")) {
                value = value.substring(1).strip();
            }
        } else {
            key = line;
            value = null;
        }
        if (key.isEmpty()) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/BAD_OPTION",
                    source + ": no option name in '" + raw.strip() + "'",
                    "write one option per line as 'key value', 'key=value' or 'key'");
        }
        if (value != null && value.length() >= 2
                && (value.startsWith("\"") && value.endsWith("\"") || value.startsWith("'") && value.endsWith("'"))) {
            value = value.substring(1, value.length() - 1);
        }
        return Optional.of(new ConfigEntry(key, Optional.ofNullable(value), source));
    }

    /**
     * Checks one entry against {@code options}: a known option (or {@code no-} of a negatable one), a value
     * when it needs one, none when it is a flag, and a well-formed value.
     */
    static void validate(ConfigEntry e, OptionSet options) throws CryoException {
        Category category = e.source().equals(ConfigEntry.COMMAND_LINE) ? Category.USAGE : Category.PLUGIN_CONFIG;
        String where = e.source() + ": ";
        Optional<ConfigKeys.Key> known = options.find(e.key());
        if (known.isEmpty() && e.key().startsWith("no-")) {
            Optional<ConfigKeys.Key> negated = options.find(e.key().substring(3));
            if (negated.isPresent()) {
                if (!negated.get().negatable()) {
                    throw new CryoException(category, "core/BAD_OPTION",
                            where + "option '" + negated.get().name() + "' takes a value and cannot be negated with '"
                                    + e.key() + "'",
                            "remove the '" + negated.get().name() + "' line instead");
                }
                if (e.value().isPresent()) {
                    throw new CryoException(category, "core/BAD_OPTION",
                            where + "'" + e.key() + "' takes no value (given '" + e.value().get() + "')",
                            "write '" + e.key() + "' alone");
                }
                return;
            }
        }
        if (known.isEmpty()) {
            String hint = options.closest(e.key()).map(k -> " (did you mean '" + k + "'?)").orElse("");
            throw new CryoException(category, "core/UNKNOWN_OPTION",
                    where + "unknown option '" + e.key() + "'",
                    "remove or correct it" + hint + "; known options: "
                            + String.join(", ", options.all().stream().map(ConfigKeys.Key::name).toList())
                            + " (`cryo plugins --options` lists the plugins' ones)");
        }
        ConfigKeys.Key k = known.get();
        if (k.shape() == ConfigKeys.Shape.FLAG && e.value().isPresent()) {
            throw new CryoException(category, "core/BAD_OPTION",
                    where + "option '" + k.name() + "' is a flag and takes no value (given '" + e.value().get() + "')",
                    "write '" + k.name() + "' to turn it on or 'no-" + k.name() + "' to turn it off");
        }
        if (k.shape() == ConfigKeys.Shape.VALUE && e.value().map(String::isBlank).orElse(true)) {
            throw new CryoException(category, "core/BAD_OPTION",
                    where + "option '" + k.name() + "' needs a value",
                    "write '" + k.name() + " " + k.valueHint() + "'");
        }
        if (e.value().isPresent() && k.valuePattern().isPresent()
                && !k.valuePattern().get().matcher(e.value().get()).matches()) {
            throw new CryoException(category, "core/BAD_OPTION",
                    where + "bad value '" + e.value().get() + "' for option '" + k.name() + "'",
                    category == Category.USAGE ? "pass --" + k.name() + "=" + k.valueHint()
                            + (k.shape() == ConfigKeys.Shape.FLAG_OR_VALUE ? " (or --" + k.name() + " alone)" : "")
                            : "write '" + k.name() + " " + k.valueHint() + "'");
        }
    }

    /** Reads the files of one chain, each once, each checked by {@link FileTrust} first. */
    private record Reader(List<ConfigEntry> chain, List<Path> files, Set<Path> seen, OptionSet options,
                          FileTrust trust) {
        void readOptional(Path file) throws CryoException {
            if (Files.exists(file)) {
                read(file);
            }
        }

        void read(Path file) throws CryoException {
            if (Files.isDirectory(file)) {
                throw new CryoException(Category.PLUGIN_CONFIG, "core/CONFIG_UNREADABLE",
                        "configuration file " + file + " is a directory", "name a file, not a directory");
            }
            Path identity;
            try {
                identity = file.toRealPath();
            } catch (IOException e) {
                identity = file.toAbsolutePath().normalize();
            }
            if (!seen.add(identity)) {
                return;
            }
            trust.check(file, "configuration file");
            chain.addAll(parse(file, options));
            files.add(file);
        }
    }

    private static String stripComment(String line) {
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    private static int firstBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }
}
