package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code cryo check -t PID}, the dry run of a dump on a live tree: on {@code check_blockers.c} (a tree holding a
 * deleted file, a pipe to a helper outside the tree, an established TCP connection and a namespace fd in a child)
 * it lists every one of them with the pid, the fd or object, the fix and the code, exits 3, and leaves the tree
 * running exactly as before (the workload checks itself afterwards); on a tree a dump takes it exits 0 with the
 * command line to dump it; {@code --output json} gives the same as one JSON object.
 */
class CheckIT extends WithTestBed {
    @Test
    void listsEveryBlockerAndHarmsNothing() throws IOException {
        try (BlockedTree t = BlockedTree.start(bed)) {
            Workload w = t.w();
            long child = t.child();
            long helper = t.helper();
            List<String> locksBefore = nftTables(); // a dead cryo's lock may be there; none may be added
            CryoResult r = bed.cryo().run("check", "-t", Long.toString(w.pid()));
            r.assertExit(CryoResult.UNSUPPORTED);
            String out = r.stdout();
            assertTrue(out.startsWith("pid " + w.pid() + " \"check_blockers\": a dump would be refused, 4 problems"),
                    r.describe());
            for (String expected : List.of("[regular-file/GHOST_TOO_BIG]", "[pipe/EXTERNAL_PIPE]",
                    "[inet-socket/ESTABLISHED]", "[core/NAMESPACE_FD]")) {
                assertTrue(out.contains(expected), expected + " missing:\n" + out);
            }
            assertTrue(out.contains("pid " + child), "the namespace fd is the child's:\n" + out);
            assertTrue(out.contains("fd 9"), out);
            assertTrue(out.contains("fd 7"), out);
            assertTrue(out.contains("pipe:[" + w.ready("pipe") + "]"), out);
            assertTrue(out.contains("pid " + helper), "the pipe's outside holder is named:\n" + out);
            assertEquals(4, out.lines().filter(l -> l.strip().startsWith("Fix: ")).count(), "a fix each:\n" + out);
            assertEquals("", r.stderr().strip(), "nothing on stderr: " + r.describe());

            // harmless: the tree runs on, every resource intact, the connection open
            assertTrue(w.isAlive());
            w.awaitNewTicks(3);
            w.assertVerifyPass();
            assertEquals('v', t.nextByte(), "the byte the workload sent after the check");

            // the options that take some of them over are checked too
            CryoResult withOptions = bed.cryo().run("check", "-t", Long.toString(w.pid()), "--tcp-established",
                    "--external", "pipe:[" + w.ready("pipe") + "]", "--external", "pipe:[1]");
            withOptions.assertExit(CryoResult.UNSUPPORTED);
            String out2 = withOptions.stdout();
            assertFalse(out2.contains("[inet-socket/ESTABLISHED]"), out2);
            assertFalse(out2.contains("[pipe/EXTERNAL_PIPE]"), out2);
            assertTrue(out2.contains("--external pipe:[1] matches nothing"), out2);
            assertEquals(1, out2.split("\\[core/EXTERNAL_UNMATCHED]", -1).length - 1,
                    "only the value that names nothing:\n" + out2);
            assertTrue(out2.contains("[core/NAMESPACE_FD]"), out2);
            List<String> newLocks = nftTables().stream().filter(table -> table.contains("cryo_lock"))
                    .filter(table -> !locksBefore.contains(table)).toList();
            assertTrue(newLocks.isEmpty(), "a dry run takes no network lock: " + newLocks);
            w.awaitNewTicks(2);
            w.assertVerifyPass();
            assertEquals('v', t.nextByte());

            // the same as JSON, parsed
            CryoResult json = bed.cryo().run("check", "-t", Long.toString(w.pid()), "--output", "json");
            json.assertExit(CryoResult.UNSUPPORTED);
            Struct result = parse(json.stdout());
            assertEquals("check", result.getFieldsOrThrow("command").getStringValue());
            assertFalse(result.getFieldsOrThrow("ok").getBoolValue());
            assertEquals(3, (int) result.getFieldsOrThrow("exitCode").getNumberValue());
            assertEquals(w.pid(), (long) result.getFieldsOrThrow("root").getNumberValue());
            List<Value> problems = result.getFieldsOrThrow("problems").getListValue().getValuesList();
            assertEquals(4, problems.size(), json.stdout());
            for (Value p : problems) {
                Struct s = p.getStructValue();
                assertFalse(s.getFieldsOrThrow("code").getStringValue().isEmpty(), json.stdout());
                assertFalse(s.getFieldsOrThrow("fix").getStringValue().isEmpty(), json.stdout());
                assertEquals("UNSUPPORTED", s.getFieldsOrThrow("category").getStringValue());
            }
            Struct stats = result.getFieldsOrThrow("stats").getStructValue();
            assertEquals(2, (int) stats.getFieldsOrThrow("processes").getNumberValue(), json.stdout());
            assertTrue(stats.getFieldsOrThrow("pagesBytes").getNumberValue() > 0, json.stdout());
            w.assertVerifyPass();
        }
    }

