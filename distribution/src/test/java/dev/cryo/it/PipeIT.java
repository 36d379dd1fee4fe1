package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The pipe plugin through bin/cryo on single-process trees: pipes and FIFOs with data in flight (the restored
 * program reads every byte itself and reports PASS), {@code --leave-running}, and the policy for a pipe whose
 * other end is outside the tree ({@code --external} + {@code --inherit-fd}, {@code stdio-inherit}).
 */
class PipeIT extends WithTestBed {
    private static final Duration FAILURE_TIMEOUT = Duration.ofSeconds(60);

    @Test
    void pipeWithDataInFlightIsRestoredByteForByte() {
        Workload w = startHolder("pipe");
        long ino = Long.parseLong(w.ready("ino"));
        Path image = bed.dumpAndAwaitGone(w);

        Struct pipe = pipeRecord(bed.cryo().show(image), ino);
        assertEquals(100_000, ShowOutput.num(pipe, "bytesInFlight"), ShowOutput.json(pipe));
        assertEquals(128 * 1024, ShowOutput.num(pipe, "capacity"), "capacity");
        assertEquals(2, ShowOutput.list(pipe, "holders").size(), "holders");

        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        String verdict = r.assertVerifyPass();
        assertTrue(verdict.contains("consumed=200000 verifications=2"), verdict);
        r.assertVerifyPass(); // refilled, read again: the restored pipe keeps working
        TestBed.killRestored(r, rc);
    }

    @Test
    void statusFlagsArePerOpenFileDescription() {
        // pipe_flags.c: O_NONBLOCK (and O_DIRECT) set on some OFDs of a pipe end and not on others, dup'ed, inherited
        // and reopened ones, in a parent and a child; closed other ends; a FIFO opened twice
        Workload w = bed.startCheckedWithChild("pipe_flags");
        bed.dumpRestoreAndVerify(w);
    }

    @Test
    void leaveRunningLosesNoByteAndTheImageRestores() {
        Workload w = startHolder("pipe");
        Path image = bed.dumpLeavingRunning(w);
        String verdict = w.assertVerifyPass(); // reads all 100000 bytes: tee took none of them
        assertTrue(verdict.contains("consumed=200000"), verdict);

        w.kill();
        // the original went on appending to its log after the dump
        RunningCryo rc = bed.cryo().restoreInBackground(image, "--skip-file-size-check");
        Workload r = bed.awaitRestoredRoot(rc, w);
        assertTrue(r.assertVerifyPass().contains("consumed=200000 verifications=2"), "the image has the dump-time state");
        TestBed.killRestored(r, rc);
    }

    @Test
    void fifoWithDataInFlightIsReopenedByPath() {
        Workload w = startHolder("fifo");
        Path image = bed.dumpAndAwaitGone(w);
        assertTrue(Files.exists(w.workdir().resolve("p.fifo")));
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        assertTrue(r.assertVerifyPass().contains("consumed=200000 verifications=2"));
        TestBed.killRestored(r, rc);
    }

    @Test
    void missingFifoIsAConflict() throws IOException {
        Workload w = startHolder("fifo");
        Path image = bed.dumpAndAwaitGone(w);
        Path fifo = w.workdir().resolve("p.fifo");
        Files.delete(fifo);
        CryoResult r = bed.cryo().restoreInBackground(image).awaitExit(FAILURE_TIMEOUT)
                .assertFailedWithFix(CryoResult.CONFLICT).assertStderrMentions(fifo.toString(), "mkfifo");
        bed.assertNoProcessWithPid(w.pid(), w.comm(), r);
    }

    @Test
    void externalPipeIsRefusedNamingBothEndsAndTheFixes() {
        Workload w = bed.workloads().start("with_pipe", "external");
        long helper = bed.workloads().trackReadyPid(w, "helper");
        int fd = Integer.parseInt(w.ready("rfd"));
        long ino = pipeInode(w.pid(), fd);

        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrMentions("pipe:[" + ino + "]", w.comm(),
                "--external pipe:[" + ino + "]", "--inherit-fd fd[N]:pipe:[" + ino + "]", "[pipe/EXTERNAL_PIPE]")
                .assertStderrNamesPid(w.pid()).assertStderrNamesPid(helper)
                .assertStderrMatches("\\bfd\\W{0,3}" + fd + "\\b", "fd " + fd);
        w.assertLeftRunning();
    }

    @Test
    void externalPipeAcceptedThenInheritedOnRestore() throws Exception {
        Workload w = bed.workloads().start("with_pipe", "external");
        long helper = bed.workloads().trackReadyPid(w, "helper");
        int fd = Integer.parseInt(w.ready("rfd"));
        long ino = pipeInode(w.pid(), fd);
        String res = "pipe:[" + ino + "]";
        w.awaitNewTicks(2);
        long drainedAtDump = drained(w.assertVerifyPass());

        Path image = bed.dumpAndAwaitGone(w, "--external", res);
        // the helper is in the workload's session: until it is reaped, the session id keeps the pid taken
        // (clone3 set_tid answers EEXIST although /proc/PID is gone)
        ProcessControl.kill(helper, ProcessControl.SIGKILL);
        ProcessControl.reap(helper, Duration.ofSeconds(5));
        awaitPidFree(w.pid());

        // no instruction for the external end: refused, naming the fd and the option
        CryoResult refused = bed.cryo().restoreInBackground(image).awaitExit(FAILURE_TIMEOUT)
                .assertFailedWithFix(CryoResult.USAGE)
                .assertStderrMentions(res, "--inherit-fd fd[N]:" + res, "[pipe/NO_INHERIT_FD]")
                .assertStderrMatches("\\bfd\\W{0,3}" + fd + "\\b", "fd " + fd);
        bed.assertNoProcessWithPid(w.pid(), w.comm(), refused);

        // cryo's fd 7 (a FIFO of the test's, opened read-write by the shell) becomes the workload's read end
        Path feed = tmp.resolve("feed.fifo");
        mkfifo(feed);
        RunningCryo rc = startWithFd7(feed, "restore", "-D", image.toString(), "--inherit-fd", "fd[7]:" + res);
        Workload r = bed.awaitRestoredRoot(rc, w);
        try (OutputStream out = new FileOutputStream(feed.toFile())) {
            out.write(new byte[1000]);
        }
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        long drained;
        do {
            ProcessControl.sleep(200);
            drained = drained(r.assertVerifyPass());
        } while (drained < drainedAtDump + 1000 && System.nanoTime() < deadline);
        assertTrue(drained >= drainedAtDump + 1000, "the restored workload drained " + (drained - drainedAtDump)
                + " bytes of the 1000 the test wrote into its inherited pipe");
        TestBed.killRestored(r, rc);
    }

