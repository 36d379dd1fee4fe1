package dev.cryo.plugin.memory;

import dev.cryo.api.CryoException;
import dev.cryo.api.RemoteTask;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

/**
 * Finds the non-zero pages of a range of a shmem object, reading the object itself rather than one process's page
 * table: a page another process wrote is in the object but may be absent from this process's pagemap.
 *
 * <p>The object is read through {@code /proc/PID/map_files/START-END} ({@link #open}), which opens the shmem file
 * behind the mapping (needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE, as cryo has): reading a hole returns zeros and
 * allocates nothing, and works whatever the mapping's protection. Only when that file cannot be opened is the
 * memory read through the process's mapping ({@link RemoteTask#readMemory}), which faults never-touched pages in.
 */
final class ShmemContent {
    static final int CHUNK = 4 << 20;
    private static final ByteBuffer ZERO_PAGE = ByteBuffer.allocateDirect((int) MemorySyscalls.PAGE_SIZE);

    /** Reads bytes of one shmem object. */
    interface ObjectReader extends AutoCloseable {
        /**
         * Fills {@code dst} from {@code objectOffset} on.
         *
         * @return the bytes read: fewer than asked only at the end of the object (the rest reads as nothing)
         */
        int read(long objectOffset, ByteBuffer dst) throws CryoException;

        /** @return how the object is read, for messages */
        String source();

        @Override
        void close();
    }

    private ShmemContent() {
    }

    /**
     * Opens the object mapped at {@code [start, end)} with file offset {@code offset}: through map_files, else
     * through the process's memory when the mapping is readable.
     *
     * @throws CryoException KERNEL when neither works
     */
    static ObjectReader open(RemoteTask task, long start, long end, long offset, boolean readable)
            throws CryoException {
        Path mapFile = task.procDir().resolve("map_files")
                .resolve(Long.toHexString(start) + "-" + Long.toHexString(end));
        try {
            return file(FileChannel.open(mapFile), mapFile.toString());
        } catch (IOException | RuntimeException e) {
            if (!readable) {
                throw new CryoException(CryoException.Category.KERNEL, "memory/SHMEM_READ",
                        String.format("dump failed: cannot open %s to read the shared memory %x-%x of pid %s \"%s\", "
                                + "and the mapping is not readable: %s", mapFile, start, end, task.pid(), task.comm(), e),
                        "run cryo as root (opening map_files needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)", e);
            }
            return memory(task, start, offset);
        }
    }

    /** @return a reader over an open file whose offsets are object offsets */
    static ObjectReader file(FileChannel ch, String name) {
        return new ObjectReader() {
            public int read(long objectOffset, ByteBuffer dst) throws CryoException {
                int start = dst.position();
                try {
                    while (dst.hasRemaining()) {
                        int n = ch.read(dst, objectOffset + dst.position() - start);
                        if (n <= 0) {
                            break;
                        }
                    }
                } catch (IOException e) {
                    throw new CryoException(CryoException.Category.KERNEL, "memory/SHMEM_READ",
                            "dump failed: read of " + name + " at offset " + objectOffset + " failed: " + e, null, e);
                }
                return dst.position() - start;
            }

            public String source() {
                return name;
            }

            public void close() {
                try {
                    ch.close();
                } catch (IOException e) {
                    // read-only; nothing was written that a failed close could lose
                }
            }
        };
    }

    /** @return a reader through the process's mapping at {@code start} whose file offset is {@code offset} */
    static ObjectReader memory(RemoteTask task, long start, long offset) {
        return new ObjectReader() {
            public int read(long objectOffset, ByteBuffer dst) throws CryoException {
                return (int) task.readMemory(start + (objectOffset - offset), dst);
            }

            public String source() {
                return "the memory of pid " + task.pid();
            }

            public void close() {
            }
        };
    }

    /**
     * @param reader     the object
     * @param mapStart   address of the mapping
     * @param mapOffset  object offset of {@code mapStart}
     * @param from       first object offset to scan (page aligned, inside the mapping)
     * @param to         end of the scan (page aligned)
     * @param buffer     a direct buffer of at least one page (a multiple of the page size)
     * @return the runs of non-zero pages, as addresses of the mapping, in ascending order
     */
    static List<PageRuns.Run> nonZeroRuns(ObjectReader reader, long mapStart, long mapOffset, long from, long to,
                                          ByteBuffer buffer) throws CryoException {
        int page = (int) MemorySyscalls.PAGE_SIZE;
        PageRuns runs = new PageRuns(MappingKind.ANON_SHARED);
        for (long at = from; at < to; at += buffer.capacity()) {
            int want = (int) Math.min(buffer.capacity(), to - at);
            buffer.clear().limit(want);
            int got = reader.read(at, buffer);
            for (int i = 0; i < got; i += page) {
                int len = Math.min(page, got - i);
                if (buffer.slice(i, len).mismatch(ZERO_PAGE.slice(0, len)) >= 0) {
                    runs.addPage(mapStart + (at + i - mapOffset));
                }
            }
            if (got < want) {
                break;
            }
        }
        return runs.finish();
    }
}
