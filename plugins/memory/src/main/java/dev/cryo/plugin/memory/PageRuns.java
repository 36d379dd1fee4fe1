package dev.cryo.plugin.memory;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns {@code /proc/PID/pagemap} entries of one mapping into runs of adjacent pages to save, so that each run
 * is one {@link dev.cryo.api.PageSink#save} call however large it is. Entries may be fed in several chunks
 * (a huge mapping is scanned piecewise); runs coalesce across chunks. Not thread-safe; one instance per mapping.
 */
public final class PageRuns {
    /** A run of pages to save: {@code [start, start + length)}. */
    public record Run(long start, long length) {
        public long end() {
            return start + length;
        }
    }

    /**
     * The kind whose pages are kept; null for guard runs. Not a LongPredicate: a plugin's lambdas cannot be in the
     * class data archive, and making one costs the frozen window about a millisecond (issue 13).
     */
    private final MappingKind kind;
    private final List<Run> runs = new ArrayList<>();
    private long runStart = -1;
    private long runEnd = -1;

    public PageRuns(MappingKind kind) {
        this.kind = java.util.Objects.requireNonNull(kind);
    }

    private PageRuns() {
        this.kind = null;
    }

    private boolean keeps(long entry) {
        return kind != null ? kind.keeps(entry) : (entry & MemorySyscalls.PM_GUARD) != 0;
    }

    /** @return runs of the guard-region pages (pagemap bit 58): no data, reinstalled with MADV_GUARD_INSTALL */
    public static PageRuns guards() {
        return new PageRuns();
    }

    /** The runs of one mapping whose pagemap was read in one piece starting at address {@code start}. */
    public static List<Run> compute(long[] pagemap, long start, MappingKind kind) {
        PageRuns r = new PageRuns(kind);
        r.add(pagemap, start);
        return r.finish();
    }

    /**
     * Adds the pagemap entries of the pages starting at {@code chunkStart}. Chunks must come in ascending
     * address order.
     */
    public void add(long[] entries, long chunkStart) {
        long page = MemorySyscalls.PAGE_SIZE;
        for (int i = 0; i < entries.length; i++) {
            if (keeps(entries[i])) {
                addPage(chunkStart + i * page);
            }
        }
    }

    /** Adds one page to keep; pages must come in ascending address order. */
    public void addPage(long addr) {
        long page = MemorySyscalls.PAGE_SIZE;
        if (addr == runEnd) {
            runEnd += page;
        } else {
            close();
            runStart = addr;
            runEnd = addr + page;
        }
    }

    /** @return the runs in address order; the instance must not be used afterwards */
    public List<Run> finish() {
        close();
        return runs;
    }

    private void close() {
        if (runStart >= 0) {
            runs.add(new Run(runStart, runEnd - runStart));
            runStart = -1;
            runEnd = -1;
        }
    }
}
