package dev.cryo.core.linux;

import dev.cryo.api.CryoException;

import java.util.List;

/**
 * Starts a program with posix_spawn, stdin/stdout/stderr on /dev/null and an empty environment. Processes cryo
 * will trace must not be started with ProcessBuilder: the JDK reaper thread waits for them and steals ptrace stops.
 */
public final class Spawner {
    private Spawner() {
    }

    /** @return the pid of the started program, a child of cryo */
    public static int spawnDetachedStdio(String path, List<String> argv) throws CryoException {
        int pid = LibC.INSTANCE.spawnDetachedStdio(path, argv.toArray(new String[0]));
        if (pid < 0) {
            throw Errors.failure("posix_spawn(" + path + ")", -pid);
        }
        return pid;
    }
}
