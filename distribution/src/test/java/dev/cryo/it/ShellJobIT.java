package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code -j/--shell-job}: a job started from a shell on a terminal ({@code tty_job.c} under {@code script}: fds 0-2
 * on the pty, fd 3 on /dev/tty, the pty its controlling terminal) is refused without -j, naming the terminal and
 * the option, and left running; dumped with -j, a restore without -j or without a terminal is refused before any
 * process exists; {@code cryo restore -j} run on another terminal (a second {@code script}) gives the restored job
 * that terminal, as its controlling terminal, and the job's own check passes there.
 */
class ShellJobIT extends WithTestBed {
    @Test
    void aJobOnATerminalIsRestoredOnTheTerminalCryoRunsOn() {
        String script = Workloads.which("script");
        Path dir = bed.workloads().newDir("tty-job");
        String job = Workloads.binary("tty_job") + " " + dir;
        // bash without job control gives a background job /dev/null as stdin: <&1 gives it the terminal again
        Workload shell = bed.workloads().startCommand("script", List.of(script, "-qfec",
                "bash -c '" + job + " <&1 & wait'", dir.resolve("typescript-1").toString()), dir);
        shell.awaitReady();
        long pid = Long.parseLong(shell.ready("pid"));
        bed.workloads().trackForeignPid(pid);
        assertTrue(shell.ready("tty").startsWith("/dev/pts/"), "the job runs on a terminal: " + shell.ready("tty"));
        assertVerdict(shell.log(), pid, "before the dump");

        CryoResult refused = bed.cryo().dump(pid, bed.newImageDir());
        refused.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(pid)
                .assertStderrMentions("fd 0", "terminal", "/dev/pts/", "-j (--shell-job)");
        assertVerdict(shell.log(), pid, "after the refused dump");

        Path image = bed.newImageDir();
        bed.cryo().dump(pid, image, "-j").assertOk();
        assertTrue(ProcessControl.reap(pid, Workload.TIMEOUT) || !ProcStat.read(pid).isPresent(),
                "the dumped job is gone");
        shell.awaitGone(Workload.TIMEOUT);

        CryoResult noOption = bed.cryo().restore(image, "-d");
        noOption.assertFailedWithFix(CryoResult.USAGE).assertStderrMentions("terminal", "--shell-job");
        bed.assertNoProcessWithPid(pid, "tty_job", noOption);
        // the test runs cryo without a terminal
        CryoResult noTerminal = bed.cryo().restore(image, "-d", "-j");
        noTerminal.assertFailedWithFix(CryoResult.USAGE).assertStderrMentions("without a terminal");
        bed.assertNoProcessWithPid(pid, "tty_job", noTerminal);

        Workload restoring = bed.workloads().startCommand("script-restore", List.of(script, "-qfec",
                bed.cryo().executable() + " restore -D " + image + " -j", dir.resolve("typescript-2").toString()),
                dir);
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (ProcStat.read(pid).filter(s -> s.comm().equals("tty_job")).isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "no restored tty_job: " + restoring.log().tail(20));
            ProcessControl.sleep(20);
        }
        String verdict = assertVerdict(restoring.log(), pid, "after the restore on the second terminal");
        assertTrue(verdict.contains("tty=/dev/pts/"), verdict);
        ProcessControl.kill(pid, ProcessControl.SIGKILL);
        restoring.awaitGone(Workload.TIMEOUT);
    }

    /** Asks the job to check itself and waits for its verdict on the terminal's log; fails unless PASS. */
    private static String assertVerdict(LogFile log, long pid, String when) {
        long mark = log.size();
        assertTrue(ProcessControl.kill(pid, ProcessControl.SIGUSR2), "pid " + pid + " is gone " + when);
        String verdict = log.awaitPrefix(mark, "VERDICT", Workload.TIMEOUT).strip();
        assertTrue(verdict.startsWith("VERDICT PASS"), when + ": " + verdict);
        return verdict;
    }
}
