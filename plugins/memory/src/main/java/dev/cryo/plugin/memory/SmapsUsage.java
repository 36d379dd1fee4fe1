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
 * Resident plus swapped size of each mapping from {@code /proc/PID/smaps}. Used only to skip the pagemap scan of
 * mappings that hold no page at all (guard pages, huge PROT_NONE reservations of runtimes) — scanning a 1 TiB
 * reservation page by page would read 2 GiB of pagemap entries for nothing.
 */
final class SmapsUsage {
    private final Map<Long, Long> kbByStart;

    private SmapsUsage(Map<Long, Long> kbByStart) {
        this.kbByStart = kbByStart;
    }

    /** An instance that knows nothing: every mapping is scanned. */
    static SmapsUsage unknown() {
        return new SmapsUsage(Map.of());
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
        long current = -1;
        String line;
        while ((line = r.readLine()) != null) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && isHex(line, 0, dash)) {
                current = Long.parseUnsignedLong(line.substring(0, dash), 16);
                kb.put(current, 0L);
            } else if (current >= 0 && (line.startsWith("Rss:") || line.startsWith("Swap:"))) {
                String[] f = line.trim().split("\\s+");
                kb.merge(current, Long.parseLong(f[1]), Long::sum);
            }
        }
        return new SmapsUsage(kb);
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
