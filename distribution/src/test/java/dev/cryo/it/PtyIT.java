package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tty plugin through bin/cryo: {@code pty_pair} holds a pseudo-terminal pair inside its tree (the parent the
 * master in packet mode, the child — a session leader — the slave as its controlling terminal with marked termios, a
 * grandchild's group in the foreground). Dumping the child's subtree alone (its master outside) is refused naming
 * the slave and {@code --shell-job}, and with {@code -j} the slave is the regular-file plugin's terminal as before;
 * the whole tree is dumped and restored with the same index, and both sides' own checks pass: termios, window size,
 * packet mode, controlling terminal, foreground group, data both ways. Data queued both ways, a partial canonical
 * line among it, is kept and put back (at dump too). Refused, the tree left running: output queued for a master in
 * packet mode, a process that gave up the terminal its parent kept, a slave held outside the tree. A job of the
 * session (not its leader) gets its inherited controlling terminal back.
 */
class PtyIT extends WithTestBed {
    private static final int KILLED = 128 + ProcessControl.SIGKILL;

    @Test
    void aPairInsideTheTreeComesBackWithItsIndexSettingsAndControllingTerminal() {
        Workload w = startTicking("pty_pair");
        String before = w.assertVerifyPass();
        int index = Integer.parseInt(w.ready("index"));
        long child = Long.parseLong(w.ready("child"));
        long grandchild = Long.parseLong(w.ready("grandchild"));
        assertTrue(before.contains("index=" + index), before);

        // the slave alone, its master outside the dumped tree: refused without -j, the tree unharmed
        CryoResult refused = bed.cryo().dump(child, bed.newImageDir());
        refused.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(child)
                .assertStderrMentions("slave /dev/pts/" + index, "master is outside the dumped tree",
                        "pid " + w.pid(), "fd 9", "-j (--shell-job)", "tty/EXTERNAL_MASTER");
        w.assertVerifyPass();
        // with -j it stays the terminal the regular-file plugin reopens on cryo's own (CRIU's --shell-job)
        Path shellJob = bed.newImageDir();
        bed.cryo().dump(child, shellJob, "-j", "-R").assertOk();
        Struct slave = ShowOutput.fdRecord(bed.cryo().show(shellJob).fd(child, 10));
        assertEquals("regular-file", ShowOutput.fdKind(bed.cryo().show(shellJob).fd(child, 10)));
        assertTrue(ShowOutput.bool(slave, "terminal"), ShowOutput.json(slave));
        w.assertVerifyPass();

        long cttyOfChild = ttyNr(child);
        assertTrue(cttyOfChild != 0, "the child has a controlling terminal");
        assertEquals(0, ttyNr(grandchild), "the grandchild has none");
        Path image = bed.dumpAndAwaitGone(w);
        ShowOutput show = bed.cryo().show(image);
        assertEquals("tty", ShowOutput.fdKind(show.fd(w.pid(), 9)));
        Struct master = ShowOutput.fdRecord(show.fd(w.pid(), 9));
        assertTrue(ShowOutput.bool(master, "master"), ShowOutput.json(master));
        assertEquals(index, ShowOutput.num(master, "index"));
        Struct ctty = ShowOutput.fdRecord(show.fd(child, 10));
        assertTrue(ShowOutput.bool(ctty, "ctty"), "the leader's slave fd carries the ctty: " + ShowOutput.json(ctty));
        assertFalse(ShowOutput.bool(ShowOutput.fdRecord(show.fd(grandchild, 11)), "ctty"));
        List<Struct> ptys = show.records("tty.img");
        assertEquals(1, ptys.size(), ptys.toString());
        Struct pty = ShowOutput.unwrap(ptys.get(0));
        assertEquals(33, ShowOutput.num(pty, "rows"), ShowOutput.json(pty));
        assertEquals(101, ShowOutput.num(pty, "cols"));
        assertTrue(ShowOutput.bool(pty, "packet"));
        assertEquals(child, ShowOutput.num(pty, "session"));
        assertEquals(grandchild, ShowOutput.num(pty, "foregroundPgrp"));

        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        r.awaitNewTicks(2);
        String after = r.assertVerifyPass();
        assertTrue(after.contains("index=" + index), "the restored pair has the index it had: " + after);
        assertEquals(cttyOfChild, ttyNr(child), "the child has its controlling terminal again");
        assertEquals(0, ttyNr(grandchild), "the grandchild (forked before the child took it) still has none");
        r.assertVerifyPass(); // and again: the data kept flowing both ways
        TestBed.killRestored(r, rc);
    }

    /**
     * Output queued for a master in packet mode is not kept (a read would take the status byte): refused, and the
     * tree runs on and passes its check (which reads it).
     */
    @Test
    void dataQueuedInThePtyIsRefusedNotLost() {
        Workload w = startTicking("pty_pair", "queued");
        CryoResult refused = bed.cryo().dump(w.pid(), bed.newImageDir());
        refused.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions("fd 9", "/dev/pts/" + w.ready("index"), "7 bytes", "tty/QUEUED_DATA");
        // the dry run lists it too; the tree runs on and passes its check
        CryoResult check = bed.cryo().run("check", "-t", Long.toString(w.pid()));
        check.assertExit(CryoResult.UNSUPPORTED);
        assertTrue(check.stdout().contains("[tty/QUEUED_DATA]"), check.describe());
        w.assertVerifyPass();
    }

    /**
     * Data queued both ways is kept ({@code pty_canon}: the slave in cooked mode holds the lines `l1\n`, `l2^D`,
     * `^D` and the partial line `partial`, typed without a newline, which FIONREAD does not count; the master holds
     * `hello\r\n` and the echo of what was typed). A dump that leaves the tree running takes the queues and puts them back: the tree then finishes the
     * line and sees exactly what it would have. Dumped and restored, the restored program reads `partial line` and
     * the terminal shows each byte once (no second echo of `partial`).
     */
    @Test
    void dataQueuedBothWaysAndAPartialLineAreKeptAndPutBack() {
        Workload kept = startTicking("pty_canon");
        // the dry run takes the queues too, and puts them back: the dump after it finds them whole
        bed.cryo().run("check", "-t", Long.toString(kept.pid())).assertOk();
        Path leftRunning = bed.newImageDir();
        bed.cryo().dump(kept.pid(), leftRunning, "-R").assertOk();
        Struct pty = ShowOutput.unwrap(bed.cryo().show(leftRunning).records("tty.img").get(0));
        assertEquals(java.util.Base64.getEncoder().encodeToString("partial".getBytes()),
                ShowOutput.str(pty, "input"), ShowOutput.json(pty));
        assertEquals(java.util.Base64.getEncoder().encodeToString("hello\r\nl1\r\nl2partial".getBytes()),
                ShowOutput.str(pty, "output"), ShowOutput.json(pty));
        assertEquals(3, ShowOutput.list(pty, "inputLines").size(), "l1, l2^D and ^D: " + ShowOutput.json(pty));
        String verdict = kept.assertVerifyPass(); // the dump put both queues back as they were
        assertTrue(verdict.contains("round=1"), verdict);
        kept.assertVerifyPass();
        kept.kill();

        Workload w = startTicking("pty_canon");
        Path image = bed.dumpAndAwaitGone(w);
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        r.awaitNewTicks(2);
        verdict = r.assertVerifyPass();
        assertTrue(verdict.contains("round=1"), "the restored program read its lines and the partial one: " + verdict);
        r.assertVerifyPass();
        TestBed.killRestored(r, rc);
    }

    /**
     * A job of the session (forked after its leader took the terminal) inherited the pty as its controlling terminal:
     * the restored leader takes it while the tree is created, before forking the job, which inherits it again.
     */
    @Test
    void aJobOfTheSessionInheritsItsControllingTerminalAgain() {
        Workload w = startTicking("pty_pair", "job");
        long child = Long.parseLong(w.ready("child"));
        long grandchild = Long.parseLong(w.ready("grandchild"));
        long job = Long.parseLong(w.ready("job"));
        long ctty = ttyNr(child);
        assertEquals(ctty, ttyNr(job), "the job inherited the terminal");
        Path image = bed.dumpAndAwaitGone(w);
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        r.awaitNewTicks(2);
        r.assertVerifyPass();
        assertEquals(ctty, ttyNr(child));
        assertEquals(ctty, ttyNr(job), "the restored job has its controlling terminal again");
        assertEquals(0, ttyNr(grandchild));
        TestBed.killRestored(r, rc);
    }

    /**
     * A process that gave its terminal up (TIOCNOTTY) under a parent that kept it would inherit it at restore: the
     * dump is refused naming it, and the tree runs on.
     */
    @Test
    void aProcessThatGaveItsTerminalUpUnderAParentWithOneIsRefused() {
        Workload w = startTicking("pty_pair", "notty");
        long job = Long.parseLong(w.ready("job"));
        CryoResult refused = bed.cryo().dump(w.pid(), bed.newImageDir());
        refused.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrMentions("no controlling terminal",
                "TIOCNOTTY", "its parent pid " + job, "/dev/pts/" + w.ready("index"), "tty/CTTY");
        w.assertVerifyPass();
    }

    /** A master whose slave a process outside the tree holds is refused naming that process; the tree runs on. */
    @Test
    void aMasterWhoseSlaveIsHeldOutsideTheTreeIsRefused() {
        Workload w = startTicking("pty_pair");
        String slave = "/dev/pts/" + w.ready("index");
        Path dir = bed.workloads().newDir("outside");
        Workload outside = bed.workloads().startCommand("outside", List.of(Workloads.which("sh"), "-c",
                "exec " + Workloads.which("sleep") + " 1000 <" + slave), dir, comm -> comm.equals("sleep"));
        CryoResult refused = bed.cryo().dump(w.pid(), bed.newImageDir());
        refused.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions("pseudo-terminal master of " + slave, "fd 9",
                        "pid " + outside.pid() + " \"sleep\" fd 0", "tty/EXTERNAL_SLAVE");
        w.assertVerifyPass();
    }

    /** Starts workload {@code name} and waits until it has ticked twice (its terminals are set up by then). */
    private Workload startTicking(String name, String... extraArgs) {
        Workload w = bed.workloads().start(name, extraArgs);
        w.awaitNewTicks(2);
        return w;
    }

    /** Holds /dev/pts/INDEX (from the workdir's file "index"): opens /dev/ptmx until it gets that index. */
    private static final String HOLD_INDEX = """
            import fcntl, os, struct, sys, time
            want = int(open(os.path.join(sys.argv[1], "index")).read())
            TIOCGPTN = 0x80045430
            held, others = None, []
            for _ in range(256):
                fd = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
                n = struct.unpack("I", fcntl.ioctl(fd, TIOCGPTN, b"\\0" * 4))[0]
                if n == want:
                    held = fd
                    break
                others.append(fd)
                if n > want:
                    break
            for fd in others:
                os.close(fd)
            print("READY held=%s" % ("yes" if held is not None else "no"), flush=True)
            while True:
                time.sleep(1)
            """;

    /**
     * The pty index of the image in use on the host at restore: refused before any process exists, naming the
     * terminal; restored once it is free again.
     */
    @Test
    void anIndexInUseAtRestoreIsRefusedBeforeAnyProcessExists() throws java.io.IOException {
        Workload w = startTicking("pty_pair");
        String index = w.ready("index");
        Path image = bed.dumpAndAwaitGone(w);

        Path holderDir = bed.workloads().newDir("hold-index");
        java.nio.file.Files.writeString(holderDir.resolve("index"), index);
        Path script = holderDir.resolve("hold.py");
        java.nio.file.Files.writeString(script, HOLD_INDEX);
        Workload holder = bed.workloads().startCommand("hold", List.of(Workloads.python3(), script.toString(),
                holderDir.toString()), holderDir);
        holder.awaitReady();
        if (holder.ready("held").equals("yes")) {
            CryoResult refused = bed.cryo().restore(image, "-d");
            refused.assertFailedWithFix(CryoResult.CONFLICT).assertStderrMentions("/dev/pts/" + index, "in use",
                    "pid " + holder.pid(), "tty/INDEX_TAKEN");
            bed.assertNoProcessWithPid(w.pid(), "pty_pair", refused);
        }
        holder.kill();

        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        r.awaitNewTicks(2);
        String verdict = r.assertVerifyPass();
        assertTrue(verdict.contains("index=" + index), verdict);
        TestBed.killRestored(r, rc);
    }

    /** @return tty_nr of /proc/PID/stat: the controlling terminal's device number, 0 for none */
    private static long ttyNr(long pid) {
        try {
            String stat = ProcStat.readProcFile(Path.of("/proc/" + pid + "/stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[4]);
        } catch (java.io.IOException e) {
            throw new AssertionError("pid " + pid + " is gone", e);
        }
    }
}
