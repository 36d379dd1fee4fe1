package dev.cryo.plugin.regularfile;

import dev.cryo.api.Syscall;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdHandler;
import dev.cryo.api.PluginOption;
import dev.cryo.api.RestoreCheckContext;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.GhostFiles;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.ObjectDumpContext;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.plugin.regularfile.proto.RegularFileEntry;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import static dev.cryo.plugin.regularfile.FileSyscalls.*;

/**
 * The {@code regular-file} handler: fds on regular files, directories (opendir) and well-known character
 * devices, reopened by path at restore with the dumped flags and position.
 *
 * <p>Dump: {@link #probe} claims regular files, directories, O_PATH fds on symbolic links (reopened with
 * O_PATH|O_NOFOLLOW) and the character devices {@code /dev/null},
 * {@code /dev/zero}, {@code /dev/full}, {@code /dev/random}, {@code /dev/urandom}, {@code /dev/console},
 * {@code /dev/tty*} and {@code /dev/pts/N}; {@link #collect} refuses a terminal ({@code regular-file/TTY}: reopened
 * by path it could belong to another session at restore), an unlinked directory or device
 * ({@code regular-file/DELETED_FILE}) and a memfd (the {@code memory} plugin's, {@code regular-file/MEMFD}).
 *
 * <p>Ghost files: an unlinked regular file held as an fd has its content saved into the object table, once per
 * file, up to {@code ghost-limit} bytes ({@link GhostFileDump}); at restore it is recreated in its directory under
 * a temporary name, opened by every fd that held it (and mapped by the {@code memory} plugin, which follows the same
 * {@link GhostFiles} convention), and unlinked in {@link #postRestore} while every process is still stopped
 * ({@link GhostFileRestore}).
 *
 * <p>Restore: {@link #checkRestore} checks every file before any process exists, and {@link #restore} again just
 * before opening it ({@link FileCheck}: missing file, changed type, changed size unless
 * {@code skip-file-size-check}); then inside the task {@code openat}, {@code dup3}+{@code close} when the kernel
 * chose another number, {@code lseek} when the position is not 0 — one to four injected calls. fds that shared an
 * open file description at dump (dup, fork) share it again: core restores them as duplicates of the first.
 *
 * <p>Threading: the tracer thread only, per the SPI. One instance serves one command; it keeps the ghost files of
 * that dump or restore, and is also this plugin's {@link LifecycleListener} (which unlinks them).
 */
@Extension
@PluginOption(name = RegularFileHandler.SKIP_SIZE_CHECK, commands = PluginOption.Command.RESTORE,
        help = "Restore open files (and file mappings) even when their size changed since the dump.")
@PluginOption(name = GhostLimit.OPTION, shape = PluginOption.Shape.VALUE, valueHint = "SIZE",
        valuePattern = GhostLimit.PATTERN, defaultValue = GhostLimit.DEFAULT, commands = PluginOption.Command.DUMP,
        help = "Save the content of unlinked files held open up to SIZE bytes each (K, M, G suffixes; default 1M); "
                + "a larger one makes the dump refuse.")
public final class RegularFileHandler implements FdHandler, LifecycleListener {
    /** The kind written into images; also the plugin id. */
    public static final String KIND = "regular-file";
    static final String SKIP_SIZE_CHECK = "skip-file-size-check";
    /** Core's option (CRIU's -j): accept terminals at dump, give the tree cryo's terminal at restore. */
    static final String SHELL_JOB = "shell-job";
    static final String DELETED = GhostFiles.DELETED;
    static final String MEMFD_PREFIX = "/memfd:";

    private static final Set<String> CHAR_DEVICES =
            Set.of("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/console", "/dev/tty");
    /** /dev/tty1, /dev/ttyS0, /dev/ttyUSB0...; /dev/pts/3. Not /dev/ptmx or /dev/pts/ptmx (a new pty each open). */
    private static final Pattern TTYS = Pattern.compile("/dev/tty[A-Za-z]*[0-9]+|/dev/pts/[0-9]+");

