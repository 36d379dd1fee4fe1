package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Starts a program with posix_spawn, stdin/stdout/stderr on /dev/null and an empty environment. Processes cryo
 * will trace must not be started with ProcessBuilder: the JDK reaper thread waits for them and steals ptrace stops.
 */
public final class Spawner {
    private static final int ACTIONS_SIZE = 80;

    private Spawner() {
    }

    /** @return the pid of the started program, a child of cryo */
    public static int spawnDetachedStdio(String path, List<String> argv) throws CryoException {
        LibC c = LibC.INSTANCE;
        Pointer actions = Memory.allocateDirect(LibC.runtime(), ACTIONS_SIZE, true);
        c.posix_spawn_file_actions_init(actions);
        try {
            c.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", 0 /* O_RDONLY */, 0);
            c.posix_spawn_file_actions_addopen(actions, 1, "/dev/null", 1 /* O_WRONLY */, 0);
            c.posix_spawn_file_actions_addopen(actions, 2, "/dev/null", 1 /* O_WRONLY */, 0);
            Pointer args = Memory.allocateDirect(LibC.runtime(), (argv.size() + 1) * 8, true);
            Pointer[] keep = new Pointer[argv.size()];
            for (int i = 0; i < argv.size(); i++) {
                byte[] b = (argv.get(i) + "\0").getBytes(StandardCharsets.UTF_8);
                keep[i] = Memory.allocateDirect(LibC.runtime(), b.length, true);
                keep[i].put(0, b, 0, b.length);
                args.putAddress(i * 8L, keep[i].address());
            }
            args.putAddress(argv.size() * 8L, 0);
            Pointer env = Memory.allocateDirect(LibC.runtime(), 8, true);
            env.putAddress(0, 0);
            int[] pid = new int[1];
            int err = c.posix_spawn(pid, path, actions, null, args, env);
            if (err != 0) {
                throw Errors.failure("posix_spawn(" + path + ")", err);
            }
            return pid[0];
        } finally {
            c.posix_spawn_file_actions_destroy(actions);
        }
    }
}
