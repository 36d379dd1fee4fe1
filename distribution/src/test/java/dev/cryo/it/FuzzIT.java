package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A small fixed-seed sample of {@link ImageFuzzer}: images of four workloads, {@value #MUTATIONS} mutations, each shown
 * (summary and --json) and restored with a bounded heap; no bad outcome (a hang, a stack trace, an internal error, an
 * error without its code line, a process left behind, a wrong process restored past stale checksums, records or pages
 * swapped, duplicated or dropped with a stale whole-file checksum accepted by restore). {@code
 * bench/fuzz.sh N SEED} runs thousands.
 */
class FuzzIT extends WithTestBed {
    static final int MUTATIONS = Integer.getInteger("fuzz.mutations", 30);
    static final long SEED = Long.getLong("fuzz.seed", 14);

    @Test
    void mutatedImagesFailCleanlyOrRestoreCorrectly() throws Exception {
        ImageFuzzer fuzzer = new ImageFuzzer(bed);
        List<ImageFuzzer.Base> bases = fuzzer.dumpBases();
        ImageFuzzer.Summary s = fuzzer.run(bases, MUTATIONS, SEED);
        System.out.println("FuzzIT seed " + SEED + ": " + s);
        assertEquals(MUTATIONS, s.tried);
        assertTrue(s.bad.isEmpty(), s + "\n" + String.join("\n", s.bad));
        assertTrue(s.cleanFailures > MUTATIONS / 4, "most mutations must be refused: " + s);
    }
}
