package dev.cryo.plugin.pipe;

import dev.cryo.api.Syscall;
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
import dev.cryo.api.LocalFd;
import dev.cryo.api.ObjectDumpContext;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreCheckContext;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.pipe.proto.EndState;
import dev.cryo.plugin.pipe.proto.PipeAccess;
import dev.cryo.plugin.pipe.proto.PipeEntry;
import dev.cryo.plugin.pipe.proto.PipeFdEntry;
import dev.cryo.plugin.pipe.proto.PipeHolder;
import org.pf4j.Extension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static dev.cryo.api.SyscallFlags.*;
import static dev.cryo.plugin.pipe.PipeSyscalls.*;

/**
 * The {@code pipe} handler: anonymous pipes ({@code pipe:[INO]}) and FIFOs (named pipes), with the data in flight.
 * Like CRIU's {@code pipes.c}: one object per pipe inode however many fds and processes hold its ends.
 *
 * <h2>Dump</h2>
 * {@link #probe} claims every fd whose {@code st_mode} is a FIFO. {@link #collect} records per fd the pipe inode,
 * the end (by access mode; {@code O_RDWR}: both ends, a FIFO or a pipe reopened through {@code /proc/PID/fd/N})
 * and the open flags of its open file description (duplicates of one description are core's {@code same_as}); the first fd that gives a read end
 * has its buffered bytes copied without consuming them, by injected calls inside the frozen task:
 * {@code ioctl(FIONREAD)}, {@code pipe2} (a temporary pipe sized to the capacity), {@code tee(readEnd, tmp)},
 * {@code read(tmp)} in chunks of the scratch area, each chunk copied out, then {@code close} of the temporary pipe
 * — so with {@code --leave-running} the program loses nothing. {@link #dumpObjects} writes one {@link PipeEntry}
 * per pipe to {@code pipe.img}: inode, capacity ({@code F_GETPIPE_SZ}), FIFO path, packet mode
 * ({@code O_DIRECT}), the data (and packet sizes), who holds each end, and for an end the tree does not hold
 * whether some process outside holds it ({@code END_EXTERNAL}) or nobody ({@code END_CLOSED}).
 *
 * <h2>Self-containment</h2>
 * An fd on an anonymous pipe holds {@code pipe-read:[INO]} and/or {@code pipe-write:[INO]} and references the other
 * end (an {@code O_RDWR} one holds both and references nothing); an unresolved reference goes to {@link ExternalPipeHandler}, which accepts a closed other end, an end named
 * by {@code --external pipe:[INO]}, or with {@code stdio-inherit} an end on fd 0, 1 or 2, and otherwise refuses
 * with {@code pipe/EXTERNAL_PIPE}. FIFOs declare no references: a FIFO is reopened by path on restore, so a
 * process outside the tree that holds the other end is connected again by the filesystem itself.
 *
 * <h2>Restore</h2>
 * Anonymous pipe, both ends in the tree (or the other end closed): the first fd that needs the pipe creates it
 * inside its process ({@code pipe2(O_NONBLOCK|O_CLOEXEC[|O_DIRECT])}, {@code F_SETPIPE_SZ} to the dumped capacity,
 * the data written back through the scratch area), pulls both ends into cryo ({@link RemoteTask#pullFd}) and closes
 * the temporary fds. Each open file description of an end is then rebuilt as one of its own: the first one that
 * pipe(2) made (no {@code O_LARGEFILE}) gets the pulled end with {@link RemoteTask#pushFd}; every other one (it was
 * opened through {@code /proc/PID/fd/N} at dump: open(2) sets {@code O_LARGEFILE}, and so does the reopen) is
 * opened anew through {@code /proc/self/fd/N} in its task ({@code openat} + {@code dup3}), {@code O_RDWR} ones too.
 * Each gets its status flags as dumped ({@code F_SETFL}: O_NONBLOCK, O_DIRECT, O_APPEND, O_NOATIME; O_ASYNC and
 * the fd's owner are core's). A closed other end is closed once every description of this end is in place, so the
 * reader sees the data, then EOF, and a writer EPIPE. The pulled ends are closed in {@link #finishRestore()}.
 *
 * <p>FIFO: cryo first opens the path {@code O_RDWR|O_NONBLOCK} inside the task (a keeper, pulled into cryo, so
 * later opens never block and the pipe stays alive); when the FIFO is empty the capacity is set and the data
 * written back — when it is not empty, a process outside kept the pipe (and its data) alive and nothing is written
 * again. Each open file description the dump collected is then opened by path on its own and gets its status flags.
 *
 * <p>External end (the other end was outside the tree, accepted at dump): the fd becomes cryo's fd given by
 * {@code --inherit-fd fd[N]:pipe:[INO]}, or — with {@code stdio-inherit}, for target fds 0, 1 and 2 only — cryo's
 * own fd of the same number (its stdin, stdout, stderr). Its O_NONBLOCK is set as dumped (on the shared open file
 * description). When the tree's end was the read end and bytes were buffered, they are written into the
 * substitute pipe (opened as {@code /proc/self/fd/N} for writing inside the task) so the program reads what it had
 * not read yet; a substitute that is not a pipe refuses with {@code pipe/DATA_NOWHERE}. Without a substitute the
 * restore fails with {@code pipe/NO_INHERIT_FD} naming the fd and the options, never a silently dead pipe.
 *
 * <p>Limits: several open file descriptions of one end whose other end is external all become the one substitute
 * (O_NONBLOCK set as the last of them had it); packet boundaries of buffered data are recorded only when an fd
 * with O_DIRECT was collected before the read end; an unlinked FIFO is refused ({@code pipe/DELETED_FIFO}). The code
 * {@code pipe/RDWR_PIPE} (an O_RDWR anonymous pipe, refused before) is retired.
 *
 * <p>Lifetime and threading: one instance per command (dump or restore), state kept across calls; tracer thread
 * only, per the SPI.
 */
