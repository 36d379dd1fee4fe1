package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A process that unmapped its [vdso] ({@code no_vdso.c}): cryo injects through a syscall instruction of another
 * executable mapping (libc's text), writing nothing into the process; {@code dump -R} leaves its mappings as they
 * were; the restored process has no [vdso] either, its memory intact, and dumps and restores again.
 */
class NoVdsoIT extends WithTestBed {

    @Test
    void aProcessWithoutVdsoIsDumpedAndRestoredWithoutOne() throws IOException {
        Workload w = bed.startVerified("no_vdso");
        Path maps = Path.of("/proc", Long.toString(w.pid()), "maps");
        List<String> before = Files.readAllLines(maps);
        bed.cryo().dump(w.pid(), bed.newImageDir(), "-R").assertOk();
        assertEquals(before, Files.readAllLines(maps), "dump -R changed the mappings of " + w);
        w.awaitNewTicks(2);
        w.assertVerifyPass();

        bed.dumpAndRestoreTwice(w, 3);
    }
}
