package dev.cryo.plugin.tty;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.LocalFd;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;
import dev.cryo.api.TargetFd;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static dev.cryo.api.SyscallFlags.*;
import static dev.cryo.plugin.tty.TtyIoctls.*;

/**
 * The data queued in a pseudo-terminal pair, taken at dump and put back at restore, the way the program on it would
 * have read it. Nothing reads a tty queue without consuming it, so the dump reads it (in cryo's own process, the tree
 * frozen) and puts it straight back; the restore puts the dumped bytes into the new pair the same way.
 *
 * <p>Two queues: the master's input (what the program wrote to the slave and the master's reader has not read;
 * FIONREAD on the master counts it), and the slave's input (what was written to the master — typed — and the program
 * has not read). In canonical mode the slave's FIONREAD counts complete lines only: a partial line (typed, not yet
 * ended by a newline) is invisible to it. So the slave's queue is read on a slave fd cryo opens (TIOCGPTPEER,
 * O_NONBLOCK): the complete lines one read each, as the program would get them (a line ended by VEOF comes without
 * it, an empty one as a read of 0), then, with ICANON cleared for a moment (VMIN 0), the partial line.
 *
 * <p>Put back with TIOCSTI (the byte enters the tty's line discipline at once, as if received; no flip buffer, no
 * write on the target's file): the master's bytes into the master (its line discipline is raw), the slave's into the
 * slave under a temporary termios: the dumped one without echo, signals and input conversions (ICRNL, INLCR, IGNCR,
 * ISTRIP, IUCLC, PARMRK, IXANY), IEXTEN on, and VERASE, VKILL, VWERASE, VREPRINT, VLNEXT and VEOF set to bytes the
 * data does not hold; in canonical mode every byte of a line that would be special (newline, VEOL, VEOL2, VSTART,
 * VSTOP, and the chosen ones) is preceded by VLNEXT, each line's delimiter is put as itself, a VEOF line end as the
 * chosen VEOF. Then the dumped termios is set again exactly; ICANON, EXTPROC, IXON, VSTART and VSTOP are never
 * changed on the way, so the line state is not reset and no flow or packet event is made. No echo is produced: the
 * restored terminal shows what it showed. Lost: a pending VLNEXT (the byte after ^V), the echo column bookkeeping.
 *
 * <p>Refused when the queue cannot be kept, before anything is consumed: output queued for a master in packet mode
 * (its status byte), input queued in packet mode with EXTPROC (any termios change makes a packet event).
 */
final class PtyQueues {
    static final long TIOCSTI = 0x5412;
    static final long TIOCGPTPEER = 0x5441;
    static final int ICANON = 02;
    static final int EXTPROC = 0200000;
    private static final int ISIG = 01;
    private static final int ECHO_BITS = 010 | 020 | 040 | 0100 | 01000 | 02000 | 04000; // ECHO ECHOE ECHOK ECHONL ECHOCTL ECHOPRT ECHOKE
    private static final int XCASE = 04;
    private static final int IEXTEN = 0100000;
    private static final int IXON = 02000;
    private static final int IN_CONVERSIONS = 010 | 040 | 0100 | 0200 | 0400 | 01000 | 04000; // PARMRK ISTRIP INLCR IGNCR ICRNL IUCLC IXANY
    private static final int CC = 17;
    static final int VINTR = 0, VERASE = 2, VKILL = 3, VEOF = 4, VTIME = 5, VMIN = 6, VSTART = 8, VSTOP = 9,
            VEOL = 11, VREPRINT = 12, VWERASE = 14, VLNEXT = 15, VEOL2 = 16;
    private static final int EAGAIN = 11;
    /** The line discipline's buffer (N_TTY_BUF_SIZE): at most this many lines wait. */
    private static final int N_TTY_BUF = 4096;

    /** One complete line of the slave's input in canonical mode: its bytes as read, and whether VEOF ended it. */
    record Line(byte[] data, boolean eof) {
    }

    /** What a pair held: the slave's complete lines (canonical mode), its rest, and the master's input. */
    record Queued(List<Line> lines, byte[] input, byte[] output) {
        boolean isEmpty() {
            return lines.isEmpty() && input.length == 0 && output.length == 0;
        }

        /** @return the input bytes, as FIONREAD counts them in canonical mode (without the VEOF marks) */
        int inputBytes() {
            int n = input.length;
            for (Line l : lines) {
                n += l.data().length;
            }
            return n;
        }
    }

    private final RemoteTask self;
    private final TtyIoctls io;

