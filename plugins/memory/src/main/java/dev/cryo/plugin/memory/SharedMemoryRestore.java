package dev.cryo.plugin.memory;

import dev.cryo.api.Syscall;
import dev.cryo.api.CryoException;
import dev.cryo.api.LocalFd;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.memory.proto.VmaEntry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static dev.cryo.plugin.memory.MemorySyscalls.*;

/**
 * Restore of shared memory across every process of one restore: all mappings recorded with one
 * {@link VmaEntry#getShmemKey() shmem key} become mappings of one memfd.
 *
 * <p>The first mapping of an object (in whichever process comes first) injects {@code memfd_create},
 * {@code ftruncate} and {@code mmap} into its process and pulls the memfd into cryo ({@link RemoteTask#pullFd});
 * every later mapping, in the same or another process, gets that memfd pushed in at a free fd
 * ({@link RemoteTask#pushFd}) and maps it at its offset. The fd is closed in the process right after the
 * {@code mmap}, so no process ends up with an fd it did not have. The page contents are loaded by the caller
 * through each mapping that saved some (the memory is shared, so loading through any mapping fills the object).
 *
 * <p>Lifetime: one instance per restore; {@link #close()} closes cryo's memfds (after every process is rebuilt).
 * Tracer thread only.
 */
final class SharedMemoryRestore implements AutoCloseable {
    static final long MFD_CLOEXEC = 1;

    /** A memfd cryo holds and the size it was truncated to. */
    private static final class Memfd {
        final LocalFd fd;
        long size;

        Memfd(LocalFd fd, long size) {
            this.fd = fd;
            this.size = size;
        }
    }

    private final Map<String, Memfd> memfds = new LinkedHashMap<>();

    /** @return how many shmem objects have been created so far */
    int objects() {
        return memfds.size();
    }

    /**
     * Maps the shared memory of {@code v} at its address.
     *
     * @param prot  the protection to map with
     * @param flags MAP_SHARED | MAP_FIXED_NOREPLACE and the extra flags of the mapping (never MAP_ANONYMOUS)
     * @return the address the kernel returned
     */
    long map(RemoteTask task, VmaEntry v, long prot, long flags) throws CryoException {
        String what = MemoryPluginHandler.describe(v);
        long len = v.getEnd() - v.getStart();
        // the size at dump (a mapping may reach past the end of its object: access there stays SIGBUS); images
        // whose dump could not stat the object record the end of each mapping, so the memfd grows to the largest
        long needed = v.getShmemSize() > 0 ? v.getShmemSize() : v.getFileOffset() + len;
        Memfd existing = memfds.get(v.getShmemKey());
        if (existing == null) {
            long name = task.putScratchString(0, v.getMemfdName().isEmpty()
                    ? SharedMemoryDump.DEFAULT_MEMFD_NAME : v.getMemfdName());
            long fd = task.syscall("memfd_create(" + v.getMemfdName() + ") for " + what, Syscall.MEMFD_CREATE, name,
                    MFD_CLOEXEC);
            try {
                task.syscall("ftruncate(memfd " + fd + ", " + needed + ") for " + what, Syscall.FTRUNCATE, fd, needed);
                long got = task.syscall("mmap(" + what + ")", Syscall.MMAP, v.getStart(), len, prot, flags, fd,
                        v.getFileOffset());
                memfds.put(v.getShmemKey(), new Memfd(task.pullFd(TargetFd.of((int) fd)), needed));
                return got;
            } finally {
                task.syscallRaw(Syscall.CLOSE, fd);
            }
        }
        int at = freeFd(task);
        task.pushFd(existing.fd, TargetFd.of(at), true);
        try {
            if (needed > existing.size) {
                task.syscall("ftruncate(memfd " + at + ", " + needed + ") for " + what, Syscall.FTRUNCATE, at, needed);
                existing.size = needed;
            }
            return task.syscall("mmap(" + what + ")", Syscall.MMAP, v.getStart(), len, prot, flags, at,
                    v.getFileOffset());
        } finally {
            task.syscallRaw(Syscall.CLOSE, at);
        }
    }

    /**
     * @return the second-lowest fd number the task does not use: {@link RemoteTask#pushFd} injects
     *         {@code pidfd_open} first, which takes the lowest free number, so {@code pidfd_getfd} then returns the
     *         second-lowest — pushing there needs no extra {@code dup3} and {@code close}.
     */
    static int freeFd(RemoteTask task) throws CryoException {
        Path dir = task.procDir().resolve("fd");
        Set<Integer> used = new HashSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> used.add(Integer.parseInt(p.getFileName().toString())));
        } catch (IOException | RuntimeException e) {
            throw new CryoException(CryoException.Category.KERNEL, "memory/FD_LIST",
                    "restore failed: cannot list " + dir + " of pid " + task.pid() + ": " + e, null, e);
        }
        return secondFree(used);
    }

    /** @return the second-lowest non-negative number not in {@code used} */
    static int secondFree(Set<Integer> used) {
        int fd = 0;
        int free = 0;
        while (true) {
            if (!used.contains(fd) && ++free == 2) {
                return fd;
            }
            fd++;
        }
    }

    /** Closes cryo's memfds; the processes keep their mappings. Never throws; later calls do nothing. */
    @Override
    public void close() {
        for (Memfd m : memfds.values()) {
            m.fd.close();
        }
        memfds.clear();
    }
}
