package dev.cryo.plugin.memory;

import dev.cryo.api.CryoException;
import dev.cryo.api.Mapping;
import dev.cryo.api.PageSink;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.SyscallFlags;
import dev.cryo.plugin.memory.proto.PageRun;
import dev.cryo.plugin.memory.proto.VmaEntry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Dump of shared memory (MAP_SHARED|MAP_ANONYMOUS, {@code [anon_shmem:...]}, MAP_SHARED of a memfd) across every
 * process of one dump: each shmem object's content is saved once, whichever processes and mappings show it.
 *
 * <p>Per mapping, the parts of the object it covers that no earlier mapping covered are scanned through the object
 * itself ({@link ShmemContent}) and their non-zero pages saved through this mapping into this process's pages
 * file. So the content of an object may be spread over the pages files of several processes (one maps pages
 * 0-3 of it, another 0-7); at restore each process loads its part into the one memfd they share, in whatever
 * order they are restored.
 *
 * <p>Lifetime: one instance per dump (state across processes), reset by {@link #reset()}. Tracer thread only.
 */
final class SharedMemoryDump {
    /** The memfd name used at restore for shared memory that had none (MAP_SHARED|MAP_ANONYMOUS). */
    static final String DEFAULT_MEMFD_NAME = "cryo-shmem";
    static final String MEMFD_PREFIX = "/memfd:";

    private final Map<ShmemKey, ObjectRanges> saved = new HashMap<>();
    private ByteBuffer buffer;

    void reset() {
        saved.clear();
    }

    /** @return whether {@code name} (maps path column) names a memfd */
    static boolean isMemfd(String name) {
        return name.startsWith(MEMFD_PREFIX);
    }

    /** @return the name to give memfd_create at restore for a mapping named {@code name} in maps */
    static String memfdName(String name) {
        if (!isMemfd(name)) {
            return DEFAULT_MEMFD_NAME;
        }
        String n = name.substring(MEMFD_PREFIX.length());
        if (n.endsWith(MappingKind.DELETED)) {
            n = n.substring(0, n.length() - MappingKind.DELETED.length());
        }
        // memfd_create takes at most 249 bytes (NAME_MAX - strlen("memfd:"))
        return n.isEmpty() || n.length() > 249 ? DEFAULT_MEMFD_NAME : n;
    }

    /**
     * Fills the shmem fields of {@code b} for the shared mapping {@code m} and saves the object pages it is the first
     * to cover.
     *
     * @throws CryoException KERNEL when the object cannot be read
     */
    void dump(RemoteTask task, PageSink sink, Mapping m, VmaEntry.Builder b) throws CryoException {
        ShmemKey key = ShmemKey.of(m);
        b.setShmemKey(key.toString()).setFileOffset(m.offset()).setShmemSize(objectSize(task, m))
                .setMemfdName(memfdName(m.name()));
        savePages(task, sink, m, b);
    }

    /**
     * Saves the non-zero pages of the object behind the shared mapping {@code m} (shmem, or a ghost file) that no
     * earlier mapping of the object covered, through {@code m}, as runs of {@code b}.
     */
    void savePages(RemoteTask task, PageSink sink, Mapping m, VmaEntry.Builder b) throws CryoException {
        ShmemKey key = ShmemKey.of(m);
        ObjectRanges done = saved.computeIfAbsent(key, k -> new ObjectRanges());
        List<ObjectRanges.Range> todo = done.missing(m.offset(), m.offset() + m.length());
        if (todo.isEmpty()) {
            return;
        }
        boolean readable = (m.prot() & SyscallFlags.PROT_READ) != 0;
        if (buffer == null) {
            buffer = ByteBuffer.allocateDirect(ShmemContent.CHUNK);
        }
        try (ShmemContent.ObjectReader reader = ShmemContent.open(task, m.start(), m.end(), m.offset(), readable)) {
            for (ObjectRanges.Range r : todo) {
                List<PageRuns.Run> runs = ShmemContent.nonZeroRuns(reader, m.start(), m.offset(), r.from(), r.to(),
                        buffer);
                for (PageRuns.Run run : runs) {
                    long offset = sink.save(run.start(), run.length());
                    b.addPages(PageRun.newBuilder().setStart(run.start()).setLength(run.length())
                            .setPagesOffset(offset));
                }
                done.add(r.from(), r.to());
            }
        }
    }

    /** @return the size of the shmem object; the end of this mapping in it when it cannot be stat'ed */
    private static long objectSize(RemoteTask task, Mapping m) {
        Path mapped = task.procDir().resolve("map_files")
                .resolve(Long.toHexString(m.start()) + "-" + Long.toHexString(m.end()));
        try {
            return Files.size(mapped);
        } catch (IOException | RuntimeException e) {
            return m.offset() + m.length();
        }
    }
}
