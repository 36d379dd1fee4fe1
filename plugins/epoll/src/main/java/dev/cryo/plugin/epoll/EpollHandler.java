package dev.cryo.plugin.epoll;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.FixedLinkFdHandler;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.api.Syscall;
import dev.cryo.plugin.epoll.proto.EpollEntry;
import dev.cryo.plugin.epoll.proto.EpollTargetEntry;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.cryo.api.SyscallFlags.*;

/**
 * The {@code epoll} handler: {@code anon_inode:[eventpoll]} with every registration — events mask (EPOLLET,
 * EPOLLONESHOT, EPOLLEXCLUSIVE, EPOLLWAKEUP) and 64-bit data — including epoll sets registered in other epoll sets
 * and files registered under an fd number that was closed or reused since.
 *
 * <h2>Dump</h2>
 * {@link #collect} reads the {@code tfd: events: data: pos: ino: sdev:} lines of {@code /proc/PID/fdinfo/N}. The
 * {@code tfd} of a line is only the number the file was registered under: the fd may have been closed since (the
 * registration lives as long as the file), or dup'ed elsewhere and the number reused for another file. So each
 * registration is checked with {@code kcmp(pid, pid, KCMP_EPOLL_TFD, fd, {epfd, tfd, toff})} injected in the task:
 * first against fd {@code tfd} itself, then against the process's other fds with the same inode. The fd found is
 * recorded as {@code source_fd}. A registered file no fd of the process holds (it lives on only in another process,
 * or in a unix socket's queue) cannot be named and is refused with {@code epoll/TARGET_NOT_HELD}.
 *
 * <h2>Restore</h2>
 * {@link #restore} answers {@link RestoreOutcome#RETRY_LATER} until every {@code source_fd} exists in the process
 * ({@code fcntl(F_GETFD)}), so targets restored by any other handler — and inner epoll sets — come first. Then
 * {@code epoll_create1(EPOLL_CLOEXEC)}, moved above every number involved, and one {@code epoll_ctl(EPOLL_CTL_ADD,
 * tfd, {events, data})} per registration in dump order. A registration whose file is now at another fd is made
 * under its original number: what holds {@code tfd} is set aside ({@code F_DUPFD_CLOEXEC}), the file is
 * {@code dup3}'ed onto {@code tfd} for the {@code epoll_ctl}, and {@code tfd} is put back as it was (or closed).
 * Finally the epoll fd is {@code dup3}'ed to its number with its FD_CLOEXEC, and O_NONBLOCK set if it had it.
 *
 * <p>The kernel looks at each file's readiness when it is added, so ready events are reported again after the
 * restore (for EPOLLET a ready file gives one more edge). A disarmed EPOLLONESHOT registration comes back armed
 * for EPOLLERR and EPOLLHUP only, which the kernel adds to every registration.
 */
@Extension
public final class EpollHandler extends FixedLinkFdHandler {
    public static final String KIND = "epoll";
    static final String LINK = "anon_inode:[eventpoll]";
    static final int KCMP_EPOLL_TFD = 7;
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CLOEXEC = 02000000;

    public EpollHandler() {
        super(KIND, LINK);
    }