    PtyQueues(RemoteTask self) {
        this.self = self;
        this.io = new TtyIoctls(self);
    }

    static boolean canonical(byte[] termios) {
        int lflag = le32(termios, 12);
        return (lflag & ICANON) != 0 && (lflag & EXTPROC) == 0;
    }

    /**
     * Reads both queues of the pair whose master {@code master} is (a duplicate of the tree's fd) and puts them back
     * at once; on any failure on the way, what was read is put back before the error is thrown.
     *
     * @param slaveOpen whether the tree holds the slave open (else the slave is not opened: its last close would
     *                  tell the master the other side closed)
     */
    Queued take(LocalFd master, int index, byte[] termios, boolean packet, boolean locked, boolean slaveOpen,
                String who) throws CryoException {
        String pts = "/dev/pts/" + index;
        flush(master, "master of " + pts);
        int out = io.getInt("ioctl(/dev/ptmx, FIONREAD) of " + who, master, FIONREAD);
        if (out > 0 && packet) {
            throw PtyHandler.queued(who, index, out, "written by the program on the terminal and not yet read from"
                    + " the master, which is in packet mode (the read would take the status byte with it)");
        }
        byte[] output = new byte[0];
        if (out > 0) {
            output = readSome(master, out, "master of " + pts + " (" + who + ")");
            try {
                sti(master, output, "master of " + pts);
            } catch (CryoException e) {
                throw lost(who, pts, output.length, "its master's input", e);
            }
            int again = io.getInt("ioctl(/dev/ptmx, FIONREAD) of " + who, master, FIONREAD);
            if (again != out) {
                throw new CryoException(Category.INTERNAL, "tty/QUEUE_CHANGED", "dump failed: the " + out + " bytes"
                        + " queued for the master of " + pts + " (" + who + ") were read and put back, but it holds "
                        + again + " now", "report this; the program on " + pts + " may see its output changed");
            }
        }
        if (!slaveOpen) {
            return new Queued(List.of(), new byte[0], output);
        }
        try (LocalFd slave = peer(master, pts, locked)) {
            flush(slave, pts);
            int lines = io.getInt("ioctl(" + pts + ", FIONREAD) of a slave fd cryo opened", slave, FIONREAD);
            boolean canon = canonical(termios);
            if (!canon) {
                if (lines == 0) {
                    return new Queued(List.of(), new byte[0], output);
                }
                if (packet && (le32(termios, 12) & EXTPROC) != 0) {
                    throw PtyHandler.queued(who, index, lines, "typed into the terminal and not yet read by the"
                            + " program on it, in packet mode with EXTPROC (changing the termios to put them back"
                            + " would send the master a packet)");
                }
                byte[] input = readSome(slave, lines, pts);
                Queued q = new Queued(List.of(), input, output);
                putInput(slave, pts, termios, q, who);
                return q;
            }
            List<Line> complete = new ArrayList<>();
            ByteArrayOutputStream partial = new ByteArrayOutputStream();
            boolean drained = false;
            boolean done = false;
            try {
                // one read per line until none is complete (EAGAIN); FIONREAD does not count the VEOF marks, so
                // it bounds the bytes, not the reads (an empty line ended by VEOF reads as 0 bytes)
                for (int reads = 0; reads <= lines + N_TTY_BUF; reads++) {
                    byte[] line = readOnce(slave, pts);
                    if (line == null) {
                        break;
                    }
                    boolean eof = line.length == 0 || !delimiter(line[line.length - 1], termios);
                    complete.add(new Line(line, eof));
                }
                byte[] drain = termios.clone();
                setL(drain, le32(termios, 12) & ~ICANON);
                drain[CC + VMIN] = 0;
                drain[CC + VTIME] = 0;
                drained = true;
                io.setBytes("ioctl(" + pts + ", TCSETS2) without ICANON to read its partial line", slave, TCSETS2,
                        drain);
                for (byte[] b; (b = readOnce(slave, pts)) != null && b.length > 0; ) {
                    partial.writeBytes(b);
                }
                Queued q = new Queued(complete, partial.toByteArray(), output);
                if (q.lines().isEmpty() && q.input().length == 0) {
                    io.setBytes("ioctl(" + pts + ", TCSETS2) as dumped", slave, TCSETS2, termios);
                } else {
                    putInput(slave, pts, termios, q, who);
                }
                done = true;
                int again = io.getInt("ioctl(" + pts + ", FIONREAD)", slave, FIONREAD);
                if (again != lines) {
                    throw new CryoException(Category.INTERNAL, "tty/QUEUE_CHANGED", "dump failed: the input queued"
                            + " on " + pts + " (" + who + ") was read and put back, but its complete lines count "
                            + again + " bytes, not " + lines, "report this; the program on " + pts + " may read"
                            + " other input than it was typed");
                }
                return q;
            } finally {
                if (drained && !done) {
                    // put back what was read, whatever failed
                    try {
                        putInput(slave, pts, termios, new Queued(complete, partial.toByteArray(), new byte[0]), who);
                    } catch (CryoException ignored) {
                        // the first failure is the one reported
                    }
                }
            }
        }
    }

