package dev.cryo.core.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class HealingTrampolineTest {

    private static long[] regs(long rax, long origRax, long rip) {
        long[] r = new long[Regs.COUNT];
        for (int i = 0; i < r.length; i++) {
            r[i] = 0x1000 + i;
        }
        r[Regs.RAX] = rax;
        r[Regs.ORIG_RAX] = origRax;
        r[Regs.RIP] = rip;
        return r;
    }

    @Test
    void interruptedCallsResumeAsTheKernelResumesThemWithoutAHandler() {
        for (int code : new int[] {Sys.ERESTARTSYS, Sys.ERESTARTNOINTR, Sys.ERESTARTNOHAND}) {
            long[] r = HealingTrampoline.resumed(regs(-code, 7, 0x4002));
            assertEquals(7, r[Regs.RAX], "rax for -" + code);
            assertEquals(0x4000, r[Regs.RIP], "rip for -" + code);
        }
        long[] block = HealingTrampoline.resumed(regs(-Sys.ERESTART_RESTARTBLOCK, 35, 0x4002));
        assertEquals(Sys.RESTART_SYSCALL, block[Regs.RAX]);
        assertEquals(0x4000, block[Regs.RIP]);
        // a call that returned (EINTR), or no call at all: as they are
        long[] done = HealingTrampoline.resumed(regs(-4, 35, 0x4002));
        assertEquals(-4, done[Regs.RAX]);
        assertEquals(0x4002, done[Regs.RIP]);
        long[] user = HealingTrampoline.resumed(regs(-Sys.ERESTARTSYS, -1, 0x4002));
        assertEquals(-Sys.ERESTARTSYS, user[Regs.RAX]);
        assertEquals(0x4002, user[Regs.RIP]);
    }

    @Test
    void instanceHoldsTheContextWhereTheCodeLoadsIt() {
        long[] r = regs(-Sys.ERESTARTSYS, 0, 0x4002);
        ByteBuffer b = ByteBuffer.wrap(HealingTrampoline.instance(r, 0x800)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(HealingTrampoline.SIZE, b.capacity());
        // the rip-relative displacements of the listing, resolved: lea FLAGS at 0x2 (7 bytes), mov RSP at 0xa,
        // lea MASK at 0x1b, mov R15 at 0x2f, mov RDI at 0x91, jmp *RIP at 0x98 (6 bytes)
        assertEquals(0x800, b.getLong(0x1b + 7 + b.getInt(0x1b + 3)));
        assertEquals(r[Regs.EFLAGS], b.getLong(0x2 + 7 + b.getInt(0x2 + 3)));
        assertEquals(r[Regs.RSP], b.getLong(0xa + 7 + b.getInt(0xa + 3)));
        assertEquals(r[Regs.R15], b.getLong(0x2f + 7 + b.getInt(0x2f + 3)));
        assertEquals(r[Regs.RDI], b.getLong(0x91 + 7 + b.getInt(0x91 + 3)));
        assertEquals(0x4000, b.getLong(0x98 + 6 + b.getInt(0x98 + 2)));
        assertEquals(0, b.getLong(0x75 + 7 + b.getInt(0x75 + 3)), "rax: the call (orig_rax 0) is restarted");
        assertEquals(true, HealingTrampoline.isCodeAt(b, 0));
    }
}
