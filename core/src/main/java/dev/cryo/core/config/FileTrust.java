package dev.cryo.core.config;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Whether cryo may trust a file it is about to load: run as root, cryo would run any code a plugin jar holds and
 * act on any option a config file sets, so a file that someone other than root can change (or can replace, through
 * a directory on its path) would hand them root. With an effective uid of 0, {@link #check} refuses a plugin
 * directory, plugin jar or config file that is not owned by root or is writable by group or others, and the same of
 * every directory from its parent up to {@code /} — except that a root-owned directory with the sticky bit
 * ({@code /tmp}) is a fine parent: nobody else may rename or remove what root created in it. Symbolic links are
 * resolved first (as OpenSSH's {@code safe_path} does): what is checked is the file actually read.
 *
 * <p>{@code CRYO_INSECURE=1} (any value but empty or {@code 0}) turns the check off for development; the CLI
 * prints {@link #insecureWarning} on every command then. Not root: nothing is checked (the files cannot give anyone
 * more than the user running cryo already has).
 *
 * <p>Errors: {@code core/UNSAFE_FILE} (PLUGIN_CONFIG), naming the path, its owner uid and mode, and the fix. One
 * instance per command; {@link #check} remembers the directories it found safe. Not thread-safe.
 */
public final class FileTrust {
    /** The environment variable that turns the check off (development only). */
    public static final String INSECURE_ENV = "CRYO_INSECURE";

    private static final int GROUP_OTHER_WRITE = 0022;
    private static final int STICKY = 01000;

    private final boolean enforcing;
    private final Set<Path> safeDirs = new HashSet<>();

    private FileTrust(boolean enforcing) {
        this.enforcing = enforcing;
    }

    /** @return the policy of this process: enforcing when its effective uid is 0 and {@code env} does not opt out */
    public static FileTrust of(Map<String, String> env) {
        return new FileTrust(!insecure(env) && effectiveUid() == 0);
    }

    /** @return {@link #of} the process's environment */
    public static FileTrust current() {
        return of(System.getenv());
    }

    /** @return a policy that checks every file whoever runs cryo (tests) */
    static FileTrust enforcing() {
        return new FileTrust(true);
    }

    /** @return whether {@link #check} checks anything */
    public boolean isEnforcing() {
        return enforcing;
    }

    /** @return the warning to print when {@code env} opts out of the check, if it does */
    public static Optional<String> insecureWarning(Map<String, String> env) {
        if (!insecure(env)) {
            return Optional.empty();
        }
        return Optional.of("cryo: WARNING: " + INSECURE_ENV + "=" + env.get(INSECURE_ENV) + ": plugin jars, the plugin "
                + "directory and config files are loaded without checking who can write them; anyone who can change "
                + "them can run code as the user of cryo (for development only: unset " + INSECURE_ENV + ")");
    }

    /**
     * Refuses {@code path} unless it and every directory above it are safe (see the class comment).
     *
     * @param path an existing file or directory
     * @param what what it is, for the message: {@code plugin jar}, {@code plugin directory}, {@code configuration file}
     */
    public void check(Path path, String what) throws CryoException {
        if (!enforcing) {
            return;
        }
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            return; // absent or unreadable: the loader reports that in its own words
        }
        String subject = what + " " + path + (real.equals(path.toAbsolutePath().normalize()) ? "" : " (" + real + ")");
        checkOne(real, subject, null, false);
        for (Path dir = real.getParent(); dir != null; dir = dir.getParent()) {
            if (safeDirs.contains(dir)) {
                break; // and so is everything above it
            }
            checkOne(dir, subject, dir, true);
            safeDirs.add(dir);
        }
    }

    private static void checkOne(Path p, String subject, Path parent, boolean stickyOk) throws CryoException {
        int uid;
        int mode;
        try {
            Map<String, Object> a = Files.readAttributes(p, "unix:uid,mode", LinkOption.NOFOLLOW_LINKS);
            uid = (Integer) a.get("uid");
            mode = (Integer) a.get("mode");
        } catch (IOException | UnsupportedOperationException e) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/UNSAFE_FILE",
                    "refusing to load " + subject + " as root: cannot read the owner and mode of " + p + ": " + e,
                    "make " + p + " readable by root, or set " + INSECURE_ENV + "=1 (development only)", e);
        }
        boolean writable = (mode & GROUP_OTHER_WRITE) != 0;
        boolean stickyDir = stickyOk && (mode & STICKY) != 0;
        if (uid == 0 && (!writable || stickyDir)) {
            return;
        }
        if (parent != null && !writable) {
            // a directory above, owned by another user but writable by nobody else (a build tree, a CI workspace):
            // refusing it would refuse legitimate installations; its owner could already replace cryo itself
            return;
        }
        String problem = uid != 0 ? "is owned by uid " + uid + ", not root" : "is writable by "
                + ((mode & 0020) != 0 && (mode & 0002) != 0 ? "group and others"
                : (mode & 0020) != 0 ? "group" : "others");
        String where = parent == null ? "it " : "its directory " + parent + " ";
        String attrs = " (owner uid " + uid + ", mode " + String.format("%04o", mode & 07777) + ")";
        String fix = uid != 0 && writable ? "chown root " + p + " && chmod go-w " + p
                : uid != 0 ? "chown root " + p : "chmod go-w " + p;
        throw new CryoException(Category.PLUGIN_CONFIG, "core/UNSAFE_FILE",
                "refusing to load " + subject + " as root: " + where + problem + attrs
                        + ", so another user could make cryo run their code as root",
                fix + " (or, for development only, set " + INSECURE_ENV + "=1)");
    }

    private static boolean insecure(Map<String, String> env) {
        String v = env.get(INSECURE_ENV);
        return v != null && !v.isEmpty() && !v.equals("0");
    }

    /** @return the effective uid of this process, from {@code /proc/self/status} (-1 when unknown) */
    static int effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no procfs: treat as not root (nothing to protect that the loader could tell)
        }
        return -1;
    }
}
