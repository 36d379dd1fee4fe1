package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A real program on pseudo-terminals, checked from outside: a tmux server (its own socket, no client attached)
 * holding the master of a pane that runs an interactive bash. The server's tree is dumped (killed) and restored; then
 * {@code tmux send-keys} reaches the restored bash through the restored pair, and {@code capture-pane} shows both the
 * screen from before the dump and the new answer. Then with a foreground job ({@code cat}) running in the pane.
 */
class TmuxIT extends WithTestBed {
    @Test
    void aTmuxServerAndItsShellAnswerAfterTheRestore() throws IOException {
        String tmux = program("tmux");
        String bash = program("bash");
        Path dir = bed.workloads().newDir("tmux");
        Path sock = dir.resolve("tmux.sock");
        long server = startServer(tmux, bash, sock, dir);
        List<Long> tree = TestBed.descendantsOf(server);
        tree.forEach(bed.workloads()::trackForeignPid);
        assertEquals(1, tree.size(), "the server runs one pane: " + tree);
        long shell = tree.get(0);

        tmuxOut(tmux, sock, dir, "send-keys", "echo before-$((6*7))", "Enter");
        awaitScreen(tmux, sock, dir, "before-42");
        awaitIdle(server, shell);

        long t0 = System.nanoTime();
        Path image = dumpAndAwaitGone(server, List.of(server, shell));
        long dumpMs = (System.nanoTime() - t0) / 1_000_000;

        long t1 = System.nanoTime();
        bed.cryo().restore(image, "-d").assertOk();
        long restoreMs = (System.nanoTime() - t1) / 1_000_000;
        bed.workloads().trackForeignPid(server);
        bed.workloads().trackForeignPid(shell);
        assertEquals(Long.toString(server), tmuxOut(tmux, sock, dir, "display-message", "-p", "#{pid}").strip(),
                "the restored server answers on its socket");
        tmuxOut(tmux, sock, dir, "send-keys", "echo after-$((6*7))", "Enter");
        String screen = awaitScreen(tmux, sock, dir, "after-42");
        assertTrue(screen.contains("before-42"), "the screen from before the dump is kept:\n" + screen);
        assertEquals(Long.toString(shell), tmuxOut(tmux, sock, dir, "display-message", "-p", "#{pane_pid}").strip());
        System.out.println("TIMING tmux dump=" + dumpMs + "ms restore=" + restoreMs + "ms");
        ProcessControl.kill(shell, ProcessControl.SIGKILL);
        ProcessControl.kill(server, ProcessControl.SIGKILL);
    }

    /**
     * The pane's shell runs a foreground job ({@code cat}, in its own process group, with the pane as its inherited
     * controlling terminal) at the dump. After the restore the job still echoes what is typed, Ctrl-C reaches it
     * (SIGINT to the terminal's foreground group, which must be the job's again) and the shell answers afterwards.
     */
    @Test
    void aForegroundJobInThePaneKeepsItsTerminalAndGroup() throws IOException {
        String tmux = program("tmux");
        String bash = program("bash");
        String cat = program("cat");
        Path dir = bed.workloads().newDir("tmux-job");
        Path sock = dir.resolve("tmux.sock");
        long server = startServer(tmux, bash, sock, dir);
        long shell = TestBed.descendantsOf(server).get(0);
        bed.workloads().trackForeignPid(shell);
        tmuxOut(tmux, sock, dir, "send-keys", cat, "Enter");
        long job = awaitChild(shell);
        bed.workloads().trackForeignPid(job);
        tmuxOut(tmux, sock, dir, "send-keys", "first-line", "Enter");
        awaitLines(tmux, sock, dir, "first-line", 2); // the terminal's echo, then cat's copy
        awaitIdle(server, shell, job);
        ProcStat jobBefore = ProcStat.read(job).orElseThrow();

        Path image = dumpAndAwaitGone(server, List.of(job, shell, server));
        bed.cryo().restore(image, "-d").assertOk();
        for (long pid : List.of(server, shell, job)) {
            bed.workloads().trackForeignPid(pid);
        }
        assertEquals(jobBefore.pgrp(), ProcStat.read(job).orElseThrow().pgrp());
        tmuxOut(tmux, sock, dir, "send-keys", "second-line", "Enter");
        awaitLines(tmux, sock, dir, "second-line", 2);
        tmuxOut(tmux, sock, dir, "send-keys", "C-c");
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (ProcStat.read(job).filter(st -> !st.isZombie()).isPresent()) {
            assertTrue(System.nanoTime() < deadline, "Ctrl-C did not end the foreground job " + job);
            ProcessControl.sleep(20);
        }
        tmuxOut(tmux, sock, dir, "send-keys", "echo after-$((6*7))", "Enter");
        String screen = awaitScreen(tmux, sock, dir, "after-42");
        assertTrue(screen.contains("first-line"), "the screen from before the dump is kept:\n" + screen);
        ProcessControl.kill(shell, ProcessControl.SIGKILL);
        ProcessControl.kill(server, ProcessControl.SIGKILL);
    }

