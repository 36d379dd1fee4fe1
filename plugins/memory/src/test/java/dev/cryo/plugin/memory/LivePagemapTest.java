package dev.cryo.plugin.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.StringReader;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Page-run selection on pagemap entries the kernel produced for mappings of this JVM: a private file mapping
 * where one page was only read and one was written, and a shared one.
 */
class LivePagemapTest {
    static final int P = 4096;

    @TempDir
    Path dir;

    @Test
    void onlyTheWrittenPageOfAPrivateFileMappingIsKept() throws Exception {
        Path f = dir.resolve("private.bin");
        MappedByteBuffer m = mapNewFile(f, 4, FileChannel.MapMode.PRIVATE);
        assertEquals(0, m.get(0));          // page 0: read, stays a file page
        m.put(2 * P + 7, (byte) 42);        // page 2: written, copied on write
        // pages 1 and 3 untouched
        OwnMappings.MapsLine l = OwnMappings.find(f);
        assertEquals('p', l.perms().charAt(3));
        long[] pm = OwnMappings.pagemap(l.start(), l.end());
        assertNotEquals(0, pm[0] & MemorySyscalls.PM_PRESENT, "page 0 was read, it must be present");
        assertNotEquals(0, pm[0] & MemorySyscalls.PM_FILE, "page 0 is a file page");

        assertEquals(List.of(new PageRuns.Run(l.start() + 2L * P, P)),
                PageRuns.compute(pm, l.start(), MappingKind.FILE_PRIVATE));
        // the same entries taken as anonymous memory keep every present page (fault-around may have mapped
        // the untouched neighbours of page 0 too), so the first run starts at page 0
        assertEquals(l.start(), PageRuns.compute(pm, l.start(), MappingKind.ANON_PRIVATE).get(0).start());

        assertEquals(42, m.get(2 * P + 7));
    }

    @Test
    void aWrittenSharedFileMappingKeepsNothing() throws Exception {
        Path f = dir.resolve("shared.bin");
        MappedByteBuffer m = mapNewFile(f, 2, FileChannel.MapMode.READ_WRITE);
        m.put(0, (byte) 1);
        OwnMappings.MapsLine l = OwnMappings.find(f);
        assertEquals('s', l.perms().charAt(3));
        long[] pm = OwnMappings.pagemap(l.start(), l.end());
        assertNotEquals(0, pm[0] & MemorySyscalls.PM_PRESENT);
        assertEquals(List.of(), PageRuns.compute(pm, l.start(), MappingKind.FILE_SHARED));
        // the written page is still a file page: even taken as private it would not be kept
        assertEquals(List.of(), PageRuns.compute(pm, l.start(), MappingKind.FILE_PRIVATE));
    }

    /**
     * Creates {@code f} with {@code pages} zero pages and maps all of it into this JVM with {@code mode}. The mapping
     * stays valid after the channel is closed (see {@link FileChannel#map}); it lives as long as the buffer does.
     */
    private static MappedByteBuffer mapNewFile(Path f, int pages, FileChannel.MapMode mode) throws Exception {
        Files.write(f, new byte[pages * P]);
        // Java wants a writable channel for MapMode.PRIVATE; the mapping is MAP_PRIVATE all the same
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return ch.map(mode, 0, (long) pages * P);
        }
    }
}
