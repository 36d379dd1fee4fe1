package dev.cryo.core.linux;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The code a dumped thread executes cryo's injected system calls through, built so that the thread heals itself
 * whatever instant cryo dies at (SIGKILL, OOM killer). When the tracer dies the kernel detaches its tracees and
 * lets them run from wherever they are; a thread cryo holds is then always either untouched (its own registers and
 * signal mask) or <em>parked</em> on one instance of this trampoline, whose last steps give it back its own context.
 *
 * <p>One instance per thread, position independent (every datum addressed relative to {@code rip}), 320 bytes:
 * <pre>
 * T:  syscall                        the injected call (rax = nr, rdi rsi rdx r10 r8 r9 = arguments)
 * R:  lea FLAGS(%rip), %rsp; popfq   the thread's flags (every signal still blocked: rsp may point here)
 *     mov RSP(%rip), %rsp            its stack: a signal delivered at the next syscall's return uses it
 *     rt_sigprocmask(SIG_SETMASK, &MASK, NULL, 8)    via syscall, which keeps rflags; its signal mask
 *     mov R15(%rip), %r15 ... mov RDI(%rip), %rdi    every general register (mov leaves the flags)
 *     jmp *RIP(%rip)                 its own code
 * data: MASK FLAGS RSP RIP R15 R14 R13 R12 RBP RBX R11 R10 R9 R8 RAX RCX RDX RSI RDI
 * </pre>
 * cryo injects by setting {@code rip = T} and the call's registers, and drives the thread with PTRACE_SYSCALL up to
 * the call's syscall-exit stop, where {@code rip = R}: the thread never runs R while cryo lives. A thread released
 * by the kernel mid-way runs (or finishes) the injected call, then R. Nothing is left that could hurt it: no
 * single-step flag (PTRACE_SINGLESTEP keeps TF set until the next resume or detach — a tracer killed in between
 * left its tracee to die of SIGTRAP), no trap instruction, and floating-point state is never touched.
 *
 * <p>A thread stopped inside an interruptible system call is given back in the form the kernel gives it when no
 * handler runs: {@code -ERESTARTSYS}, {@code -ERESTARTNOINTR} and {@code -ERESTARTNOHAND} restart the call
 * ({@code rip - 2}, {@code rax = orig_rax}); {@code -ERESTART_RESTARTBLOCK} calls {@code restart_syscall} — its
 * restart block is intact, as neither the injected queries nor R's {@code rt_sigprocmask} touch it (an
 * {@code rt_sigreturn} would have reset it to "return EINTR", one reason R restores in user code).
 */
public final class HealingTrampoline {
    /** Bytes of one instance (code + data), a multiple of 64. */
    public static final int SIZE = 320;
    /** Offset of the injected {@code syscall} instruction. */
    public static final int T = 0;
    /** Offset of the restore path, where the thread is after the injected call returned. */
    public static final int R = 2;
    private static final int DATA = 0xa0;

