package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * "Never harm the target": cryo killed with SIGTERM while it is dumping (the tree frozen, every signal blocked,
 * cryo's scratch mapping in place, pages half written) must hand the tree back exactly as it was and leave no
 * image behind.
 */
class InterruptedDumpIT extends WithTestBed {

    @Test
    void sigtermInMidDumpLeavesTheProcessAsItWas() throws Exception {
        Workload w = bed.workloads().start("big_heap", "1536");
        w.assertVerifyPass();
        String mapsBefore = readProc(w.pid(), "maps");
        // -R: a dump that completes before SIGTERM arrives leaves the process running, and the next try
        // interrupts sooner; a dump that can never be interrupted fails the test instead of skipping it
        Path image = null;
        CryoResult r = null;
        for (long delayMs : new long[] {200, 50, 0}) {
            image = bed.newImageDir();
            RunningCryo rc = bed.cryo().start("-v", "dump", "-R", "-t", Long.toString(w.pid()), "-D",
                    image.toString());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!rc.snapshot().stderr().contains("froze ") && rc.isAlive() && System.nanoTime() < deadline) {
                ProcessControl.sleep(1);
            }
            ProcessControl.sleep(delayMs);   // into the page copy of 1.5 GiB
            ProcessControl.kill(rc.pid(), ProcessControl.SIGTERM);
            r = rc.awaitExit(Duration.ofSeconds(30));
            if (r.exit() != 0) {
                break;
            }
            w.assertVerifyPass();
        }
        assertNotEquals(0, r.exit(), "every dump of 1.5 GiB finished before SIGTERM arrived, even sent right after"
                + " the freeze: this test cannot interrupt one here");
        assertFalse(Files.exists(image.resolve("inventory.img")), "an interrupted dump left an inventory.img: "
                + r.describe());
        assertEquals(mapsBefore, readProc(w.pid(), "maps"), "the interrupted dump changed the process's mappings");
        String status = readProc(w.pid(), "status");
        assertEquals("0", field(status, "TracerPid"), "still traced after the interrupted dump");
        assertEquals("0000000000000000", field(status, "SigBlk"), "signal mask not given back");
        assertNotEquals("T", field(status, "State").substring(0, 1), "left stopped: " + field(status, "State"));
        w.awaitNewTicks(3);
        w.assertVerifyPass();
    }

    private static String readProc(long pid, String file) throws IOException {
        try (var in = Files.newInputStream(Path.of("/proc", Long.toString(pid), file))) {
            return new String(in.readAllBytes());
        }
    }

    private static String field(String status, String key) {
        for (String line : status.split("\n")) {
            if (line.startsWith(key + ":")) {
                return line.substring(key.length() + 1).trim();
            }
        }
        throw new AssertionError("no " + key + " in /proc/PID/status");
    }
}
