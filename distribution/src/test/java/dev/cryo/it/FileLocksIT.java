package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * File locks ({@code file_locks.c}: flock LOCK_EX and LOCK_SH, POSIX write and read ranges, an OFD lock, and a
 * file never locked): refused without {@code --file-locks}, re-taken on restore with it, and the restored process
 * checks from other open files and a forked child that each lock is held exactly as before (and that the unlocked
 * file stayed unlocked). A lock taken by someone else between dump and restore fails the restore, naming the holder.
 */
class FileLocksIT extends WithTestBed {

    @Test
    void everyKindOfLockIsRefusedWithoutTheOptionAndRetakenWithIt() throws IOException {
        Workload w = bed.startChecked("file_locks");
        String before = locksOf(w.pid());

        CryoResult refused = bed.cryo().dump(w.pid(), bed.newImageDir());
        refused.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions(w.comm(), "flock_ex", "fd 3", "flock", "LOCK_EX", "--file-locks");
        w.assertLeftRunning();
        assertEquals(before, locksOf(w.pid()), "locks after the refused dump");

        Path image = bed.dumpAndAwaitGone(w, "--file-locks");
        assertEquals("", locksOf(w.pid()), "locks of the killed original");

        CryoResult noOption = bed.cryo().restore(image, "-d");
        noOption.assertFailedWithFix(CryoResult.USAGE).assertStderrMentions("--file-locks", "flock_ex");
        bed.assertNoProcessWithPid(w.pid(), w.comm(), noOption);

        long mark = w.log().size();
        RunningCryo rc = bed.cryo().restoreInBackground(image, "--file-locks");
        Workload r = bed.awaitRestoredRoot(rc, w);
        w.log().awaitTicks(mark, 2, Workload.TIMEOUT);
        assertEquals(before, locksOf(w.pid()), "the locks /proc/locks shows for pid " + w.pid() + " after restore");
        r.assertVerifyPass();
        r.assertVerifyPass();
        TestBed.killRestored(r, rc);
    }

    @Test
    void aLockTakenMeanwhileFailsTheRestoreNamingItsHolder() {
        Workload w = bed.startChecked("file_locks");
        Path image = bed.dumpAndAwaitGone(w, "--file-locks");

        Path locked = w.workdir().resolve("flock_ex");
        Workload holder = bed.workloads().startCommand("flock-holder",
                List.of(Workloads.which("flock"), "-s", "-o", locked.toString(), Workloads.which("sleep"), "1000"),
                bed.workloads().newDir("holder"));
        awaitLockOf(holder.pid());
        CryoResult r = bed.cryo().restore(image, "-d", "--file-locks");
        r.assertFailedWithFix(CryoResult.CONFLICT).assertStderrNamesPid(w.pid()).assertStderrNamesPid(holder.pid())
                .assertStderrMentions("flock_ex", "LOCK_EX");
        bed.assertNoProcessWithPid(w.pid(), w.comm(), r);

        holder.kill();
        Workload restored = bed.restoreAndAwait(w, image, 2, "--file-locks");
        restored.assertVerifyPass();
    }

    /** @return the /proc/locks lines of {@code pid} without their ordinal, sorted, one per line */
    private static String locksOf(long pid) throws IOException {
        return ProcStat.readProcFile(Path.of("/proc/locks")).lines()
                .map(l -> l.replaceFirst("^\\d+:\\s*", ""))
                .filter(l -> l.split("\\s+").length > 3 && l.split("\\s+")[3].equals(Long.toString(pid))
                        || l.startsWith("OFDLCK") && l.contains(":" + inodeHint(pid)))
                .sorted().reduce("", (a, b) -> a + b + "\n");
    }

    /** OFD locks show pid -1: they are recognised by the inode of the workload's "ofd" file when it is open. */
    private static String inodeHint(long pid) {
        try {
            for (Path fd : java.nio.file.Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
                if (java.nio.file.Files.readSymbolicLink(fd).toString().endsWith("/ofd")) {
                    return java.nio.file.Files.getAttribute(fd, "unix:ino").toString() + " ";
                }
            }
        } catch (IOException | RuntimeException e) {
            // not running
        }
        return "\u0000none";
    }

    private static void awaitLockOf(long pid) {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (true) {
            try {
                if (!locksOf(pid).isEmpty()) {
                    return;
                }
            } catch (IOException e) {
                // retry
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("pid " + pid + " holds no lock after " + Workload.TIMEOUT.toSeconds() + " s");
            }
            ProcessControl.sleep(10);
        }
    }
}
