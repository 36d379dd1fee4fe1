package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code script(1)} (util-linux) recording a shell loop: script holds the pty master and a slave, the loop runs on
 * the slave as its session's controlling terminal. Dumped and restored by the tty plugin (no {@code -j}: the tree
 * holds both sides), the loop goes on counting through the restored pty and script goes on writing its typescript.
 */
class ScriptIT extends WithTestBed {
    private static final int KILLED = 128 + ProcessControl.SIGKILL;

    @Test
    void scriptKeepsRecordingTheLoopAfterTheRestore() throws IOException {
        String script = Workloads.which("script");
        Path dir = bed.workloads().newDir("script");
        Path ts = dir.resolve("typescript");
        Workload w = bed.workloads().startCommand("script", List.of(script, "-qfec",
                "bash -c 'i=0; while :; do i=$((i+1)); echo line-$i; sleep 0.5; done'", ts.toString()), dir);
        long before = awaitCount(ts, 3);

        // the freeze is not atomic: the loop, frozen after script, may have written a line script has not read yet;
        // that dump is refused (tty/QUEUED_DATA) with the tree left running, and the next one, a moment later, works
        Path image;
        for (int attempt = 1; ; attempt++) {
            image = bed.newImageDir();
            List<Long> tree = TestBed.descendantsOf(w.pid());
            CryoResult r = bed.cryo().dump(w.pid(), image);
            if (r.exit() == CryoResult.OK) {
                w.awaitGone(Workload.TIMEOUT);
                for (long pid : tree) {
                    ProcessControl.reap(pid, Workload.TIMEOUT);
                }
                for (int i = 0; i < 20; i++) {
                    ProcessControl.reapOrphans(); // the loop's short-lived sleep processes
                    ProcessControl.sleep(10);
                }
                break;
            }
            r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrMentions("tty/QUEUED_DATA");
            assertTrue(w.isAlive() && attempt < 5, "refused " + attempt + " times: " + r.describe());
            awaitCount(ts, lastCount(ts) + 1);
        }
        long atDump = lastCount(ts);
        assertTrue(atDump >= before, "counted to " + atDump);
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        long after = awaitCount(ts, atDump + 5);
        assertTrue(after > atDump, "the loop went on after the restore: line-" + after);
        String text = Files.readString(ts, StandardCharsets.ISO_8859_1);
        assertTrue(text.indexOf("line-1\r") == text.lastIndexOf("line-1\r"), "the loop did not start again");
        r.kill();
        Cryo.await(rc).assertExit(KILLED);
    }

    /** Waits until the typescript's last line-N has N >= {@code n}; returns N. */
    private static long awaitCount(Path ts, long n) throws IOException {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        long last = 0;
        while (System.nanoTime() < deadline) {
            last = lastCount(ts);
            if (last >= n) {
                return last;
            }
            ProcessControl.sleep(50);
        }
        throw new AssertionError("the typescript reached line-" + last + ", not line-" + n);
    }

    private static long lastCount(Path ts) throws IOException {
        if (!Files.exists(ts)) {
            return 0;
        }
        long last = 0;
        for (String l : Files.readString(ts, StandardCharsets.ISO_8859_1).split("\n")) {
            String s = l.strip();
            if (s.startsWith("line-") && s.substring(5).chars().allMatch(Character::isDigit) && s.length() > 5) {
                last = Long.parseLong(s.substring(5));
            }
        }
        return last;
    }
}
