package dev.cryo.plugin.inotify;

import com.google.protobuf.ByteString;
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
import dev.cryo.plugin.inotify.proto.InotifyEntry;
import dev.cryo.plugin.inotify.proto.InotifyWatchEntry;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static dev.cryo.api.SyscallFlags.*;

/**
 * The {@code inotify} handler: {@code anon_inode:inotify} with every watch, its mask and <b>the same watch
 * descriptor numbers</b> (programs keep them in tables and compare them with the {@code wd} of each event).
 *
 * <h2>Dump</h2>
 * {@link #collect} first asks {@code ioctl(FIONREAD)} (injected) how many bytes of events wait unread: events
 * cannot be put back into a new instance, so a non-empty queue is refused ({@code inotify/EVENTS_QUEUED}; an event
 * loop reads them within milliseconds, so dumping again works). Then it reads the watches from
 * {@code /proc/PID/fdinfo/N}: wd, inode, device, mask and the file handle the kernel encodes for the inode. For
 * messages and as a fallback, each handle is resolved to a path inside the task: a mount point of the device from
 * {@code /proc/PID/mountinfo} opened read-only (an O_PATH fd is refused as the mount), then
 * {@code open_by_handle_at(O_PATH)}, the link of that fd read, both closed. A handle that leads nowhere ({@code ESTALE}: the file was deleted while watched through an open fd)
 * is refused ({@code inotify/WATCHED_FILE_GONE}); one the task may not resolve ({@code EPERM}: no
 * CAP_DAC_READ_SEARCH) is kept and resolved on restore.
 *
 * <h2>Restore</h2>
 * {@code inotify_init1(IN_NONBLOCK|IN_CLOEXEC)} in the process, then the watches in ascending wd order. The kernel
 * hands out wds increasing from the last one it gave ({@code idr_alloc_cyclic}), so before a watch whose wd is above
 * the next number, a dummy watch on a fresh {@code memfd} is added and removed once per missing number; the real
 * watch is then added with {@code inotify_add_watch(fd, "/proc/self/fd/N", mask)} on the object found by
 * {@code open_by_handle_at} (the restored process is still root at this point), falling back to the dumped path;
 * the wd the kernel returns must be the dumped one. The removals queue IN_IGNORED events: the queue is drained
 * before the instance is handed over (events of the real watches that fire during those milliseconds go with
 * them). Finally O_NONBLOCK as dumped, and {@code dup3} to the fd number with its FD_CLOEXEC.
 *
 * <p>Limits: a gap of more than {@value #MAX_WD_GAP} unused wds below the highest is refused at dump
 * ({@code inotify/WD_GAP}); the cursor of the kernel's allocator is not restored (new watches get the numbers after
 * the highest restored one, not necessarily those the original would have given — never one in use).
 */
@Extension
public final class InotifyHandler extends FixedLinkFdHandler {
    public static final String KIND = "inotify";
    static final String LINK = "anon_inode:inotify";
    static final int MAX_WD_GAP = 65536;
    static final int O_DIRECTORY = 0200000;
    static final int IN_ACCESS = 1;
    private static final int HANDLE_OFFSET = 2048;

    public InotifyHandler() {
        super(KIND, LINK);
    }