    /** Puts a dumped pair's queues into the pair {@code master}/{@code slave} (restore; termios already set). */
    void put(LocalFd master, LocalFd slave, int index, byte[] termios, Queued q, String who) throws CryoException {
        String pts = "/dev/pts/" + index;
        if (q.output().length > 0) {
            sti(master, q.output(), "master of " + pts);
        }
        if (!q.lines().isEmpty() || q.input().length > 0) {
            putInput(slave, pts, termios, q, who);
        }
    }

    /** The slave's input back through TIOCSTI under the quiet termios, then the dumped termios exactly. */
    private void putInput(LocalFd slave, String pts, byte[] termios, Queued q, String who) throws CryoException {
        boolean canon = canonical(termios);
        boolean[] used = new boolean[256];
        used['\n'] = true;
        used[termios[CC + VEOL] & 0xff] = true;
        used[termios[CC + VEOL2] & 0xff] = true;
        used[termios[CC + VSTART] & 0xff] = true;
        used[termios[CC + VSTOP] & 0xff] = true;
        used[0] = true;
        for (Line l : q.lines()) {
            for (byte b : l.data()) {
                used[b & 0xff] = true;
            }
        }
        for (byte b : q.input()) {
            used[b & 0xff] = true;
        }
        byte[] quiet = termios.clone();
        setI(quiet, le32(termios, 0) & ~IN_CONVERSIONS);
        int lflag = le32(termios, 12) & ~(ECHO_BITS | ISIG | XCASE);
        if (canon) {
            lflag |= IEXTEN;
        }
        setL(quiet, lflag);
        int[] chosen = {VERASE, VKILL, VWERASE, VREPRINT, VLNEXT, VEOF};
        for (int c : chosen) {
            int b = 1;
            while (b < 256 && used[b]) {
                b++;
            }
            if (b == 256) {
                throw new CryoException(Category.UNSUPPORTED, "tty/QUEUED_DATA", "dump refused: " + who + ": the "
                        + q.inputBytes() + " bytes typed into " + pts + " use every byte value; cryo needs six"
                        + " unused ones to put them back", "let the program read its input, then dump again");
            }
            used[b] = true;
            quiet[CC + c] = (byte) b;
        }
        boolean ixon = (le32(termios, 0) & IXON) != 0;
        byte lnext = quiet[CC + VLNEXT];
        io.setBytes("ioctl(" + pts + ", TCSETS2) without echo to put its input back", slave, TCSETS2, quiet);
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        for (Line l : q.lines()) {
            byte[] d = l.data();
            int body = l.eof() ? d.length : d.length - 1;
            escaped(s, d, body, termios, ixon, lnext, canon);
            if (l.eof()) {
                s.write(quiet[CC + VEOF]);
            } else {
                s.write(d[d.length - 1]);
            }
        }
        escaped(s, q.input(), q.input().length, termios, ixon, lnext, canon);
        try {
            sti(slave, s.toByteArray(), pts);
        } finally {
            io.setBytes("ioctl(" + pts + ", TCSETS2) as dumped", slave, TCSETS2, termios);
        }
    }

    private static void escaped(ByteArrayOutputStream s, byte[] d, int n, byte[] termios, boolean ixon, byte lnext,
                                boolean canon) {
        for (int i = 0; i < n; i++) {
            byte b = d[i];
            boolean special = canon && (b == '\n' || b == termios[CC + VEOL] || b == termios[CC + VEOL2]
                    || (ixon && (b == termios[CC + VSTART] || b == termios[CC + VSTOP])));
            if (special) {
                s.write(lnext);
            }
            s.write(b);
        }
    }

    private static boolean delimiter(byte b, byte[] termios) {
        return b == '\n' || b == termios[CC + VEOL] || (b == termios[CC + VEOL2] && (le32(termios, 12) & IEXTEN) != 0);
    }

