package com.example.cryo.pidfd;

import com.example.cryo.pidfd.proto.PidfdEntry;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.FixedLinkFdHandler;
import dev.cryo.api.Pid;
import dev.cryo.api.PluginOption;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreCheckContext;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.api.Syscall;
import dev.cryo.api.TargetFd;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The {@code example/pidfd} handler: pidfds ({@code pidfd_open(2)}, {@code clone(CLONE_PIDFD)}), the fds through
 * which a process waits for, signals or polls another process without pid-reuse races.
 *
 * <p>Dump: {@link #probe} claims fds whose link is {@code anon_inode:[pidfd]}. {@link #collect} reads the
 * holder's {@code /proc/PID/fdinfo/N}: {@code Pid:} is the process the pidfd refers to. That process must be part
 * of the dumped tree (cryo froze it: {@link TreeMembership}) — restored with the same pid, the pidfd can be
 * reopened on it. A process outside the tree is refused ({@code example-pidfd/OUTSIDE_TREE}) unless
 * {@code --pidfd-outside-tree} is given; its start time is then recorded. Also refused: a pidfd whose process has
 * exited and been reaped ({@code TARGET_EXITED}: nothing is left to refer to), one whose process the dump cannot
 * see ({@code OTHER_PID_NAMESPACE}) and a {@code PIDFD_THREAD} pidfd on a thread of another process
 * ({@code THREAD_OF_OTHER_PROCESS}: that thread does not exist yet when the holder's fds are restored).
 *
 * <p>Restore: {@link #checkRestore}, before any process exists, refuses an image whose outside targets have
 * exited or been replaced by another process with the same pid ({@code TARGET_GONE}). {@link #restore} injects
 * {@code pidfd_open(pid, flags)} into the restored holder — every process of the tree exists by then, with its
 * pid — then {@code dup3} + {@code close} when the kernel chose another fd number, or {@code fcntl(F_SETFD, 0)}
 * when the fd was not close-on-exec (pidfd_open always sets it): one to three injected calls.
 *
 * <p>Threading: the tracer thread only, per the SPI. Stateless.
 */
@Extension
@PluginOption(name = PidfdHandler.OUTSIDE_TREE_OPTION, commands = PluginOption.Command.DUMP,
        help = "Dump a pidfd that refers to a process outside the dumped tree; the restore reopens it on the same "
                + "pid, and is refused if that process has exited or was replaced.")
public final class PidfdHandler extends FixedLinkFdHandler {
    /** The kind written into images, namespaced by vendor. */
    public static final String KIND = "example/pidfd";
    /** The plugin id (pom.xml {@code plugin.id}); error codes start with it. */
    public static final String PLUGIN_ID = "example-pidfd";
    static final String OUTSIDE_TREE_OPTION = "pidfd-outside-tree";
    static final String LINK = "anon_inode:[pidfd]";

    static final int O_NONBLOCK = 04000; // = PIDFD_NONBLOCK
    static final int O_EXCL = 0200; // = PIDFD_THREAD (Linux 6.9)
    static final int O_CLOEXEC = 02000000;
    static final int F_SETFD = 2;

    private final Path procRoot;
    private final TreeMembership tree;

    /** The extension PF4J creates: the real {@code /proc}, and this plugin runs inside cryo's process. */
    public PidfdHandler() {
        this(Path.of("/proc"), ProcessHandle.current().pid());
    }

    PidfdHandler(Path procRoot, long cryoPid) {
        super(KIND, LINK);
        this.procRoot = procRoot;
        this.tree = new TreeMembership(procRoot, cryoPid);
    }

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        RemoteTask task = ctx.task();
        String who = who(task.pid(), task.comm(), fd.fd());
        Path fdinfo = task.procDir().resolve("fdinfo").resolve(fd.fd().toString());
        PidfdFdinfo info;
        try {
            info = PidfdFdinfo.parse(Files.readString(fdinfo, StandardCharsets.UTF_8));
        } catch (IOException | IllegalArgumentException e) {
            throw new CryoException(Category.KERNEL, PLUGIN_ID + "/FDINFO", "dump failed: cannot read the process of "
                    + "the pidfd (" + who + ") from " + fdinfo + ": " + e.getMessage(),
                    "pidfds are dumped on Linux 5.4 and later, whose fdinfo has a Pid: line", e);
        }
        if (info.exited()) {
            throw new CryoException(Category.UNSUPPORTED, PLUGIN_ID + "/TARGET_EXITED", "dump refused: the pidfd ("
                    + who + ") refers to a process that has exited and been reaped; a pidfd on a process that no "
                    + "longer exists cannot be recreated",
                    "let the program close the pidfd once it has reaped the process, then dump again");
        }
        if (info.invisible()) {
            throw new CryoException(Category.UNSUPPORTED, PLUGIN_ID + "/OTHER_PID_NAMESPACE", "dump refused: the "
                    + "pidfd (" + who + ") refers to a process in a pid namespace cryo cannot see");
        }
        Optional<ProcessView> target = ProcessView.read(procRoot, info.pid());
        if (target.isEmpty()) {
            throw new CryoException(Category.UNSUPPORTED, PLUGIN_ID + "/TARGET_EXITED", "dump refused: the pidfd ("
                    + who + ") refers to pid " + info.pid() + ", which exited during the dump",
                    "dump again");
        }
        ProcessView t = target.get();
        int flags = fd.flags() & (O_NONBLOCK | O_EXCL);
        if ((flags & O_EXCL) != 0 && t.isThread() && t.tgid() != task.pid().value()) {
            throw new CryoException(Category.UNSUPPORTED, PLUGIN_ID + "/THREAD_OF_OTHER_PROCESS", "dump refused: the "
                    + "pidfd (" + who + ") refers to " + t.who() + ", a thread of another process; it would not "
                    + "exist yet when the restore reopens the pidfd");
        }
        boolean outside = !tree.inTree(t);
        if (outside && !ctx.config().isSet(OUTSIDE_TREE_OPTION)) {
            throw new CryoException(Category.UNSUPPORTED, PLUGIN_ID + "/OUTSIDE_TREE", "dump refused: the pidfd ("
                    + who + ") refers to " + t.who() + ", which is outside the dumped tree",
                    "pass --" + OUTSIDE_TREE_OPTION + " (or add `" + OUTSIDE_TREE_OPTION + "` to conf/cryo.conf) to "
                            + "dump it anyway: the restore then reopens it on pid " + t.pid() + " if that very "
                            + "process still runs; or dump the tree that contains pid " + t.pid());
        }
        return PidfdEntry.newBuilder()
                .setTargetPid(t.pid())
                .setOpenFlags(flags)
                .setOutsideTree(outside)
                .setTargetStartTime(outside ? t.startTime() : 0)
                .setTargetComm(t.name())
                .build();
    }

    /** Refuses, before any process exists, a restore whose outside targets are gone. */
    @Override
    public void checkRestore(RestoreCheckContext ctx) throws CryoException {
        for (RestoreCheckContext.FdRecord r : ctx.fdRecords()) {
            PidfdEntry e = r.unpack(PidfdEntry.class);
            if (e.getOutsideTree()) {
                checkOutsideTarget(who(r.pid(), r.comm(), r.fd()), e);
            }
        }
    }

    private void checkOutsideTarget(String who, PidfdEntry e) throws CryoException {
        Optional<ProcessView> now = ProcessView.read(procRoot, e.getTargetPid());
        String was = "pid " + e.getTargetPid() + " \"" + e.getTargetComm() + "\"";
        if (now.isEmpty()) {
            throw gone(who, was + " outside the dumped tree, which has exited since the dump");
        }
        if (now.get().startTime() != e.getTargetStartTime()) {
            throw gone(who, was + " outside the dumped tree; pid " + e.getTargetPid() + " is another process now (\""
                    + now.get().name() + "\", started after the dump)");
        }
    }

    private static CryoException gone(String who, String what) {
        return new CryoException(Category.CONFLICT, PLUGIN_ID + "/TARGET_GONE", "restore refused: the pidfd ("
                + who + ") referred to " + what,
                "a pidfd cannot be pointed at another process: restore while the process it referred to runs, or "
                        + "dump again without that pidfd");
    }

    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        RemoteTask task = ctx.task();
        PidfdEntry e = ctx.record(PidfdEntry.class);
        int target = ctx.fd().value();
        String who = who(task.pid(), task.comm(), ctx.fd());
        if (e.getOutsideTree()) {
            checkOutsideTarget(who, e); // again: it may have exited since checkRestore
        }
        String call = "pidfd_open(" + e.getTargetPid() + ", 0" + Integer.toOctalString(e.getOpenFlags()) + ") for "
                + who;
        long opened = task.syscallRaw(Syscall.PIDFD_OPEN, e.getTargetPid(), e.getOpenFlags());
        if (Errno.ESRCH.is(opened)) {
            throw gone(who, "pid " + e.getTargetPid() + " \"" + e.getTargetComm() + "\", which does not exist in the"
                    + " restored tree");
        }
        if (opened < 0) {
            throw CryoException.kernel(PLUGIN_ID + "/PIDFD_OPEN", call, (int) -opened);
        }
        if (opened != target) {
            task.syscall("dup3(" + opened + ", " + target + ") after " + call, Syscall.DUP3, opened, target,
                    ctx.cloexec() ? O_CLOEXEC : 0);
            task.syscall("close(" + opened + ") after dup3 to fd " + target, Syscall.CLOSE, opened);
        } else if (!ctx.cloexec()) {
            task.syscall("fcntl(" + target + ", F_SETFD, 0) after " + call, Syscall.FCNTL, target, F_SETFD, 0);
        }
        return RestoreOutcome.DONE;
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(PidfdEntry.getDescriptor());
    }

    /** @return {@code pid 812 "python3", fd 4} */
    static String who(Pid pid, String comm, TargetFd fd) {
        return "pid " + pid + " \"" + comm + "\", fd " + fd;
    }
}
