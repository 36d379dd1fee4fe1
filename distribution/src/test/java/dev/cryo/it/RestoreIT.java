package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * dump → (original gone) → {@code cryo restore} through bin/cryo, and the restore refusals. Restores run without
 * {@code -d} in the background unless a test is about {@code -d}: cryo stays the waiter of the restored root, and
 * exits 137 (128 + SIGKILL) when the test kills it. Every restored workload must print {@code VERDICT PASS}.
 */
class RestoreIT extends WithTestBed {
    /**
     * x86_64 numbers of the calls a restored {@code sleep} waits in: its clock_nanosleep, or restart_syscall when
     * the restore rebuilt the kernel's restart block for the time left.
     */
    private static final int NANOSLEEP = 35, CLOCK_NANOSLEEP = 230, RESTART_SYSCALL = 219;

    private static final Duration FAILURE_TIMEOUT = Duration.ofSeconds(60);

    /** A restored root and the cryo process waiting for it. */
    private record Restored(RunningCryo cryo, Workload workload) {
        /** Kills the restored workload and asserts cryo exits with 128 + SIGKILL. */
        void killAndAwaitCryo() {
            TestBed.killRestored(workload, cryo);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"st_workload", "st_workload_static"})
    void restoredWorkloadContinuesAndVerifies(String name) {
        Workload w = startAndCheck(name);
        Path image = bed.dumpAndAwaitGone(w);
        Restored r = restoreInBackground(w, image);
        assertEquals(w.pid(), r.workload().pid());
        String verdict = r.workload().assertVerifyPass();
        assertTrue(verdict.contains("pid=" + w.pid() + " "), verdict);
        r.killAndAwaitCryo();
    }

    @Test
    void sameImageRestoresTwice() throws IOException {
        Workload w = startAndCheck("st_workload");
        Path image = bed.dumpAndAwaitGone(w);
        Map<Path, Long> sizes = fileSizes(w.workdir());

        Restored first = restoreInBackground(w, image);
        first.workload().assertVerifyPass();
        first.killAndAwaitCryo();

        // put the files the first copy appended to back as they were at dump time (what a user restoring a
        // checkpoint twice does with its data); keep the first copy's log for diagnostics
        Files.copy(w.log().path(), w.workdir().resolve("first-restore.log.txt"), StandardCopyOption.REPLACE_EXISTING);
        truncateTo(sizes);

        Restored second = restoreInBackground(w, image);
        second.workload().assertVerifyPass();
        second.killAndAwaitCryo();
    }

    @Test
    void restoredSleepKeepsSleeping() {
        Workload w = bed.workloads().sleep(1000);
        w.awaitState('S', Workload.TIMEOUT);
        Path image = bed.dumpAndAwaitGone(w);
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        // until cryo lets it go: before that the restored thread also sleeps in a nanosleep, the one cryo injects to
        // rebuild the interrupted call (InterruptedCalls), and a kill then fails the restore (seen in CI)
        Workload r = bed.awaitRestoreDone(rc, w);
        r.awaitState('S', Workload.TIMEOUT);
        r.awaitInSyscall(Workload.TIMEOUT, CLOCK_NANOSLEEP, NANOSLEEP, RESTART_SYSCALL); // sleeping again, not exited on EINTR
        rc.assertRunning();
        TestBed.killRestored(r, rc);
    }

