package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The progress line of dump and restore: a dump of 512 MiB of heap ({@code big_heap}) run on a terminal
 * ({@code script -qec}: stderr is a pty) shows {@code dump NN% [...] done/total MiB (elapsed / ETA) MiB/s phase},
 * as does the restore; none with stderr not a terminal, with {@code --quiet}, or with {@code --output json} (whose
 * stdout stays one JSON object). The restored workload passes its check. The line's one-second delay is set to 0
 * ({@code -Dcryo.progress.delay-ms=0}) so that the test does not depend on how fast this machine dumps. The last line
 * of each is compared with a golden file (numbers and the bar normalized, see {@link Golden}).
 */
class ProgressIT extends WithTestBed {
    /** One progress line; the rate is "?" while unknown (a restore shorter than a second). */
    private static final Pattern LINE = Pattern.compile(
            "(dump|restore) +\\d+% \\[[=> ]*\\] +\\d+/\\d+ MiB \\(\\d+:\\d\\d:\\d\\d / \\d+:\\d\\d:\\d\\d\\) ([\\d.]+|\\?) MiB/s \\w+");

    @Test
    void aLongDumpAndRestoreShowTheirProgressOnATerminalOnly() throws Exception {
        Workload w = bed.workloads().start("big_heap", "512");
        w.awaitReady();

        // stderr not a terminal (a file): nothing
        String plain = run("plain", false, "dump", "-t", Long.toString(w.pid()), "-D", bed.newImageDir().toString(),
                "-R");
        assertFalse(plain.contains("MiB/s"), plain);

        // on a terminal with --quiet, or with --output json: nothing either
        String quiet = onTerminal("quiet", "dump", "-t", Long.toString(w.pid()), "-D", bed.newImageDir().toString(),
                "-R", "-q");
        assertFalse(quiet.contains("MiB/s"), quiet);
        String json = onTerminal("json", "dump", "-t", Long.toString(w.pid()), "-D", bed.newImageDir().toString(),
                "-R", "--output", "json");
        assertFalse(json.contains("MiB/s"), json);
        assertTrue(json.contains("{\"command\":\"dump\",\"ok\":true"), json);

        // on a terminal: the line, refreshed, up to the end
        Path image = bed.newImageDir();
        String dump = onTerminal("dump", "dump", "-t", Long.toString(w.pid()), "-D", image.toString());
        List<String> lines = progressLines(dump);
        assertTrue(lines.size() >= 2, "refreshed:\n" + dump);
        assertTrue(lines.stream().allMatch(l -> l.startsWith("dump ")), dump);
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("dump 100%"), "ends at 100%:\n" + dump);
        long mib = Long.parseLong(last.replaceFirst(".*\\] +(\\d+)/.*", "$1"));
        assertTrue(mib >= 500 && mib < 600, "the 512 MiB of heap: " + last);
        Golden.assertMatches("progress-dump.txt", Golden.normalize(last + "\n", List.of(w.pid())));
        w.awaitGone(Duration.ofSeconds(10));
        w.kill();

        String restore = onTerminal("restore", "restore", "-D", image.toString(), "-d");
        List<String> rlines = progressLines(restore);
        assertFalse(rlines.isEmpty(), restore);
        assertTrue(rlines.stream().allMatch(l -> l.startsWith("restore ")), restore);
        Golden.assertMatches("progress-restore.txt", Golden.normalize(rlines.get(rlines.size() - 1) + "\n",
                List.of(w.pid())));
        Workload r = bed.workloads().adoptRestored(w);
        r.assertVerifyPass();
        r.kill();
    }

    /** @return the progress lines in a typescript: the text between carriage returns that matches the format */
    private static List<String> progressLines(String typescript) {
        return Pattern.compile("[\r\n]").splitAsStream(typescript).map(String::strip)
                .filter(l -> LINE.matcher(l).matches()).toList();
    }

    private String onTerminal(String name, String... args) throws IOException, InterruptedException {
        return run(name, true, args);
    }

    /**
     * Runs cryo with {@code args} (the progress delay 0) under {@code script}, stdout and stderr on its pty, or with
     * both into a file; @return what it printed
     */
    private String run(String name, boolean terminal, String... args) throws IOException, InterruptedException {
        Path typescript = bed.root().resolve("typescript-" + name);
        StringBuilder command = new StringBuilder("env CRYO_JAVA_OPTS=-Dcryo.progress.delay-ms=0 ")
                .append(bed.cryo().executable());
        for (String a : args) {
            command.append(' ').append(a);
        }
        List<String> argv = terminal ? List.of(Workloads.which("script"), "-qec", command.toString(),
                typescript.toString()) : List.of("bash", "-c", command + " >" + typescript + " 2>&1");
        Process p = new ProcessBuilder(argv)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        bed.workloads().trackProcess(p);
        assertTrue(p.waitFor(Cryo.TIMEOUT.toSeconds(), TimeUnit.SECONDS), "cryo " + String.join(" ", args));
        String out = Files.readString(typescript, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "cryo " + String.join(" ", args) + ":\n" + out);
        return out;
    }
}
