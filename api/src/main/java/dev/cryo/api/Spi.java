package dev.cryo.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * Version of this SPI. A plugin states the range it was built for in its manifest ({@code Plugin-Requires},
 * a semver expression such as {@code >=1.1.0 & <2.0.0}); core refuses to load a plugin whose range excludes it.
 *
 * <p>What SPI 1.x promises (semantic versioning): a minor version only adds — new types, new {@code default}
 * methods, new enum constants, new annotation members with defaults — so a plugin built against 1.0 keeps loading
 * and working on every 1.x core; nothing public is removed or changes meaning before 2.0. A plugin that uses a
 * 1.1 addition declares {@code >=1.1.0 & <2.0.0}.
 *
 * @since 1.0.0
 */
public final class Spi {
    /**
     * The SPI version implemented by this core, e.g. {@code 1.1.0}. It comes from the build (the
     * {@code cryo.spi.version} property of the parent POM), the one place it is written.
     */
    public static final String VERSION = read();

    private Spi() {
    }

    private static String read() {
        try (InputStream in = Spi.class.getResourceAsStream("spi.properties")) {
            if (in == null) {
                throw new IllegalStateException("dev/cryo/api/spi.properties is missing from the api jar");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
