package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Records swapped, duplicated or dropped inside a record file, with every record's own checksum right and the
 * inventory's recorded size fixed (what a per-record checksum cannot see): the inventory's record count and
 * whole-file crc32c refuse the image in {@code restore}, {@code show}, {@code show --json}, {@code check --images}
 * and {@code graph -D}, each with one {@code [core/IMAGE_CORRUPT]} error naming the file (and both record counts
 * when they differ), and the refused restore leaves nothing running. The fd table ({@code fdinfo-PID.img}) is the
 * file whose damage would otherwise restore silently wrong (an fd missing or another fd's file at a number).
 */
class ReorderedRecordsIT extends WithTestBed {

    @Test
    void swappedRecordsAreRefused() throws IOException {
        Damaged d = damage((image, fdinfo) -> ImageMutator.swapRecords(image, fdinfo, 0, 3));
        assertRefusedEverywhere(d, "records were reordered or rewritten after the dump");
    }

    @Test
    void duplicatedRecordIsRefused() throws IOException {
        Damaged d = damage((image, fdinfo) -> ImageMutator.duplicateRecord(image, fdinfo, 1));
        assertRefusedEverywhere(d, "records, the inventory recorded", "added or duplicated");
    }

    @Test
    void droppedRecordIsRefused() throws IOException {
        Damaged d = damage((image, fdinfo) -> ImageMutator.dropRecord(image, fdinfo, 1, false));
        assertRefusedEverywhere(d, "records, the inventory recorded", "dropped after the dump");
    }

    interface Change {
        void apply(Path image, Path fdinfo) throws IOException;
    }

    /** A dumped {@code with_pipe} (fds 0, 1, 2 and a pipe's two ends), its original gone, {@code change} applied. */
    private Damaged damage(Change change) throws IOException {
        Workload w = bed.workloads().start("with_pipe");
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);
        Path fdinfo = image.resolve("fdinfo-" + w.pid() + ".img");
        change.apply(image, fdinfo);
        return new Damaged(w, image, fdinfo);
    }

    /** A damaged image, the workload it came from (gone) and the file changed. */
    private record Damaged(Workload original, Path image, Path fdinfo) {
    }

    private void assertRefusedEverywhere(Damaged d, String... detail) {
        CryoResult r = bed.cryo().restore(d.image());
        refused(d, r, detail);
        bed.assertNoProcessWithPid(d.original().pid(), d.original().comm(), r);
        refused(d, bed.cryo().run("show", "-D", d.image().toString()), detail);
        refused(d, bed.cryo().run("show", "--json", "-D", d.image().toString()), detail);
        refused(d, bed.cryo().run("check", "--images", "-D", d.image().toString()), detail);
        refused(d, bed.cryo().run("graph", "-D", d.image().toString()), detail);
    }

    private static void refused(Damaged d, CryoResult r, String... detail) {
        r.assertExit(CryoResult.IMAGE).assertStderrMentions(d.fdinfo().toString(), "[core/IMAGE_CORRUPT]")
                .assertStderrMentions(detail);
        assertTrue(!r.stderr().contains("\tat ") && !r.stderr().contains("Exception"),
                "a stack trace: " + r.describe());
    }
}
