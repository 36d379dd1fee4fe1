package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unlinked files held open ("ghost files", {@code ghost_file.c}): a parent and its forked child hold one unlinked
 * file through two open file descriptions and a MAP_SHARED mapping. After restore the parent checks that the file is
 * still unlinked, with its content, size, mode, offsets and access modes, that a write through an fd is seen in the
 * mapping and the other way round, and that the child's writes through its fd reach the parent's mapping — one file,
 * not copies. A file over {@code --ghost-limit} is refused naming the file, size and option, and dumped with a
 * larger limit.
 */
class GhostFileIT extends WithTestBed {
    private static final int KILLED = 128 + ProcessControl.SIGKILL;

    @Test
    void anUnlinkedFileHeldAsFdsAndMappedComesBackAsOneUnlinkedFile() throws IOException {
        Workload w = bed.workloads().start("ghost_file");
        long child = bed.workloads().trackChild(w);
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);

        TestBed.Restoring restore = bed.startRestoreWithChild(image, w, child);
        Workload r = restore.workload();
        RunningCryo rc = restore.cryo();
        String verdict = r.assertVerifyPass();
        assertTrue(verdict.contains("child=" + child) && verdict.contains("request=2"), verdict);
        assertNoGhostNames(w.workdir());
        String rw = Files.readSymbolicLink(Path.of("/proc", Long.toString(w.pid()), "fd", w.ready("fd_rw")))
                .toString();
        assertTrue(rw.startsWith(w.workdir().toString()) && rw.endsWith(" (deleted)"), rw);
        String map = mapsLine(w.pid(), Long.decode(w.ready("map")));
        assertTrue(map.endsWith(rw), "the mapping is not of the fd's file:\n" + map + "\n" + rw);

        // a restored ghost is a ghost again: dump and restore once more
        Path again = bed.dumpAndAwaitGone(r);
        Cryo.await(rc).assertExit(KILLED);
        TestBed.Restoring second = bed.startRestoreWithChild(again, w, child);
        verdict = second.workload().assertVerifyPass();
        assertTrue(verdict.contains("request=3"), verdict);
        assertNoGhostNames(w.workdir());
        TestBed.killRestored(second.workload(), second.cryo());
    }

    /**
     * A file made with {@code O_TMPFILE} (MariaDB's temporary files): made again with O_TMPFILE in its directory, so
     * it can still be given a name with {@code linkat} (a named copy unlinked after the restore could not), and its
     * second open file description reopens the same inode.
     */
    @Test
    void anOTmpfileFileComesBackNamelessAndLinkable() {
        Workload w = bed.workloads().start("tmpfile");
        w.assertVerifyPass();
        TestBed.Restored restored = bed.dumpAndRestore(w);
        assertTrue(restored.workload().assertVerifyPass().contains("linkable"));
        assertNoGhostNames(w.workdir());
        TestBed.killRestored(restored.workload(), restored.cryo());
    }

    /**
     * An O_TMPFILE file held as fds by a parent and mapped MAP_SHARED by its child (which holds no fd): after the
     * restore the child's mapping and the parent's fds are still one file (the child's answers, written through its
     * mapping, are read through the parent's fd), and the parent's file is still linkable. In {@code maps} mode one
     * process maps it and holds it: still one file.
     */
    @ParameterizedTest
    @ValueSource(strings = {"child-maps", "maps"})
    void anOTmpfileFileMappedAndHeldStaysOneFile(String mode) {
        Workload w = bed.workloads().start("tmpfile", mode);
        long child = Long.parseLong(w.ready("child"));
        if (child > 0) {
            bed.workloads().trackForeignPid(child);
        }
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);
        if (child > 0) {
            assertTrue(ProcessControl.reap(child, java.time.Duration.ofSeconds(10)), "child " + child + " not reaped");
        }
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        if (child > 0) {
            bed.workloads().trackForeignPid(child);
        }
        r.assertVerifyPass();
        assertNoGhostNames(w.workdir());
        TestBed.killRestored(r, rc);
    }

    @Test
    void aGhostOverTheLimitIsRefusedNamingTheOptionAndDumpedWithALargerOne() {
        Workload w = bed.workloads().start("ghost_file", "big");
        w.assertVerifyPass();
        CryoResult refused = bed.cryo().dump(w.pid(), bed.newImageDir());
        refused.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions(w.comm(), "fd 3", w.workdir().resolve("ghost.dat").toString(), "3145728",
                        "--ghost-limit", "regular-file/GHOST_TOO_BIG");
        w.assertLeftRunning();

        Path image = bed.dumpAndAwaitGone(w, "--ghost-limit", "3M");
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        assertTrue(r.assertVerifyPass().contains("size=3145728"));
        assertNoGhostNames(w.workdir());
        TestBed.killRestored(r, rc);
    }

    private static void assertNoGhostNames(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".cryo-ghost.") || n.equals("ghost.dat")).toList();
            assertEquals(List.of(), names, "names left in " + dir + " after the restore");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String mapsLine(long pid, long start) throws IOException {
        String prefix = Long.toHexString(start) + "-";
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "maps")).stream()
                .filter(l -> l.startsWith(prefix)).findFirst().orElseThrow().trim();
    }
}
