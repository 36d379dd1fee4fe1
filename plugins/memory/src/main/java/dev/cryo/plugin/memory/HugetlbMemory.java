package dev.cryo.plugin.memory;

import dev.cryo.api.CryoException;
import dev.cryo.api.Errno;
import dev.cryo.api.Mapping;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.plugin.memory.proto.VmaEntry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * hugetlb memory (smaps VmFlags {@code ht}): pages from the host's reserved huge page pool. Anonymous hugetlb memory
 * is kept — {@code MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB} ({@code /anon_hugepage}) like private anonymous memory,
 * {@code MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB} and MAP_SHARED mappings of a hugetlb memfd like shared memory (one
 * memfd per object, created with {@code MFD_HUGETLB}) — recording the page size (smaps {@code KernelPageSize}) so the
 * restore maps the same size again. Mappings of files on a hugetlbfs mount are refused.
 *
 * <p>The pool is the host's: a restore on a host with too few free huge pages of that size fails at the mapping's
 * {@code mmap} (the kernel reserves the pages there, ENOMEM), naming the mapping and the sysctl to raise.
 */
final class HugetlbMemory {
    /** The name maps shows for anonymous hugetlb memory (private and shared), with " (deleted)". */
    static final String ANON_NAME = "/anon_hugepage";
    static final long MAP_HUGETLB = 0x40000;
    static final long MFD_HUGETLB = 4;
    /** MAP_HUGE_SHIFT and MFD_HUGE_SHIFT: log2 of the page size goes in the flags from this bit on. */
    private static final int HUGE_SHIFT = 26;
    private static final Path POOLS = Path.of("/sys/kernel/mm/hugepages");

    private HugetlbMemory() {
    }

    /** @return whether {@code m} is hugetlb memory */
    static boolean is(Mapping m) {
        return m.vmFlags().contains("ht");
    }

    /** @return whether {@code m} is anonymous hugetlb memory (not a hugetlbfs file): a shmem-like object or private */
    static boolean isAnonymous(Mapping m) {
        return is(m) && (m.name().startsWith(ANON_NAME) || m.shared() && SharedMemoryDump.isMemfd(m.name()));
    }

    /**
     * @return the huge page size of the hugetlb mapping {@code m} in bytes
     * @throws CryoException UNSUPPORTED for a mapping of a hugetlbfs file; KERNEL when smaps gave no page size
     */
    static long pageSize(Pid pid, String comm, Mapping m) throws CryoException {
        if (!isAnonymous(m)) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "memory/HUGETLB",
                    String.format("dump refused: pid %s \"%s\" maps %x-%x of %s, a file on a hugetlbfs mount; mappings"
                            + " of hugetlbfs files are not supported (anonymous MAP_HUGETLB memory is)", pid, comm,
                            m.start(), m.end(), m.name()),
                    "map the huge pages with MAP_ANONYMOUS|MAP_HUGETLB or a memfd (MFD_HUGETLB) instead, or unmap the"
                            + " file before dumping");
        }
        long size = m.kernelPageSize();
        if (size <= MemorySyscalls.PAGE_SIZE) {
            throw new CryoException(CryoException.Category.KERNEL, "memory/HUGETLB_PAGE_SIZE",
                    String.format("dump failed: smaps of pid %s \"%s\" gives no huge page size (KernelPageSize) for"
                            + " its hugetlb mapping %x-%x", pid, comm, m.start(), m.end()));
        }
        return size;
    }

    /** @return MAP_HUGETLB with the page size encoded, for mmap */
    static long mapFlags(long pageSize) {
        return MAP_HUGETLB | sizeBits(pageSize);
    }

    /** @return MFD_HUGETLB with the page size encoded, for memfd_create */
    static long memfdFlags(long pageSize) {
        return MFD_HUGETLB | sizeBits(pageSize);
    }

    private static long sizeBits(long pageSize) {
        return (long) Long.numberOfTrailingZeros(pageSize) << HUGE_SHIFT;
    }

    /**
     * Maps the hugetlb mapping {@code v} through {@code map}; ENOMEM (the pool has too few free pages of its size)
     * becomes a failure naming the mapping, the pages it needs, the pool's state and the fix.
     */
    static long map(RemoteTask task, VmaEntry v, MapCall map) throws CryoException {
        try {
            return map.run();
        } catch (CryoException e) {
            if (e.errno().filter(x -> x == Errno.ENOMEM).isEmpty()) {
                throw e;
            }
            long page = v.getHugetlbPageSize();
            long kb = page >> 10;
            long needed = (v.getEnd() - v.getStart()) / page;
            Path pool = POOLS.resolve("hugepages-" + kb + "kB");
            throw new CryoException(CryoException.Category.CONFLICT, "memory/HUGETLB_POOL",
                    String.format("restore failed: pid %s \"%s\": its hugetlb mapping %s needs %d huge page%s of %d"
                            + " kB, and the host's pool has %s free (%s reserved, nr_hugepages %s)", task.pid(),
                            task.comm(), MemoryPluginHandler.describe(v), needed, needed == 1 ? "" : "s", kb,
                            read(pool, "free_hugepages"),
                            read(pool, "resv_hugepages"), read(pool, "nr_hugepages")),
                    "reserve huge pages of " + kb + " kB before restoring: " + (page == 2L << 20
                            ? "sysctl vm.nr_hugepages=" : "echo " + more(pool, needed) + " > ") + (page == 2L << 20
                            ? more(pool, needed) : pool.resolve("nr_hugepages")) + " (or more: other hugetlb"
                            + " mappings of the image need theirs too)", e.errnoValue(), e);
        }
    }

    /** One mmap of a hugetlb mapping. */
    interface MapCall {
        long run() throws CryoException;
    }

    /** @return the pool's nr_hugepages plus {@code needed}, or "N" when the pool cannot be read */
    private static String more(Path pool, long needed) {
        try {
            return Long.toString(Long.parseLong(read(pool, "nr_hugepages")) + needed);
        } catch (NumberFormatException e) {
            return "N";
        }
    }

    private static String read(Path pool, String file) {
        try {
            return Files.readString(pool.resolve(file)).strip();
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }
}
