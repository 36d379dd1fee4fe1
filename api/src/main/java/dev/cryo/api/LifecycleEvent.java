package dev.cryo.api;

import java.nio.file.Path;

/**
 * Passed to {@link LifecycleListener} methods.
 *
 * @param imageDir the image directory (in a dry run, a scratch directory that is deleted afterwards)
 * @param root     the root process of the tree
 * @param config   the effective options
 * @param dryRun   {@code true} during {@code cryo check -t PID}: {@code preDump} and {@code postDump} frame a dry
 *                 run that must change nothing lasting (no scripts with side effects, no locks); the tree always
 *                 goes on running afterwards (since 1.1.0)
 * @since 1.0.0
 */
public record LifecycleEvent(Path imageDir, Pid root, Config config, boolean dryRun) {
    /** An event of a real dump or restore. */
    public LifecycleEvent(Path imageDir, Pid root, Config config) {
        this(imageDir, root, config, false);
    }
}