    @Test
    void stdioInheritTurnsAStdoutPipeIntoCryosStdout() {
        // pipe_holder's stdout is a pipe to a `cat` outside its tree
        Path workdir = bed.workloads().newDir("pipe_stdio");
        Workload shell = bed.workloads().startCommand("pipe_stdio", List.of("bash", "-c", "\"$0\" \"$1\" | cat",
                Workloads.binary("pipe_holder").toString(), workdir.toString()), workdir);
        String ready = shell.log().awaitPrefix(0, "READY", Workload.TIMEOUT);
        Matcher m = Pattern.compile("pid=(\\d+)").matcher(ready);
        assertTrue(m.find(), ready);
        long pid = Long.parseLong(m.group(1));
        ProcStat st = ProcStat.read(pid).orElseThrow();
        Workload holder = new Workload("pipe_holder", pid, st.startTime(), st.comm(), shell.log(), workdir, null);

        CryoResult refused = bed.cryo().dump(pid, bed.newImageDir());
        refused.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrMentions("stdio-inherit", "[pipe/EXTERNAL_PIPE]");

        Path conf = bed.cryo().writeConfig("stdio.conf", "stdio-inherit");
        Path image = bed.dumpAndAwaitGone(holder, "--config", conf.toString());
        RunningCryo rc = bed.cryo().restoreInBackground(image, "--config", conf.toString());
        Workload r = bed.awaitRestoredRoot(rc, holder);
        r.signal(ProcessControl.SIGUSR2);
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        String out;
        while (!(out = rc.snapshot().stdout()).contains("VERDICT")) {
            assertTrue(System.nanoTime() < deadline, "no VERDICT on cryo's stdout: " + rc.snapshot().describe());
            ProcessControl.sleep(20);
        }
        assertTrue(out.contains("VERDICT PASS"), out);
        TestBed.killRestored(r, rc);
    }

    // ---- helpers ----

    private Workload startHolder(String mode) {
        Workload w = bed.workloads().start("pipe_holder", mode);
        w.awaitNewTicks(2);
        assertTrue(w.assertVerifyPass().contains("consumed=100000 verifications=1"));
        return w;
    }

    private static Struct pipeRecord(ShowOutput show, long ino) {
        for (Struct s : show.records("pipe.img")) {
            Struct p = ShowOutput.unwrap(s);
            if (ShowOutput.num(p, "inode") == ino) {
                return p;
            }
        }
        throw new AssertionError("pipe.img has no pipe " + ino + ":\n" + show.raw());
    }

    private static long pipeInode(long pid, int fd) {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/" + fd)).toString();
            Matcher m = Pattern.compile("pipe:\\[(\\d+)]").matcher(link);
            assertTrue(m.matches(), "fd " + fd + " of " + pid + " is " + link);
            return Long.parseLong(m.group(1));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Waits until nothing (not even a zombie) holds {@code pid}, reaping orphans; fails naming what holds it. */
    private static void awaitPidFree(long pid) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        Path status = Path.of("/proc/" + pid + "/status");
        while (Files.exists(status)) {
            ProcessControl.reapOrphans();
            if (System.nanoTime() > deadline) {
                String what;
                try {
                    what = Files.readString(status);
                } catch (IOException e) {
                    what = e.toString();
                }
                throw new AssertionError("pid " + pid + " is still in use 10 s after the dump killed it:\n" + what);
            }
            ProcessControl.sleep(20);
        }
    }

    private static long drained(String verdict) {
        Matcher m = Pattern.compile("drained=(\\d+)").matcher(verdict);
        assertTrue(m.find(), verdict);
        return Long.parseLong(m.group(1));
    }

    private static void mkfifo(Path p) throws Exception {
        Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        assertEquals(0, mk.waitFor(), "mkfifo " + p);
    }

    /** Runs {@code cryo args} with fd 7 opened read-write on {@code fifo} by a shell that then execs cryo. */
    private RunningCryo startWithFd7(Path fifo, String... args) {
        Cryo cryo = bed.cryo();
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "exec 7<>\"$0\"; exec \"$@\"", fifo.toString(),
                cryo.executable().toString()));
        cmd.addAll(List.of(args));
        Path out = tmp.resolve("cryo-fd7.out");
        Path err = tmp.resolve("cryo-fd7.err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("CRYO_CONFIG");
        try {
            Process p = ProcessControl.registerJdkChild(pb.start());
            bed.workloads().trackProcess(p);
            return new RunningCryo(cmd, p, out, err);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + cmd, e);
        }
    }
}
