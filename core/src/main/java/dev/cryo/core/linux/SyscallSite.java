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

    /** Bytes of an executable mapping read at a time while looking for a syscall instruction. */
    static final int CHUNK = 64 * 1024;

    /**
     * @return the address of a {@code 0f 05} in the task's {@code [vdso]}, or, when the program unmapped its vdso,
     *         in another executable mapping it holds (file mappings first: libc's text has hundreds). The bytes need
     *         not start an instruction of the program: cryo points {@code rip} at them. Nothing is written.
     */
    public static long find(Tracee tracee, List<Mapping> maps) throws CryoException {
        for (Mapping m : maps) {
            if (m.name().equals("[vdso]")) {
                return m.start() + vdso(tracee, m).syscallOffset();
            }
        }
        List<Mapping> exec = new java.util.ArrayList<>();
        for (Mapping m : maps) {
            if ((m.prot() & (Mapping.PROT_EXEC | Mapping.PROT_READ)) == (Mapping.PROT_EXEC | Mapping.PROT_READ)
                    && !m.kernelSpecial()) {
                exec.add(m);
            }
        }
        // file-backed first; a comparator class, not Comparator.comparing: the JDK's lambda inside it is not
        // in the class data archive
        exec.sort(new java.util.Comparator<Mapping>() {
            @Override
            public int compare(Mapping a, Mapping b) {
                return Boolean.compare(!a.fileBacked(), !b.fileBacked());
            }
        });
        ByteBuffer b = ByteBuffer.allocateDirect(CHUNK);
        for (Mapping m : exec) {
            // chunks overlap by one byte so that an instruction across a chunk boundary is found
            for (long at = m.start(); at < m.end() - 1; at += CHUNK - 1) {
                int len = (int) Math.min(CHUNK, m.end() - at);
                b.clear().limit(len);
                if (tracee.readMemory(at, Tracee.address(b), len) != len) {
                    break; // unreadable (e.g. execute-only): try the next mapping
                }
                int i = indexOfSyscall(b, len);
                if (i >= 0) {
                    return at + i;
                }
            }
        }
        throw new CryoException(Category.UNSUPPORTED, "core/NO_SYSCALL_INSN", "dump refused: " + tracee.who()
                + " has no [vdso] mapping and no readable executable mapping holding a syscall instruction (0f 05);"
                + " cryo needs one to run system calls inside the process", "dump the process before it unmaps its"
                + " vdso");
    }

    static int indexOfSyscall(ByteBuffer b, int len) {
        for (int i = 0; i + 1 < len; i++) {
            if (b.get(i) == 0x0f && b.get(i + 1) == 0x05) {
                return i;
            }
        }
        return -1;
    }

    /**
     * What injection needs of a {@code [vdso]}, found in its bytes.
     *
     * @param syscallOffset the offset of its first {@code 0f 05}
     * @param slotOffset    the offset of the room for a {@link HealingTrampoline} in its padding (see
     *                      {@link #healingSlot}), 0 when there is none
     */
    public record VdsoLayout(int syscallOffset, int slotOffset) {
    }

    /** The bytes of the last vdso looked at and what was found in them (the vdso of every process is the same). */
    private static byte[] lastVdso;
    private static VdsoLayout lastLayout;

    /**
     * Reads the task's {@code [vdso]} and finds its first syscall instruction and its healing slot. Every process of
     * a host maps the same vdso (unless a debugger or a cryo killed mid-dump wrote into it): the layout found in
     * bytes equal to the last ones read is reused instead of scanned again. Nothing is written.
     *
     * @throws CryoException KERNEL when the vdso cannot be read or holds no syscall instruction
     */
    public static synchronized VdsoLayout vdso(Tracee tracee, Mapping vdso) throws CryoException {
        ByteBuffer direct = ByteBuffer.allocateDirect((int) vdso.length());
        tracee.readFully(vdso.start(), direct, "[vdso]");
        byte[] bytes = new byte[direct.capacity()];
        direct.get(0, bytes);
        if (lastVdso != null && java.util.Arrays.equals(bytes, lastVdso)) {
            return lastLayout;
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int syscall = indexOfSyscall(b, bytes.length);
        if (syscall < 0) {
            throw new CryoException(Category.KERNEL, "core/NO_SYSCALL_INSN", "no syscall instruction in the [vdso] of "
                    + tracee.who());
        }
        VdsoLayout layout = new VdsoLayout(syscall, healingSlot(b));
        lastVdso = bytes;
        lastLayout = layout;
        return layout;
    }

    /**
     * Finds room for a {@link HealingTrampoline} in a {@code [vdso]} (its bytes, little endian): the zero padding
     * between the end of the vdso's ELF image (its last program segment and section header table) and the end of
     * the mapping, which nothing reads or runs. cryo parks a thread there while its scratch mapping does not exist
     * yet, or no longer. The slot may still hold a trampoline a cryo killed mid-dump left behind (harmless, never run
     * again).
     *
     * @return the slot's offset in the vdso, or 0 when the padding is too small
     */
    static int healingSlot(ByteBuffer b) {
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
        return restZero && (slotZero || leftBehind) ? (int) slot : 0;
    }
}
