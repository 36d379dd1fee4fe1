package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code cryo show}: the readable summary of an image of {@code with_pipe} (the tree row, a maps-like table whose
 * hex ranges are those of /proc/PID/maps at the dump, the fd table with the pipe), {@code --pid}, {@code --file},
 * {@code --json}, and the positional directory kept for compatibility.
 */
class ShowIT extends WithTestBed {
    @Test
    void summaryShowsTheTreeTheMappingsAndTheFds() throws IOException {
        Workload w = bed.workloads().start("with_pipe");
        List<String> maps = Files.readAllLines(Path.of("/proc/" + w.pid() + "/maps"));
        Path image = bed.newImageDir();
        bed.cryo().dump(w.pid(), image, "-R").assertOk();

        CryoResult r = bed.cryo().run("show", "-D", image.toString()).assertOk();
        String out = r.stdout();
        assertTrue(out.startsWith("image " + image + ": root pid " + w.pid()), out);
        assertTrue(out.contains("dump: "), "the dump's statistics:\n" + out);
        String row = out.lines().filter(l -> l.startsWith(w.pid() + " ")).findFirst().orElseThrow(() ->
                new AssertionError("no tree row for " + w.pid() + ":\n" + out));
        List<String> cols = List.of(row.trim().split("\\s+"));
        assertEquals(List.of(Long.toString(w.pid()), "1", "running", "with_pipe"),
                List.of(cols.get(0), cols.get(4), cols.get(5), cols.get(6)), row);
        assertEquals(Long.toString(w.pid()), cols.get(3), "sid: started with setsid: " + row);

        // every mapping of /proc/PID/maps at the dump, with its hex range and permissions
        for (String m : maps) {
            String[] f = m.trim().split("\\s+");
            String[] range = f[0].split("-");
            String start = String.format("%016x", Long.parseUnsignedLong(range[0], 16));
            String end = String.format("%016x", Long.parseUnsignedLong(range[1], 16));
            String line = out.lines().filter(l -> l.trim().startsWith(start + "  " + end)).findFirst()
                    .orElseThrow(() -> new AssertionError("mapping " + m + " missing:\n" + out));
            if (!m.contains("[v")) {
                assertTrue(line.contains(" " + f[1] + " "), "permissions of " + m + ": " + line);
            }
        }
        String rfd = w.ready("rfd");
        assertTrue(out.lines().anyMatch(l -> l.trim().startsWith(rfd + " ") && l.contains("pipe")),
                "fd " + rfd + " is a pipe:\n" + out);
        assertTrue(out.lines().anyMatch(l -> l.trim().startsWith("1 ") && l.contains("with_pipe.log")),
                "fd 1 is the log file:\n" + out);

        // one process; one file; the full records; the positional directory
        assertTrue(bed.cryo().run("show", "-D", image.toString(), "--pid", Long.toString(w.pid())).assertOk()
                .stdout().contains("pid " + w.pid() + " \"with_pipe\""));
        String pstree = bed.cryo().run("show", "-D", image.toString(), "--file", "pstree.img").assertOk().stdout();
        assertTrue(pstree.startsWith("# pstree.img (PSTREE, 1 records)"), pstree);
        assertFalse(pstree.contains("# inventory.img"), pstree);
        ShowOutput full = bed.cryo().show(image);
        assertEquals(1, full.records("pstree.img").size());
        String positional = bed.cryo().run("show", image.toString()).assertOk().stdout();
        assertEquals(out.lines().skip(3).toList(), positional.lines().skip(3).toList(), "the same summary");

        CryoResult missing = bed.cryo().run("show");
        missing.assertFailedWithFix(CryoResult.USAGE).assertStderrMentions("-D", "[cli/MISSING_OPTION]");
        w.kill();
    }
}