@Extension(ordinal = 0)
public final class PipeHandler implements FdHandler {
    /** The kind written into images; equals the plugin id. */
    public static final String KIND = "pipe";
    private static final String DELETED = " (deleted)";
    private static final int DEFAULT_CAPACITY = 65536;


    // ---- dump state
    private final Map<Long, DumpedPipe> dumped = new LinkedHashMap<>();
    private final Set<Integer> treePids = new HashSet<>();

    // ---- restore state
    private Map<Long, PipeEntry> objects;
    private final Map<Long, AnonPipe> anonPipes = new HashMap<>();
    private final Map<Long, LocalFd> fifoKeepers = new HashMap<>();
    private final Set<Long> externalDataPut = new HashSet<>();
    private final List<LocalFd> owned = new ArrayList<>();


    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public boolean probe(FdInfo fd) {
        return fd.isFifo();
    }

    // ================================================================ dump

    /** What the dump learned about one pipe across all the fds collected so far. */
    private static final class DumpedPipe {
        final long inode;
        final boolean fifo;
        final String link;
        final Set<PipeEnd> held = EnumSet.noneOf(PipeEnd.class);
        final List<PipeHolder> holders = new ArrayList<>();
        int capacity;
        boolean packet;
        boolean dataSaved;
        long bytesInFlight;
        byte[] data = new byte[0];
        final List<Integer> packets = new ArrayList<>();

