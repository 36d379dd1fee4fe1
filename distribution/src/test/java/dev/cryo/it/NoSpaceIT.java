package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The image directory on a full filesystem (an 8 MiB tmpfs, mounted for the test): a dump of 64 MiB is refused before
 * the tree is stopped ({@code core/NO_SPACE}: the directory, the estimated size, the free space); a dump that fits
 * the estimate but meets ENOSPC while writing (another writer fills the filesystem once the tree is frozen: an
 * action script at {@code network-lock}) fails with the same code. Either way the tree runs on unharmed (its own
 * check passes, untraced, not stopped) and no partial image is left.
 */
class NoSpaceIT extends WithTestBed {
    private Path mount;

    @BeforeEach
    void mountSmallTmpfs() throws Exception {
        mount = Files.createDirectory(tmp.resolve("small"));
        int rc = run("mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "cryo-nospace", mount.toString());
        assumeTrue(rc == 0, "cannot mount a tmpfs (not root, or no CAP_SYS_ADMIN)");
    }

    @AfterEach
    void unmount() throws Exception {
        if (mount != null) {
            run("umount", "-l", mount.toString());
        }
    }

    @Test
    void aDumpLargerThanTheFreeSpaceIsRefusedBeforeTheTreeStops() throws IOException {
        Workload w = bed.workloads().start("big_heap", "64");
        Path image = mount.resolve("img");
        CryoResult r = bed.cryo().dump(w.pid(), image, "-v").assertExit(CryoResult.KERNEL)
                .assertStderrMentions("[core/NO_SPACE]", "refusing to dump: no space left for the image in " + image,
                        "it needs about 6", "8.0 MiB was free", "Fix: free space on that filesystem");
        assertTrue(!r.stderr().contains("froze "), "the tree was frozen before the refusal:\n" + r.describe());
        assertUnharmedAndNothingLeft(w);
    }

    @Test
    void enospcWhileWritingFailsCleanly() throws IOException {
        Workload w = bed.workloads().start("big_heap", "4");
        Path filler = mount.resolve("filler");
        Path script = Files.writeString(tmp.resolve("fill.sh"), "#!/bin/sh\n[ \"$CRTOOLS_SCRIPT_ACTION\" = network-lock ]"
                + " && dd if=/dev/zero of=" + filler + " bs=1M count=6 2>/dev/null\nexit 0\n");
        Files.setAttribute(script, "unix:mode", 0755);
        Path image = mount.resolve("img");
        bed.cryo().dump(w.pid(), image, "--action-script", script.toString()).assertExit(CryoResult.KERNEL)
                .assertStderrMentions("[core/NO_SPACE]", "dump failed: no space left for the image in " + image,
                        "8.0 MiB was free before the dump", "is now (ENOSPC while writing)",
                        "no partial image was kept");
        assertTrue(Files.size(filler) > 0, "the filler was not written: the test did not fill the filesystem");
        Files.delete(filler);
        assertUnharmedAndNothingLeft(w);
    }

    private void assertUnharmedAndNothingLeft(Workload w) throws IOException {
        try (Stream<Path> s = Files.list(mount)) {
            assertEquals(List.of(), s.toList(), "left in the image filesystem");
        }
        Map<String, String> status = status(w.pid());
        assertEquals("0", status.get("TracerPid"), "the tree is still traced");
        assertTrue(!status.get("State").startsWith("T"), "the tree was left stopped: " + status.get("State"));
        w.assertVerifyPass();
    }

    private static Map<String, String> status(long pid) throws IOException {
        Map<String, String> out = new java.util.HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                out.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        return out;
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }
}
