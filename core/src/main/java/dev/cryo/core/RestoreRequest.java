package dev.cryo.core;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What {@code cryo restore} was asked to do.
 *
 * @param imageDir     the image directory ({@code -D})
 * @param detached     {@code -d/--restore-detached}: return once the tree runs
 * @param leaveStopped {@code -s/--leave-stopped}: leave the restored tree stopped (SIGSTOP)
 * @param pidFile      {@code --pidfile}: where the CLI writes the restored root's pid once it runs
 */
public record RestoreRequest(Path imageDir, boolean detached, boolean leaveStopped, Optional<Path> pidFile) {
}
