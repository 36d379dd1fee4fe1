package dev.cryo.core.linux;

import dev.cryo.api.Mapping;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
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
    void smapsFlagsParseLikeSplit() throws IOException {
        String text = ProcFs.readText(Path.of("/proc/self/smaps"));
        Map<Long, Set<String>> parsed = ProcFs.parseSmapsFlags(text);
        int headers = 0;
        long current = -1;
        for (String line : text.split("\n")) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                current = Long.parseUnsignedLong(line.substring(0, line.indexOf('-')), 16);
                headers++;
            } else if (line.startsWith("VmFlags:")) {
                assertEquals(new HashSet<>(Arrays.asList(line.substring(8).trim().split("\\s+"))), parsed.get(current),
                        line);
            }
        }
        assertEquals(headers, parsed.size());
    }
}
