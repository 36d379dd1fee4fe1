package dev.cryo.core.linux;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Mapping;

import java.nio.ByteBuffer;
import java.util.List;

/** Finds a {@code syscall} instruction ({@code 0f 05}) to inject through. */
public final class SyscallSite {
    private SyscallSite() {
    }

    /** @return the address of a {@code 0f 05} in the task's {@code [vdso]} */
    public static long findInVdso(Tracee tracee, List<Mapping> maps) throws CryoException {
        for (Mapping m : maps) {
            if (m.name().equals("[vdso]")) {
                return m.start() + offsetInVdso(tracee, m);
            }
        }
        throw new CryoException(Category.KERNEL, "core/NO_VDSO", tracee.who() + " has no [vdso] mapping; cryo"
                + " needs it to run system calls inside the process");
    }

    /**
     * Finds room for a {@link HealingTrampoline} in the task's {@code [vdso]}: the zero padding between the end of
     * the vdso's ELF image (its last program segment and section header table) and the end of the mapping, which
     * nothing reads or runs. cryo parks a thread there while its scratch mapping does not exist yet, or no longer.
     * The slot may still hold a trampoline a cryo killed mid-dump left behind (harmless, never run again).
     *
     * @return the slot's address, or 0 when the padding is too small
     */
    public static long healingSlotInVdso(Tracee tracee, Mapping vdso) throws CryoException {
        ByteBuffer b = ByteBuffer.allocateDirect((int) vdso.length()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        tracee.readFully(vdso.start(), b, "[vdso]");
        if (b.capacity() < 64 || b.getInt(0) != 0x464c457f) {
            return 0;
        }
        long end = b.getLong(0x28) + (long) (b.getShort(0x3a) & 0xffff) * (b.getShort(0x3c) & 0xffff);
        long phoff = b.getLong(0x20);
        int phentsize = b.getShort(0x36) & 0xffff;
        int phnum = b.getShort(0x38) & 0xffff;
        for (int i = 0; i < phnum; i++) {
            long ph = phoff + (long) i * phentsize;
            if (ph + 56 > b.capacity()) {
                return 0;
            }
            end = Math.max(end, b.getLong((int) ph + 8) + b.getLong((int) ph + 32));   // p_offset + p_filesz
        }
        long slot = (end + 63) & ~63L;
        if (end < 0 || slot + HealingTrampoline.SIZE > b.capacity()) {
            return 0;
        }
        boolean slotZero = true;
        boolean restZero = true;
        for (long i = end; i < b.capacity(); i++) {
            boolean inSlot = i >= slot && i < slot + HealingTrampoline.SIZE;
            if (b.get((int) i) != 0) {
                slotZero &= !inSlot;
                restZero &= inSlot;
            }
        }
        boolean leftBehind = HealingTrampoline.isCodeAt(b, (int) slot);
        return restZero && (slotZero || leftBehind) ? vdso.start() + slot : 0;
    }

    /** @return the offset of the first {@code 0f 05} inside the vdso mapping {@code vdso} */
    public static long offsetInVdso(Tracee tracee, Mapping vdso) throws CryoException {
        ByteBuffer b = ByteBuffer.allocateDirect((int) vdso.length());
        tracee.readFully(vdso.start(), b, "[vdso]");
        for (int i = 0; i + 1 < b.capacity(); i++) {
            if (b.get(i) == 0x0f && b.get(i + 1) == 0x05) {
                return i;
            }
        }
        throw new CryoException(Category.KERNEL, "core/NO_SYSCALL_INSN", "no syscall instruction in the [vdso] of "
                + tracee.who());
    }
}
