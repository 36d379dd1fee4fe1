package dev.cryo.plugin.tty;

import dev.cryo.api.CryoException;
import dev.cryo.api.LocalFd;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static dev.cryo.api.SyscallFlags.*;

/**
 * The terminal ioctls the plugin makes, on fds of cryo's own process ({@code HostKernel.self()}): at dump on a
 * {@code pidfd_getfd} duplicate of the tree's fd (queries only), at restore on the pair it creates before installing
 * it. Request numbers are the generic Linux ones ({@code asm-generic/ioctls.h}, x86-64 and arm64 alike); FIONREAD
 * and the open flags come from {@link dev.cryo.api.SyscallFlags}.
 */
final class TtyIoctls {
    static final long TCGETS2 = 0x802C542AL;
    static final long TCSETS2 = 0x402C542BL;
    static final long TIOCEXCL = 0x540C;
    static final long TIOCSCTTY = 0x540E;
    static final long TIOCGPGRP = 0x540F;
    static final long TIOCSPGRP = 0x5410;
    static final long TIOCGWINSZ = 0x5413;
    static final long TIOCSWINSZ = 0x5414;
    static final long TIOCPKT = 0x5420;
    static final long TIOCGPTN = 0x80045430L;
    static final long TIOCSPTLCK = 0x40045431L;
    static final long TIOCGPKT = 0x80045438L;
    static final long TIOCGPTLCK = 0x80045439L;
    static final long TIOCGEXCL = 0x80045440L;
    static final int TERMIOS2_SIZE = 44;

    /** The open flags a pty fd is opened again with (access mode, O_NONBLOCK, O_APPEND). */
    static final int KEPT_FLAGS = O_ACCMODE | O_NONBLOCK | O_APPEND;

    private final RemoteTask self;

    TtyIoctls(RemoteTask self) {
        this.self = self;
    }

    /** ioctl with an int result written at the scratch area: TIOCGPTN, TIOCGPGRP, FIONREAD... */
    int getInt(String what, LocalFd fd, long request) throws CryoException {
        long addr = self.scratchAddress();
        self.writeMemory(addr, ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder()).putInt(0).flip());
        self.syscall(what, Syscall.IOCTL, fd.value(), request, addr);
        ByteBuffer b = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
        self.readMemory(addr, b);
        return b.flip().getInt();
    }

    /** ioctl with an int argument passed by pointer: TIOCSPTLCK, TIOCPKT. */
    void setInt(String what, LocalFd fd, long request, int value) throws CryoException {
        long addr = self.scratchAddress();
        self.writeMemory(addr, ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder()).putInt(value).flip());
        self.syscall(what, Syscall.IOCTL, fd.value(), request, addr);
    }

    byte[] getBytes(String what, LocalFd fd, long request, int size) throws CryoException {
        long addr = self.scratchAddress();
        self.syscall(what, Syscall.IOCTL, fd.value(), request, addr);
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        self.readMemory(addr, b);
        byte[] out = new byte[size];
        b.flip().get(out);
        return out;
    }

    void setBytes(String what, LocalFd fd, long request, byte[] value) throws CryoException {
        long addr = self.scratchAddress();
        self.writeMemory(addr, ByteBuffer.allocateDirect(value.length).put(value).flip());
        self.syscall(what, Syscall.IOCTL, fd.value(), request, addr);
    }

    /** Opens {@code path} in cryo's process and hands it over as a {@link LocalFd}. */
    LocalFd open(String path, int flags) throws CryoException {
        long addr = self.putScratchString(0, path);
        long raw = self.syscall("openat(" + path + ", 0" + Integer.toOctalString(flags) + ")", Syscall.OPENAT,
                AT_FDCWD, addr, flags, 0);
        try {
            return self.pullFd(new dev.cryo.api.TargetFd((int) raw));
        } finally {
            self.syscallRaw(Syscall.CLOSE, raw);
        }
    }

    static int le32(byte[] b, int off) {
        return ByteBuffer.wrap(b, off, 4).order(ByteOrder.nativeOrder()).getInt();
    }

    static int le16(byte[] b, int off) {
        return ByteBuffer.wrap(b, off, 2).order(ByteOrder.nativeOrder()).getShort() & 0xffff;
    }

    static byte[] winsize(int rows, int cols, int xpixel, int ypixel) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
        b.putShort((short) rows).putShort((short) cols).putShort((short) xpixel).putShort((short) ypixel);
        return b.array();
    }
}
