package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.FdInfo;
import dev.cryo.api.TargetFd;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds the {@link FdInfo} core hands to the FdHandlers from /proc: {@code readlink} and {@code stat} of
 * {@code /proc/PID/fd/N}, and {@code /proc/PID/fdinfo/N} — three system calls through {@link LibC} per fd, no
 * per-fd objects beyond the result (a process may hold tens of thousands of fds). Used on the tracer thread.
 */
final class FdInfos {
    private static final int O_CLOEXEC = 02000000;
    /** How the JDK decodes file names (the bytes of a link target). */
    private static final Charset FILE_NAMES = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));

    private final long[] stat = new long[6];
    private final byte[] fdinfo = new byte[4096];

    private final dev.cryo.core.linux.HostView host;

    FdInfos(dev.cryo.core.linux.HostView host) {
        this.host = host;
    }

    /** @return what cryo knows of fd {@code fd} of process {@code pid} */
    FdInfo read(int pid, int fd) throws CryoException {
        return withSocketFamily(pid, readUnresolved(pid, fd));
    }

    /**
     * @return {@link #read}'s answer without the socket family (empty): the three system calls only, which any thread
     *     may make with its own instance (the host's socket tables, which {@link #withSocketFamily} reads, are this
     *     instance's caller's)
     */
    FdInfo readUnresolved(int pid, int fd) throws CryoException {
        LibC c = LibC.INSTANCE;
        String p = "/proc/" + pid + "/fd/" + fd;
        byte[] target = c.readlink(p);
        if (target == null) {
            throw new CryoException(Category.KERNEL, "core/PROC_READ", "cannot read link " + p + ": readlink failed: "
                    + Errors.describe(LibC.errno()));
        }
        String link = new String(target, FILE_NAMES);
        if (c.stat(p, false, stat) != 0) {
            throw new CryoException(Category.KERNEL, "core/PROC_READ", "cannot stat fd " + fd + " of pid " + pid
                    + " (" + link + "): stat failed: " + Errors.describe(LibC.errno()));
        }
        String info = "/proc/" + pid + "/fdinfo/" + fd;
        int n = c.readFile(info, fdinfo);
        if (n < 0) {
            throw new CryoException(Category.KERNEL, "core/PROC_READ", "cannot read " + info + ": "
                    + Errors.describe(LibC.errno()));
        }
        int flags = (int) field(fdinfo, n, "flags:", 8);
        return new FdInfo(TargetFd.of(fd), link, (int) stat[0], stat[1], stat[2], stat[3], stat[4], stat[5],
                flags & ~O_CLOEXEC, (flags & O_CLOEXEC) != 0, field(fdinfo, n, "pos:", 10),
                (int) field(fdinfo, n, "mnt_id:", 10), "");
    }

    /** @return {@code fd} (of process {@code pid}, from {@link #readUnresolved}), with its family if a socket */
    FdInfo withSocketFamily(int pid, FdInfo fd) {
        if (!fd.isSocket()) {
            return fd;
        }
        String family = host.socketFamily(fd.inode(), java.nio.file.Path.of("/proc/" + pid + "/fd/" + fd.fd().value()));
        return new FdInfo(fd.fd(), fd.link(), fd.mode(), fd.dev(), fd.inode(), fd.rdev(), fd.size(), fd.mtimeNs(),
                fd.flags(), fd.cloexec(), fd.pos(), fd.mntId(), family);
    }

    /**
     * @return what decides whether a handler claims the fd in practice — its link and its file type — from a readlink
     *     and a stat, without reading its fdinfo (see {@link Dumper}'s early check); null when the fd is gone
     */
    String shape(int pid, int fd) {
        LibC c = LibC.INSTANCE;
        String p = "/proc/" + pid + "/fd/" + fd;
        byte[] target = c.readlink(p);
        if (target == null || c.stat(p, false, stat) != 0) {
            return null;
        }
        return ((int) stat[0] & FdInfo.S_IFMT) + " " + new String(target, FILE_NAMES);
    }

    /** @return the number after {@code key} at the start of a line of {@code text[0..n)} in {@code radix}, 0 if none */
    static long field(byte[] text, int n, String key, int radix) {
        int k = key.length();
        for (int line = 0; line < n; ) {
            if (line + k <= n && startsWith(text, line, key)) {
                int i = line + k;
                while (i < n && (text[i] == ' ' || text[i] == '\t')) {
                    i++;
                }
                long v = 0;
                for (; i < n; i++) {
                    int d = Character.digit(text[i], radix);
                    if (d < 0) {
                        break;
                    }
                    v = v * radix + d;
                }
                return v;
            }
            while (line < n && text[line] != '\n') {
                line++;
            }
            line++;
        }
        return 0;
    }

    private static boolean startsWith(byte[] text, int at, String key) {
        for (int i = 0; i < key.length(); i++) {
            if (text[at + i] != key.charAt(i)) {
                return false;
            }
        }
        return true;
    }

}
