package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shell completion and man pages the build generates from the command definitions: they are in the tarball;
 * bash sources the completion script and completes {@code cryo du} to {@code dump}, a subcommand's options, and the
 * option of a bundled plugin ({@code --action-script}); groff renders every man page without a warning, and the
 * pages hold the options (core's and the plugins'), the exit codes and the commands.
 */
class ShellFilesIT extends WithTestBed {
    private static final String COMPLETION = "share/bash-completion/completions/cryo";

    private static Path tarball() {
        Path dist = Cryo.distribution();
        return dist.resolveSibling(dist.getFileName() + ".tar.gz");
    }

    @Test
    void theTarballShipsTheCompletionAndAManPagePerCommand() throws Exception {
        Path dist = Cryo.distribution();
        Result list = run(List.of("tar", "-tzf", tarball().toString()), null);
        assertEquals(0, list.exit, list.out);
        String top = dist.getFileName() + "/";
        for (String f : List.of(COMPLETION, "share/man/man1/cryo.1", "share/man/man1/cryo-dump.1",
                "share/man/man1/cryo-restore.1", "share/man/man1/cryo-check.1", "share/man/man1/cryo-show.1",
                "share/man/man1/cryo-plugins.1")) {
            assertTrue(list.out.lines().anyMatch(l -> l.equals(top + f)), f + " is not in " + tarball());
        }
    }

    @Test
    void bashCompletesCommandsAndOptionsPluginOptionsIncluded() throws Exception {
        Path script = Cryo.distribution().resolve(COMPLETION);
        assertEquals(List.of("dump"), complete(script, "cryo", "du"));
        assertEquals(List.of("restore"), complete(script, "cryo", "rest"));
        List<String> dumpOptions = complete(script, "cryo", "dump", "--leave-");
        assertEquals(List.of("--leave-running", "--leave-stopped"), dumpOptions.stream().sorted().toList());
        assertEquals(List.of("--action-script"), complete(script, "cryo", "dump", "--action-s"));
        assertEquals(List.of("--tcp-established"), complete(script, "cryo", "restore", "--tcp-e"));
    }

    /**
     * zsh sources the same script: it loads bashcompinit itself and registers the function for {@code cryo}. zsh's
     * bashcompinit offers every candidate and lets zsh's matcher filter by the typed prefix, so the test checks the
     * registration and that the candidates of {@code cryo dump --action-s} hold the plugin's option. zsh is
     * installed by .ci/run.
     */
    @Test
    void zshSourcesTheScriptAndGetsTheSubcommandsOptions() throws Exception {
        Path script = Cryo.distribution().resolve(COMPLETION);
        String program = "autoload -U compinit && compinit -u\n"
                + "source '" + script + "'\n"
                + "print -r -- \"registered: ${_comps[cryo]}\"\n"
                + "t() { emulate -L sh; setopt kshglob noshglob braceexpand\n"
                + "  COMP_WORDS=(cryo dump --action-s); COMP_CWORD=2; COMP_LINE='cryo dump --action-s'\n"
                + "  COMP_POINT=${#COMP_LINE}; _complete_cryo cryo --action-s dump\n"
                + "  printf '%s\\n' \"${COMPREPLY[@]}\"; }\n"
                + "t\n";
        Result r = run(List.of("zsh", "-f", "-c", program), null);
        assertEquals(0, r.exit, "zsh: " + r.err + r.out);
        assertTrue(r.out.lines().anyMatch(l -> l.startsWith("registered: ") && l.contains("-F _complete_cryo")),
                r.out + r.err);
        List<String> candidates = r.out.lines().map(String::strip).toList();
        assertTrue(candidates.contains("--action-script") && candidates.contains("--leave-running")
                && !candidates.contains("--restore-detached"), "candidates for cryo dump: " + candidates);
    }

    @Test
    void groffRendersEveryManPageWithoutAWarning() throws Exception {
        Path man = Cryo.distribution().resolve("share/man/man1");
        List<Path> pages;
        try (var s = Files.list(man)) {
            pages = s.sorted().toList();
        }
        assertTrue(pages.size() >= 6, "pages: " + pages);
        for (Path page : pages) {
            Result r = run(List.of("groff", "-man", "-Tutf8", "-ww", "-z", page.toString()), null);
            assertEquals(0, r.exit, page + ": " + r.out);
            assertEquals("", r.err, "groff warnings for " + page);
        }
        String dump = render(man.resolve("cryo-dump.1"));
        for (String expected : List.of("NAME", "cryo-dump - Checkpoint the process tree rooted at PID into DIR",
                "SYNOPSIS", "OPTIONS", "-t, --tree=PID", "--leave-running", "Options of plugin action-script",
                "--action-script=PATH", "EXIT STATUS", "SEE ALSO")) {
            assertTrue(dump.contains(expected), "cryo-dump(1) lacks '" + expected + "':\n" + dump);
        }
        String root = render(man.resolve("cryo.1"));
        for (String expected : List.of("COMMANDS", "dump", "restore", "check", "show", "plugins", "--verbose",
                "EXAMPLES", "cryo restore -D /var/lib/cryo/img -d")) {
            assertTrue(root.contains(expected), "cryo(1) lacks '" + expected + "':\n" + root);
        }
    }

    /** The page as man shows it, plain text (no bold, no hyphenation, wide lines). */
    private static String render(Path page) throws Exception {
        Result r = run(List.of("groff", "-man", "-Tascii", "-P", "-cbou", "-rLL=200n", "-rHY=0", page.toString()),
                null);
        assertEquals(0, r.exit, r.err);
        return r.out;
    }

    /** What bash's completion function of {@code script} offers for {@code words}, the last being completed. */
    private List<String> complete(Path script, String... words) throws Exception {
        StringBuilder w = new StringBuilder();
        for (String word : words) {
            w.append(" '").append(word).append("'");
        }
        String line = String.join(" ", words);
        String program = "source '" + script + "'\n"
                + "COMP_WORDS=(" + w + ")\n"
                + "COMP_CWORD=" + (words.length - 1) + "\n"
                + "COMP_LINE='" + line + "'\n"
                + "COMP_POINT=" + line.length() + "\n"
                + "fn=$(complete -p cryo | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')\n"
                + "[ -n \"$fn\" ] || { echo 'no completion function registered for cryo' >&2; exit 3; }\n"
                + "\"$fn\" cryo '" + words[words.length - 1] + "' '" + words[words.length - 2] + "'\n"
                + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        Result r = run(List.of("bash", "--norc", "--noprofile", "-c", program), null);
        assertEquals(0, r.exit, "bash: " + r.err + r.out);
        return r.out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    private record Result(int exit, String out, String err) {
    }

    private static Result run(List<String> command, Path dir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                "/dev/null")));
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p = pb.start();
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + command);
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }
}
