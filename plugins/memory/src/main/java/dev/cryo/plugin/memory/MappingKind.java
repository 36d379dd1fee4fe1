package dev.cryo.plugin.memory;

import dev.cryo.api.Mapping;
import dev.cryo.plugin.memory.proto.VmaKind;

/**
 * How a mapping is backed. Decides which pages are saved at dump ({@link #keeps(long)}) and how the mapping is
 * recreated at restore.
 */
public enum MappingKind {
    /** MAP_PRIVATE|MAP_ANONYMOUS: heap, stacks, malloc arenas. Every present or swapped page is saved. */
    ANON_PRIVATE(VmaKind.ANON_PRIVATE),
    /**
     * MAP_SHARED|MAP_ANONYMOUS ({@code /dev/zero (deleted)}), {@code [anon_shmem:...]}, MAP_SHARED of a memfd
     * ({@code /memfd:NAME (deleted)}), SysV shm ({@code /SYSV...}, refused at dump). One shmem object that other
     * mappings and processes may share; its non-zero pages are saved once per object (see SharedMemoryDump).
     */
    ANON_SHARED(VmaKind.ANON_SHARED),
    /** MAP_PRIVATE of a file: only pages that were written (no longer file pages) are saved. */
    FILE_PRIVATE(VmaKind.FILE_PRIVATE),
    /** MAP_SHARED of a file: the content lives in the file, nothing is saved. */
    FILE_SHARED(VmaKind.FILE_SHARED);

    static final String DELETED = " (deleted)";

    private final VmaKind proto;

    MappingKind(VmaKind proto) {
        this.proto = proto;
    }

    /** @return the kind of {@code m} as read from /proc/PID/maps */
    public static MappingKind of(Mapping m) {
        if (HugetlbMemory.isAnonymous(m)) {
            // /anon_hugepage is a file of the kernel's internal hugetlbfs mount, anonymous memory to the program
            return m.shared() ? ANON_SHARED : ANON_PRIVATE;
        }
        if (m.shared() && (isAnonShmemName(m.name()) || m.name().startsWith("/memfd:"))) {
            return ANON_SHARED;
        }
        if (!m.fileBacked()) {
            return m.shared() ? ANON_SHARED : ANON_PRIVATE;
        }
        return m.shared() ? FILE_SHARED : FILE_PRIVATE;
    }

    /** @return the kind recorded in an image */
    public static MappingKind of(VmaKind proto) {
        for (MappingKind k : values()) {
            if (k.proto == proto) {
                return k;
            }
        }
        throw new IllegalArgumentException("no mapping kind for " + proto);
    }

    /**
     * @return whether this plugin can handle {@code m}: not a kernel area, and either anonymous memory or a file
     *         mapping with a path. Mappings of anonymous inodes ({@code anon_inode:[...]}, DRM buffers) are
     *         declined so that core refuses the dump naming them (or a vendor plugin claims them).
     */
    public static boolean handles(Mapping m) {
        if (m.kernelSpecial()) {
            return false;
        }
        return !m.fileBacked() || isAnonShmemName(m.name()) || m.name().startsWith("/");
    }

    /** Names the kernel gives to shared anonymous memory (shmem without a path of its own). */
    static boolean isAnonShmemName(String name) {
        return name.equals("/dev/zero" + DELETED) || name.startsWith("/SYSV") || name.startsWith("[anon_shmem");
    }

    public VmaKind proto() {
        return proto;
    }

    /** @return whether the mapping's content comes from a file that must exist at restore */
    public boolean fileBacked() {
        return this == FILE_PRIVATE || this == FILE_SHARED;
    }

    /** @return whether any page of such a mapping can need saving */
    public boolean savesPages() {
        return this != FILE_SHARED;
    }

    /**
     * Whether the page described by one {@code /proc/PID/pagemap} entry is saved.
     *
     * @param entry bit 63 present, 62 swapped, 61 file page or shared anonymous, 58 guard region (never kept)
     */
    public boolean keeps(long entry) {
        if ((entry & MemorySyscalls.PM_GUARD) != 0) {
            return false; // a guard marker: no data, it faults (see PageRuns#guards)
        }
        boolean inMemory = (entry & (MemorySyscalls.PM_PRESENT | MemorySyscalls.PM_SWAPPED)) != 0;
        return switch (this) {
            case ANON_PRIVATE, ANON_SHARED -> inMemory;
            // a private file page that was written has been copied into an anonymous page
            case FILE_PRIVATE -> inMemory && (entry & MemorySyscalls.PM_FILE) == 0;
            case FILE_SHARED -> false;
        };
    }
}
