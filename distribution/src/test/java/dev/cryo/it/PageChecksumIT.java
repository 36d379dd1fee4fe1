package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Page data is checksummed (a crc32c per page after the data of each pages file): a flipped byte in a pages file
 * is caught by {@code cryo check --images -D DIR} and refused by {@code cryo restore}, both naming the file and the
 * offset of the damaged page, with no process left behind; the same image with the byte flipped back restores and
 * the workload finds its heap intact.
 */
class PageChecksumIT extends WithTestBed {

    @Test
    void flippedPageByteIsRefusedNamingFileAndOffset() throws IOException {
        Workload w = bed.workloads().start("big_heap", "16");
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(w);

        CryoResult ok = bed.cryo().run("check", "--images", "-D", image.toString());
        ok.assertOk();
        assertTrue(ok.stdout().contains("crc32c checked") && ok.stdout().contains("is intact"), ok.describe());

        Path pages = ImagePages.pagesFile(image, w.pid());
        long size = Files.size(pages);
        long data = (size - ImagePages.HEADER_BYTES) / 4100 * 4096;   // 4096 bytes of data + 4 of crc per page
        long page = data / 4096 / 2;
        long at = ImagePages.HEADER_BYTES + page * 4096 + 1234;
        ImagePages.flip(pages, at);

        CryoResult check = bed.cryo().run("check", "--images", "-D", image.toString());
        check.assertExit(CryoResult.IMAGE);
        check.assertStderrMentions(pages.toString(), "file offset " + (ImagePages.HEADER_BYTES + page * 4096),
                "core/IMAGE_CORRUPT");

        CryoResult restore = bed.cryo().restore(image, "-d", "--skip-file-size-check");
        restore.assertExit(CryoResult.IMAGE);
        restore.assertStderrMentions(pages.toString(), "file offset " + (ImagePages.HEADER_BYTES + page * 4096),
                "checksum mismatch");
        bed.assertNoProcessWithPid(w.pid(), w.comm(), restore);

        ImagePages.flip(pages, at);
        bed.cryo().restore(image, "-d", "--skip-file-size-check").assertOk();
        Workload r = bed.workloads().adoptRestored(w);
        r.awaitNewTicks(2);
        assertEquals(true, r.assertVerifyPass().startsWith("VERDICT PASS"));
    }
}
