package dev.cryo.cli;

import dev.cryo.api.Spi;
import picocli.CommandLine.IVersionProvider;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** {@code cryo --version}: the project version (filtered in by the build) and the SPI version plugins need. */
final class VersionProvider implements IVersionProvider {
    /** @return the project version, e.g. {@code 0.1.0} */
    static String version() {
        try (InputStream in = VersionProvider.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                throw new IllegalStateException("dev/cryo/cli/version.properties missing from the cryo jar");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return {@code cryo 0.1.0 (plugin SPI 1.0.0)} */
    static String line() {
        return "cryo " + version() + " (plugin SPI " + Spi.VERSION + ")";
    }

    @Override
    public String[] getVersion() {
        return new String[] {line()};
    }
}
