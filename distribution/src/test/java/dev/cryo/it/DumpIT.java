package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code cryo dump} driven through bin/cryo: what the image holds (read back with {@code cryo show}), leave-running,
 * and the refusals (each must leave the target running). Needs root and the built distribution
 * ({@code -Dcryo.dist}) and workloads ({@code -Dcryo.workloads}).
 */
class DumpIT extends WithTestBed {
    private static final long O_APPEND = 02000;
    private static final int ITIMER_REAL = 0;
    private static final int RLIMIT_NOFILE = 7;
    private static final List<String> PLUGINS = List.of("memory", "regular-file", "pipe", "unix-socket",
            "external-unix-socket", "event-fd", "epoll", "inotify", "inet-socket", "tty", "action-script");

    @Test
    void dumpOfSingleThreadedWorkloadHoldsItsState() throws IOException {
        Workload w = bed.workloads().start("st_workload");
        long pid = w.pid();
        long heap = Long.decode(w.ready("heap"));
        int heapLen = Integer.parseInt(w.ready("heaplen"));
        long heapSum = Long.parseUnsignedLong(w.ready("heapsum"), 16);
        int appendFd = Integer.parseInt(w.ready("append"));
        int inputFd = Integer.parseInt(w.ready("input"));
        w.awaitNewTicks(2);

        Path dir = bed.dumpAndAwaitGone(w);

        // image permissions: process memory inside
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)), "image dir mode");
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)),
                        "mode of " + f.getFileName());
            }
        }

        ShowOutput show = bed.cryo().show(dir);

        // memory: the heap's saved pages hash to the checksum the workload printed
        ImagePages.Region region = ImagePages.read(dir, show, pid, heap, heapLen);
        assertEquals(heapLen, region.coveredBytes(), "bytes of the heap saved in the image");
        assertEquals(Long.toHexString(heapSum), Long.toHexString(Checksums.heapSum(region.bytes())),
                "heap checksum from pages-" + pid + ".img");

        // fds
        Struct append = show.fd(pid, appendFd);
        assertTrue(ShowOutput.filePath(append).endsWith("/append.log"), ShowOutput.json(append));
        assertEquals(O_APPEND, ShowOutput.fileFlags(append) & O_APPEND, "O_APPEND of " + ShowOutput.json(append));
        Struct input = show.fd(pid, inputFd);
        assertTrue(ShowOutput.filePath(input).endsWith("/input.txt"), ShowOutput.json(input));
        assertEquals(100, ShowOutput.filePos(input), "offset of " + ShowOutput.json(input));
        Struct stdin = show.fd(pid, 0);
        assertEquals("/dev/null", ShowOutput.filePath(stdin), ShowOutput.json(stdin));
        assertTrue(ShowOutput.fileIsCharDevice(stdin), "fd 0 is a char device: " + ShowOutput.json(stdin));

        // signal handlers, timer, umask, cwd, rlimit
        for (int sig : new int[] {ProcessControl.SIGUSR1, ProcessControl.SIGUSR2, ProcessControl.SIGALRM}) {
            Struct sa = show.sigaction(pid, sig).orElseThrow(() -> new AssertionError("no sigaction for signal " + sig
                    + " in core-" + pid + ".img"));
            assertNotEquals(0, ShowOutput.sigactionHandler(sa), "handler of signal " + sig + ": " + ShowOutput.json(sa));
        }
        Struct timer = show.itimer(pid, ITIMER_REAL).orElseThrow(() -> new AssertionError("no ITIMER_REAL saved"));
        assertEquals(50_000, ShowOutput.itimerIntervalMicros(timer), "ITIMER_REAL interval: " + ShowOutput.json(timer));
        assertEquals(027, show.umask(pid), "umask (octal 027, set by the workload)");
        assertEquals(w.workdir().toString(), show.cwd(pid), "cwd");
        Struct nofile = show.rlimit(pid, "RLIMIT_NOFILE", RLIMIT_NOFILE)
                .orElseThrow(() -> new AssertionError("no RLIMIT_NOFILE saved"));
        assertEquals(1000, ShowOutput.rlimitCur(nofile), "RLIMIT_NOFILE soft: " + ShowOutput.json(nofile));
    }

    @Test
    void leaveRunningKeepsTheWorkloadRunning() {
        Workload w = bed.workloads().start("st_workload");
        w.assertVerifyPass();
        Path dir = bed.dumpLeavingRunning(w);
        assertTrue(Files.exists(dir.resolve("inventory.img")), "no inventory.img after dump -R");
        w.awaitNewTicks(3);
        w.assertVerifyPass();
    }

    @Test
    void refusesPipeToProcessOutsideTheTree() {
        Workload w = bed.workloads().start("with_pipe", "external");
        long helper = bed.workloads().trackReadyPid(w, "helper");
        int fd = Integer.parseInt(w.ready("rfd"));
        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid()).assertStderrMentions(w.comm(), "pipe")
                .assertStderrMatches("\\bfd\\W{0,3}" + fd + "\\b", "fd " + fd);
        w.assertLeftRunning();
    }

    /** An io_uring ring cannot be checkpointed: refused with its own code and a fix, the process unharmed. */
    @Test
    void refusesAnIoUringRingNamingHowToRunWithoutIt() {
        Workload w = bed.workloads().start("io_uring_ring");
        w.assertVerifyPass();
        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions(w.comm(), "anon_inode:[io_uring]", "io_uring instance", "core/IO_URING",
                        "--innodb-use-native-aio=0", "kernel.io_uring_disabled");
        w.assertLeftRunning();
        w.kill();
    }

    @Test
    void secondThreadIsDumpedAndRestored() {
        Workload w = bed.workloads().start("with_thread");
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);
        Workload restored = bed.restoreAndAwait(w, image, 3);
        restored.assertVerifyPass();
    }

    @Test
    void childProcessIsDumpedAndRestored() {
        Workload w = bed.workloads().start("with_child");
        long child = bed.workloads().trackChild(w);
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);
        // the killed child was reparented to this JVM (a subreaper): reap it, or its zombie keeps the pid
        assertTrue(ProcessControl.reap(child, java.time.Duration.ofSeconds(10)), "child " + child + " not reaped");
        Workload restored = bed.restoreAndAwait(w, image, 3);
        bed.workloads().trackForeignPid(child);
        restored.assertVerifyPass();
    }

    /**
     * The child's pstree record dropped, every checksum redone, the inventory's record count and whole-file crc32c
     * included (no checksum can tell): the restore refuses the image because the child's core file is listed by no
     * pstree record, instead of restoring the parent alone.
     */
    @Test
    void anImageWhosePstreeLostAProcessIsRefused() throws IOException {
        Workload w = bed.workloads().start("with_child");
        long child = bed.workloads().trackChild(w);
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);
        assertTrue(ProcessControl.reap(child, java.time.Duration.ofSeconds(10)), "child " + child + " not reaped");
        ImageMutator.dropRecord(image, image.resolve("pstree.img"), 1, true);
        CryoResult r = bed.cryo().restore(image);
        r.assertExit(CryoResult.IMAGE).assertStderrMentions("core-" + child + ".img", "pstree.img",
                "core/IMAGE_CORRUPT");
        assertFalse(ProcStat.read(w.pid()).isPresent(), "a refused restore created pid " + w.pid());
    }

    @Test
    void refusesMissingPid() {
        long pid = TestBed.unusedPid();
        CryoResult r = bed.cryo().dump(pid, bed.newImageDir());
        r.assertExit(CryoResult.NO_SUCH_PROCESS).assertStderrNamesPid(pid);
    }

    @Test
    void refusesKernelThread() {
        assertEquals("kthreadd", ProcStat.commOf(2), "pid 2 is kthreadd on this machine");
        CryoResult r = bed.cryo().dump(2, bed.newImageDir());
        r.assertExit(CryoResult.UNSUPPORTED).assertStderrNamesPid(2)
                .assertStderrMatches("kthreadd|kernel thread", "kthreadd or kernel thread");
        assertTrue(ProcStat.read(2).isPresent(), "kthreadd is still there");
    }

    @Test
    void disabledRegularFilePluginRefusesTheDump() {
        Workload w = bed.workloads().start("st_workload");
        Path conf = bed.cryo().writeConfig("no-regular-file.conf", "plugins.disabled regular-file");
        CryoResult r = bed.cryo().run("dump", "-t", Long.toString(w.pid()), "-D", bed.newImageDir().toString(),
                "--config", conf.toString());
        assertTrue(r.exit() == CryoResult.UNSUPPORTED || r.exit() == CryoResult.PLUGIN, "exit 3 or 5: " + r.describe());
        r.assertStderrMatches("plugins\\.(enabled|disabled)", "the config key plugins.enabled/plugins.disabled")
                .assertStderrMentions("regular-file");
        w.assertLeftRunning();
    }

    @Test
    void corruptPluginJarIsAnError() throws IOException {
        Cryo copy = bed.cryo().copyTo(tmp.resolve("dist-copy"));
        Files.write(copy.dist().resolve("plugins").resolve("broken.jar"), "this is not a zip file\n".getBytes());
        Workload w = bed.workloads().sleep(1000);
        CryoResult r = copy.dump(w.pid(), bed.newImageDir());
        r.assertExit(CryoResult.PLUGIN).assertStderrMentions("broken.jar");
        assertTrue(w.isAlive(), w + " must survive a dump that failed to start");
    }

    @Test
    void pluginsListsTheBundledPluginsEnabled() {
        CryoResult r = bed.cryo().run("plugins").assertOk();
        for (String id : PLUGINS) {
            Pattern line = Pattern.compile("(?m)^.*(?<![\\w-])" + Pattern.quote(id) + "(?![\\w-]).*\\benabled\\b.*$");
            assertTrue(line.matcher(r.stdout()).find(), "cryo plugins does not list " + id + " as enabled:\n"
                    + r.stdout());
        }
        assertFalse(r.stdout().toLowerCase().contains("disabled") && PLUGINS.stream().anyMatch(id -> Pattern
                .compile("(?m)^.*(?<![\\w-])" + Pattern.quote(id) + "(?![\\w-]).*\\bdisabled\\b.*$").matcher(r.stdout())
                .find()), "a default plugin is listed disabled:\n" + r.stdout());
    }
}
