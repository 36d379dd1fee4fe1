package dev.cryo.core;

import dev.cryo.api.Pid;

import java.nio.file.Path;

/**
 * What {@code cryo dump} was asked to do.
 *
 * @param root     the root of the tree ({@code -t})
 * @param imageDir the image directory ({@code -D})
 * @param after    what happens to the tree once the image is complete
 */
public record DumpRequest(Pid root, Path imageDir, After after) {
    /** The tree's fate after a successful dump. */
    public enum After {
        /** Default, like CRIU: the tree is killed. */
        KILL,
        /** {@code -R/--leave-running}. */
        LEAVE_RUNNING,
        /** {@code -s/--leave-stopped}: stopped with SIGSTOP and detached. */
        LEAVE_STOPPED
    }
}
