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
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static dev.cryo.api.SyscallFlags.*;
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
 * <p>Memfds that fds hold too ({@link MemfdHandler}) are the same objects: their fd records are registered before any
 * process exists ({@link #expect}), so that whichever comes first — a mapping or an fd — creates the memfd with its
 * name, size, mode and MFD_ALLOW_SEALING when its seals need it; the seals are added by {@link #applySeals} once
 * every process is rebuilt (a write seal would make the later mappings' loading fail).
 *
 * <p>Lifetime: one per restore, shared by this plugin's {@link MemoryPluginHandler} and {@link MemfdHandler}
 * ({@link #SHARED}: PF4J creates one instance per extension class, and the two must meet);
 * {@link #close()} closes cryo's memfds and forgets everything (after every process is rebuilt). Tracer thread only.
 */
final class SharedMemoryRestore implements AutoCloseable {
    static final long MFD_ALLOW_SEALING = 2;
    static final int F_ADD_SEALS = 1033;
    static final int F_GET_SEALS = 1034;
    static final int F_SEAL_SEAL = 1;

    /** The state of the restore in progress, shared by the plugin's extensions. */
    static final SharedMemoryRestore SHARED = new SharedMemoryRestore();

    /** What the fd records of one memfd say about it. */
    record Spec(String name, long size, int mode, int seals) {
    }

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
    private final Map<String, Spec> specs = new HashMap<>();
    private final Set<String> filled = new HashSet<>();
    private RemoteTask self;

    /** Registers, before any process exists, what an fd record says about memfd {@code key}. */
    void expect(String key, Spec spec, RemoteTask cryoItself) {
        specs.putIfAbsent(key, spec);
        self = cryoItself;
    }

    /** @return whether the content of {@code key} is still to be written (and marks it written) */
    boolean firstFill(String key) {
        return filled.add(key);
    }

    /**
     * @return cryo's fd of memfd {@code key}, created in {@code task} first if no mapping or fd created it yet
     */
    LocalFd obtain(RemoteTask task, String key, String what) throws CryoException {
        Memfd existing = memfds.get(key);
        if (existing != null) {
            return existing.fd;
        }
        Spec spec = specs.get(key);
        long fd = create(task, key, spec.name(), spec.size(), 0, what);
        try {
            LocalFd local = task.pullFd(TargetFd.of((int) fd));
            memfds.put(key, new Memfd(local, spec.size()));
            return local;
        } finally {
            task.syscallRaw(Syscall.CLOSE, fd);
        }
    }

    /**
     * memfd_create + ftruncate (+ fchmod) in {@code task}: the fd there, to be closed by the caller.
     *
     * @param hugetlbPageSize the huge page size of hugetlb memory (a memfd with MFD_HUGETLB); 0: normal pages
     */
    private long create(RemoteTask task, String key, String name, long size, long hugetlbPageSize, String what)
            throws CryoException {
        Spec spec = specs.get(key);
        String n = spec != null ? spec.name() : name.isEmpty() ? SharedMemoryDump.DEFAULT_MEMFD_NAME : name;
        long flags = MFD_CLOEXEC | (hugetlbPageSize > 0 ? HugetlbMemory.memfdFlags(hugetlbPageSize) : 0);
        if (spec != null && spec.seals() != F_SEAL_SEAL) {
            flags |= MFD_ALLOW_SEALING;
        }
        long addr = task.putScratchString(0, n);
        long fd = task.syscall("memfd_create(" + n + ") for " + what, Syscall.MEMFD_CREATE, addr, flags);
        try {
            long want = spec != null ? Math.max(size, spec.size()) : size;
            task.syscall("ftruncate(memfd " + fd + ", " + want + ") for " + what, Syscall.FTRUNCATE, fd, want);
            if (spec != null && (spec.mode() & 07777) != 0777) {
                task.syscall("fchmod(memfd " + fd + ", 0" + Integer.toOctalString(spec.mode() & 07777) + ") for "
                        + what, Syscall.FCHMOD, fd, spec.mode() & 07777);
            }
        } catch (CryoException | RuntimeException e) {
            task.syscallRaw(Syscall.CLOSE, fd);
            throw e;
        }
        return fd;
    }

    /**
     * Adds the recorded seals to every memfd an fd held; called once every process is rebuilt. Memfds only mappings
     * held were created without MFD_ALLOW_SEALING (sealed with F_SEAL_SEAL alone, like most memfds).
     */
    void applySeals() throws CryoException {
        for (Map.Entry<String, Spec> e : specs.entrySet()) {
            Memfd m = memfds.get(e.getKey());
            int seals = e.getValue().seals();
            if (m == null || seals == 0 || seals == F_SEAL_SEAL) {
                continue;
            }
            self.syscall("fcntl(memfd " + e.getValue().name() + ", F_ADD_SEALS, 0x" + Integer.toHexString(seals)
                    + ")", Syscall.FCNTL, m.fd.value(), F_ADD_SEALS, seals);
        }
    }

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
            long fd = create(task, v.getShmemKey(), v.getMemfdName(), needed, v.getHugetlbPageSize(), what);
            try {
                Spec spec = specs.get(v.getShmemKey());
                needed = spec != null ? Math.max(needed, spec.size()) : needed;
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
        specs.clear();
        filled.clear();
        self = null;
    }
}