    /** Assembled from the listing above (gcc -c, objdump -d). */
    private static final byte[] CODE = bytes(
            "0f 05"                             // syscall
            + " 48 8d 25 9f 00 00 00"           // lea 0x9f(%rip),%rsp   -> FLAGS
            + " 9d"                             // popfq
            + " 48 8b 25 9f 00 00 00"           // mov 0x9f(%rip),%rsp   <- RSP
            + " b8 0e 00 00 00"                 // mov $14,%eax          rt_sigprocmask
            + " bf 02 00 00 00"                 // mov $2,%edi           SIG_SETMASK
            + " 48 8d 35 7e 00 00 00"           // lea 0x7e(%rip),%rsi   -> MASK
            + " ba 00 00 00 00"                 // mov $0,%edx           (mov: the flags stay)
            + " 41 ba 08 00 00 00"              // mov $8,%r10d
            + " 0f 05"                          // syscall
            + " 4c 8b 3d 8a 00 00 00"           // mov R15(%rip),%r15
            + " 4c 8b 35 8b 00 00 00"           // mov R14(%rip),%r14
            + " 4c 8b 2d 8c 00 00 00"           // mov R13(%rip),%r13
            + " 4c 8b 25 8d 00 00 00"           // mov R12(%rip),%r12
            + " 48 8b 2d 8e 00 00 00"           // mov RBP(%rip),%rbp
            + " 48 8b 1d 8f 00 00 00"           // mov RBX(%rip),%rbx
            + " 4c 8b 1d 90 00 00 00"           // mov R11(%rip),%r11
            + " 4c 8b 15 91 00 00 00"           // mov R10(%rip),%r10
            + " 4c 8b 0d 92 00 00 00"           // mov R9(%rip),%r9
            + " 4c 8b 05 93 00 00 00"           // mov R8(%rip),%r8
            + " 48 8b 05 94 00 00 00"           // mov RAX(%rip),%rax
            + " 48 8b 0d 95 00 00 00"           // mov RCX(%rip),%rcx
            + " 48 8b 15 96 00 00 00"           // mov RDX(%rip),%rdx
            + " 48 8b 35 97 00 00 00"           // mov RSI(%rip),%rsi
            + " 48 8b 3d 98 00 00 00"           // mov RDI(%rip),%rdi
            + " ff 25 1a 00 00 00"              // jmp *RIP(%rip)
            + " 66 90");                        // padding to DATA
    /** The general registers R loads, in the order of the data after MASK FLAGS RSP RIP. */
    private static final int[] LOADED = {Regs.R15, Regs.R14, Regs.R13, Regs.R12, Regs.RBP, Regs.RBX, Regs.R11,
            Regs.R10, Regs.R9, Regs.R8, Regs.RAX, Regs.RCX, Regs.RDX, Regs.RSI, Regs.RDI};

    private HealingTrampoline() {
    }

    /**
     * One instance holding the thread's own context: {@code regs} as read at the stop (turned into their restarted
     * form, see {@link #resumed}) and the signal mask {@code sigmask}.
     */
    public static byte[] instance(long[] regs, long sigmask) {
        long[] r = resumed(regs);
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(CODE);
        b.putLong(DATA, sigmask);
        b.putLong(DATA + 8, r[Regs.EFLAGS]);
        b.putLong(DATA + 16, r[Regs.RSP]);
        b.putLong(DATA + 24, r[Regs.RIP]);
        for (int i = 0; i < LOADED.length; i++) {
            b.putLong(DATA + 32 + 8 * i, r[LOADED[i]]);
        }
        return b.array();
    }

    /**
     * The registers as the thread will have them when it runs its own code again and no signal handler intervenes:
     * a system call interrupted with a restart code is re-executed, or {@code restart_syscall} is called for
     * {@code -ERESTART_RESTARTBLOCK} — what the kernel itself does when it resumes a thread that was stopped there.
     */
    public static long[] resumed(long[] regs) {
        long[] r = regs.clone();
        if (r[Regs.ORIG_RAX] >= 0) {
            long rax = r[Regs.RAX];
            if (rax == -Sys.ERESTARTSYS || rax == -Sys.ERESTARTNOINTR || rax == -Sys.ERESTARTNOHAND) {
                r[Regs.RAX] = r[Regs.ORIG_RAX];
                r[Regs.RIP] -= 2;
            } else if (rax == -Sys.ERESTART_RESTARTBLOCK) {
                r[Regs.RAX] = Sys.RESTART_SYSCALL;
                r[Regs.RIP] -= 2;
            }
        }
        r[Regs.ORIG_RAX] = -1;
        return r;
    }

    /** @return whether the trampoline's code starts at {@code offset} of {@code b} */
    static boolean isCodeAt(ByteBuffer b, int offset) {
        if (offset + DATA > b.capacity()) {
            return false;
        }
        for (int i = 0; i < DATA; i++) {
            if (b.get(offset + i) != CODE[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] bytes(String hex) {
        String[] parts = hex.trim().split("\\s+");
        byte[] b = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            b[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        if (b.length != DATA) {
            throw new IllegalStateException("healing trampoline code is " + b.length + " bytes, expected " + DATA);
        }
        return b;
    }
}
