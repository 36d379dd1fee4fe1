package dev.cryo.api;

import java.nio.file.Path;

/**
 * Passed to {@link LifecycleListener} methods.
 *
 * @param imageDir the image directory
 * @param root     the root process of the tree
 * @param config   the effective options
 * @since 1.0.0
 */
public record LifecycleEvent(Path imageDir, Pid root, Config config) {
}
