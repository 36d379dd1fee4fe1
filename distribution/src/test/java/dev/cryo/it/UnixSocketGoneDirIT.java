package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Unix sockets bound under directories that are gone since ({@code unix_gone_dir.c}): a listener and its accepted
 * end under a removed directory, a datagram socket under a renamed one. The restore creates the missing directories
 * for the time of the bind, unlinks the names again and removes exactly those directories: the restored program finds
 * its sockets bound to the same names, still talking with their peers, and nothing new on disk.
 */
class UnixSocketGoneDirIT extends WithTestBed {

    @Test
    void socketsBoundUnderRemovedOrRenamedDirectoriesKeepTheirNames() throws IOException {
        Workload w = bed.workloads().start("unix_gone_dir");
        w.assertVerifyPass();
        bed.dumpAndRestoreTwice(w, 2);
        try (Stream<Path> left = Files.list(w.workdir())) {
            assertEquals(List.of("moved2"), left.map(p -> p.getFileName().toString())
                    .filter(n -> !n.endsWith(".log")).sorted().toList(), "the workdir after two restores");
        }
    }
}