    // ================================================================ dump

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        RemoteTask task = ctx.task();
        Path info = task.procDir().resolve("fdinfo").resolve(Integer.toString(fd.fd().value()));
        List<EpollFdinfo.Target> targets;
        try {
            targets = EpollFdinfo.parse(Files.readString(info), info.toString());
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "epoll/FDINFO", "cannot read " + info + " (" + task.describeFd(fd.fd())
                    + "): " + e.getMessage());
        }
        EpollEntry.Builder b = EpollEntry.newBuilder().setFlags(fd.flags());
        List<long[]> candidates = null;
        for (EpollFdinfo.Target t : targets) {
            int source = -1;
            if (sameFile(task, fd.fd().value(), t, t.tfd())) {
                source = t.tfd();
            } else {
                if (candidates == null) {
                    candidates = openFds(task);
                }
                for (long[] c : candidates) {
                    if (c[0] != t.tfd() && c[0] != fd.fd().value() && c[1] == t.ino()
                            && sameFile(task, fd.fd().value(), t, (int) c[0])) {
                        source = (int) c[0];
                        break;
                    }
                }
            }
            if (source < 0) {
                throw targetNotHeld(task.describeFd(fd.fd()), t);
            }
            b.addTargets(EpollTargetEntry.newBuilder().setTfd(t.tfd()).setEvents(t.events()).setData(t.data())
                    .setSourceFd(source).setIno(t.ino()));
        }
        return b.build();
    }

    /** Whether fd {@code candidate} of the task is the file registration {@code t} of epoll {@code epfd} watches. */
    private static boolean sameFile(RemoteTask task, int epfd, EpollFdinfo.Target t, int candidate)
            throws CryoException {
        ByteBuffer slot = ByteBuffer.allocateDirect(12).order(ByteOrder.LITTLE_ENDIAN);
        slot.putInt(0, epfd).putInt(4, t.tfd()).putInt(8, t.toff());
        task.writeMemory(task.scratchAddress(), slot);
        long pid = task.pid().value();
        long r = task.syscallRaw(Syscall.KCMP, pid, pid, KCMP_EPOLL_TFD, candidate, task.scratchAddress());
        if (r == 0) {
            return true;
        }
        if (r > 0 || Errno.EBADF.is(r)) {
            return false;
        }
        throw CryoException.kernel("epoll/KCMP", "kcmp(KCMP_EPOLL_TFD, fd " + candidate + ", epoll fd " + epfd
                + " tfd " + t.tfd() + ") in pid " + task.pid() + " \"" + task.comm() + "\"", (int) -r);
    }

    /** Every open fd of the task's process with its inode: {@code {fd, ino}}. */
    private static List<long[]> openFds(RemoteTask task) throws CryoException {
        Path dir = task.procDir().resolve("fd");
        List<long[]> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                try {
                    long ino = (Long) Files.getAttribute(p, "unix:ino");
                    out.add(new long[]{Integer.parseInt(p.getFileName().toString()), ino});
                } catch (IOException | RuntimeException e) {
                    // closed meanwhile (cannot happen in a frozen process) or unreadable: not a candidate
                }
            }
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "epoll/FDS", "cannot list " + dir + ": " + e.getMessage());
        }
        out.sort((a, b) -> Long.compare(a[0], b[0]));
        return out;
    }

    static CryoException targetNotHeld(String who, EpollFdinfo.Target t) {
        return new CryoException(Category.UNSUPPORTED, "epoll/TARGET_NOT_HELD", "dump refused: the epoll instance "
                + who + " watches a file registered as fd " + t.tfd() + " (inode " + t.ino() + ", events 0x"
                + Integer.toHexString(t.events()) + ", data 0x" + Long.toHexString(t.data()) + ") that no fd of"
                + " this process holds any more (fd " + t.tfd() + " was closed or reused; the file lives on in another"
                + " process or in a socket's queue): cryo cannot name it to register it again",
                "let the program remove the registration (epoll_ctl EPOLL_CTL_DEL) when it closes fd " + t.tfd()
                        + ", or keep the file open in this process");
    }

    // ================================================================ restore

    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        EpollEntry e = ctx.record(EpollEntry.class);
        RemoteTask task = ctx.task();
        String who = task.describeFd(ctx.fd());
        int top = ctx.fd().value();
        for (EpollTargetEntry t : e.getTargetsList()) {
            if (task.syscallRaw(Syscall.FCNTL, t.getSourceFd(), F_GETFD) < 0) {
                return RestoreOutcome.RETRY_LATER;
            }
            top = Math.max(top, Math.max(t.getTfd(), t.getSourceFd()));
        }
        long made = task.syscall("epoll_create1(EPOLL_CLOEXEC) for " + who, Syscall.EPOLL_CREATE1, EPOLL_CLOEXEC);
        long ep;
        try {
            // above every number this restore touches, so that no dup3 below lands on it
            ep = task.syscall("fcntl(F_DUPFD_CLOEXEC, " + (top + 1) + ") for " + who, Syscall.FCNTL, made,
                    F_DUPFD_CLOEXEC, top + 1);
        } finally {
            task.syscallRaw(Syscall.CLOSE, made);
        }
        try {
            for (EpollTargetEntry t : e.getTargetsList()) {
                add(task, ep, t, top, who);
            }
            if ((e.getFlags() & O_NONBLOCK) != 0) {
                long fl = task.syscall("fcntl(F_GETFL) for " + who, Syscall.FCNTL, ep, F_GETFL);
                task.syscall("fcntl(F_SETFL, O_NONBLOCK) for " + who, Syscall.FCNTL, ep, F_SETFL, fl | O_NONBLOCK);
            }
            task.syscall("dup3(" + ep + ", " + ctx.fd() + ") for " + who, Syscall.DUP3, ep, ctx.fd().value(),
                    ctx.cloexec() ? O_CLOEXEC : 0);
        } finally {
            task.syscallRaw(Syscall.CLOSE, ep);
        }
        return RestoreOutcome.DONE;
    }

    /** {@code epoll_ctl(ADD)} of one registration under its dumped number {@code tfd}. */
    private static void add(RemoteTask task, long ep, EpollTargetEntry t, int top, String who) throws CryoException {
        // struct epoll_event is packed on x86_64: u32 events, u64 data
        ByteBuffer ev = ByteBuffer.allocateDirect(12).order(ByteOrder.LITTLE_ENDIAN);
        ev.putInt(0, t.getEvents()).putLong(4, t.getData());
        task.writeMemory(task.scratchAddress(), ev);
        String what = "epoll_ctl(EPOLL_CTL_ADD, fd " + t.getTfd() + ", events 0x" + Integer.toHexString(t.getEvents())
                + ", data 0x" + Long.toHexString(t.getData()) + ") for " + who;
        if (t.getSourceFd() == t.getTfd()) {
            task.syscall(what, Syscall.EPOLL_CTL, ep, EPOLL_CTL_ADD, t.getTfd(), task.scratchAddress());
            return;
        }
        // the file is at source_fd now: lend it the number it was registered under
        long occupant = task.syscallRaw(Syscall.FCNTL, t.getTfd(), F_GETFD);
        long saved = -1;
        if (occupant >= 0) {
            saved = task.syscall("fcntl(" + t.getTfd() + ", F_DUPFD_CLOEXEC) to set it aside for " + who,
                    Syscall.FCNTL, t.getTfd(), F_DUPFD_CLOEXEC, top + 1);
        }
        try {
            task.syscall("dup3(" + t.getSourceFd() + ", " + t.getTfd() + ") for " + who, Syscall.DUP3,
                    t.getSourceFd(), t.getTfd(), O_CLOEXEC);
            task.syscall(what + " (the file is at fd " + t.getSourceFd() + " now)", Syscall.EPOLL_CTL, ep,
                    EPOLL_CTL_ADD, t.getTfd(), task.scratchAddress());
        } finally {
            if (saved >= 0) {
                task.syscall("dup3(" + saved + ", " + t.getTfd() + ") to put it back for " + who, Syscall.DUP3, saved,
                        t.getTfd(), (occupant & FD_CLOEXEC) != 0 ? O_CLOEXEC : 0);
                task.syscallRaw(Syscall.CLOSE, saved);
            } else {
                task.syscallRaw(Syscall.CLOSE, t.getTfd());
            }
        }
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(EpollEntry.getDescriptor(), EpollTargetEntry.getDescriptor());
    }
}
