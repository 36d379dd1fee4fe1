package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Statistics as CRIU keeps them: {@code dump --stats} prints the time per phase, the frozen time, pages scanned and
 * written and the image's bytes; {@code stats-dump.img} keeps them (checked by {@code check --images}, shown by
 * {@code show}); {@code restore --stats} prints and keeps its own; an image without them still restores. What a person
 * sees is compared with golden files (numbers and pids normalized, see {@link Golden}): the {@code --stats} block, the
 * {@code -v} line and {@code show}'s statistics section.
 */
class StatsIT extends WithTestBed {
    private static final Pattern FIGURE = Pattern.compile("^  (\\S+(?: \\S+)?)\\s+(\\d+(?:\\.\\d+)?)(.*)$");

    @Test
    void dumpAndRestorePrintKeepAndShowTheirStatistics() throws IOException {
        Workload w = bed.workloads().start("st_workload");
        Path image = bed.newImageDir();
        CryoResult dump = bed.cryo().dump(w.pid(), image, "--stats", "-v").assertOk();
        w.awaitGone(java.time.Duration.ofSeconds(10));
        w.kill(); // reaps it
        Map<String, String> d = figures(dump.stdout(), "dump statistics");
        List<Long> pids = List.of(w.pid());
        Golden.assertMatches("dump-stats.txt", Golden.normalize(block(dump.stdout(), "dump statistics"), pids));
        Golden.assertMatches("dump-stats-v.txt", Golden.normalize(dump.stderr().lines()
                .filter(l -> l.contains(" dump: ")).findFirst()
                .orElseThrow(() -> new AssertionError("-v logs no statistics line:\n" + dump.describe())) + "\n",
                pids));
        for (String phase : List.of("freeze", "core", "memory", "fds", "objects", "write", "release", "total",
                "frozen")) {
            assertTrue(d.containsKey(phase) && d.get(phase).endsWith("ms"), phase + ": " + dump.describe());
        }
        assertEquals("1", d.get("processes"), dump.describe());
        long scanned = Long.parseLong(d.get("pages scanned"));
        long written = Long.parseLong(d.get("pages written").split(" ")[0]);
        long imageBytes = Long.parseLong(d.get("image bytes").split(" ")[0]);
        assertTrue(written > 0 && scanned >= written, "scanned " + scanned + ", written " + written);
        assertTrue(imageBytes >= written * 4096, "image " + imageBytes + " < pages " + written * 4096);
        assertTrue(Files.size(image.resolve("stats-dump.img")) > 0);
        long onDisk;
        try (var files = Files.list(image)) {
            onDisk = files.filter(f -> !f.getFileName().toString().startsWith("stats-")).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sum();
        }
        assertEquals(onDisk, imageBytes, "image bytes are the image files' sizes (without the statistics)");

        // kept in the image: check --images reads the file, show prints it, show --json has the record
        CryoResult verified = bed.cryo().run("check", "--images", "-D", image.toString()).assertOk();
        assertTrue(verified.stdout().contains("stats-dump.img"), verified.describe());
        String summary = bed.cryo().run("show", "-D", image.toString()).assertOk().stdout();
        String line = summary.lines().filter(l -> l.startsWith("dump: ")).findFirst()
                .orElseThrow(() -> new AssertionError("no statistics in show:\n" + summary));
        assertTrue(line.contains("frozen ") && line.contains("pages scanned " + scanned)
                && line.contains("written " + written), line);
        ShowOutput full = bed.cryo().show(image);
        assertEquals(1, full.records("stats-dump.img").size(), "stats-dump.img in show --json");

        // restore --stats: its own figures, kept next to the dump's
        CryoResult restore = restoreAndVerify(w, image, "--stats");
        Map<String, String> rs = figures(restore.stdout(), "restore statistics");
        assertTrue(rs.containsKey("memory") && rs.containsKey("total"), restore.describe());
        assertEquals(written, Long.parseLong(rs.get("pages loaded").split(" ")[0]), restore.describe());
        assertTrue(Files.size(image.resolve("stats-restore.img")) > 0);
        String both = bed.cryo().run("show", "-D", image.toString()).assertOk().stdout();
        assertTrue(both.lines().anyMatch(l -> l.startsWith("restore: ")), "show lists the restore's statistics");
        Golden.assertMatches("show-stats.txt", Golden.normalize(statsSection(both), pids));

        // an image without statistics files restores as well (the log grew since: its size is not checked);
        // without --stats nothing is printed
        Files.delete(image.resolve("stats-dump.img"));
        Files.delete(image.resolve("stats-restore.img"));
        bed.cryo().run("check", "--images", "-D", image.toString()).assertOk();
        CryoResult quiet = restoreAndVerify(w, image, "--skip-file-size-check");
        assertFalse(quiet.stdout().contains("statistics"), quiet.describe());
    }

    /** Restores {@code w}'s image: the process ticks twice, passes its check, is killed. @return cryo's run */
    private CryoResult restoreAndVerify(Workload w, Path image, String... extra) {
        TestBed.Restored r = bed.restoreAndAwaitWithCryo(w, image, 2, extra);
        r.workload().assertVerifyPass();
        r.workload().kill();
        return Cryo.await(r.cryo());
    }

    /** @return the lines of {@code title} and the indented figures under it, as printed */
    static String block(String out, String title) {
        List<String> lines = out.lines().dropWhile(l -> !l.equals(title)).takeWhile(l -> l.equals(title)
                || l.startsWith("  ")).toList();
        assertFalse(lines.isEmpty(), "no '" + title + "' block in:\n" + out);
        return String.join("\n", lines) + "\n";
    }

    /** @return the statistics lines of {@code cryo show}'s summary: {@code dump: ...} and {@code restore: ...} */
    static String statsSection(String summary) {
        List<String> lines = summary.lines().filter(l -> l.startsWith("dump: ") || l.startsWith("restore: ")).toList();
        assertFalse(lines.isEmpty(), "no statistics in show:\n" + summary);
        return String.join("\n", lines) + "\n";
    }

    /** @return the figures under {@code title}: name to value with its unit ({@code 0.4 ms}, {@code 230 (920 KiB)}) */
    static Map<String, String> figures(String out, String title) {
        List<String> lines = out.lines().dropWhile(l -> !l.equals(title)).skip(1)
                .takeWhile(l -> l.startsWith("  ")).toList();
        assertFalse(lines.isEmpty(), "no '" + title + "' block in:\n" + out);
        return lines.stream().map(FIGURE::matcher).filter(Matcher::matches)
                .collect(Collectors.toMap(m -> m.group(1), m -> (m.group(2) + m.group(3)).trim(), (a, b) -> a,
                        java.util.LinkedHashMap::new));
    }
}
