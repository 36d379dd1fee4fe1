package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The {@code action-script} plugin ({@code --action-script PATH}) in real dumps and restores: the script logs each
 * action with {@code CRTOOLS_INIT_PID}, the state of that process as {@code /proc/PID/stat} shows it at that moment,
 * and {@code CRTOOLS_IMAGE_DIR}; the test checks CRIU's order of actions, the variables, that {@code network-lock},
 * {@code post-dump} and {@code post-restore} see the tree stopped under ptrace ({@code t}) and the others see it
 * running; that a failing {@code pre-dump} script refuses the dump and leaves the tree running intact, and a failing
 * {@code post-restore} script fails the restore and leaves no process behind.
 */
class ActionScriptIT extends WithTestBed {

    /** A script appending "ACTION PID STATE IMAGE_DIR" to {@code log} ("-" for what is unset). */
    private Path logger(String name, Path log) throws IOException {
        return script(name, """
                st=-
                if [ -n "$CRTOOLS_INIT_PID" ]; then read -r _ _ st _ < /proc/$CRTOOLS_INIT_PID/stat; fi
                echo "$CRTOOLS_SCRIPT_ACTION ${CRTOOLS_INIT_PID:--} $st $CRTOOLS_IMAGE_DIR" >> %s
                """.formatted(log));
    }

    private Path script(String name, String body) throws IOException {
        Path p = bed.root().resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    private static List<String> read(Path log) throws IOException {
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    @Test
    void dumpAndRestoreRunTheScriptsAtCriusPointsWithItsEnvironment() throws IOException {
        Workload w = bed.workloads().start("st_workload");
        w.awaitNewTicks(2);
        long pid = w.pid();
        Path log = bed.root().resolve("actions.log");
        Path s = logger("log.sh", log);

        Path image = bed.dumpAndAwaitGone(w, "--action-script", s.toString());
        String dir = image.toAbsolutePath().toString();
        List<String> dump = read(log);
        assertEquals(List.of("pre-dump " + pid, "network-lock " + pid + " t", "post-dump " + pid + " t"),
                dump.stream().map(l -> withoutDir(l, dir)).map(ActionScriptIT::frozenOnly).toList(),
                "dump actions:\n" + String.join("\n", dump));
        assertTrue(dump.stream().allMatch(l -> l.endsWith(" " + dir)), "CRTOOLS_IMAGE_DIR:\n" + dump);
        assertFalse(dump.get(0).split(" ")[2].matches("[tTZX]"), "pre-dump sees the tree running: " + dump);

        // a failing post-restore script: the restore fails naming it, and every process it created is gone
        Path failing = script("fail.sh", "[ \"$CRTOOLS_SCRIPT_ACTION\" = post-restore ] && exit 4\nexit 0\n");
        CryoResult failed = bed.cryo().restore(image, "-d", "--action-script", failing.toString());
        failed.assertExit(CryoResult.PLUGIN).assertStderrMentions("post-restore action script " + failing,
                "exited with status 4", "[action-script/FAILED]");
        bed.assertNoProcessWithPid(pid, w.comm(), failed);

        Files.delete(log);
        Workload r = bed.restoreAndAwait(w, image, 2, "--action-script", s.toString());
        List<String> restore = awaitLines(log, 4);
        assertEquals(List.of("pre-restore - -", "post-restore " + pid + " t", "network-unlock " + pid + " t",
                "post-resume " + pid), restore.stream().map(l -> withoutDir(l, dir)).map(ActionScriptIT::frozenOnly)
                .toList(), "restore actions:\n" + String.join("\n", restore));
        assertTrue(restore.stream().allMatch(l -> l.endsWith(" " + dir)), "CRTOOLS_IMAGE_DIR:\n" + restore);
        r.assertVerifyPass();
    }

    @Test
    void aFailingPreDumpScriptRefusesTheDumpAndTheTreeRunsOn() throws IOException {
        Workload w = bed.workloads().start("st_workload");
        w.awaitNewTicks(2);
        Path refuse = script("refuse.sh", "echo \"not now: $CRTOOLS_SCRIPT_ACTION\"\n"
                + "[ \"$CRTOOLS_SCRIPT_ACTION\" = pre-dump ] && exit 3\nexit 0\n");
        Path image = bed.newImageDir();
        CryoResult r = bed.cryo().dump(w.pid(), image, "--action-script", refuse.toString());
        r.assertExit(CryoResult.PLUGIN).assertStderrMentions("dump refused", "pre-dump action script " + refuse,
                "exited with status 3", "not now: pre-dump", "Fix:", "[action-script/FAILED]");
        assertFalse(Files.exists(image.resolve("inventory.img")), "no image after a refused dump");
        w.assertLeftRunning();

        // -R: the tree runs on, so the dump unlocks the network after post-dump, as CRIU does
        Path log = bed.root().resolve("leave-running.log");
        Path s = logger("log-r.sh", log);
        bed.cryo().dump(w.pid(), bed.newImageDir(), "-R", "--action-script", s.toString()).assertOk();
        assertEquals(List.of("pre-dump", "network-lock", "post-dump", "network-unlock"),
                read(log).stream().map(l -> l.split(" ")[0]).toList(), "actions of dump -R: " + read(log));
        w.awaitNewTicks(2);
        w.assertVerifyPass();

        // a path that is not executable is refused before anything happens
        CryoResult missing = bed.cryo().dump(w.pid(), bed.newImageDir(), "--action-script",
                bed.root().resolve("nope.sh").toString());
        missing.assertExit(CryoResult.USAGE).assertStderrMentions("nope.sh", "does not exist",
                "[action-script/NOT_EXECUTABLE]");
        w.awaitNewTicks(2);
        w.assertVerifyPass();
    }

    /** Drops the trailing " IMAGE_DIR". */
    private static String withoutDir(String line, String dir) {
        return line.endsWith(" " + dir) ? line.substring(0, line.length() - dir.length() - 1) : line;
    }

    /** Keeps the state field only when it says stopped under ptrace ("t") or unset ("-"): running is S or R. */
    private static String frozenOnly(String line) {
        String[] f = line.split(" ");
        return f.length == 3 && !f[2].equals("t") && !f[2].equals("-") ? f[0] + " " + f[1] : line;
    }

    /** post-resume runs after the tree runs again: poll until it is logged. */
    private static List<String> awaitLines(Path log, int n) throws IOException {
        long deadline = System.nanoTime() + Workload.TIMEOUT.toNanos();
        while (read(log).size() < n && System.nanoTime() < deadline) {
            ProcessControl.sleep(20);
        }
        return read(log);
    }
}
