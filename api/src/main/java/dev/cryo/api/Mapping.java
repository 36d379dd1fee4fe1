package dev.cryo.api;

import java.util.Set;

/**
 * One virtual memory area of a frozen process, as read from {@code /proc/PID/maps} and {@code smaps}.
 *
 * @param start   first address (page aligned)
 * @param end     one past the last address (page aligned)
 * @param prot    PROT_READ(1) | PROT_WRITE(2) | PROT_EXEC(4)
 * @param shared  {@code true} for MAP_SHARED, {@code false} for MAP_PRIVATE
 * @param offset  file offset of {@code start} in bytes (0 for anonymous memory)
 * @param dev     device of the backing file as {@code major:minor} hex, {@code 00:00} when none
 * @param inode   inode of the backing file, 0 when none
 * @param name    the path column of maps: a file path, {@code [heap]}, {@code [stack]}, {@code [vdso]}, a
 *                {@code " (deleted)"} suffix, or empty for anonymous memory
 * @param vmFlags the two-letter {@code VmFlags} of smaps, e.g. {@code gd} (grows down), {@code dd}
 * @param usageKiB what the mapping holds in memory or swap, in KiB, as smaps counted it when the process was frozen:
 *                {@code Rss + Swap} plus its hugetlb pages ({@code Private_Hugetlb + Shared_Hugetlb}, which Rss
 *                leaves out); {@code 0} means no page at all (a reservation, guard pages), so a handler need not scan
 *                the mapping's pagemap; {@link #UNKNOWN} when smaps was not read (since 1.6.0)
 * @param kernelPageSize smaps {@code KernelPageSize} in bytes: the huge page size of hugetlb memory, 4096 otherwise
 *                on x86-64; {@code 0} when smaps was not read (since 1.6.0)
 * @since 1.0.0
 */
public record Mapping(long start, long end, int prot, boolean shared, long offset, String dev, long inode,
                      String name, Set<String> vmFlags, long usageKiB, long kernelPageSize) {
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;
    /** {@link #usageKiB()} when smaps was not read. @since 1.6.0 */
    public static final long UNKNOWN = -1;

    /** A mapping without smaps's figures ({@link #UNKNOWN} usage, page size 0): the constructor of SPI 1.0 to 1.5. */
    public Mapping(long start, long end, int prot, boolean shared, long offset, String dev, long inode, String name,
                   Set<String> vmFlags) {
        this(start, end, prot, shared, offset, dev, inode, name, vmFlags, UNKNOWN, 0);
    }

    /**
     * @return {@code false} only when smaps counted no page of the mapping in memory or swap ({@link #usageKiB()}
     *     0); {@code true} when it did or when unknown
     * @since 1.6.0
     */
    public boolean mayHavePages() {
        return usageKiB != 0;
    }

    public long length() {
        return end - start;
    }

    /** @return {@code true} when backed by a file (inode != 0) */
    public boolean fileBacked() {
        return inode != 0;
    }

    /** @return {@code true} for kernel-provided areas: [vdso], [vvar], [vvar_vclock], [vsyscall] */
    public boolean kernelSpecial() {
        return name.equals("[vdso]") || name.startsWith("[vvar") || name.equals("[vsyscall]");
    }

    @Override
    public String toString() {
        return String.format("%x-%x %s%s%s%s %s", start, end, (prot & PROT_READ) != 0 ? "r" : "-",
                (prot & PROT_WRITE) != 0 ? "w" : "-", (prot & PROT_EXEC) != 0 ? "x" : "-", shared ? "s" : "p",
                name.isEmpty() ? "[anon]" : name);
    }
}
