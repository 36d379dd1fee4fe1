package dev.cryo.plugin.pipe;

import dev.cryo.api.FdInfo;
import dev.cryo.api.ObjectId;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.pipe.proto.PipeAccess;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of the handler that need no process: what it claims, which ends an fd gives. */
class PipeHandlerTest {
    private final PipeHandler handler = new PipeHandler();

    private static FdInfo fd(int n, String link, int mode) {
        return new FdInfo(TargetFd.of(n), link, mode, 8, 4711, 0, 0, 0, 0, false, 0, 21);
    }

    @Test
    void claimsPipesAndFifosOnly() {
        assertTrue(handler.probe(fd(5, "pipe:[4711]", FdInfo.S_IFIFO | 0600)));
        assertTrue(handler.probe(fd(6, "/tmp/my.fifo", FdInfo.S_IFIFO | 0644)));
        assertFalse(handler.probe(fd(0, "/dev/null", FdInfo.S_IFCHR | 0666)));
        assertFalse(handler.probe(fd(1, "/tmp/out", FdInfo.S_IFREG | 0644)));
        assertFalse(handler.probe(fd(3, "socket:[4712]", FdInfo.S_IFSOCK | 0777)));
    }

    @Test
    void accessModeGivesTheEnds() {
        assertTrue(PipeEnd.READ.givenBy(0));
        assertFalse(PipeEnd.WRITE.givenBy(0));
        assertTrue(PipeEnd.WRITE.givenBy(01 | 04000));
        assertFalse(PipeEnd.READ.givenBy(01 | 04000));
        assertTrue(PipeEnd.READ.givenBy(02) && PipeEnd.WRITE.givenBy(02));
        assertEquals(PipeAccess.PIPE_ACCESS_READ_WRITE, PipeEnd.access(02 | 04000));
        assertEquals(PipeAccess.PIPE_ACCESS_WRITE, PipeEnd.access(01 | 040000));
    }

    @Test
    void endIdsRoundTripAndIgnoreOtherKinds() {
        ObjectId w = PipeEnd.WRITE.of(4711);
        assertEquals("pipe-write:[4711]", w.toString());
        assertEquals(PipeEnd.WRITE, PipeEnd.of(w).orElseThrow());
        assertEquals(PipeEnd.READ, PipeEnd.WRITE.other());
        assertTrue(PipeEnd.of(new ObjectId("unix-socket", 4711)).isEmpty());
    }
}
