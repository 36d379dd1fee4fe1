package dev.cryo.plugin.tty;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdHolder;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.HostKernel;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.LocalFd;
import dev.cryo.api.ObjectDumpContext;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreCheckContext;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.api.Syscall;
import dev.cryo.plugin.tty.proto.PtyEntry;
import dev.cryo.plugin.tty.proto.PtyFdEntry;
import dev.cryo.plugin.tty.proto.PtyInputLine;
import org.pf4j.Extension;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.HashSet;
import java.util.OptionalInt;
import java.util.TreeMap;

import static dev.cryo.api.SyscallFlags.*;
import static dev.cryo.plugin.tty.TtyIoctls.*;

/**
 * The {@code tty} handler: unix98 pseudo-terminal pairs whose master the dumped tree holds (a tmux server and its
 * panes, sshd and a session, {@code script}), as CRIU's {@code tty.c} keeps them.
 *
 * <p>Which fds: every master ({@code /dev/ptmx}, {@code /dev/pts/ptmx}); a slave {@code /dev/pts/N} when the tree
 * also holds its master, or when {@code --shell-job} is not given (to refuse it with this plugin's message). A slave
 * whose master is outside the tree with {@code --shell-job} is declined and stays the {@code regular-file} plugin's
 * (the restored tree gets the terminal {@code cryo restore} runs on). Priority -10: before {@code regular-file},
 * which claims every {@code /dev/pts/N}. The tree's ptys are read from {@code /proc} once it is frozen
 * ({@link TreePtys}), when the first pty fd is probed (root from {@link #postFreeze}).
 *
 * <p>Dump: per master fd, the index (fdinfo {@code tty-index:}), and on a {@code pidfd_getfd} duplicate in cryo's
 * own process: termios ({@code TCGETS2}), window size ({@code TIOCGWINSZ}), lock ({@code TIOCGPTLCK}), packet mode
 * ({@code TIOCGPKT}), the foreground group ({@code TIOCGPGRP}); per slave fd, exclusive mode ({@code TIOCGEXCL}).
 * The session that has the slave as its controlling terminal is the one whose processes' {@code tty_nr} names it.
 * Data queued in the pty (output the master has not read; input, including a partial canonical line, the program
 * on the slave has not read) is taken and put straight back, and kept in the image ({@link PtyQueues}); refused
 * ({@code tty/QUEUED_DATA}) only where it cannot be kept (packet mode). Refused too: a
 * master whose slave a process outside the tree holds ({@code tty/EXTERNAL_SLAVE}), a slave whose master is outside
 * without {@code --shell-job} ({@code tty/EXTERNAL_MASTER}), and a controlling terminal the restore could not give
 * back ({@code tty/CTTY}, {@link #checkControllingTerminal}).
 *
 * <p>Restore: {@link #checkRestore} refuses an index in use on the host ({@code /dev/pts/N} exists,
 * {@code tty/INDEX_TAKEN}) before any process exists. {@link #preRestore} creates every pair in cryo's own process
 * before any process exists: {@code /dev/ptmx} opened again and again until {@code TIOCGPTN} gives the index (the
 * kernel hands out the lowest free one; the others are closed), unlocked, termios ({@code TCSETS2}), window size and
 * packet mode set on the master, the queued data put back. Holding the master is what tells core that a session leader may take
 * {@code /dev/pts/N} as its controlling terminal again while it creates the tree (core's
 * {@code ControllingTerminal}), so that the jobs forked after it inherit it. Each open file description of a slave
 * is {@code /dev/pts/N} opened again (always {@code O_NOCTTY}); each fd is installed with {@code pushFd}. In the
 * session leader, through the slave fd recorded with {@code ctty}, {@code TIOCSCTTY} (a no-op when core gave it the
 * terminal already) and {@code TIOCSPGRP} are injected. {@link #postRestore} locks the pair again
 * and sets exclusive mode where they were set; {@link #finishRestore} closes cryo's copies.
 *
 * <p>Threading: the tracer thread only. One instance serves one command and is also the plugin's
 * {@link LifecycleListener}.
 */
@Extension
public final class PtyHandler implements FdHandler, LifecycleListener {
    /** The kind written into images; also the plugin id. */
    public static final String KIND = "tty";
    /** Core's option (CRIU's -j). */
    static final String SHELL_JOB = "shell-job";

