package dev.cryo.core.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BatchSignalTest {
    private static long bit(int sig) {
        return 1L << (sig - 1);
    }

    @Test
    void aSignalLeftToItsIgnoringDefaultComesFirst() {
        assertEquals(23, FrozenProcess.batchSignal(0, 0, 0, 0), "SIGURG");
        assertEquals(28, FrozenProcess.batchSignal(bit(23), 0, 0, 0), "SIGURG caught: SIGWINCH");
        assertEquals(17, FrozenProcess.batchSignal(bit(23), 0, 0, bit(28)), "SIGWINCH blocked: SIGCHLD");
        assertEquals(17, FrozenProcess.batchSignal(0, 0, bit(23) | bit(28), 0), "both pending: SIGCHLD");
    }

    @Test
    void otherwiseTheLowestIgnoredOne() {
        long all3 = bit(23) | bit(28) | bit(17);
        assertEquals(2, FrozenProcess.batchSignal(all3, bit(2) | bit(3), 0, 0), "SIGINT set to SIG_IGN");
        assertEquals(3, FrozenProcess.batchSignal(all3, bit(2) | bit(3), 0, bit(2)), "SIGINT blocked: SIGQUIT");
        assertEquals(23, FrozenProcess.batchSignal(bit(28) | bit(17), bit(23), 0, 0), "SIGURG set to SIG_IGN");
    }

    @Test
    void noneWhenEverySignalIsCaughtPendingOrBlocked() {
        long all3 = bit(23) | bit(28) | bit(17);
        assertEquals(0, FrozenProcess.batchSignal(all3, 0, 0, 0));
        assertEquals(0, FrozenProcess.batchSignal(0, 0, all3, 0));
        assertEquals(0, FrozenProcess.batchSignal(0, 0, 0, -1L));
        assertEquals(0, FrozenProcess.batchSignal(all3, bit(9) | bit(19) | bit(18), 0, 0),
                "never SIGKILL, SIGSTOP or SIGCONT");
    }
}
