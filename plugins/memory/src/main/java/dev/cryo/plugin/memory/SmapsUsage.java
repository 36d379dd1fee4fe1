package dev.cryo.plugin.memory;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Resident plus swapped size of each mapping from {@code /proc/PID/smaps} (hugetlb pages included), and its page
 * size ({@code KernelPageSize}, for hugetlb memory). Used only to skip the pagemap scan of
 * mappings that hold no page at all (guard pages, huge PROT_NONE reservations of runtimes) — scanning a 1 TiB
 * reservation page by page would read 2 GiB of pagemap entries for nothing.
 */
final class SmapsUsage {
    private final Map<Long, Long> kbByStart;
    private final Map<Long, Long> pageKbByStart;

    private SmapsUsage(Map<Long, Long> kbByStart, Map<Long, Long> pageKbByStart) {
        this.kbByStart = kbByStart;
        this.pageKbByStart = pageKbByStart;
    }

    /** An instance that knows nothing: every mapping is scanned. */
    static SmapsUsage unknown() {
        return new SmapsUsage(Map.of(), Map.of());
    }

    /**
     * Reads {@code smaps}; when it cannot be read the answer is {@link #unknown()} (the scan then simply covers
     * every mapping, which is slower but still correct).
     */
    static SmapsUsage read(Path smaps) {
        try (BufferedReader r = Files.newBufferedReader(smaps, StandardCharsets.ISO_8859_1)) {
            return parse(r);
        } catch (IOException | RuntimeException e) {
            return unknown();
        }
    }

    static SmapsUsage parse(BufferedReader r) throws IOException {
        Map<Long, Long> kb = new HashMap<>();
        Map<Long, Long> pageKb = new HashMap<>();
        long current = -1;
        String line;
        while ((line = r.readLine()) != null) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && isHex(line, 0, dash)) {
                current = Long.parseUnsignedLong(line.substring(0, dash), 16);
                kb.put(current, 0L);
            } else if (current >= 0 && (line.startsWith("Rss:") || line.startsWith("Swap:")
                    || line.startsWith("Private_Hugetlb:") || line.startsWith("Shared_Hugetlb:"))) {
                // hugetlb pages are not in Rss: they count in the *_Hugetlb lines
                kb.merge(current, value(line), Long::sum);
            } else if (current >= 0 && line.startsWith("KernelPageSize:")) {
                pageKb.put(current, value(line));
            }
        }
        return new SmapsUsage(kb, pageKb);
    }

    /** @return the number of a {@code Name:   1234 kB} line (read per mapping while the tree is frozen: no regex) */
    static long value(String line) {
        int i = line.indexOf(':') + 1;
        while (i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
            i++;
        }
        int end = i;
        while (end < line.length() && Character.isDigit(line.charAt(end))) {
            end++;
        }
        return Long.parseLong(line, i, end, 10);
    }

    /** @return the page size of the mapping starting at {@code start} in bytes (smaps KernelPageSize), 0 when unknown */
    long kernelPageSize(long start) {
        return pageKbByStart.getOrDefault(start, 0L) << 10;
    }

    /** @return resident + swapped kB of the mapping starting at {@code start}, empty when unknown */
    OptionalLong kilobytes(long start) {
        Long v = kbByStart.get(start);
        return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /** @return {@code false} only when smaps says the mapping holds no page in memory or swap */
    boolean mayHavePages(long start) {
        OptionalLong kb = kilobytes(start);
        return kb.isEmpty() || kb.getAsLong() != 0;
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return to > from;
    }
}
