package dev.cryo.plugin.memory;

/**
 * The x86_64 system call numbers and flag values this plugin injects. Plugins cannot see core's Linux layer,
 * so the few constants needed live here.
 */
final class MemorySyscalls {
    static final int SYS_CLOSE = 3;
    static final int SYS_MMAP = 9;
    static final int SYS_MPROTECT = 10;
    static final int SYS_MUNMAP = 11;
    static final int SYS_MADVISE = 28;
    static final int SYS_FTRUNCATE = 77;
    static final int SYS_PRCTL = 157;
    static final int SYS_OPENAT = 257;
    static final int SYS_MEMFD_CREATE = 319;

    static final long PAGE_SIZE = 4096;

    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int PROT_EXEC = 4;

    static final long MAP_SHARED = 0x01;
    static final long MAP_PRIVATE = 0x02;
    static final long MAP_ANONYMOUS = 0x20;
    static final long MAP_GROWSDOWN = 0x0100;
    static final long MAP_NORESERVE = 0x4000;
    static final long MAP_FIXED_NOREPLACE = 0x100000;

    static final long AT_FDCWD = -100;
    static final long O_RDONLY = 0;
    static final long O_RDWR = 2;
    static final long O_CLOEXEC = 02000000;

    static final int MADV_DONTFORK = 10;
    static final int MADV_HUGEPAGE = 14;
    static final int MADV_NOHUGEPAGE = 15;
    static final int MADV_DONTDUMP = 16;
    static final int MADV_WIPEONFORK = 18;

    static final long PR_SET_VMA = 0x53564d41;
    static final long PR_SET_VMA_ANON_NAME = 0;

    /** pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
    static final long PM_PRESENT = 1L << 63;
    static final long PM_SWAPPED = 1L << 62;
    static final long PM_FILE = 1L << 61;

    private MemorySyscalls() {
    }
}