    /** TIOCSTI byte by byte: the byte enters {@code fd}'s line discipline as if received. */
    private void sti(LocalFd fd, byte[] data, String what) throws CryoException {
        int chunk = self.scratchSize();
        for (int off = 0; off < data.length; off += chunk) {
            int n = Math.min(chunk, data.length - off);
            long addr = self.scratchAddress();
            self.writeMemory(addr, ByteBuffer.allocateDirect(n).put(data, off, n).flip());
            for (int i = 0; i < n; i++) {
                self.syscall("ioctl(" + what + ", TIOCSTI) to put back byte " + (off + i) + " of " + data.length,
                        Syscall.IOCTL, fd.value(), TIOCSTI, addr + i);
            }
        }
    }

    /** One read(2) into the scratch area: the bytes, or null when the fd has none (EAGAIN). */
    private byte[] readOnce(LocalFd fd, String what) throws CryoException {
        long addr = self.scratchAddress();
        long r = self.syscallRaw(Syscall.READ, fd.value(), addr, self.scratchSize());
        if (r == -EAGAIN) {
            return null;
        }
        if (r < 0) {
            throw new CryoException(Category.INTERNAL, "tty/READ", "dump failed: read(" + what + ") to take its"
                    + " queued data: errno " + (-r), "report this");
        }
        ByteBuffer b = ByteBuffer.allocateDirect((int) r);
        self.readMemory(addr, b);
        byte[] out = new byte[(int) r];
        b.flip().get(out);
        return out;
    }

    /** Reads exactly {@code n} bytes that FIONREAD counted (they are there: the reads do not wait). */
    private byte[] readSome(LocalFd fd, int n, String what) throws CryoException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (got.size() < n) {
            long addr = self.scratchAddress();
            int want = Math.min(n - got.size(), self.scratchSize());
            long r = self.syscall("read(" + what + ", " + want + ") of its queued data", Syscall.READ, fd.value(),
                    addr, want);
            if (r <= 0) {
                break;
            }
            ByteBuffer b = ByteBuffer.allocateDirect((int) r);
            self.readMemory(addr, b);
            byte[] chunk = new byte[(int) r];
            b.flip().get(chunk);
            got.writeBytes(chunk);
        }
        return got.toByteArray();
    }

    /** A slave fd of the pair in cryo's process (TIOCGPTPEER: the master's own devpts), unlocking it for the open. */
    LocalFd peer(LocalFd master, String pts, boolean locked) throws CryoException {
        if (locked) {
            io.setInt("ioctl(master of " + pts + ", TIOCSPTLCK, 0)", master, TIOCSPTLCK, 0);
        }
        try {
            long raw = self.syscall("ioctl(master of " + pts + ", TIOCGPTPEER)", Syscall.IOCTL, master.value(),
                    TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
            try {
                return self.pullFd(new TargetFd((int) raw));
            } finally {
                self.syscallRaw(Syscall.CLOSE, raw);
            }
        } finally {
            if (locked) {
                io.setInt("ioctl(master of " + pts + ", TIOCSPTLCK, 1)", master, TIOCSPTLCK, 1);
            }
        }
    }

    /**
     * Has the line discipline take what sits in the tty's flip buffer (written, not yet processed by the kernel's
     * worker): adding the fd to an epoll set polls it, and the tty's poll flushes that work when nothing is readable.
     */
    private void flush(LocalFd fd, String what) throws CryoException {
        long ep = self.syscall("epoll_create1 to poll " + what, Syscall.EPOLL_CREATE1, O_CLOEXEC);
        try {
            long addr = self.scratchAddress();
            self.writeMemory(addr, ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).putInt(1)
                    .putInt(0).putLong(0).flip());
            self.syscall("epoll_ctl(ADD, " + what + ")", Syscall.EPOLL_CTL, ep, 1, fd.value(), addr);
        } finally {
            self.syscallRaw(Syscall.CLOSE, ep);
        }
    }

    private static CryoException lost(String who, String pts, int n, String where, CryoException cause) {
        return new CryoException(Category.INTERNAL, "tty/QUEUE_LOST", "dump failed: " + n + " bytes queued in "
                + where + " of " + pts + " (" + who + ") were read but could not be put back: " + cause.getMessage(),
                "the program on " + pts + " lost them; report this");
    }

    private static void setI(byte[] t, int v) {
        ByteBuffer.wrap(t, 0, 4).order(ByteOrder.nativeOrder()).putInt(v);
    }

    private static void setL(byte[] t, int v) {
        ByteBuffer.wrap(t, 12, 4).order(ByteOrder.nativeOrder()).putInt(v);
    }
}
