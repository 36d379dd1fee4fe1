package dev.cryo.core;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The installed distribution: {@code bin/}, {@code lib/} (jars and the restore stub), {@code plugins/},
 * {@code conf/cryo.conf}. Plugins are loaded from {@link #pluginsDir()} only.
 *
 * @param root the distribution's top directory
 */
public record CryoHome(Path root) {
    /** System property the launcher sets to the distribution directory. */
    public static final String PROPERTY = "cryo.home";

    public Path pluginsDir() {
        return root.resolve("plugins");
    }

    public Path libDir() {
        return root.resolve("lib");
    }

    public Path defaultConfig() {
        return root.resolve("conf").resolve("cryo.conf");
    }

    /** The restore stub; the {@code cryo.stub} system property overrides it (tests inside the build). */
    public Path stub() {
        String override = System.getProperty("cryo.stub");
        return override != null ? Path.of(override) : libDir().resolve("cryo-stub");
    }

    /** @return the home given by {@code -Dcryo.home}, else the current directory */
    public static CryoHome fromSystem() {
        String p = System.getProperty(PROPERTY);
        return new CryoHome(p != null ? Path.of(p).toAbsolutePath().normalize() : Path.of("").toAbsolutePath());
    }

    public boolean exists() {
        return Files.isDirectory(pluginsDir());
    }
}
