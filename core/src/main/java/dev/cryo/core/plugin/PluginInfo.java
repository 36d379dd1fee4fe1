package dev.cryo.core.plugin;

import java.nio.file.Path;
import java.util.List;

/**
 * A plugin found in the plugin directory.
 *
 * @param id              plugin id (= config key), e.g. {@code regular-file}
 * @param version         plugin version
 * @param requires        its {@code Plugin-Requires} SPI range
 * @param enabled         whether the config enables it
 * @param extensionPoints what it provides, e.g. {@code FdHandler[regular-file]}
 * @param path            the plugin file
 * @param description     its manifest description
 */
public record PluginInfo(String id, String version, String requires, boolean enabled, List<String> extensionPoints,
                         Path path, String description) {
}
