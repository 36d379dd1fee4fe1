package dev.cryo.core;

import dev.cryo.core.image.proto.PhaseTime;
import dev.cryo.core.image.proto.StatsEntry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PipelineStatsTest {
    @Test
    void phasesAddUpInOrder() throws Exception {
        PipelineStats s = new PipelineStats("dump");
        s.frozen();
        s.begin("freeze");
        s.begin("memory");
        s.begin("freeze");
        s.end();
        s.add("fds", 2_000_000);
        s.released();
        s.counts().setProcesses(2).setFds(7);
        StatsEntry e = s.finish();
        assertEquals("dump", e.getCommand());
        assertEquals(3, e.getPhasesCount());
        assertEquals(java.util.List.of("freeze", "memory", "fds"), e.getPhasesList().stream().map(PhaseTime::getName)
                .toList());
        assertEquals(2000, e.getPhases(2).getUs());
        assertTrue(e.getTotalUs() >= e.getFrozenUs());
        String line = PipelineStats.describe(e);
        assertTrue(line.startsWith("dump: freeze "), line);
        assertTrue(line.contains("fds 2.0 ms") && line.contains("2 processes") && line.contains("7 fds"), line);
    }
}