    @Test
    void aDumpIsRefusedBeforeAnythingStops() throws IOException {
        try (BlockedTree t = BlockedTree.start(bed)) {
            Workload w = t.w();
            assertEquals('v', t.nextByte());
            // the child's namespace fd is seen while the tree runs (the root's ghost file, pipe and connection
            // are claimed by plugins, which would refuse them later, once the tree is frozen)
            Path image = bed.newImageDir();
            CryoResult dump = bed.cryo().run("-v", "dump", "-t", Long.toString(w.pid()), "-D", image.toString());
            dump.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(t.child())
                    .assertStderrMentions("fd 9", "[core/NAMESPACE_FD]");
            assertFalse(dump.stderr().contains("froze "), "refused before the freeze:\n" + dump.describe());
            assertFalse(Files.exists(image), "a refused dump left " + image);
            assertTrue(nftTables().stream().noneMatch(l -> l.contains("cryo_lock_" + w.pid() + "_")),
                    "no network lock taken: " + nftTables());
            w.awaitNewTicks(2);
            w.assertVerifyPass();
            assertEquals('v', t.nextByte(), "the connection is still open");
        }
    }

    @Test
    void aTreeADumpTakesPassesWithTheCommandToDumpIt() throws IOException {
        Workload w = bed.workloads().start("st_workload");
        CryoResult r = bed.cryo().run("check", "-t", Long.toString(w.pid()), "--file-locks");
        r.assertOk();
        assertTrue(r.stdout().startsWith("pid " + w.pid() + " \"st_workload\": a dump would succeed (1 process"),
                r.describe());
        assertTrue(r.stdout().contains("Dump it with: cryo dump -t " + w.pid() + " -D DIR --file-locks"),
                r.describe());
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        // and the dump it announced succeeds
        Path image = bed.newImageDir();
        bed.cryo().dump(w.pid(), image, "-R", "--file-locks").assertOk();
        assertTrue(w.isAlive());
    }

    @Test
    void aPidThatDoesNotExistIsNotAUsageError() {
        long pid = TestBed.unusedPid();
        CryoResult r = bed.cryo().run("check", "-t", Long.toString(pid));
        r.assertExit(CryoResult.NO_SUCH_PROCESS).assertStderrNamesPid(pid).assertStderrMentions("[core/NO_SUCH_PROCESS]");
    }

    static Struct parse(String json) {
        assertEquals(1, json.strip().lines().count(), "one JSON object on one line: " + json);
        Struct.Builder b = Struct.newBuilder();
        try {
            JsonFormat.parser().merge(json, b);
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
        return b.build();
    }

    private static List<String> nftTables() {
        try {
            Process p = new ProcessBuilder("nft", "list", "tables").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            return out.lines().toList();
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }
}
