package dev.cryo.api;

/**
 * Version of this SPI. A plugin states the range it was built for in its manifest ({@code Plugin-Requires},
 * a semver expression such as {@code >=1.0.0 & <2.0.0}); core refuses to load a plugin whose range excludes it.
 *
 * @since 1.0.0
 */
public final class Spi {
    /** The SPI version implemented by this core. Minor versions only add {@code default} methods. */
    public static final String VERSION = "1.0.0";

    private Spi() {
    }
}
