package dev.cryo.core.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cryo.api.Errno;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pure parts of {@link SpaceCheck}: finding ENOSPC anywhere in a failure, the walk it shares with the estimate. */
class SpaceCheckTest {
    @Test
    void noSpaceIsFoundAsACauseOrSuppressedAtAnyDepth() {
        IOException full = new IOException("write: " + Errno.ENOSPC.text());
        assertTrue(SpaceCheck.isNoSpace(full));
        assertTrue(SpaceCheck.isNoSpace(new RuntimeException("outer", new IllegalStateException("mid", full))));
        RuntimeException suppressing = new RuntimeException("close failed");
        suppressing.addSuppressed(new IllegalStateException("mid", full));
        assertTrue(SpaceCheck.isNoSpace(new RuntimeException("top", suppressing)));
        assertFalse(SpaceCheck.isNoSpace(new RuntimeException("other", new IOException("Broken pipe"))));
    }

    @Test
    void reachableVisitsEachOnceBreadthFirstThroughCycles() {
        Map<Integer, List<Integer>> children = Map.of(1, List.of(2, 3), 2, List.of(4, 1), 3, List.of(4), 4, List.of());
        assertEquals(List.of(1, 2, 3, 4), SpaceCheck.reachable(1, children::get));
    }
}
