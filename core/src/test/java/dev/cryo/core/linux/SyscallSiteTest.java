package dev.cryo.core.linux;

import dev.cryo.api.Mapping;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The healing slot found in this JVM's own {@code [vdso]}, as a dump finds it in a frozen process's. */
class SyscallSiteTest {
    private static byte[] ownVdso() throws Exception {
        Mapping vdso = ProcFs.mapsOnly((int) ProcessHandle.current().pid()).stream()
                .filter(m -> m.name().equals("[vdso]")).findFirst().orElseThrow();
        byte[] bytes = new byte[(int) vdso.length()];
        try (RandomAccessFile mem = new RandomAccessFile("/proc/self/mem", "r")) {
            mem.seek(vdso.start());
            mem.readFully(bytes);
        }
        return bytes;
    }

    @Test
    void theSlotIsZeroPaddingAfterTheElfImage() throws Exception {
        byte[] bytes = ownVdso();
        int slot = SyscallSite.healingSlot(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
        assertTrue(slot > 0 && slot % 64 == 0 && slot + HealingTrampoline.SIZE <= bytes.length, "slot " + slot);
        for (int i = slot; i < bytes.length; i++) {
            assertEquals(0, bytes[i], "byte " + i + " of the padding");
        }
    }

    @Test
    void anythingWrittenInThePaddingOutsideTheSlotLeavesNoSlot() throws Exception {
        byte[] bytes = ownVdso();
        int slot = SyscallSite.healingSlot(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
        bytes[bytes.length - 1] = 1;
        assertEquals(0, SyscallSite.healingSlot(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)),
                "a vdso whose padding is not ours (slot was " + slot + ")");
    }
}
