package dev.cryo.plugin.memory;

import dev.cryo.api.CryoException;
import dev.cryo.api.LocalFd;
import dev.cryo.api.Mapping;
import dev.cryo.api.PageSink;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.memory.proto.PageRun;
import dev.cryo.plugin.memory.proto.VmaEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Shared-memory dump on real shmem: a tmpfs file in /dev/shm whose pages were written through the file, not
 * through this JVM's mappings, so they are in the shmem object but in no page table of this process — the
 * situation of a page only another process touched. The object is read through /proc/self/map_files.
 */
class SharedMemoryDumpTest {
    static final int P = 4096;

    Path file;
    FileChannel ch;

    @BeforeEach
    void createObject() throws Exception {
        file = Path.of("/dev/shm", "cryo-memory-test-" + UUID.randomUUID());
        ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        ch.truncate(16L * P);
        writePage(1, (byte) 'a');
        writePage(5, (byte) 'b');
        writePage(12, (byte) 'c');
    }

    @AfterEach
    void removeObject() throws Exception {
        ch.close();
        Files.deleteIfExists(file);
    }

    private void writePage(int page, byte value) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(16);
        for (int i = 0; i < 16; i++) {
            b.put(value);
        }
        ch.write(b.flip(), (long) page * P + 100);
    }

    @Test
    void pagesInTheObjectButNotInThisPageTableAreSavedOncePerObject() throws Exception {
        MappedByteBuffer a = ch.map(FileChannel.MapMode.READ_WRITE, 0, 8L * P);       // object pages 0-7
        MappedByteBuffer b = ch.map(FileChannel.MapMode.READ_WRITE, 4L * P, 12L * P); // object pages 4-15
        List<OwnMappings.MapsLine> lines = OwnMappings.findAll(file);
        assertEquals(2, lines.size(), "two mappings of " + file + ": " + lines);
        Mapping ma = OwnMappings.toMapping(lines.stream().filter(l -> l.offset() == 0).findFirst().orElseThrow());
        Mapping mb = OwnMappings.toMapping(lines.stream().filter(l -> l.offset() != 0).findFirst().orElseThrow());
        // the premise: this process's page table does not have the written pages
        long[] pm = OwnMappings.pagemap(ma.start(), ma.end());
        assertEquals(0, pm[1] & MemorySyscalls.PM_PRESENT, "page 1 was never touched through the mapping");

        SharedMemoryDump dump = new SharedMemoryDump();
        RecordingSink sink = new RecordingSink();
        VmaEntry.Builder ea = VmaEntry.newBuilder();
        dump.dump(new OwnTask(), sink, ma, ea);
        assertEquals(new ShmemKey(ma.dev(), ma.inode()).toString(), ea.getShmemKey());
        assertEquals(16L * P, ea.getShmemSize());
        assertEquals(0, ea.getFileOffset());
        assertEquals(SharedMemoryDump.DEFAULT_MEMFD_NAME, ea.getMemfdName());
        assertEquals(List.of(run(ma.start() + P, P, 0), run(ma.start() + 5L * P, P, P)), ea.getPagesList());

        // the second mapping saves only what the first did not cover: object page 12
        VmaEntry.Builder eb = VmaEntry.newBuilder();
        dump.dump(new OwnTask(), sink, mb, eb);
        assertEquals(ea.getShmemKey(), eb.getShmemKey());
        assertEquals(4L * P, eb.getFileOffset());
        assertEquals(List.of(run(mb.start() + 8L * P, P, 2L * P)), eb.getPagesList());
        assertEquals(3, sink.saved.size());

        // a third view of the same object saves nothing; after reset() everything is new again
        VmaEntry.Builder again = VmaEntry.newBuilder();
        dump.dump(new OwnTask(), sink, mb, again);
        assertEquals(0, again.getPagesCount());
        dump.reset();
        VmaEntry.Builder fresh = VmaEntry.newBuilder();
        dump.dump(new OwnTask(), new RecordingSink(), mb, fresh);
        assertEquals(List.of(run(mb.start() + P, P, 0), run(mb.start() + 8L * P, P, P)), fresh.getPagesList());

        assertEquals('a', a.get(P + 100));
        assertEquals('c', b.get(8 * P + 100));
    }

    @Test
    void adjacentNonZeroPagesFormOneRunAndAPartialLastChunkIsScanned() throws Exception {
        writePage(2, (byte) 'x');
        writePage(3, (byte) 'y');
        MappedByteBuffer a = ch.map(FileChannel.MapMode.READ_WRITE, 0, 16L * P);
        Mapping m = OwnMappings.toMapping(OwnMappings.find(file));
        try (ShmemContent.ObjectReader r = ShmemContent.open(new OwnTask(), m.start(), m.end(), 0, true)) {
            assertTrue(r.source().contains("map_files"), r.source());
            // a buffer of 3 pages: chunks end inside runs, which must still coalesce
            List<PageRuns.Run> runs = ShmemContent.nonZeroRuns(r, m.start(), 0, 0, 16L * P,
                    ByteBuffer.allocateDirect(3 * P));
            assertEquals(List.of(new PageRuns.Run(m.start() + P, 3L * P), new PageRuns.Run(m.start() + 5L * P, P),
                    new PageRuns.Run(m.start() + 12L * P, P)), runs);
            // a scan of part of the object, seen through a mapping that starts at object page 4
            long fakeStart = 0x7f0000000000L;
            assertEquals(List.of(new PageRuns.Run(fakeStart + P, P)),
                    ShmemContent.nonZeroRuns(r, fakeStart, 4L * P, 4L * P, 8L * P, ByteBuffer.allocateDirect(P)));
        }
        assertEquals('x', a.get(2 * P + 100));
    }

    @Test
    void dataInAViewWithoutProtReadIsSavedAndOnlyOnce() throws Exception {
        MappedByteBuffer a = ch.map(FileChannel.MapMode.READ_WRITE, 0, 16L * P);
        Mapping rw = OwnMappings.toMapping(OwnMappings.find(file));
        // the same object seen through a PROT_NONE view: the object is still read (map_files ignores the
        // protection) and its pages are saved through the mapping (the sink reads them through /proc/PID/mem)
        Mapping none = new Mapping(rw.start(), rw.end(), 0, true, 0, rw.dev(), rw.inode(), rw.name(), rw.vmFlags());
        VmaEntry.Builder first = VmaEntry.newBuilder();
        new SharedMemoryDump().dump(new OwnTask(), new RecordingSink(), none, first);
        assertEquals(3L * P, first.getPagesList().stream().mapToLong(r -> r.getLength()).sum());

        // once a readable view saved the object, a PROT_NONE view of it needs nothing
        SharedMemoryDump dump = new SharedMemoryDump();
        dump.dump(new OwnTask(), new RecordingSink(), rw, VmaEntry.newBuilder());
        VmaEntry.Builder b = VmaEntry.newBuilder();
        dump.dump(new OwnTask(), new RecordingSink(), none, b);
        assertEquals(0, b.getPagesCount());
        assertEquals('a', a.get(P + 100));
    }

    @Test
    void memfdNamesComeFromTheMapsName() {
        assertEquals("wayland-shm", SharedMemoryDump.memfdName("/memfd:wayland-shm (deleted)"));
        assertEquals("cryo-shmem", SharedMemoryDump.memfdName("/memfd:cryo-shmem (deleted)"));
        assertEquals("with space", SharedMemoryDump.memfdName("/memfd:with space (deleted)"));
        assertEquals(SharedMemoryDump.DEFAULT_MEMFD_NAME, SharedMemoryDump.memfdName("/dev/zero (deleted)"));
        assertEquals(SharedMemoryDump.DEFAULT_MEMFD_NAME, SharedMemoryDump.memfdName("[anon_shmem:ring]"));
        assertEquals(SharedMemoryDump.DEFAULT_MEMFD_NAME, SharedMemoryDump.memfdName("/memfd: (deleted)"));
    }

    private static PageRun run(long start, long length, long offset) {
        return PageRun.newBuilder().setStart(start).setLength(length).setPagesOffset(offset).build();
    }

    /** Records what would be saved; offsets grow like a pages file's. */
    static final class RecordingSink implements PageSink {
        final List<long[]> saved = new ArrayList<>();
        long next;

        public long save(long address, long length) {
            saved.add(new long[]{address, length});
            long at = next;
            next += length;
            return at;
        }

        public String fileName() {
            return "pages-test.img";
        }
    }

    /** This JVM as the "task": only procDir is used when map_files can be read. */
    static final class OwnTask implements RemoteTask {
        public Pid pid() {
            return Pid.of((int) ProcessHandle.current().pid());
        }

        public String comm() {
            return "java";
        }

        public Path procDir() {
            return Path.of("/proc", Long.toString(ProcessHandle.current().pid()));
        }

        public long readMemory(long address, ByteBuffer dst) {
            throw new UnsupportedOperationException("the object must be read through map_files");
        }

        public void writeMemory(long address, ByteBuffer src) {
            throw new UnsupportedOperationException();
        }

        public long syscall(String what, int nr, long... args) {
            throw new UnsupportedOperationException();
        }

        public long syscallRaw(int nr, long... args) {
            throw new UnsupportedOperationException();
        }

        public long scratchAddress() {
            throw new UnsupportedOperationException();
        }

        public int scratchSize() {
            return 0;
        }

        public LocalFd pullFd(TargetFd fd) throws CryoException {
            throw new UnsupportedOperationException();
        }

        public void pushFd(LocalFd fd, TargetFd at, boolean cloexec) {
            throw new UnsupportedOperationException();
        }

        public long[] pagemap(long start, long end) {
            throw new UnsupportedOperationException();
        }
    }
}
