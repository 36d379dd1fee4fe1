package dev.cryo.core.linux;

import dev.cryo.api.Mapping;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hand-written /proc parsers against the obvious split-based ones, on the test JVM's own maps and smaps. */
class ProcFsTest {
    @Test
    void mapsParseLikeSplit() throws IOException {
        String text = ProcFs.readText(Path.of("/proc/self/maps"));
        List<Mapping> parsed = ProcFs.parseMaps(text);
        List<Mapping> expected = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.trim().split("\\s+", 6);
            int dash = f[0].indexOf('-');
            String perms = f[1];
            expected.add(new Mapping(Long.parseUnsignedLong(f[0].substring(0, dash), 16),
                    Long.parseUnsignedLong(f[0].substring(dash + 1), 16),
                    (perms.charAt(0) == 'r' ? 1 : 0) | (perms.charAt(1) == 'w' ? 2 : 0) | (perms.charAt(2) == 'x' ? 4 : 0),
                    perms.charAt(3) == 's', Long.parseUnsignedLong(f[2], 16), f[3], Long.parseLong(f[4]),
                    f.length > 5 ? f[5] : "", Set.of()));
        }
        assertEquals(expected, parsed);
        assertTrue(parsed.stream().anyMatch(m -> m.name().equals("[stack]")));
    }

    @Test
    void smapsParseLikeSplit() throws IOException {
        String text = ProcFs.readText(Path.of("/proc/self/smaps"));
        List<Mapping> parsed = ProcFs.parseSmaps(text);
        List<String> headers = new ArrayList<>();
        Map<Long, Set<String>> flags = new HashMap<>();
        Map<Long, Long> usage = new HashMap<>();
        Map<Long, Long> pageSize = new HashMap<>();
        long current = -1;
        for (String line : text.split("\n")) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                current = Long.parseUnsignedLong(line.substring(0, line.indexOf('-')), 16);
                headers.add(line);
                usage.put(current, 0L);
            } else if (line.startsWith("VmFlags:")) {
                flags.put(current, new HashSet<>(Arrays.asList(line.substring(8).trim().split("\\s+"))));
            } else if (line.matches("^(Rss|Swap|Private_Hugetlb|Shared_Hugetlb):.*")) {
                usage.merge(current, Long.parseLong(line.split("\\s+")[1]), Long::sum);
            } else if (line.startsWith("KernelPageSize:")) {
                pageSize.put(current, Long.parseLong(line.split("\\s+")[1]) << 10);
            }
        }
        // the header lines are maps lines: the same mappings as the maps parser finds in them
        List<Mapping> plain = ProcFs.parseMaps(String.join("\n", headers));
        assertEquals(plain.size(), parsed.size());
        for (int i = 0; i < parsed.size(); i++) {
            Mapping m = parsed.get(i);
            Mapping p = plain.get(i);
            assertEquals(p, new Mapping(m.start(), m.end(), m.prot(), m.shared(), m.offset(), m.dev(), m.inode(),
                    m.name(), Set.of()), m.toString());
            assertEquals(flags.get(m.start()), m.vmFlags(), m.toString());
            assertEquals(usage.get(m.start()), m.usageKiB(), m.toString());
            assertEquals(pageSize.get(m.start()), m.kernelPageSize(), m.toString());
        }
        assertTrue(parsed.stream().anyMatch(m -> m.usageKiB() > 0 && m.kernelPageSize() == 4096));
    }
}
