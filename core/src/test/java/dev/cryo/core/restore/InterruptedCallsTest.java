package dev.cryo.core.restore;

import dev.cryo.core.linux.Regs;
import org.junit.jupiter.api.Test;

import static dev.cryo.core.restore.InterruptedCalls.Action;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** What each interrupted call becomes, from the registers the dump recorded (kernel 6.18, x86_64). */
class InterruptedCallsTest {
    private static final long RIP = 0x7f48ce60c829L;

    /** Registers of a thread stopped on its way out of call {@code nr} with {@code rax}. */
    private static long[] regs(long nr, long rax, long rdi, long rsi, long r10) {
        long[] r = new long[Regs.COUNT];
        r[Regs.ORIG_RAX] = nr;
        r[Regs.RAX] = rax;
        r[Regs.RIP] = RIP;
        r[Regs.RDI] = rdi;
        r[Regs.RSI] = rsi;
        r[Regs.R10] = r10;
        return r;
    }

    @Test
    void restartableCallsAreExecutedAgain() {
        assertEquals(Action.REEXECUTE, InterruptedCalls.decide(regs(0, -512, 6, 0x7000, 0)), "read: -ERESTARTSYS");
        assertEquals(Action.REEXECUTE, InterruptedCalls.decide(regs(271, -514, 0x7000, 1, 0)), "ppoll: -ERESTARTNOHAND");
        assertEquals(Action.REEXECUTE, InterruptedCalls.decide(regs(23, -514, 4, 0x7000, 0)), "select");
        assertEquals(Action.REEXECUTE, InterruptedCalls.decide(regs(230, -514, 1, 1, 0x7000)),
                "absolute clock_nanosleep");
        long[] r = regs(0, -512, 6, 0x7000, 0);
        InterruptedCalls.apply(Action.REEXECUTE, r);
        assertEquals(RIP - 2, r[Regs.RIP]);
        assertEquals(0, r[Regs.RAX]);
        assertEquals(-1, r[Regs.ORIG_RAX]);
    }

    @Test
    void epollWaitFailedByTheStopIsExecutedAgain() {
        assertEquals(Action.REEXECUTE, InterruptedCalls.decide(regs(232, -4, 5, 0x7000, 0)));
        assertEquals(Action.REEXECUTE, InterruptedCalls.decide(regs(281, -4, 5, 0x7000, 0)), "epoll_pwait");
        assertEquals(Action.AS_IS, InterruptedCalls.decide(regs(0, -4, 5, 0x7000, 0)), "a read's EINTR is real");
    }

    @Test
    void sleepsWithATimeLeftPointerGetTheirRestartBlockBack() {
        assertEquals(Action.RESTART_BLOCK, InterruptedCalls.decide(regs(35, -516, 0x7e40, 0x7e30, 0)), "nanosleep");
        assertEquals(Action.RESTART_BLOCK, InterruptedCalls.decide(regs(230, -516, 1, 0, 0x7e30)),
                "relative clock_nanosleep");
        assertEquals(0x7e30, InterruptedCalls.rmtp(regs(230, -516, 1, 0, 0x7e30)));
        long[] r = regs(35, -516, 0x7e40, 0x7e30, 0);
        InterruptedCalls.apply(Action.RESTART_BLOCK, r);
        assertEquals(RIP - 2, r[Regs.RIP]);
        assertEquals(219, r[Regs.RAX], "restart_syscall, as the kernel resumes a stopped sleeper");
        assertEquals(-1, r[Regs.ORIG_RAX]);
    }

    @Test
    void restartBlocksWithoutATimeLeftRestartInFull() {
        assertEquals(Action.REEXECUTE, InterruptedCalls.decide(regs(35, -516, 0x7e40, 0, 0)), "nanosleep(req, NULL)");
        assertEquals(Action.REEXECUTE, InterruptedCalls.decide(regs(7, -516, 0x7e58, 1, 0)), "poll with a timeout");
        assertEquals(Action.REEXECUTE, InterruptedCalls.decide(regs(202, -516, 0x5240, 0x80, 0x7e00)), "futex");
    }

    @Test
    void anAlreadyRestartedSleepGetsItsRestartBlockBackAgain() {
        // dumped inside restart_syscall: the original call's arguments are still in the registers
        long[] nanosleep = regs(219, -516, 0x7ffd1e40, 0x7ffd1e30, 0);
        assertEquals(Action.RESTART_BLOCK, InterruptedCalls.decide(nanosleep), "nanosleep(req, rmtp) restarted");
        assertEquals(35, InterruptedCalls.originalCall(nanosleep));
        assertEquals(0x7ffd1e30, InterruptedCalls.rmtp(nanosleep));
        long[] clock = regs(219, -516, 1, 0, 0x7ffd1e30);
        clock[Regs.RDX] = 0x7ffd1e40;
        assertEquals(Action.RESTART_BLOCK, InterruptedCalls.decide(clock), "clock_nanosleep(MONOTONIC, 0, req, rmtp)");
        assertEquals(230, InterruptedCalls.originalCall(clock));
        assertEquals(0x7ffd1e30, InterruptedCalls.rmtp(clock));
    }

    @Test
    void anAlreadyRestartedCallThatIsNoSleepWithATimeLeftReturnsEintr() {
        assertEquals(Action.EINTR, InterruptedCalls.decide(regs(219, -516, 0x7e58, 1, 0)), "poll(fds, 1, ms)");
        assertEquals(Action.EINTR, InterruptedCalls.decide(regs(219, -516, 0x5240, 0x80, 0x7e00)), "futex");
        assertEquals(Action.EINTR, InterruptedCalls.decide(regs(219, -516, 0x7ffd1e40, 0, 0)), "nanosleep(req, NULL)");
        long[] r = regs(219, -516, 0, 0, 0);
        InterruptedCalls.apply(Action.EINTR, r);
        assertEquals(-4, r[Regs.RAX]);
        assertEquals(RIP, r[Regs.RIP]);
    }

    @Test
    void aSleepThatEndedWhileCryoRebuiltItReturnsZero() {
        long[] r = regs(35, -516, 0x7e40, 0x7e30, 0);
        InterruptedCalls.apply(Action.COMPLETED, r);
        assertEquals(0, r[Regs.RAX]);
        assertEquals(RIP, r[Regs.RIP]);
    }

    @Test
    void userSpaceStopsAreLeftAlone() {
        long[] r = regs(-1, 0x1234, 0, 0, 0);
        assertEquals(Action.AS_IS, InterruptedCalls.decide(r));
        InterruptedCalls.apply(Action.AS_IS, r);
        assertEquals(0x1234, r[Regs.RAX]);
        assertEquals(RIP, r[Regs.RIP]);
    }
}
