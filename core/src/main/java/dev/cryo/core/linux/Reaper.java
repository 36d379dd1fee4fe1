package dev.cryo.core.linux;

import dev.cryo.api.Errno;
import java.util.ArrayList;
import java.util.List;

/**
 * Kills what a failed restore created and collects every task, so that no zombie keeps a pid the next restore of
 * the image needs. Traced threads stay zombies until their tracer waits for them, and a group leader is reported
 * only after its other threads are gone: threads are collected before leaders. Processes whose parents died are
 * reparented to cryo (a child subreaper during a restore) and reaped here too.
 */
public final class Reaper {
    private static final long TIMEOUT_NS = 5_000_000_000L;

    private Reaper() {
    }

    /** SIGKILLs {@code pid} and waits (bounded) until it is collected. */
    public static void killAndReap(int pid) {
        killAll(List.of(pid), List.of(pid));
    }

    /**
     * SIGKILLs every process of {@code processes}, then waits (bounded) for every task of {@code tasks} — threads
     * before their leaders — and finally reaps whatever was reparented to cryo.
     */
    public static void killAll(List<Integer> processes, List<Integer> tasks) {
        LibC c = LibC.INSTANCE;
        for (int pid : processes) {
            c.kill(pid, Sys.SIGKILL);
        }
        List<Integer> left = new ArrayList<>(tasks);
        left.sort((a, b) -> Boolean.compare(processes.contains(a), processes.contains(b))); // threads first
        int[] st = new int[1];
        long deadline = System.nanoTime() + TIMEOUT_NS;
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            left.removeIf(tid -> {
                int r = c.waitpid(tid, st, Sys.WALL | Sys.WNOHANG);
                return (r == tid && !Sys.stopped(st[0])) || (r == -1 && LibC.errno() == Errno.ECHILD.number());
            });
            while (c.waitpid(-1, st, Sys.WALL | Sys.WNOHANG) > 0) {
                // a restored process reparented to cryo after its parent died
            }
            if (!left.isEmpty()) {
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
