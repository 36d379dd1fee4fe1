package dev.cryo.plugin.memory;

/**
 * The flag values this plugin passes to the system calls it injects (calls are named with
 * {@link dev.cryo.api.Syscall}; core maps them to the architecture's numbers), besides the open flags and
 * protections every plugin uses ({@link dev.cryo.api.SyscallFlags}).
 */
final class MemorySyscalls {

    static final long PAGE_SIZE = 4096;

    // MAP_SHARED, MAP_PRIVATE and MAP_ANONYMOUS: SyscallFlags
    /** A mapping type of its own (kernel 6.11+): private anonymous memory the kernel may drop under pressure. */
    static final long MAP_DROPPABLE = 0x08;
    static final long MAP_GROWSDOWN = 0x0100;
    static final long MAP_NORESERVE = 0x4000;
    static final long MAP_FIXED_NOREPLACE = 0x100000;

    static final int MADV_RANDOM = 1;
    static final int MADV_DONTNEED = 4;
    static final int MADV_SEQUENTIAL = 2;
    static final int MADV_DONTFORK = 10;
    static final int MADV_MERGEABLE = 12;
    static final int MADV_HUGEPAGE = 14;
    static final int MADV_NOHUGEPAGE = 15;
    static final int MADV_DONTDUMP = 16;
    static final int MADV_WIPEONFORK = 18;
    /** Kernel 6.13+: the pages of the range fault with SIGSEGV until MADV_GUARD_REMOVE. */
    static final int MADV_GUARD_INSTALL = 102;

    static final long MLOCK_ONFAULT = 1;

    static final long PR_SET_VMA = 0x53564d41;
    static final long PR_SET_VMA_ANON_NAME = 0;

    /** pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
    static final long PM_PRESENT = 1L << 63;
    static final long PM_SWAPPED = 1L << 62;
    static final long PM_FILE = 1L << 61;
    /** Kernel 6.14+: the page is a guard region (MADV_GUARD_INSTALL); such an entry also has {@link #PM_SWAPPED}. */
    static final long PM_GUARD = 1L << 58;

    private MemorySyscalls() {
    }
}