    /** Starts a detached tmux server on {@code sock}, one 100x30 pane running an interactive bash: its pid, tracked. */
    private long startServer(String tmux, String bash, Path sock, Path dir) throws IOException {
        tmuxOut(tmux, sock, dir, "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30",
                bash + " --norc --noprofile -i");
        long server = Long.parseLong(tmuxOut(tmux, sock, dir, "display-message", "-p", "#{pid}").strip());
        bed.workloads().trackForeignPid(server);
        return server;
    }

    /** Dumps the tree of the tmux {@code server} (killed) and waits until each of {@code pids} is gone: the image. */
    private Path dumpAndAwaitGone(long server, List<Long> pids) {
        Path image = bed.newImageDir();
        bed.cryo().dump(server, image).assertOk();
        for (long pid : pids) {
            assertTrue(ProcessControl.reap(pid, Workload.TIMEOUT) || ProcStat.read(pid).isEmpty(),
                    "dumped pid " + pid + " is gone");
        }
        return image;
    }

    /** @return the only child of {@code pid} once it has one */
    private static long awaitChild(long pid) {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (true) {
            List<Long> kids = TestBed.descendantsOf(pid);
            if (!kids.isEmpty()) {
                return kids.get(0);
            }
            assertTrue(System.nanoTime() < deadline, "pid " + pid + " started no job");
            ProcessControl.sleep(20);
        }
    }

    /** Polls capture-pane until {@code count} lines equal {@code line}. */
    private static void awaitLines(String tmux, Path sock, Path dir, String line, int count) throws IOException {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        String screen = "";
        while (System.nanoTime() < deadline) {
            screen = tmuxOut(tmux, sock, dir, "capture-pane", "-p");
            if (screen.lines().filter(l -> l.strip().equals(line)).count() >= count) {
                return;
            }
            ProcessControl.sleep(50);
        }
        throw new AssertionError(count + " lines '" + line + "' expected in the pane:\n" + screen);
    }

    /** Polls capture-pane until a line equals {@code line}; returns the screen. */
    private static String awaitScreen(String tmux, Path sock, Path dir, String line) throws IOException {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        String screen = "";
        while (System.nanoTime() < deadline) {
            screen = tmuxOut(tmux, sock, dir, "capture-pane", "-p");
            if (screen.lines().anyMatch(l -> l.strip().equals(line))) {
                return screen;
            }
            ProcessControl.sleep(50);
        }
        throw new AssertionError("no line '" + line + "' in the pane within " + Workload.TIMEOUT.toSeconds()
                + " s:\n" + screen);
    }

    /**
     * Waits until the server and the shell wait for input (read, poll, select, wait4, epoll: x86_64 numbers): nothing is on
     * its way through the pty, whose queued data the dump refuses rather than lose.
     */
    private static void awaitIdle(long... pids) {
        for (long pid : pids) {
            Workload.awaitInSyscall(pid, "pid " + pid, Workload.TIMEOUT, 0, 7, 23, 61, 232, 270, 271, 281, 441);
        }
    }

    private static String tmuxOut(String tmux, Path sock, Path dir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(tmux, "-S", sock.toString()));
        cmd.addAll(List.of(args));
        return run(cmd, dir);
    }

    private static String run(List<String> cmd, Path dir) throws IOException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try {
            if (!p.waitFor(Workload.TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(cmd + " did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), cmd + ": " + out);
        return out;
    }

    private static String program(String name) {
        try {
            return Workloads.which(name);
        } catch (IllegalStateException e) {
            throw new AssertionError(name + " is not installed: this test needs it (apt-get install " + name
                    + "; .ci/run installs it)");
        }
    }
}