    private TreePtys tree;
    private int root;
    private boolean shellJob;
    private final Map<Integer, PtyEntry.Builder> dumped = new TreeMap<>();
    private final Set<Integer> queuesTaken = new HashSet<>();

    private final Map<Integer, PtyEntry> images = new LinkedHashMap<>();
    private final Map<Integer, LocalFd> pairs = new LinkedHashMap<>();
    /** Slave fds cryo opened to put the queued input back, kept until the restored processes hold theirs. */
    private final List<LocalFd> peers = new ArrayList<>();

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public int priority() {
        return -10;
    }

    @Override
    public void preDump(LifecycleEvent event) {
        tree = null;
        root = 0;
        dumped.clear();
        queuesTaken.clear();
    }

    /** The tree is frozen: remember its root; its ptys are read when the first pty fd is probed (most trees have none). */
    @Override
    public void postFreeze(LifecycleEvent event) {
        shellJob = event.config().isSet(SHELL_JOB);
        root = event.root().value();
        tree = null;
    }

    /** @return the frozen tree's ptys, read from /proc on first use; null before postFreeze */
    private TreePtys tree() {
        if (tree == null && root > 0) {
            tree = TreePtys.scan(Path.of("/proc"), root);
        }
        return tree;
    }

    @Override
    public boolean probe(FdInfo fd) {
        if (!fd.isCharDevice()) {
            return false;
        }
        if (TreePtys.isMasterLink(fd.link())) {
            tree();
            return true;
        }
        OptionalInt slave = TreePtys.slaveIndex(fd.link());
        if (slave.isEmpty() || tree() == null) {
            return false;
        }
        return tree.holdsMaster(slave.getAsInt()) || !shellJob;
    }

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        RemoteTask task = ctx.task();
        String who = "pid " + task.pid() + " \"" + task.comm() + "\" fd " + fd.fd();
        if (tree == null) {
            throw new CryoException(Category.INTERNAL, "tty/NO_TREE", "dump: " + who + " is a pseudo-terminal, but"
                    + " the tty plugin was not told of the frozen tree (postFreeze was not called)");
        }
        int flags = fd.flags() & KEPT_FLAGS;
        if (TreePtys.isMasterLink(fd.link())) {
            return collectMaster(ctx, fd, who, flags);
        }
        int index = TreePtys.slaveIndex(fd.link()).orElseThrow();
        if (!tree.holdsMaster(index)) {
            throw externalMaster(ctx.kernel(), who, index);
        }
        try (LocalFd local = task.pullFd(fd.fd())) {
            TtyIoctls io = new TtyIoctls(ctx.kernel().self());
            boolean exclusive = io.getInt("ioctl(" + fd.link() + ", TIOCGEXCL) of " + who, local, TIOCGEXCL) != 0;
            if (exclusive) {
                pty(index).setExclusive(true);
            }
        }
        int pid = task.pid().value();
        TreePtys.Proc p = tree.procs.get(pid);
        boolean ctty = p != null && p.session() == pid && p.cttyIndex() == index
                && tree.firstSlaveFd(pid, index) == fd.fd().value();
        return PtyFdEntry.newBuilder().setIndex(index).setFlags(flags).setPath(fd.link()).setCtty(ctty).build();
    }

    private Message collectMaster(FdDumpContext ctx, FdInfo fd, String who, int flags) throws CryoException {
        RemoteTask task = ctx.task();
        OptionalInt idx = TreePtys.masterIndex(task.procDir().resolve("fdinfo/" + fd.fd().value()));
        TtyIoctls io = new TtyIoctls(ctx.kernel().self());
        try (LocalFd local = task.pullFd(fd.fd())) {
            int index = idx.isPresent() ? idx.getAsInt() : io.getInt("ioctl(" + fd.link() + ", TIOCGPTN) of " + who,
                    local, TIOCGPTN);
            List<String> outside = new ArrayList<>();
            for (FdHolder h : ctx.kernel().holders("/dev/pts/" + index)) {
                if (!tree.procs.containsKey(h.pid().value())) {
                    outside.add(h.toString());
                }
            }
            if (!outside.isEmpty()) {
                throw new CryoException(Category.UNSUPPORTED, "tty/EXTERNAL_SLAVE", "dump refused: " + who + " is the"
                        + " pseudo-terminal master of /dev/pts/" + index + ", whose slave is held outside the dumped"
                        + " tree by " + String.join(", ", outside),
                        "dump the tree that holds both sides (a common ancestor of " + who.substring(0,
                                who.indexOf(" fd")) + " and " + outside.get(0).substring(0, outside.get(0)
                                .indexOf(" fd")) + "), or end the program on /dev/pts/" + index + " first");
            }
            byte[] termios = io.getBytes("ioctl(/dev/ptmx, TCGETS2) of " + who, local, TCGETS2, TERMIOS2_SIZE);
            byte[] ws = io.getBytes("ioctl(/dev/ptmx, TIOCGWINSZ) of " + who, local, TIOCGWINSZ, 8);
            boolean locked = io.getInt("ioctl(/dev/ptmx, TIOCGPTLCK) of " + who, local, TIOCGPTLCK) != 0;
            boolean packet = io.getInt("ioctl(/dev/ptmx, TIOCGPKT) of " + who, local, TIOCGPKT) != 0;
            if (queuesTaken.add(index)) {
                PtyQueues.Queued q = new PtyQueues(ctx.kernel().self()).take(local, index, termios, packet, locked,
                        tree.slaves.containsKey(index), who);
                PtyEntry.Builder e = pty(index);
                for (PtyQueues.Line l : q.lines()) {
                    e.addInputLines(PtyInputLine.newBuilder().setData(ByteString.copyFrom(l.data())).setEof(l.eof()));
                }
                e.setInput(ByteString.copyFrom(q.input())).setOutput(ByteString.copyFrom(q.output()));
            }
            int fg = io.getInt("ioctl(/dev/ptmx, TIOCGPGRP) of " + who, local, TIOCGPGRP);
            int session = tree.procs.values().stream().filter(p -> p.cttyIndex() == index)
                    .mapToInt(TreePtys.Proc::session).findFirst().orElse(0);
            PtyEntry.Builder b = pty(index);
            b.setTermios2(ByteString.copyFrom(termios)).setIflag(le32(termios, 0)).setOflag(le32(termios, 4))
                    .setCflag(le32(termios, 8)).setLflag(le32(termios, 12))
                    .setRows(le16(ws, 0)).setCols(le16(ws, 2)).setXpixel(le16(ws, 4)).setYpixel(le16(ws, 6))
                    .setLocked(locked).setPacket(packet).setSession(session).setForegroundPgrp(Math.max(fg, 0))
                    .setMasterFlags(flags);
            return PtyFdEntry.newBuilder().setIndex(index).setMaster(true).setFlags(flags).setPath(fd.link())
                    .build();
        }
    }

    private static PtyQueues.Queued queued(PtyEntry pty) {
        List<PtyQueues.Line> lines = new ArrayList<>();
        for (PtyInputLine l : pty.getInputLinesList()) {
            lines.add(new PtyQueues.Line(l.getData().toByteArray(), l.getEof()));
        }
        return new PtyQueues.Queued(lines, pty.getInput().toByteArray(), pty.getOutput().toByteArray());
    }

    private PtyEntry.Builder pty(int index) {
        return dumped.computeIfAbsent(index, i -> PtyEntry.newBuilder().setIndex(i));
    }

    static CryoException queued(String who, int index, int bytes, String what) {
        return new CryoException(Category.UNSUPPORTED, "tty/QUEUED_DATA", "dump refused: " + who + " is on the"
                + " pseudo-terminal /dev/pts/" + index + ", which holds " + bytes + " bytes " + what + "; cryo keeps"
                + " the data queued in a pseudo-terminal, but not this way: it would be lost or changed",
                "dump again once the terminal is idle (its programs have read what is pending)");
    }

    private CryoException externalMaster(HostKernel kernel, String who, int index) throws CryoException {
        List<String> masters = masterHolders(kernel, index);
        String holder = masters.isEmpty() ? "a process cryo cannot see (another pid or mount namespace)"
                : String.join(", ", masters);
        return new CryoException(Category.UNSUPPORTED, "tty/EXTERNAL_MASTER", "dump refused: " + who + " is the"
                + " slave /dev/pts/" + index + " of a pseudo-terminal whose master is outside the dumped tree (held"
                + " by " + holder + ")",
                "pass -j (--shell-job) on dump and restore: the restored tree gets the terminal cryo restore runs on;"
                        + " or dump the tree that holds the pseudo-terminal master too; or start the program"
                        + " detached, e.g. `setsid PROG </dev/null >LOG 2>&1 &`");
    }

    /** @return the fds on the host on the master of pty {@code index} (fdinfo {@code tty-index}), for messages */
    private static List<String> masterHolders(HostKernel kernel, int index) throws CryoException {
        List<String> masters = new ArrayList<>();
        for (String link : List.of("/dev/ptmx", "/dev/pts/ptmx")) {
            for (FdHolder h : kernel.holders(link)) {
                Path info = Path.of("/proc/" + h.pid() + "/fdinfo/" + h.fd());
                OptionalInt i = TreePtys.masterIndex(info);
                if (i.isPresent() && i.getAsInt() == index) {
                    masters.add(h + " (master)");
                }
            }
        }
        return masters;
    }

    /** Writes one PtyEntry per pair; refuses controlling terminals the restore could not give back. */
    @Override
    public void dumpObjects(ObjectDumpContext ctx) throws CryoException {
        if (tree != null) {
            for (TreePtys.Proc p : tree.procs.values()) {
                checkControllingTerminal(p);
            }
        }
        for (PtyEntry.Builder b : dumped.values()) {
            if (b.getTermios2().isEmpty()) {
                continue; // a slave's record only: its master was collected too (holdsMaster), so this cannot be
            }
            ctx.objects().write(b.build());
        }
    }

    /**
     * At restore core forks every process of a session from its parent, and the leader takes the recreated pty as its
     * controlling terminal after forking the children that had none and before the others (which inherit it). So a
     * process keeps its controlling terminal (or its lack of one) when: it leads its session; or its parent is in the
     * tree, in its session, and had the same controlling terminal; or, without one, its parent leads the session.
     */
    private void checkControllingTerminal(TreePtys.Proc p) throws CryoException {
        TreePtys.Proc parent = tree.procs.get(p.ppid());
        String who = "pid " + p.pid() + " \"" + p.comm() + "\"";
        int index = p.cttyIndex();
        if (index >= 0 && tree.holdsMaster(index)) {
            if (p.session() == p.pid()) {
                PtyEntry.Builder pty = dumped.get(index);
                int fg = pty == null ? 0 : pty.getForegroundPgrp();
                if (tree.firstSlaveFd(p.pid(), index) < 0 && fg != 0 && fg != p.pgrp()) {
                    throw new CryoException(Category.UNSUPPORTED, "tty/CTTY", "dump refused: " + who + " leads a"
                            + " session whose controlling terminal is the slave /dev/pts/" + index + " with process"
                            + " group " + fg + " in the foreground, but holds no fd on it; cryo sets the foreground"
                            + " group again through a slave fd of the leader",
                            "keep an fd on /dev/pts/" + index + " open in pid " + p.pid() + " (e.g. its stdin)");
                }
                return;
            }
            if (parent == null || parent.session() != p.session() || parent.cttyIndex() != index) {
                throw new CryoException(Category.UNSUPPORTED, "tty/CTTY", "dump refused: " + who + " has the slave"
                        + " /dev/pts/" + index + " as its controlling terminal but is not the leader of its session "
                        + p.session() + ", and its parent " + (parent == null ? p.ppid() + " is outside the tree"
                        : "pid " + parent.pid() + " \"" + parent.comm() + "\" did not have that controlling terminal")
                        + "; a restored process gets a controlling terminal only from its session leader (TIOCSCTTY)"
                        + " or by inheriting it from its parent, so " + who + " would lose it",
                        "dump the whole session, from its leader pid " + p.session() + " (or an ancestor) down");
            }
            return;
        }
        if (index < 0 && parent != null && parent.session() == p.session() && parent.pid() != parent.session()) {
            int pIndex = parent.cttyIndex();
            if (pIndex >= 0 && tree.holdsMaster(pIndex)) {
                throw new CryoException(Category.UNSUPPORTED, "tty/CTTY", "dump refused: " + who + " has no"
                        + " controlling terminal (it gave it up, TIOCNOTTY), but its parent pid " + parent.pid() + " \""
                        + parent.comm() + "\" has /dev/pts/" + pIndex + "; restored, it would inherit it",
                        "dump before the process gives up its terminal, or start it with setsid");
            }
        }
    }

    // ---- restore ----

    @Override
    public void checkRestore(RestoreCheckContext ctx) throws CryoException {
        images.clear();
        self = ctx.kernel().self();
        kernel = ctx.kernel();
        for (PtyEntry e : ctx.objects().read(PtyEntry.class)) {
            images.put(e.getIndex(), e);
            checkFree(e.getIndex(), ctx.kernel());
        }
        for (RestoreCheckContext.FdRecord r : ctx.fdRecords()) {
            PtyFdEntry f = r.unpack(PtyFdEntry.class);
            if (!images.containsKey(f.getIndex())) {
                throw new CryoException(Category.IMAGE, "tty/NO_PTY", "restore refused: fdinfo-" + r.pid() + ".img"
                        + " fd " + r.fd() + " is on pseudo-terminal " + f.getIndex() + ", which tty.img does not"
                        + " list", "the image is incomplete or damaged; dump again");
            }
        }
    }

    private static void checkFree(int index, HostKernel kernel) throws CryoException {
        Path slave = Path.of("/dev/pts/" + index);
        if (Files.exists(slave)) {
            List<String> holders = masterHolders(kernel, index);
            for (FdHolder h : kernel.holders(slave.toString())) {
                holders.add(h.toString());
            }
            throw new CryoException(Category.CONFLICT, "tty/INDEX_TAKEN", "restore refused: the pseudo-terminal"
                    + " /dev/pts/" + index + " of the image is in use on this host" + (holders.isEmpty() ? ""
                    : " (held by " + String.join(", ", holders) + ")") + "; cryo recreates a pair with the index"
                    + " it had", "close that terminal (end its session), then restore again");
        }
    }

    /**
     * Every pair is created before any process exists: core has a session leader take its controlling terminal by
     * path, {@code /dev/pts/N}, while it creates the tree (when cryo holds the master then), before it forks the
     * processes that inherit it.
     */
    @Override
    public void preRestore(LifecycleEvent event) throws CryoException {
        if (self == null) {
            return; // no records of this kind: checkRestore was not called
        }
        TtyIoctls io = new TtyIoctls(self);
        for (int index : images.keySet()) {
            pair(index, io, kernel, "pseudo-terminal " + index + " of the image");
        }
    }

    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        RemoteTask task = ctx.task();
        PtyFdEntry e = ctx.record(PtyFdEntry.class);
        int target = ctx.fd().value();
        String who = "pid " + task.pid() + " \"" + task.comm() + "\" fd " + target;
        self = ctx.kernel().self();
        TtyIoctls io = new TtyIoctls(self);
        LocalFd master = pair(e.getIndex(), io, ctx.kernel(), who);
        if (e.getMaster()) {
            task.pushFd(master, ctx.fd(), ctx.cloexec());
            return RestoreOutcome.DONE;
        }
        try (LocalFd slave = io.open("/dev/pts/" + e.getIndex(), (e.getFlags() & KEPT_FLAGS) | O_NOCTTY
                | O_CLOEXEC)) {
            task.pushFd(slave, ctx.fd(), ctx.cloexec());
        }
        if (e.getCtty()) {
            PtyEntry pty = images.get(e.getIndex());
            task.syscall("ioctl(fd " + target + " /dev/pts/" + e.getIndex() + ", TIOCSCTTY) in the session leader "
                    + who, Syscall.IOCTL, target, TIOCSCTTY, 0);
            if (pty != null && pty.getForegroundPgrp() > 0) {
                long addr = task.scratchAddress();
                task.writeMemory(addr, ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder())
                        .putInt(pty.getForegroundPgrp()).flip());
                task.syscall("ioctl(fd " + target + " /dev/pts/" + e.getIndex() + ", TIOCSPGRP, "
                        + pty.getForegroundPgrp() + ") in " + who, Syscall.IOCTL, target, TIOCSPGRP, addr);
            }
        }
        return RestoreOutcome.DONE;
    }

    /** The master of pair {@code index}, created in cryo's process on first use with the index it had. */
    private LocalFd pair(int index, TtyIoctls io, HostKernel kernel, String who) throws CryoException {
        LocalFd have = pairs.get(index);
        if (have != null) {
            return have;
        }
        PtyEntry pty = images.get(index);
        if (pty == null) {
            throw new CryoException(Category.IMAGE, "tty/NO_PTY", "restore failed: " + who + " is on pseudo-terminal"
                    + " " + index + ", which tty.img does not list", "the image is incomplete or damaged; dump again");
        }
        checkFree(index, kernel);
        int flags = (pty.getMasterFlags() & KEPT_FLAGS) | O_RDWR | O_NOCTTY | O_CLOEXEC;
        List<LocalFd> others = new ArrayList<>();
        LocalFd master = null;
        try {
            for (int i = 0; i < 64 && master == null; i++) {
                LocalFd m = io.open("/dev/ptmx", flags);
                int got = io.getInt("ioctl(/dev/ptmx, TIOCGPTN)", m, TIOCGPTN);
                if (got == index) {
                    master = m;
                } else {
                    others.add(m);
                    if (got > index) {
                        throw new CryoException(Category.CONFLICT, "tty/INDEX_TAKEN", "restore failed: " + who
                                + " needs the pseudo-terminal /dev/pts/" + index + ", but /dev/ptmx handed out "
                                + got + ": index " + index + " was taken in the meantime",
                                "close the terminal /dev/pts/" + index + ", then restore again");
                    }
                }
            }
            if (master == null) {
                throw new CryoException(Category.CONFLICT, "tty/INDEX_TAKEN", "restore failed: " + who + " needs the"
                        + " pseudo-terminal /dev/pts/" + index + ", and 64 opens of /dev/ptmx did not reach it",
                        "close terminals below /dev/pts/" + index + ", then restore again");
            }
        } finally {
            others.forEach(LocalFd::close);
        }
        pairs.put(index, master);
        io.setInt("ioctl(/dev/ptmx " + index + ", TIOCSPTLCK, 0)", master, TIOCSPTLCK, 0);
        io.setBytes("ioctl(/dev/ptmx " + index + ", TCSETS2)", master, TCSETS2, pty.getTermios2().toByteArray());
        io.setBytes("ioctl(/dev/ptmx " + index + ", TIOCSWINSZ)", master, TIOCSWINSZ,
                winsize(pty.getRows(), pty.getCols(), pty.getXpixel(), pty.getYpixel()));
        if (pty.getPacket()) {
            io.setInt("ioctl(/dev/ptmx " + index + ", TIOCPKT, 1)", master, TIOCPKT, 1);
        }
        PtyQueues.Queued q = queued(pty);
        if (!q.isEmpty()) {
            PtyQueues queues = new PtyQueues(self);
            LocalFd slave = queues.peer(master, "/dev/pts/" + index, false);
            peers.add(slave);
            queues.put(master, slave, index, pty.getTermios2().toByteArray(), q, who);
        }
        return master;
    }

    /** Every fd is installed: lock and exclusive mode come back last (both would stop the slaves' opens). */
    @Override
    public void postRestore(LifecycleEvent event) throws CryoException {
        for (Map.Entry<Integer, LocalFd> p : pairs.entrySet()) {
            PtyEntry pty = images.get(p.getKey());
            if (pty == null || self == null) {
                continue;
            }
            TtyIoctls io = new TtyIoctls(self);
            if (pty.getExclusive()) {
                try (LocalFd slave = io.open("/dev/pts/" + pty.getIndex(), O_RDWR | O_NOCTTY | O_CLOEXEC)) {
                    self.syscall("ioctl(/dev/pts/" + pty.getIndex() + ", TIOCEXCL)", Syscall.IOCTL, slave.value(),
                            TIOCEXCL, 0);
                }
            }
            if (pty.getLocked()) {
                io.setInt("ioctl(/dev/ptmx " + pty.getIndex() + ", TIOCSPTLCK, 1)", p.getValue(), TIOCSPTLCK, 1);
            }
        }
    }

    /** cryo's own process and the host view, kept from {@link #checkRestore} for the listener methods. */
    private RemoteTask self;
    private HostKernel kernel;

    @Override
    public void finishRestore() {
        // loops: a plugin's lambdas are not in the class data archive, and this runs at the end of every restore
        for (LocalFd fd : peers) {
            fd.close();
        }
        peers.clear();
        for (LocalFd fd : pairs.values()) {
            fd.close();
        }
        pairs.clear();
        self = null;
        kernel = null;
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(PtyFdEntry.getDescriptor(), PtyEntry.getDescriptor(), PtyInputLine.getDescriptor());
    }
}
