package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code --output json} of dump, restore and plugins through bin/cryo: one JSON object on stdout, parsed here, with
 * the pids, the image directory and the statistics per phase; a failure as {@code ok:false} with the error's code
 * and fix. (check's JSON is in {@link CheckIT}.)
 */
class OutputJsonIT extends WithTestBed {
    @Test
    void dumpAndRestoreReportTheirResultAsJson() {
        Workload w = bed.workloads().start("st_workload");
        Path image = bed.newImageDir();
        List<Long> descendants = TestBed.descendantsOf(w.pid());
        CryoResult dump = bed.cryo().run("dump", "-t", Long.toString(w.pid()), "-D", image.toString(),
                "--output", "json");
        dump.assertOk();
        Struct d = CheckIT.parse(dump.stdout());
        assertEquals("dump", d.getFieldsOrThrow("command").getStringValue());
        assertTrue(d.getFieldsOrThrow("ok").getBoolValue());
        assertEquals(0, (int) d.getFieldsOrThrow("exitCode").getNumberValue());
        assertEquals(w.pid(), (long) d.getFieldsOrThrow("root").getNumberValue());
        assertEquals(image.toString(), d.getFieldsOrThrow("imagesDir").getStringValue());
        assertEquals("kill", d.getFieldsOrThrow("after").getStringValue());
        Struct stats = d.getFieldsOrThrow("stats").getStructValue();
        assertEquals(1, (int) stats.getFieldsOrThrow("processes").getNumberValue(), dump.stdout());
        assertTrue(stats.getFieldsOrThrow("pagesBytes").getNumberValue() > 0, dump.stdout());
        assertTrue(stats.getFieldsOrThrow("frozenUs").getNumberValue() > 0, dump.stdout());
        Struct phases = stats.getFieldsOrThrow("phasesUs").getStructValue();
        for (String phase : List.of("freeze", "core", "memory", "fds", "write", "release")) {
            assertTrue(phases.containsFields(phase), phase + " missing: " + dump.stdout());
        }
        w.awaitGone(Duration.ofSeconds(10));
        for (long pid : descendants) {
            ProcessControl.reap(pid, Duration.ofSeconds(10));
        }
        w.process().ifPresent(p -> {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        long mark = w.log().size();
        CryoResult restore = bed.cryo().restore(image, "-d", "--output", "json");
        restore.assertOk();
        Workload r = bed.workloads().adoptRestored(w);
        Struct res = CheckIT.parse(restore.stdout());
        assertEquals("restore", res.getFieldsOrThrow("command").getStringValue());
        assertEquals(w.pid(), (long) res.getFieldsOrThrow("root").getNumberValue());
        assertTrue(res.getFieldsOrThrow("detached").getBoolValue());
        Struct rstats = res.getFieldsOrThrow("stats").getStructValue();
        assertTrue(rstats.getFieldsOrThrow("phasesUs").getStructValue().containsFields("memory"), restore.stdout());
        w.log().awaitTicks(mark, 2, Workload.TIMEOUT);
        r.assertVerifyPass();
        r.kill();

        // a failure: the error with its code and fix, the exit status in the object and of the process
        CryoResult again = bed.cryo().run("dump", "-t", Long.toString(TestBed.unusedPid()), "-D",
                bed.newImageDir().toString(), "--output", "json");
        again.assertExit(CryoResult.NO_SUCH_PROCESS);
        Struct f = CheckIT.parse(again.stdout());
        assertEquals(false, f.getFieldsOrThrow("ok").getBoolValue());
        assertEquals(8, (int) f.getFieldsOrThrow("exitCode").getNumberValue());
        Struct error = f.getFieldsOrThrow("error").getStructValue();
        assertEquals("core/NO_SUCH_PROCESS", error.getFieldsOrThrow("code").getStringValue());
        assertTrue(error.getFieldsOrThrow("fix").getStringValue().contains("-t"), again.stdout());
    }

    @Test
    void pluginsListsPluginsAndTheirOptions() {
        CryoResult r = bed.cryo().run("plugins", "--output", "json").assertOk();
        Struct p = CheckIT.parse(r.stdout());
        List<Value> plugins = p.getFieldsOrThrow("plugins").getListValue().getValuesList();
        assertTrue(plugins.stream().anyMatch(v -> v.getStructValue().getFieldsOrThrow("id").getStringValue()
                .equals("pipe") && v.getStructValue().getFieldsOrThrow("enabled").getBoolValue()), r.stdout());
        List<Value> options = p.getFieldsOrThrow("options").getListValue().getValuesList();
        assertTrue(options.stream().anyMatch(v -> v.getStructValue().getFieldsOrThrow("option").getStringValue()
                .equals("--ext-unix-sk")), r.stdout());
    }
}
