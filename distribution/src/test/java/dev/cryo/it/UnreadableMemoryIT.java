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
 * A mapping without PROT_READ that holds data cannot be dumped yet (process_vm_readv cannot read it, and a
 * temporary mprotect could not be undone when a dump fails): the dump is refused, naming the mapping, and the
 * process is left exactly as it was — same mappings, same protections, same content.
 */
class UnreadableMemoryIT extends WithTestBed {

    @Test
    void protNoneRegionWithDataIsRefusedAndTheProcessIsLeftAsItWas() throws IOException {
        Workload w = bed.workloads().start("shm_single", "protnone");
        long protnone = Long.decode(w.ready("protnone"));
        w.awaitNewTicks(2);
        w.assertVerifyPass();
        Path maps = Path.of("/proc", Long.toString(w.pid()), "maps");
        List<String> before = Files.readAllLines(maps);

        Path image = bed.newImageDir();
        CryoResult r = bed.cryo().dump(w.pid(), image).assertExit(CryoResult.UNSUPPORTED)
                .assertStderrMentions("memory/UNREADABLE_PAGES", Long.toHexString(protnone), "PROT_READ")
                .assertStderrNamesPid(w.pid());
        assertTrue(w.isAlive(), w + " did not survive the refused dump: " + r.describe());
        assertFalse(Files.exists(image.resolve("inventory.img")), "a refused dump left an inventory in " + image);
        assertEquals(before, Files.readAllLines(maps), "the refused dump changed the mappings of " + w);
        w.awaitNewTicks(2);
        w.assertVerifyPass();
    }
}