    // ================================================================ dump

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        RemoteTask task = ctx.task();
        int n = fd.fd().value();
        String who = task.describeFd(fd.fd());
        Path info = task.procDir().resolve("fdinfo").resolve(Integer.toString(n));
        List<InotifyFdinfo.Watch> watches;
        String mountinfo;
        try {
            watches = InotifyFdinfo.parse(Files.readString(info), info.toString());
            mountinfo = Files.readString(task.procDir().resolve("mountinfo"));
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "inotify/FDINFO", "cannot read " + info + " (" + who + "): "
                    + e.getMessage());
        }
        InotifyEntry.Builder b = InotifyEntry.newBuilder().setFlags(fd.flags());
        for (InotifyFdinfo.Watch w : watches) {
            InotifyWatchEntry.Builder e = InotifyWatchEntry.newBuilder().setWd(w.wd()).setIno(w.ino())
                    .setSdev(w.sdev()).setMask(w.mask()).setIgnoredMask(w.ignoredMask())
                    .setHandleType(w.handleType()).setHandle(ByteString.copyFrom(w.handle()));
            Optional<String> mount = Mounts.mountPoint(mountinfo, w.major(), w.minor());
            mount.ifPresent(e::setMountPath);
            if (mount.isPresent() && w.handle().length > 0) {
                e.setPath(resolveAtDump(task, who, e.build()));
            }
            b.addWatches(e);
        }
        checkWatches(who, b.getWatchesList());
        task.syscall("ioctl(" + who + ", FIONREAD)", Syscall.IOCTL, n, FIONREAD, task.scratchAddress());
        ByteBuffer q = ByteBuffer.allocateDirect(4).order(ByteOrder.LITTLE_ENDIAN);
        task.readMemory(task.scratchAddress(), q);
        int queued = q.getInt(0);
        if (queued > 0) {
            throw eventsQueued(who, queued, b.getWatchesList());
        }
        return b.build();
    }

    /** Refuses what cannot be restored: a watch that cannot be found again, too many wds to skip. */
    static void checkWatches(String who, List<InotifyWatchEntry> watches) throws CryoException {
        for (InotifyWatchEntry w : watches) {
            if (w.getHandle().isEmpty() && w.getPath().isEmpty()) {
                throw new CryoException(Category.UNSUPPORTED, "inotify/NO_HANDLE", "dump refused: the inotify"
                        + " instance " + who + " watches inode " + w.getIno() + " (wd " + w.getWd() + ", device "
                        + (w.getSdev() >>> 20) + ":" + (w.getSdev() & 0xfffff) + ") on a filesystem that gives no"
                        + " file handle, so cryo cannot find it again on restore",
                        "watch files on a filesystem that supports file handles (ext4, xfs, btrfs, tmpfs)");
            }
        }
        int max = watches.isEmpty() ? 0 : watches.get(watches.size() - 1).getWd();
        if (max - watches.size() > MAX_WD_GAP) {
            throw new CryoException(Category.UNSUPPORTED, "inotify/WD_GAP", "dump refused: the inotify instance "
                    + who + " has " + watches.size() + " watches with descriptors up to " + max + "; giving the"
                    + " same numbers back would take " + (max - watches.size()) + " dummy watches (more than "
                    + MAX_WD_GAP + ")", "restart the program's watches (or the program) before dumping");
        }
    }

    static CryoException eventsQueued(String who, int bytes, List<InotifyWatchEntry> watches) {
        StringBuilder list = new StringBuilder();
        for (InotifyWatchEntry w : watches) {
            list.append(list.length() == 0 ? "" : ", ").append("wd ").append(w.getWd()).append(' ')
                    .append(w.getPath().isEmpty() ? "inode " + w.getIno() : w.getPath());
        }
        return new CryoException(Category.UNSUPPORTED, "inotify/EVENTS_QUEUED", "dump refused: the inotify instance "
                + who + " has " + bytes + " bytes of events the program has not read yet (watches: " + list
                + "); events cannot be put back into a restored inotify instance",
                "dump again once the program has read them (an event loop does within milliseconds); if it never"
                        + " reads this fd, stop the activity on the watched files before dumping");
    }

    /** {@code open_by_handle_at} in the frozen task; the path of what it opened, or empty when not permitted. */
    private static String resolveAtDump(RemoteTask task, String who, InotifyWatchEntry w) throws CryoException {
        long obj = openByHandle(task, w);
        if (obj < 0) {
            if (Errno.ESTALE.is(obj) || Errno.ENOENT.is(obj)) {
                throw new CryoException(Category.UNSUPPORTED, "inotify/WATCHED_FILE_GONE", "dump refused: the"
                        + " inotify instance " + who + " watches inode " + w.getIno() + " (wd " + w.getWd() + ") on "
                        + w.getMountPath() + ", which no longer has a name (deleted while open)",
                        "let the program remove that watch (inotify_rm_watch) or close the deleted file before dumping");
            }
            return "";
        }
        try {
            return Files.readSymbolicLink(task.procDir().resolve("fd").resolve(Long.toString(obj))).toString();
        } catch (IOException e) {
            return "";
        } finally {
            task.syscallRaw(Syscall.CLOSE, obj);
        }
    }

    /**
     * Opens the watched object {@code O_PATH} inside the task by its handle, through the mount point.
     *
     * @return the fd in the task, or {@code -errno}
     */
    private static long openByHandle(RemoteTask task, InotifyWatchEntry w) throws CryoException {
        if (w.getHandle().isEmpty() || w.getMountPath().isEmpty()) {
            return -Errno.ENOENT.number();
        }
        long path = task.putScratchString(0, w.getMountPath());
        // not O_PATH: open_by_handle_at takes no O_PATH fd as the mount (EBADF)
        long mnt = task.syscallRaw(Syscall.OPENAT, AT_FDCWD, path, O_DIRECTORY | O_CLOEXEC, 0);
        if (mnt < 0) {
            return mnt;
        }
        try {
            byte[] h = w.getHandle().toByteArray();
            ByteBuffer fh = ByteBuffer.allocateDirect(8 + h.length).order(ByteOrder.LITTLE_ENDIAN);
            fh.putInt(0, h.length).putInt(4, w.getHandleType()).put(8, h);
            task.writeMemory(task.scratchAddress() + HANDLE_OFFSET, fh);
            return task.syscallRaw(Syscall.OPEN_BY_HANDLE_AT, mnt, task.scratchAddress() + HANDLE_OFFSET,
                    O_PATH | O_CLOEXEC);
        } finally {
            task.syscallRaw(Syscall.CLOSE, mnt);
        }
    }

    // ================================================================ restore

    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        InotifyEntry e = ctx.record(InotifyEntry.class);
        RemoteTask task = ctx.task();
        String who = task.describeFd(ctx.fd());
        long ifd = task.syscall("inotify_init1(IN_NONBLOCK|IN_CLOEXEC) for " + who, Syscall.INOTIFY_INIT1,
                O_NONBLOCK | O_CLOEXEC);
        long dummy = -1;
        try {
            int next = 1;
            for (InotifyWatchEntry w : e.getWatchesList()) {
                if (w.getWd() > next && dummy < 0) {
                    long name = task.putScratchString(0, "cryo-inotify-wd");
                    dummy = task.syscall("memfd_create(cryo-inotify-wd) for " + who, Syscall.MEMFD_CREATE, name,
                            MFD_CLOEXEC);
                }
                while (next < w.getWd()) {
                    long path = task.putScratchString(0, "/proc/self/fd/" + dummy);
                    long d = task.syscall("inotify_add_watch(" + who + ", dummy, to skip wd " + next + ")",
                            Syscall.INOTIFY_ADD_WATCH, ifd, path, IN_ACCESS);
                    task.syscall("inotify_rm_watch(" + who + ", dummy wd " + d + ")", Syscall.INOTIFY_RM_WATCH, ifd, d);
                    next = (int) d + 1;
                }
                long got = addWatch(task, ifd, w, who);
                if (got != w.getWd()) {
                    throw new CryoException(Category.INTERNAL, "inotify/WD_MISMATCH", "restore failed: " + who
                            + ": the watch on " + describe(w) + " was given wd " + got + " instead of " + w.getWd());
                }
                next = w.getWd() + 1;
            }
            if (dummy >= 0) {
                // before the dup3 below: it may hold the very number the instance goes to
                task.syscallRaw(Syscall.CLOSE, dummy);
                dummy = -1;
            }
            drain(task, ifd, who);
            if ((e.getFlags() & O_NONBLOCK) == 0) {
                long fl = task.syscall("fcntl(F_GETFL) for " + who, Syscall.FCNTL, ifd, F_GETFL);
                task.syscall("fcntl(F_SETFL) for " + who, Syscall.FCNTL, ifd, F_SETFL, fl & ~O_NONBLOCK);
            }
            if (ifd != ctx.fd().value()) {
                task.syscall("dup3(" + ifd + ", " + ctx.fd() + ") for " + who, Syscall.DUP3, ifd, ctx.fd().value(),
                        ctx.cloexec() ? O_CLOEXEC : 0);
            } else {
                task.syscall("fcntl(F_SETFD) for " + who, Syscall.FCNTL, ifd, F_SETFD, ctx.cloexec() ? 1 : 0);
            }
        } finally {
            if (dummy >= 0) {
                task.syscallRaw(Syscall.CLOSE, dummy);
            }
            if (ifd != ctx.fd().value()) {
                task.syscallRaw(Syscall.CLOSE, ifd);
            }
        }
        return RestoreOutcome.DONE;
    }

    /** Adds one watch on the object found by handle, else by the dumped path; returns the wd. */
    private static long addWatch(RemoteTask task, long ifd, InotifyWatchEntry w, String who) throws CryoException {
        long obj = openByHandle(task, w);
        String target;
        if (obj >= 0) {
            target = "/proc/self/fd/" + obj;
        } else if (!w.getPath().isEmpty() && Files.exists(Path.of(w.getPath()))) {
            target = w.getPath();
        } else {
            throw new CryoException(Category.CONFLICT, "inotify/WATCHED_FILE_MISSING", "restore failed: " + who
                    + " watched " + describe(w) + " (wd " + w.getWd() + "), which cannot be found again: "
                    + "open_by_handle_at through " + (w.getMountPath().isEmpty() ? "(no mount point)" : w.getMountPath())
                    + " failed with " + Errno.describe((int) -obj)
                    + (w.getPath().isEmpty() ? "" : " and " + w.getPath() + " does not exist"),
                    "restore where the watched file exists (the same filesystem, not recreated)");
        }
        try {
            long path = task.putScratchString(0, target);
            return task.syscall("inotify_add_watch(" + who + ", " + describe(w) + ", mask 0x"
                    + Integer.toHexString(w.getMask()) + ")", Syscall.INOTIFY_ADD_WATCH, ifd, path, w.getMask());
        } finally {
            if (obj >= 0) {
                task.syscallRaw(Syscall.CLOSE, obj);
            }
        }
    }

    /** Reads and drops what the dummy removals queued (IN_IGNORED events). */
    private static void drain(RemoteTask task, long ifd, String who) throws CryoException {
        for (int i = 0; i < 1_000_000; i++) {
            long r = task.syscallRaw(Syscall.READ, ifd, task.scratchAddress(), task.scratchSize());
            if (r <= 0) {
                if (r == 0 || Errno.EAGAIN.is(r)) {
                    return;
                }
                throw CryoException.kernel("inotify/DRAIN", "read(" + who + ") to drop the dummy watches' events",
                        (int) -r);
            }
        }
    }

    private static String describe(InotifyWatchEntry w) {
        return w.getPath().isEmpty() ? "inode " + w.getIno() + " on " + w.getMountPath() : w.getPath();
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(InotifyEntry.getDescriptor(), InotifyWatchEntry.getDescriptor());
    }
}
