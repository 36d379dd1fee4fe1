package dev.cryo.core.linux;

/** Layout of x86_64 {@code struct user_regs_struct}: 27 unsigned 64-bit registers (NT_PRSTATUS). */
public final class Regs {
    public static final int R15 = 0, R14 = 1, R13 = 2, R12 = 3, RBP = 4, RBX = 5, R11 = 6, R10 = 7, R9 = 8, R8 = 9,
            RAX = 10, RCX = 11, RDX = 12, RSI = 13, RDI = 14, ORIG_RAX = 15, RIP = 16, CS = 17, EFLAGS = 18,
            RSP = 19, SS = 20, FS_BASE = 21, GS_BASE = 22, DS = 23, ES = 24, FS = 25, GS = 26;
    public static final int COUNT = 27;
    public static final int SIZE = COUNT * 8;
    private static final String[] NAMES = {"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax",
            "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds",
            "es", "fs", "gs"};

    private Regs() {
    }

    public static String format(long[] r) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < COUNT; i++) {
            sb.append(NAMES[i]).append('=').append(Long.toHexString(r[i])).append(i + 1 < COUNT ? " " : "");
        }
        return sb.toString();
    }
}