    @Test
    void restoredPythonDictVerifies() {
        Workload w = bed.workloads().python("dict_workload", DictWorkload.SCRIPT);
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);
        Restored r = restoreInBackground(w, image);
        r.workload().assertVerifyPass();
        r.killAndAwaitCryo();
    }

    @Test
    void detachedRestoreWritesPidfile() throws IOException {
        Workload w = startAndCheck("st_workload");
        Path image = bed.dumpAndAwaitGone(w);
        Path pidfile = tmp.resolve("restored.pid");
        long mark = w.log().size();
        bed.cryo().restore(image, "-d", "--pidfile", pidfile.toString()).assertOk();
        assertEquals(Long.toString(w.pid()), Files.readString(pidfile).trim(), "pidfile content");
        Workload r = bed.workloads().adoptRestored(w);
        w.log().awaitTicks(mark, 2, Workload.TIMEOUT);
        r.assertVerifyPass();
        r.kill(); // reparented to this JVM (a subreaper): kill() reaps it
        assertTrue(ProcStat.read(w.pid()).isEmpty(), "detached restored pid " + w.pid() + " was not reaped: "
                + ProcStat.read(w.pid()));
    }

    @Test
    void leaveStoppedThenContinue() {
        Workload w = startAndCheck("st_workload");
        Path image = bed.dumpAndAwaitGone(w);
        RunningCryo rc = bed.cryo().restoreInBackground(image, "-s");
        Workload r = bed.awaitRestoredRoot(rc, w);
        r.awaitState('T', Workload.TIMEOUT);
        long size = w.log().size();
        r.awaitState('T', Workload.TIMEOUT);   // stopped (a stopped process cannot write) from here to SIGCONT
        r.signal(ProcessControl.SIGCONT);
        w.log().awaitTicks(size, 2, Workload.TIMEOUT);
        r.assertVerifyPass();
        TestBed.killRestored(r, rc);
    }

    // ---- refusals: a non-zero exit of the right category, a clear message, no process left with the pid ----

    @Test
    void missingImageDirIsRefused() {
        Path dir = tmp.resolve("no-such-image");
        CryoResult r = restoreExpectingFailure(dir);
        assertTrue(r.exit() == CryoResult.USAGE || r.exit() == CryoResult.IMAGE, "exit 2 or 6: " + r.describe());
        r.assertStderrMentions(dir.toString());
    }

    @Test
    void emptyImageDirIsRefused() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("empty-image"));
        CryoResult r = restoreExpectingFailure(dir).assertExit(CryoResult.IMAGE);
        r.assertStderrMatches("inventory|" + Pattern.quote(dir.toString()), "the image dir or its inventory");
    }

    @Test
    void imageWithoutInventoryIsRefused() throws IOException {
        Workload w = startAndCheck("st_workload");
        Path image = bed.dumpAndAwaitGone(w);
        Files.delete(image.resolve("inventory.img"));
        CryoResult r = restoreExpectingFailure(image).assertExit(CryoResult.IMAGE).assertStderrMentions("inventory.img");
        bed.assertNoProcessWithPid(w.pid(), w.comm(), r);
    }

    @Test
    void truncatedPagesFileIsRefused() throws IOException {
        Workload w = startAndCheck("st_workload");
        Path image = bed.dumpAndAwaitGone(w);
        Path pages = ImagePages.pagesFile(image, w.pid());
        try (var ch = Files.newByteChannel(pages, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }
        CryoResult r = restoreExpectingFailure(image).assertExit(CryoResult.IMAGE)
                .assertStderrMentions(pages.getFileName().toString());
        bed.assertNoProcessWithPid(w.pid(), w.comm(), r);
    }

    @Test
    void flippedByteInCoreImageIsRefused() throws IOException {
        Workload w = startAndCheck("st_workload");
        Path image = bed.dumpAndAwaitGone(w);
        Path core = image.resolve("core-" + w.pid() + ".img");
        try (RandomAccessFile f = new RandomAccessFile(core.toFile(), "rw")) {
            long at = f.length() / 2;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0xff);
        }
        CryoResult r = restoreExpectingFailure(image).assertExit(CryoResult.IMAGE)
                .assertStderrMentions(core.getFileName().toString());
        bed.assertNoProcessWithPid(w.pid(), w.comm(), r);
    }

    @Test
    void disabledPluginTheImageNeedsIsRefused() {
        Workload w = startAndCheck("st_workload");
        Path image = bed.dumpAndAwaitGone(w);
        Path conf = bed.cryo().writeConfig("no-memory.conf", "plugins.disabled memory");
        CryoResult r = restoreExpectingFailure(image, "--config", conf.toString()).assertExit(CryoResult.PLUGIN)
                .assertStderrMentions("memory").assertStderrMatches("plugins\\.(enabled|disabled)", "the config key");
        bed.assertNoProcessWithPid(w.pid(), w.comm(), r);
    }

    @Test
    void pidInUseIsAConflict() {
        Workload w = startAndCheck("st_workload");
        Path image = bed.dumpLeavingRunning(w);
        // the running original keeps appending to its files: skip the size check so the pid is the conflict
        CryoResult r = restoreExpectingFailure(image, "--skip-file-size-check").assertExit(CryoResult.CONFLICT)
                .assertStderrNamesPid(w.pid()).assertStderrMentions(w.comm());
        assertTrue(w.isAlive(), w + " (holding the pid) was harmed by the refused restore: " + r.describe());
        w.assertVerifyPass();
    }

    @Test
    void fileThatChangedSizeIsAConflictUnlessSkipped() throws IOException {
        Workload w = startAndCheck("st_workload");
        int inputFd = Integer.parseInt(w.ready("input"));
        Path input = w.workdir().resolve("input.txt");
        long before = Files.size(input);
        Path image = bed.dumpAndAwaitGone(w);
        Files.writeString(input, "appended after the dump\n", StandardOpenOption.APPEND);
        long after = Files.size(input);

        CryoResult r = restoreExpectingFailure(image).assertExit(CryoResult.CONFLICT)
                .assertStderrMentions(input.toString(), Long.toString(before), Long.toString(after))
                .assertStderrMatches("\\bfd\\W{0,3}" + inputFd + "\\b", "fd " + inputFd)
                .assertStderrMentions("--skip-file-size-check");
        bed.assertNoProcessWithPid(w.pid(), w.comm(), r);

        Restored ok = restoreInBackground(w, image, "--skip-file-size-check");
        ok.workload().assertVerifyPass();
        ok.killAndAwaitCryo();
    }

    // ---- helpers ----

    /** Starts a C workload, lets it tick and verifies it once (so the post-restore verify checks progress). */
    private Workload startAndCheck(String name) {
        Workload w = bed.startVerified(name);
        return w;
    }

    /** Restores in the background and waits until the restored root has ticked twice. */
    private Restored restoreInBackground(Workload original, Path image, String... extra) {
        long mark = original.log().size();
        RunningCryo rc = bed.cryo().restoreInBackground(image, extra);
        Workload r = bed.awaitRestoredRoot(rc, original);
        original.log().awaitTicks(mark, 2, Workload.TIMEOUT);
        rc.assertRunning();
        return new Restored(rc, r);
    }

    /** Runs a restore that must fail (in the background, so an unexpected success cannot hang the test). */
    private CryoResult restoreExpectingFailure(Path image, String... extra) {
        RunningCryo rc = bed.cryo().restoreInBackground(image, extra);
        CryoResult r = rc.awaitExit(FAILURE_TIMEOUT);
        r.assertFailed();
        return r;
    }

    private static Map<Path, Long> fileSizes(Path dir) throws IOException {
        Map<Path, Long> sizes = new LinkedHashMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                sizes.put(p, Files.size(p));
            }
        }
        return sizes;
    }

    private static void truncateTo(Map<Path, Long> sizes) throws IOException {
        for (Map.Entry<Path, Long> e : sizes.entrySet()) {
            try (var ch = Files.newByteChannel(e.getKey(), StandardOpenOption.WRITE)) {
                if (ch.size() > e.getValue()) {
                    ch.truncate(e.getValue());
                }
            }
        }
    }
}
