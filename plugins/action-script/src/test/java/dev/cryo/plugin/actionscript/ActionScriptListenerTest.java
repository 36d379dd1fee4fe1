package dev.cryo.plugin.actionscript;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.Pid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The listener against real scripts (/bin/sh) that log each action with its environment: which actions run, in
 * which order, with which variables, and what a failing script does. The pipelines' side (that core calls the
 * listener at the right moments of a real dump and restore) is ActionScriptIT's.
 */
class ActionScriptListenerTest {
    @TempDir
    Path dir;

    private Path script(String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    private Path logger() throws IOException {
        return script("log.sh", "echo \"$CRTOOLS_SCRIPT_ACTION pid=${CRTOOLS_INIT_PID-unset} dir=$CRTOOLS_IMAGE_DIR\""
                + " >> " + dir.resolve("log") + "\n");
    }

    private List<String> log() throws IOException {
        Path log = dir.resolve("log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    private LifecycleEvent event(Config c, boolean dry) {
        return new LifecycleEvent(dir.resolve("img"), Pid.of(4242), c, dry);
    }

    /** An event whose only action script is {@link #logger()}, with the options {@code flags} (without values). */
    private LifecycleEvent loggerEvent(boolean dry, String... flags) throws IOException {
        Map<String, List<String>> options = new LinkedHashMap<>();
        options.put("action-script", List.of(logger().toString()));
        for (String flag : flags) {
            options.put(flag, List.of());
        }
        return event(Config.of(options), dry);
    }

    /** The listener's calls of a dump that kills the tree: before it, once the tree is frozen, after it. */
    private static void dump(ActionScriptListener l, LifecycleEvent e) throws CryoException {
        l.preDump(e);
        l.postFreeze(e);
        l.postDump(e);
    }

    @Test
    void aDumpThatKillsTheTreeRunsPreDumpNetworkLockPostDumpAndKeepsTheLock() throws Exception {
        LifecycleEvent e = loggerEvent(false);
        ActionScriptListener l = new ActionScriptListener();
        dump(l, e);
        String d = " pid=4242 dir=" + dir.resolve("img");
        assertEquals(List.of("pre-dump" + d, "network-lock" + d, "post-dump" + d), log());
    }

    @Test
    void aDumpWithLeaveRunningUnlocksAfterPostDump() throws Exception {
        LifecycleEvent e = loggerEvent(false, "leave-running");
        ActionScriptListener l = new ActionScriptListener();
        dump(l, e);
        assertEquals(List.of("pre-dump", "network-lock", "post-dump", "network-unlock"),
                log().stream().map(x -> x.split(" ")[0]).toList());
    }

    @Test
    void aRestoreGivesNoPidToPreRestoreAndUnlocksAfterPostRestore() throws Exception {
        LifecycleEvent e = loggerEvent(false);
        ActionScriptListener l = new ActionScriptListener();
        l.preRestore(e);
        l.postRestore(e);
        l.postResume(e);
        String d = " dir=" + dir.resolve("img");
        assertEquals(List.of("pre-restore pid=unset" + d, "post-restore pid=4242" + d, "network-unlock pid=4242" + d,
                "post-resume pid=4242" + d), log());
    }

    @Test
    void aFailingScriptStopsTheActionNamingScriptActionAndStatus() throws Exception {
        Path bad = script("bad.sh", "[ \"$CRTOOLS_SCRIPT_ACTION\" = network-lock ] && exit 3\nexit 0\n");
        Path s = logger();
        LifecycleEvent e = event(Config.of(Map.of("action-script", List.of(bad.toString(), s.toString()))), false);
        ActionScriptListener l = new ActionScriptListener();
        l.preDump(e);
        CryoException x = assertThrows(CryoException.class, () -> l.postFreeze(e));
        assertEquals("action-script/FAILED", x.code());
        assertTrue(x.getMessage().contains("network-lock action script " + bad + " exited with status 3"),
                x.getMessage());
        // the later script did not run for the failed action; the failure handler unlocks as CRIU does
        l.onFailure(e, x);
        assertEquals(List.of("pre-dump", "network-unlock"), log().stream().map(t -> t.split(" ")[0]).toList());
    }

    @Test
    void aDryRunRunsNothingButRefusesAScriptThatCannotRun() throws Exception {
        LifecycleEvent e = loggerEvent(true);
        ActionScriptListener l = new ActionScriptListener();
        dump(l, e);
        assertEquals(List.of(), log());

        Files.setPosixFilePermissions(dir.resolve("log.sh"), Set.of(java.nio.file.attribute.PosixFilePermission.OWNER_READ));
        CryoException x = assertThrows(CryoException.class, () -> new ActionScriptListener().preDump(e));
        assertEquals("action-script/NOT_EXECUTABLE", x.code());
        assertEquals(CryoException.Category.USAGE, x.category());
    }

    @Test
    void withoutTheOptionNothingRuns() throws Exception {
        LifecycleEvent e = event(Config.of(Map.of()), false);
        ActionScriptListener l = new ActionScriptListener();
        dump(l, e);
        l.onFailure(e, new CryoException(CryoException.Category.INTERNAL, "x/Y", "m"));
        assertEquals(List.of(), l.scripts());
    }
}
