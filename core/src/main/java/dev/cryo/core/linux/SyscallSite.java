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