        DumpedPipe(long inode, boolean fifo, String link) {
            this.inode = inode;
            this.fifo = fifo;
            this.link = link;
        }
    }

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        RemoteTask task = ctx.task();
        int n = fd.fd().value();
        String who = task.describeFd(fd.fd());
        boolean fifo = !fd.link().startsWith("pipe:");
        long ino = fd.inode();
        PipeAccess access = PipeEnd.access(fd.flags());
        if (fifo && fd.link().endsWith(DELETED)) {
            throw new CryoException(Category.UNSUPPORTED, "pipe/DELETED_FIFO", "dump refused: " + who
                    + " holds the FIFO " + fd.link() + ", whose path was removed; it cannot be reopened on restore",
                    "recreate the FIFO or close fd " + n + " before dumping");
        }
        DumpedPipe p = dumped.get(ino); // not computeIfAbsent: a plugin's lambdas are not in the class data archive
        if (p == null) {
            p = new DumpedPipe(ino, fifo, fd.link());
            dumped.put(ino, p);
        }
        treePids.add(task.pid().value());
        for (PipeEnd end : PipeEnd.values()) {
            if (end.givenBy(fd.flags())) {
                ctx.holds(end.of(ino));
                p.held.add(end);
            }
        }
        if (!fifo) {
            if (access != PipeAccess.PIPE_ACCESS_READ_WRITE) { // O_RDWR (reopened through /proc): holds both ends
                PipeEnd mine = access == PipeAccess.PIPE_ACCESS_READ ? PipeEnd.READ : PipeEnd.WRITE;
                ctx.references(mine.of(ino), mine.other().of(ino),
                        "(the " + mine.other().label + " of " + fd.link() + ")");
            }
            if ((fd.flags() & O_DIRECT) != 0) {
                p.packet = true;
            }
        }
        boolean save = !p.dataSaved && PipeEnd.READ.givenBy(fd.flags());
        if (p.capacity == 0 || save) {
            // on a duplicate of the fd in cryo (the same pipe): one pidfd_getfd instead of injected calls (issue 13)
            RemoteTask self = ctx.kernel().self();
            try (LocalFd local = task.pullFd(fd.fd())) {
                if (p.capacity == 0) {
                    p.capacity = (int) self.syscall("fcntl(" + who + " " + fd.link() + ", F_GETPIPE_SZ)",
                            Syscall.FCNTL, local.value(), F_GETPIPE_SZ);
                }
                if (save) {
                    saveData(self, local.value(), who, p);
                }
            }
        }
        p.holders.add(PipeHolder.newBuilder().setPid(task.pid().value()).setComm(task.comm()).setFd(n)
                .setAccess(access).build());
        return PipeFdEntry.newBuilder().setInode(ino).setFifo(fifo).setAccess(access).setFlags(fd.flags()).build();
    }

    /**
     * Copies the buffered bytes out of the pipe through a temporary pipe, leaving them in place; {@code task} is where
     * the calls run (cryo itself, on a duplicate {@code readFd} of the read end).
     */
    private static void saveData(RemoteTask task, int readFd, String who, DumpedPipe p) throws CryoException {
        String what = who + " (" + p.link + ")";
        int count = bytesBuffered(task, readFd, what);
        p.bytesInFlight = count;
        if (count > 0) {
            int[] tmp = pipe2(task, O_CLOEXEC | O_NONBLOCK, "(temporary, to copy the data of " + what + ")");
            try {
                int room = Math.max(p.capacity, count);
                if (room > DEFAULT_CAPACITY) {
                    task.syscall("fcntl(temporary pipe, F_SETPIPE_SZ, " + room + ") to copy " + what, Syscall.FCNTL,
                            tmp[1], F_SETPIPE_SZ, room);
                }
                long teed = task.syscall("tee(" + what + " -> temporary pipe, " + count + ")", Syscall.TEE, readFd,
                        tmp[1], count, SPLICE_F_NONBLOCK);
                if (teed != count) {
                    throw new CryoException(Category.KERNEL, "pipe/TEE_SHORT", "dump failed: tee of " + what
                            + " copied " + teed + " of the " + count + " buffered bytes");
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream(count);
                int chunk = task.scratchSize();
                while (out.size() < count) {
                    int want = Math.min(chunk, count - out.size());
                    long got = task.syscall("read(temporary pipe of " + what + ", " + want + ")", Syscall.READ, tmp[0],
                            task.scratchAddress(), want);
                    if (got <= 0) {
                        throw new CryoException(Category.KERNEL, "pipe/TEE_SHORT", "dump failed: the copy of "
                                + what + " ended after " + out.size() + " of " + count + " bytes");
                    }
                    ByteBuffer b = ByteBuffer.allocateDirect((int) got);
                    task.readMemory(task.scratchAddress(), b);
                    byte[] bytes = new byte[(int) got];
                    b.flip().get(bytes);
                    out.write(bytes, 0, bytes.length);
                    if (p.packet) {
                        p.packets.add((int) got);
                    }
                }
                p.data = out.toByteArray();
            } finally {
                task.syscallRaw(Syscall.CLOSE, tmp[0]);
                task.syscallRaw(Syscall.CLOSE, tmp[1]);
            }
        }
        p.dataSaved = true;
    }

    @Override
    public void dumpObjects(ObjectDumpContext ctx) throws CryoException {
        Set<Integer> excluded = new HashSet<>(treePids);
        for (DumpedPipe p : dumped.values()) {
            PipeEntry.Builder b = PipeEntry.newBuilder()
                    .setInode(p.inode)
                    .setFifo(p.fifo)
                    .setCapacity(p.capacity)
                    .setPacketMode(p.packet)
                    .setDataSaved(p.dataSaved)
                    .setBytesInFlight(p.bytesInFlight)
                    .setData(ByteString.copyFrom(p.data))
                    .addAllPacketSizes(p.packets)
                    .addAllHolders(p.holders);
            if (p.fifo) {
                b.setPath(p.link);
            }
            List<FdHolder> outside = new ArrayList<>();
            for (PipeEnd end : PipeEnd.values()) {
                EndState state = EndState.END_IN_TREE;
                if (!p.held.contains(end)) {
                    List<FdHolder> h = PipeHolders.find(ctx.kernel(), p.link, end, excluded);
                    outside.addAll(h);
                    state = h.isEmpty() ? EndState.END_CLOSED : EndState.END_EXTERNAL;
                }
                if (end == PipeEnd.READ) {
                    b.setReadEnd(state);
                } else {
                    b.setWriteEnd(state);
                }
            }
            b.setOutsideHolders(PipeHolders.describe(outside));
            ctx.objects().write(b.build());
        }
    }

    // ================================================================ restore

    /** An anonymous pipe recreated during this restore: its ends held by cryo, and what is left to place. */
    private final class AnonPipe {
        /** the ends pipe2 made, indexed by {@link PipeEnd#ordinal()}; null once closed */
        final LocalFd[] ends;
        /** whether the end pipe2 made was installed as one fd's open file description */
        final boolean[] given = new boolean[2];
        /** open file descriptions of each end (fds the dump collected, duplicates excluded) still to place */
        final int[] remaining = new int[2];

        AnonPipe(LocalFd[] ends, PipeEntry p) {
            this.ends = ends;
            for (PipeHolder h : p.getHoldersList()) {
                if (h.getAccess() == PipeAccess.PIPE_ACCESS_READ) {
                    remaining[PipeEnd.READ.ordinal()]++;
                } else if (h.getAccess() == PipeAccess.PIPE_ACCESS_WRITE) {
                    remaining[PipeEnd.WRITE.ordinal()]++;
                }
            }
        }

        void closeEnd(PipeEnd end) {
            LocalFd fd = ends[end.ordinal()];
            if (fd != null) {
                owned.remove(fd);
                fd.close();
                ends[end.ordinal()] = null;
            }
        }
    }

    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        PipeFdEntry e = ctx.record(PipeFdEntry.class);
        PipeEntry p = object(ctx, e.getInode());
        RemoteTask task = ctx.task();
        String who = task.describeFd(ctx.fd());
        if (e.getFifo()) {
            restoreFifo(ctx, e, p, who);
        } else {
            restoreAnonymous(ctx, e, p, who);
        }
        return RestoreOutcome.DONE;
    }

    /**
     * Refuses, before any process exists, a restore whose external pipe ends were given nothing to connect to
     * (no {@code --inherit-fd fd[N]:pipe:[INO]}, and not fd 0-2 with {@code --stdio-inherit}).
     */
    @Override
    public void checkRestore(RestoreCheckContext ctx) throws CryoException {
        Map<Long, PipeEntry> pipes = new HashMap<>();
        for (PipeEntry p : ctx.objects().read(PipeEntry.class)) {
            pipes.put(p.getInode(), p);
        }
        for (RestoreCheckContext.FdRecord r : ctx.fdRecords()) {
            PipeFdEntry e = r.unpack(PipeFdEntry.class);
            PipeEntry p = pipes.get(e.getInode());
            if (p == null || e.getFifo() || e.getAccess() == PipeAccess.PIPE_ACCESS_READ_WRITE) {
                continue;
            }
            PipeEnd mine = e.getAccess() == PipeAccess.PIPE_ACCESS_READ ? PipeEnd.READ : PipeEnd.WRITE;
            EndState other = mine == PipeEnd.READ ? p.getWriteEnd() : p.getReadEnd();
            int fd = r.fd().value();
            if (other == EndState.END_EXTERNAL
                    && ctx.inheritedFd(ExternalPipeHandler.resource(p.getInode())).isEmpty()
                    && !(fd <= 2 && ctx.config().isSet(ExternalPipeHandler.STDIO_INHERIT))) {
                throw noInheritFd("pid " + r.pid() + " \"" + r.comm() + "\" fd " + fd, mine, p, fd);
            }
        }
    }

    private static CryoException noInheritFd(String who, PipeEnd mine, PipeEntry p, int target) {
        String res = ExternalPipeHandler.resource(p.getInode());
        String fix = "give the restored process a pipe end of your own with --inherit-fd fd[N]:" + res
                + " (N: an fd open in the shell that runs cryo restore, e.g. `exec 7<>FIFO` or a pipe)";
        if (target <= 2) {
            fix += ", or pass --stdio-inherit so fd " + target + " becomes cryo's own "
                    + (target == 0 ? "stdin" : target == 1 ? "stdout" : "stderr");
        }
        return new CryoException(Category.USAGE, "pipe/NO_INHERIT_FD", "restore refused: " + who + " was the "
                + mine.label + " of " + res + ", whose " + mine.other().label + " was outside the dumped tree ("
                + p.getOutsideHolders() + " at dump); nothing was given to connect fd " + target + " to", fix);
    }

    private PipeEntry object(FdRestoreContext ctx, long inode) throws CryoException {
        if (objects == null) {
            objects = new HashMap<>();
            for (PipeEntry p : ctx.objects().read(PipeEntry.class)) {
                objects.put(p.getInode(), p);
            }
        }
        PipeEntry p = objects.get(inode);
        if (p == null) {
            throw new CryoException(Category.IMAGE, "pipe/NO_PIPE_RECORD", "image is inconsistent: fd " + ctx.fd()
                    + " of pid " + ctx.task().pid() + " is on pipe:[" + inode + "], which pipe.img does not describe",
                    "dump again; the image is incomplete or was edited");
        }
        return p;
    }

    private void restoreAnonymous(FdRestoreContext ctx, PipeFdEntry e, PipeEntry p, String who)
            throws CryoException {
        RemoteTask task = ctx.task();
        boolean both = e.getAccess() == PipeAccess.PIPE_ACCESS_READ_WRITE;
        PipeEnd mine = e.getAccess() == PipeAccess.PIPE_ACCESS_WRITE ? PipeEnd.WRITE : PipeEnd.READ;
        EndState other = mine == PipeEnd.READ ? p.getWriteEnd() : p.getReadEnd();
        if (!both && other == EndState.END_EXTERNAL) {
            restoreExternal(ctx, e, p, mine, who);
            return;
        }
        AnonPipe pipe = anonPipes.get(p.getInode());
        if (pipe == null) {
            pipe = new AnonPipe(createAnonymous(task, p, who), p);
            anonPipes.put(p.getInode(), pipe);
        }
        LocalFd end = pipe.ends[mine.ordinal()];
        if (end == null) {
            throw new CryoException(Category.IMAGE, "pipe/END_CLOSED", "image is inconsistent: " + who + " holds the "
                    + mine.label + " of pipe:[" + p.getInode() + "], which pipe.img records as closed");
        }
        task.pushFd(end, ctx.fd(), ctx.cloexec());
        boolean own = both || pipe.given[mine.ordinal()] || (e.getFlags() & O_LARGEFILE) != 0;
        if (own) {
            // another open file description of this end (opened through /proc/PID/fd/N at dump time: only open(2)
            // sets O_LARGEFILE, pipe(2) does not): open one of its own, so its status flags are its own
            reopen(task, ctx.fd().value(), PipeEnd.accessMode(e.getAccess()), ctx.cloexec(),
                    who + " (" + PipeEnd.label(e.getAccess()) + " of pipe:[" + p.getInode() + "])");
        } else {
            pipe.given[mine.ordinal()] = true;
        }
        // the status flags belong to the open file description: the one pushed is cryo's own, so they are set in cryo
        // without a stop of the task (issue 13); a reopened one, or a failure (for its message), in the task
        if (own || !setStatusFlagsInCryo(ctx.kernel().self(), end, e.getFlags())) {
            setStatusFlags(task, ctx.fd().value(), e.getFlags(), who);
        }
        if (!both && --pipe.remaining[mine.ordinal()] <= 0 && other == EndState.END_CLOSED) {
            // every description of this end is in place: now the other end goes, as it was gone at dump (the reader
            // sees the data, then EOF; the writer gets EPIPE)
            pipe.closeEnd(mine.other());
        }
    }

    /** {@link PipeSyscalls#setStatusFlags} on cryo's {@code fd}; @return false when a call failed */
    private static boolean setStatusFlagsInCryo(RemoteTask self, LocalFd fd, int dumped) throws CryoException {
        long cur = self.syscallRaw(Syscall.FCNTL, fd.value(), F_GETFL);
        if (cur < 0) {
            return false;
        }
        long next = (cur & ~SETFL_FLAGS) | (dumped & SETFL_FLAGS);
        return next == cur || self.syscallRaw(Syscall.FCNTL, fd.value(), F_SETFL, next) == 0;
    }

    /**
     * Replaces the task's fd {@code fd} (an end of a pipe) by a new open file description of the same pipe, opened
     * through {@code /proc/self/fd/FD} with access mode {@code accessMode}, O_NONBLOCK (the caller sets the status
     * flags afterwards) and FD_CLOEXEC as given.
     */
    private static void reopen(RemoteTask task, int fd, int accessMode, boolean cloexec, String who)
            throws CryoException {
        String path = "/proc/self/fd/" + fd;
        long addr = task.putScratchString(0, path);
        long k = task.syscall("openat(" + path + ", " + accessName(accessMode) + "|O_NONBLOCK) for " + who,
                Syscall.OPENAT, AT_FDCWD, addr, accessMode | O_NONBLOCK | O_CLOEXEC, 0);
        moveFd(task, (int) k, fd, cloexec, who);
    }

    private static String accessName(int accessMode) {
        return switch (accessMode) {
            case O_RDONLY -> "O_RDONLY";
            case O_WRONLY -> "O_WRONLY";
            default -> "O_RDWR";
        };
    }

    /** Creates the pipe inside {@code task}, sized and refilled; returns both ends pulled into cryo. */
    private LocalFd[] createAnonymous(RemoteTask task, PipeEntry p, String who) throws CryoException {
        String res = "pipe:[" + p.getInode() + "]";
        int flags = O_CLOEXEC | O_NONBLOCK | (p.getPacketMode() ? O_DIRECT : 0);
        int[] fds = pipe2(task, flags, "to recreate " + res + " for " + who);
        try {
            setCapacity(task, fds[1], p, "the new " + res + " of " + who);
            if (!p.getData().isEmpty()) {
                writeAll(task, fds[1], p.getData().toByteArray(), p.getPacketSizesList(),
                        "refilling " + res + " for " + who);
            }
            LocalFd r = task.pullFd(TargetFd.of(fds[0]));
            owned.add(r);
            LocalFd w = task.pullFd(TargetFd.of(fds[1]));
            owned.add(w);
            return new LocalFd[] {r, w};
        } finally {
            task.syscallBatchRaw(List.of(new RemoteTask.Call(Syscall.CLOSE, fds[0]),
                    new RemoteTask.Call(Syscall.CLOSE, fds[1])));
        }
    }

    private static void setCapacity(RemoteTask task, int fd, PipeEntry p, String what) throws CryoException {
        if (p.getCapacity() > 0 && p.getCapacity() != DEFAULT_CAPACITY) {
            task.syscall("fcntl(" + what + ", F_SETPIPE_SZ, " + p.getCapacity() + ")", Syscall.FCNTL, fd, F_SETPIPE_SZ,
                    p.getCapacity());
        }
    }

    private void restoreExternal(FdRestoreContext ctx, PipeFdEntry e, PipeEntry p, PipeEnd mine, String who)
            throws CryoException {
        RemoteTask task = ctx.task();
        int target = ctx.fd().value();
        String res = ExternalPipeHandler.resource(p.getInode());
        Optional<LocalFd> substitute = ctx.inheritedFd(res);
        if (substitute.isEmpty() && target <= 2 && ctx.config().isSet(ExternalPipeHandler.STDIO_INHERIT)) {
            substitute = Optional.of(new StdioFd(target));
        }
        if (substitute.isEmpty()) {
            throw noInheritFd(who, mine, p, target);
        }
        LocalFd fd = substitute.get();
        task.pushFd(fd, dev.cryo.api.TargetFd.of(target), ctx.cloexec());
        setNonblock(task, target, (e.getFlags() & O_NONBLOCK) != 0, who);
        if (mine == PipeEnd.READ && !p.getData().isEmpty() && externalDataPut.add(p.getInode())) {
            String link = localLink(fd);
            if (!isPipe(fd)) {
                throw new CryoException(Category.CONFLICT, "pipe/DATA_NOWHERE", "restore refused: " + who
                        + " had " + p.getData().size() + " unread bytes in " + res + ", but its substitute (cryo's fd "
                        + fd.value() + ") is " + link + ", not a pipe they could be put back into",
                        "give a pipe with --inherit-fd fd[N]:" + res);
            }
            long path = task.putScratchString(0, "/proc/self/fd/" + target);
            long w = task.syscall("openat(/proc/self/fd/" + target + ", O_WRONLY|O_NONBLOCK) to put back the data of "
                    + res + " for " + who, Syscall.OPENAT, AT_FDCWD, path, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
            try {
                writeAll(task, (int) w, p.getData().toByteArray(), p.getPacketSizesList(),
                        "putting the unread data of " + res + " back for " + who);
            } finally {
                task.syscallRaw(Syscall.CLOSE, w);
            }
        }
    }

    /** @return whether cryo's {@code fd} is a pipe or FIFO (followed through /proc/self/fd) */
    private static boolean isPipe(LocalFd fd) {
        try {
            int mode = (Integer) Files.getAttribute(Path.of("/proc/self/fd/" + fd.value()), "unix:mode");
            return (mode & FdInfo.S_IFMT) == FdInfo.S_IFIFO;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static String localLink(LocalFd fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.value())).toString();
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    private void restoreFifo(FdRestoreContext ctx, PipeFdEntry e, PipeEntry p, String who) throws CryoException {
        RemoteTask task = ctx.task();
        String path = p.getPath();
        checkFifo(path, who);
        LocalFd keeper = fifoKeepers.get(p.getInode());
        if (keeper == null) {
            long addr = task.putScratchString(0, path);
            long k = task.syscall("openat(" + path + ", O_RDWR|O_NONBLOCK) for " + who, Syscall.OPENAT, AT_FDCWD, addr,
                    O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
            try {
                if (bytesBuffered(task, (int) k, "FIFO " + path) == 0) {
                    setCapacity(task, (int) k, p, "FIFO " + path);
                    if (!p.getData().isEmpty()) {
                        writeAll(task, (int) k, p.getData().toByteArray(), List.of(),
                                "refilling FIFO " + path + " for " + who);
                    }
                }
                keeper = task.pullFd(TargetFd.of((int) k));
                owned.add(keeper);
                fifoKeepers.put(p.getInode(), keeper);
            } finally {
                task.syscallRaw(Syscall.CLOSE, k);
            }
        }
        // one open per open file description the dump collected (duplicates are core's same_as), so that each keeps
        // status flags of its own
        int acc = PipeEnd.accessMode(e.getAccess());
        long addr = task.putScratchString(0, path);
        long x = task.syscall("openat(" + path + ", " + PipeEnd.label(e.getAccess()) + ") for " + who,
                Syscall.OPENAT, AT_FDCWD, addr, acc | O_NONBLOCK | O_CLOEXEC, 0);
        moveFd(task, (int) x, ctx.fd().value(), ctx.cloexec(), who);
        setStatusFlags(task, ctx.fd().value(), e.getFlags(), who);
    }

    private static void checkFifo(String path, String who) throws CryoException {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(Path.of(path), "unix:mode");
        } catch (NoSuchFileException ex) {
            throw new CryoException(Category.CONFLICT, "pipe/FIFO_MISSING", "restore refused: " + who
                    + " had the FIFO " + path + " open, which no longer exists", "recreate it: mkfifo " + path);
        } catch (IOException | RuntimeException ex) {
            throw new CryoException(Category.KERNEL, "pipe/FIFO_STAT", "restore failed: stat of FIFO " + path
                    + " for " + who + " failed: " + ex, null, ex);
        }
        if ((mode & FdInfo.S_IFMT) != FdInfo.S_IFIFO) {
            throw new CryoException(Category.CONFLICT, "pipe/NOT_A_FIFO", "restore refused: " + who
                    + " had the FIFO " + path + " open, which is now a file of mode 0" + Integer.toOctalString(mode),
                    "replace it with a FIFO: rm " + path + " && mkfifo " + path);
        }
    }

    @Override
    public void finishRestore() {
        for (LocalFd fd : owned) {
            fd.close();
        }
        owned.clear();
        anonPipes.clear();
        fifoKeepers.clear();
        externalDataPut.clear();
        objects = null;
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(PipeFdEntry.getDescriptor(), PipeEntry.getDescriptor());
    }
}