    private final GhostFileDump ghosts = new GhostFileDump();
    private final GhostFileRestore ghostRestore = new GhostFileRestore();

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public boolean probe(FdInfo fd) {
        if (fd.isRegular() || fd.isDirectory() || isSymlinkPath(fd)) {
            return true;
        }
        return fd.isCharDevice() && isKnownCharDevice(stripDeleted(fd.link()));
    }

    /** An O_PATH|O_NOFOLLOW fd on a symbolic link itself (the only way to hold one). */
    static boolean isSymlinkPath(FdInfo fd) {
        return (fd.mode() & FdInfo.S_IFMT) == OpenFlags.S_IFLNK && (fd.flags() & OpenFlags.O_PATH) != 0;
    }

    /** @return whether {@code path} names a terminal ({@code /dev/tty}, {@code /dev/ttyS0}, {@code /dev/pts/3}...) */
    private static boolean isTerminal(String path) {
        // the prefix first: /dev/null and the like skip the regex (asked of every character device fd of a dump)
        return (path.startsWith("/dev/tty") || path.startsWith("/dev/pts/"))
                && (path.equals("/dev/tty") || TTYS.matcher(path).matches());
    }

    static boolean isKnownCharDevice(String path) {
        return CHAR_DEVICES.contains(path) || TTYS.matcher(path).matches();
    }

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        RemoteTask task = ctx.task();
        String path = stripDeleted(fd.link());
        if (fd.isCharDevice() && isTerminal(path)) {
            if (ctx.config().isSet(SHELL_JOB)) {
                return entryOf(task.pid(), task.comm(), fd).toBuilder().setTerminal(true).build();
            }
            throw new CryoException(CryoException.Category.UNSUPPORTED, "regular-file/TTY", "dump refused: pid "
                    + task.pid() + " \"" + task.comm() + "\" fd " + fd.fd() + " is the terminal " + path + "; reopened"
                    + " by path on restore it could belong to another session by then, so terminals are not dumped",
                    "pass -j (--shell-job) on dump and restore: the restored tree gets the terminal cryo restore runs"
                            + " on; or start the program detached, e.g. `setsid PROG </dev/null >LOG 2>&1 &`");
        }
        if (fd.isRegular() && GhostFiles.isDeleted(fd.link()) && !path.startsWith(MEMFD_PREFIX)) {
            long limit = GhostLimit.parse(ctx.config().value(GhostLimit.OPTION).orElse(GhostLimit.DEFAULT));
            GhostFileDump.Owner owner = ghosts.collect(task, fd, limit);
            return ghostEntryOf(fd, owner);
        }
        return entryOf(task.pid(), task.comm(), fd);
    }

    static RegularFileEntry ghostEntryOf(FdInfo fd, GhostFileDump.Owner owner) {
        return fileEntry(GhostFiles.originalPath(fd.link()), fd)
                .setGhost(true)
                .setUid(owner.uid())
                .setGid(owner.gid())
                .build();
    }

    /**
     * What the record of every claimed fd holds, ghost file or not: the path, the open flags worth recording, the
     * position, and the size, mtime, device, inode and mode the restore checks the file against.
     */
    private static RegularFileEntry.Builder fileEntry(String path, FdInfo fd) {
        return RegularFileEntry.newBuilder()
                .setPath(path)
                .setFlags(OpenFlags.recorded(fd.flags()))
                .setPos(fd.pos())
                .setSize(fd.size())
                .setMtimeNs(fd.mtimeNs())
                .setDev(fd.dev())
                .setInode(fd.inode())
                .setMode(fd.mode());
    }

    /** Writes the content of the ghost files the fds held. */
    @Override
    public void dumpObjects(ObjectDumpContext ctx) throws CryoException {
        ghosts.write(ctx.objects());
    }

    @Override
    public void preDump(LifecycleEvent event) {
        ghosts.reset();
    }

    @Override
    public void preRestore(LifecycleEvent event) {
        ghostRestore.unlinkAll();
    }

    /** Every process is rebuilt and still stopped: the ghost files lose their temporary names. */
    @Override
    public void postRestore(LifecycleEvent event) {
        ghostRestore.unlinkAll();
    }

    @Override
    public void finishRestore() {
        ghostRestore.unlinkAll();
    }

    /** Refuses, before any process exists, a restore whose files are gone or changed (unless the option says). */
    @Override
    public void checkRestore(RestoreCheckContext ctx) throws CryoException {
        boolean skip = ctx.config().isSet(SKIP_SIZE_CHECK);
        for (RestoreCheckContext.FdRecord r : ctx.fdRecords()) {
            RegularFileEntry e = r.unpack(RegularFileEntry.class);
            String who = "pid " + r.pid() + " \"" + r.comm() + "\" fd " + r.fd();
            if (e.getTerminal()) {
                ownTerminal(who, e, ctx.config().isSet(SHELL_JOB));
            } else if (e.getGhost()) {
                GhostFileRestore.check(who, e);
                ghostRestore.noteTmpfile(e);
            } else {
                check(who, e, skip);
            }
        }
    }

    private static void check(String who, RegularFileEntry e, boolean skipSizeCheck) throws CryoException {
        Optional<FileCheck.FileState> now;
        try {
            now = FileCheck.FileState.of(Path.of(e.getPath()), (e.getMode() & FdInfo.S_IFMT) == OpenFlags.S_IFLNK);
        } catch (IOException | RuntimeException ex) {
            throw new CryoException(CryoException.Category.KERNEL, "regular-file/STAT_FAILED",
                    "restore failed: stat of " + e.getPath() + " for " + who + " failed: " + ex, null, ex);
        }
        FileCheck.check(who, e, now, skipSizeCheck);
    }

    /** The record of one claimed fd that is not a ghost file; refuses other unlinked files. */
    static RegularFileEntry entryOf(Pid pid, String comm, FdInfo fd) throws CryoException {
        String path = stripDeleted(fd.link());
        if (path.startsWith(MEMFD_PREFIX)) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "regular-file/MEMFD",
                    "dump refused: pid " + pid + " \"" + comm + "\" fd " + fd.fd() + " is the memfd "
                            + path.substring(1) + "; memfds are dumped by the memory plugin, which did not claim it",
                    "enable the 'memory' plugin (remove it from plugins.disabled)");
        }
        if (fd.link().endsWith(DELETED)) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "regular-file/DELETED_FILE",
                    "dump refused: pid " + pid + " \"" + comm + "\" fd " + fd.fd() + " is open on " + path
                            + ", a " + fd.typeName() + " that was deleted; only unlinked regular files are saved",
                    "keep " + path + " linked until after the dump, then dump again");
        }
        return fileEntry(fd.link(), fd)
                .setCharDevice(fd.isCharDevice())
                .setRdev(fd.rdev())
                .build();
    }

    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        RemoteTask task = ctx.task();
        RegularFileEntry e = ctx.record(RegularFileEntry.class);
        int target = ctx.fd().value();
        String who = task.describeFd(ctx.fd());

        boolean cloexec = ctx.cloexec();
        int flags = OpenFlags.forOpen(e.getFlags(), cloexec, e.getCharDevice());
        String path = e.getPath();
        boolean newTmpfile = false;
        if (e.getTerminal()) {
            path = ownTerminal(who, e, ctx.config().isSet(SHELL_JOB));
        } else if (e.getGhost() && ghostRestore.isTmpfile(e) && !Files.exists(GhostFiles.restorePath(e.getPath(),
                e.getInode()), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            // (when a mapping of it was restored first, the memory plugin made it with a name: that one is used)
            Optional<Path> holder = ghostRestore.tmpfileHolder(e);
            newTmpfile = holder.isEmpty();
            if (holder.isPresent()) {
                path = holder.get().toString();
                flags = OpenFlags.forReopen(e.getFlags(), cloexec);
            }
        } else if (e.getGhost()) {
            path = ghostRestore.prepare(who, e, ctx.objects()).toString();
            if (OpenFlags.isTmpfile(e.getFlags())) {
                flags = OpenFlags.forReopen(e.getFlags(), cloexec); // the named copy, not a new O_TMPFILE file
            }
        } else {
            check(who, e, ctx.config().isSet(SKIP_SIZE_CHECK)); // again: the file may have changed since checkRestore
        }
        if ((e.getMode() & FdInfo.S_IFMT) == OpenFlags.S_IFLNK) {
            flags |= OpenFlags.O_NOFOLLOW; // the link itself, never what it points to
        }
        long opened;
        if (newTmpfile && OpenFlags.isTmpfile(flags) && (flags & OpenFlags.O_ACCMODE) != OpenFlags.O_RDONLY) {
            opened = ghostRestore.createTmpfile(who, task, e, flags, ctx.objects()); // as the program made it
        } else if (newTmpfile) {
            // a reopen (or a read-only fd) of a file made with O_TMPFILE: made read-write, then reopened as it was
            long made = ghostRestore.createTmpfile(who, task, e, OpenFlags.O_TMPFILE | OpenFlags.O_RDWR
                    | OpenFlags.O_CLOEXEC, ctx.objects());
            String link = "/proc/" + task.pid() + "/fd/" + made;
            flags = OpenFlags.forReopen(e.getFlags(), cloexec);
            opened = task.syscall("openat(" + link + ", 0" + Integer.toOctalString(flags) + ") for fd " + target,
                    Syscall.OPENAT, AT_FDCWD, task.putScratchString(0, link), flags, 0);
            task.syscall("close(" + made + ") after reopening it as fd " + opened, Syscall.CLOSE, made);
        } else {
            long addr = task.putScratchString(0, path);
            opened = task.syscall("openat(" + path + ", 0" + Integer.toOctalString(flags) + ") for fd " + target,
                    Syscall.OPENAT, AT_FDCWD, addr, flags, 0);
        }
        if (opened != target) {
            task.syscall("dup3(" + opened + ", " + target + ") for " + e.getPath(), Syscall.DUP3, opened, target,
                    cloexec ? OpenFlags.O_CLOEXEC : 0);
            task.syscall("close(" + opened + ") after dup3 to fd " + target, Syscall.CLOSE, opened);
        }
        if (newTmpfile) {
            ghostRestore.tmpfileMade(task, e, target);
        }
        if (OpenFlags.needsSeek(e.getFlags(), e.getCharDevice(), e.getPos())) {
            task.syscall("lseek(fd " + target + " " + e.getPath() + ", " + e.getPos() + ", SEEK_SET)", Syscall.LSEEK,
                    target, e.getPos(), SEEK_SET);
        }
        return RestoreOutcome.DONE;
    }

    /**
     * The terminal a --shell-job restore gives the tree in place of the one it had: the one on cryo's own stdin,
     * stdout or stderr (the first that is a terminal), as CRIU does.
     *
     * @return its path, e.g. {@code /dev/pts/4}
     * @throws CryoException without --shell-job, or when cryo runs without a terminal
     */
    static String ownTerminal(String who, RegularFileEntry e, boolean shellJob) throws CryoException {
        if (!shellJob) {
            throw new CryoException(CryoException.Category.USAGE, "regular-file/TTY", "restore refused: " + who
                    + " was the terminal " + e.getPath() + " (dumped with --shell-job)",
                    "pass -j (--shell-job) to cryo restore too: the restored tree then gets the terminal cryo restore"
                            + " runs on");
        }
        for (int fd = 0; fd <= 2; fd++) {
            try {
                String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
                if (TTYS.matcher(link).matches() || link.equals("/dev/console")) {
                    return link;
                }
            } catch (IOException | RuntimeException ex) {
                // not open, or not a link: try the next
            }
        }
        throw new CryoException(CryoException.Category.USAGE, "regular-file/NO_TERMINAL", "restore refused: " + who
                + " was the terminal " + e.getPath() + " (dumped with --shell-job), and cryo restore runs without a"
                + " terminal on its stdin, stdout or stderr to give it",
                "run cryo restore -j from a terminal (or under `script`), or dump without -j");
    }

    private static String stripDeleted(String link) {
        return link.endsWith(DELETED) ? link.substring(0, link.length() - DELETED.length()) : link;
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(RegularFileEntry.getDescriptor());
    }
}
