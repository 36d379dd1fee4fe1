package dev.cryo.plugin.sysvshm;

import com.google.protobuf.Descriptors;
import dev.cryo.api.CryoException;
import dev.cryo.api.HostKernel;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.Mapping;
import dev.cryo.api.MemoryDumpContext;
import dev.cryo.api.MemoryHandler;
import dev.cryo.api.MemoryRestoreContext;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreCheckContext;
import dev.cryo.api.Syscall;
import dev.cryo.plugin.sysvshm.proto.SysvShmEntry;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static dev.cryo.api.SyscallFlags.*;

/**
 * The {@code sysv-shm} handler: attachments of SysV shared memory segments ({@code shmat}; maps name
 * {@code /SYSV<key> (deleted)}, inode = shmid), as PostgreSQL's interlock segment or X11's MIT-SHM use them.
 *
 * <h2>Dump</h2>
 * One {@link SysvShmEntry} per attachment with the segment's id, key, size, owner, mode and state
 * ({@code /proc/sysvipc/shm}); the first attachment of each segment in the image also carries its contents. Refused:
 * an attachment that is not the whole segment from offset 0 ({@code sysv-shm/PARTIAL}), and madvise/mlock state on
 * it ({@code sysv-shm/FLAGS}), which this plugin does not give back.
 *
 * <h2>Restore</h2>
 * A segment is a host object that outlives its processes unless it was marked for removal, so:
 * <ul>
 *   <li>if a segment with the same id, key and size exists, it is attached again as it is (its contents are the
 *   host's, like a file's; processes outside the tree that share it keep sharing it);</li>
 *   <li>otherwise it is created again with the same id ({@code /proc/sys/kernel/shm_next_id}), key, size, owner,
 *   mode and SHM_LOCK state, its contents written from the image, and marked for removal again when it was.</li>
 * </ul>
 * Every attachment is made with {@code shmat} at its address, then given its protection. The segments a restore
 * created are removed again when it fails (from cryo's own process, {@link HostKernel#self()}).
 *
 * <p>Runs before the {@code memory} plugin (priority -10), which otherwise refuses SysV attachments. Threading: the
 * tracer thread only; one instance per command.
 */
@Extension
public final class SysvShmHandler implements MemoryHandler, LifecycleListener {
    /** The kind written into images; also the plugin id. */
    public static final String KIND = "sysv-shm";
    static final Path NEXT_ID = Path.of("/proc/sys/kernel/shm_next_id");
    static final long PAGE = 4096;

    static final int IPC_CREAT = 01000;
    static final int IPC_EXCL = 02000;
    static final int SHM_NORESERVE = 010000;
    static final int IPC_RMID = 0;
    static final int IPC_SET = 1;
    static final int SHM_LOCK = 11;
    static final int SHM_RDONLY = 010000;
    static final int SHM_EXEC = 0100000;

    /** The smaps VmFlags an attachment may show: anything else is state this plugin would lose. */
    static final Set<String> KEPT_FLAGS = Set.of("rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "sd", "nr");

    /** Dump: segments whose contents this image already holds. */
    private final Set<Integer> saved = new HashSet<>();
    /** Dump: the host's table, read once per dump. */
    private SysvSegments table;
    /** Restore: segments made ready so far, by shmid. */
    private final Map<Integer, Ready> ready = new HashMap<>();
    /** Restore: segments this restore created, removed again if it fails. */
    private final Set<Integer> created = new HashSet<>();
    /** Restore: the host view, for removing them from cryo's own process once the restored ones are gone. */
    private HostKernel kernel;

    /** A segment ready to attach: found as it was, or created by this restore. */
    private static final class Ready {
        final boolean created;
        boolean contentsLoaded;
        boolean removedAgain;

        Ready(boolean created) {
            this.created = created;
        }
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public int priority() {
        return -10;
    }

    /** The inode maps shows for a SysV mapping is its shmid, and 0 is one: the first a freshly booted host gives. */
    @Override
    public boolean probe(Mapping m) {
        return m.shared() && m.name().startsWith("/SYSV");
    }

    @Override
    public void dump(MemoryDumpContext ctx, List<Mapping> mappings) throws CryoException {
        RemoteTask task = ctx.task();
        for (Mapping m : mappings) {
            int shmid = (int) m.inode();
            SysvSegments.Segment s = segment(shmid, task, m);
            long whole = roundUp(s.size());
            if (m.offset() != 0 || m.length() != whole) {
                throw refusal("sysv-shm/PARTIAL", task, m, String.format(
                        "maps only %d of its %d bytes from offset %d (part of the attachment was unmapped)",
                        m.length(), whole, m.offset()), "keep the whole attachment mapped, or shmdt it before dumping");
            }
            Set<String> lost = new TreeSet<>(m.vmFlags());
            lost.removeAll(KEPT_FLAGS);
            if (!lost.isEmpty()) {
                throw refusal("sysv-shm/FLAGS", task, m, "carries memory state " + lost
                                + " (smaps VmFlags: madvise or mlock) that a restore would not give back",
                        "undo the madvise/mlock on the attachment before dumping");
            }
            SysvShmEntry.Builder b = SysvShmEntry.newBuilder().setStart(m.start()).setEnd(m.end()).setProt(m.prot())
                    .setShmid(shmid).setKey(s.key()).setSize(s.size()).setMode(s.mode() & 0777).setUid(s.uid())
                    .setGid(s.gid()).setRemoved(s.removed()).setLocked(s.locked()).setName(m.name())
                    .setNoreserve(m.vmFlags().contains("nr"));
            if (saved.add(shmid)) {
                b.setHasPages(true).setPagesOffset(ctx.pages().save(m.start(), m.length()));
            }
            ctx.records().write(b.build());
        }
    }

    private SysvSegments.Segment segment(int shmid, RemoteTask task, Mapping m) throws CryoException {
        if (table == null || table.byId(shmid).isEmpty()) {
            table = SysvSegments.read();
        }
        return table.byId(shmid).orElseThrow(() -> refusal("sysv-shm/UNKNOWN", task, m,
                "is not listed in " + SysvSegments.TABLE + " (the process is in another IPC namespace?)",
                "run cryo in the IPC namespace of the tree"));
    }

    @Override
    public void checkRestore(RestoreCheckContext ctx) {
        kernel = ctx.kernel();
    }

    /**
     * The restore failed and its processes are being killed: the segments it created would outlive them without
     * the contents a second restore expects of a segment it finds, so they go too.
     */
    @Override
    public void onFailure(LifecycleEvent event, CryoException cause) {
        if (kernel == null) {
            return;
        }
        for (int id : created) {
            try {
                kernel.self().syscallRaw(Syscall.SHMCTL, id, IPC_RMID, 0);
            } catch (CryoException ignored) {
                // already gone
            }
        }
        created.clear();
    }

    @Override
    public void restore(MemoryRestoreContext ctx) throws CryoException {
        RemoteTask task = ctx.task();
        for (SysvShmEntry e : ctx.records().read(SysvShmEntry.class)) {
            Ready r = ready.get(e.getShmid());
            if (r == null) {
                r = prepare(task, e);
                ready.put(e.getShmid(), r);
            }
            attach(ctx, e, r);
        }
    }

    /** Finds the segment as it was, or creates it again with the same id. */
    private Ready prepare(RemoteTask task, SysvShmEntry e) throws CryoException {
        SysvSegments host = SysvSegments.read();
        var found = host.byId(e.getShmid());
        if (found.isPresent()) {
            SysvSegments.Segment s = found.get();
            if (s.key() != e.getKey() || s.size() != e.getSize()) {
                throw conflict("sysv-shm/ID_TAKEN", task, e, "its id is now another segment's: " + s,
                        "remove that segment (ipcrm -m " + s.shmid() + ") if it is not in use, then restore again");
            }
            return new Ready(false);
        }
        var other = host.otherWithKey(e.getKey(), e.getShmid());
        if (other.isPresent()) {
            throw conflict("sysv-shm/KEY_TAKEN", task, e, "its key is now another segment's: " + other.get(),
                    "remove that segment (ipcrm -m " + other.get().shmid() + ") if it is not in use, then restore again");
        }
        long id;
        setNextId(task, e);
        try {
            id = task.syscall(String.format("shmget(key 0x%08x, %d, IPC_CREAT|IPC_EXCL) for shmid %d", e.getKey(),
                    e.getSize(), e.getShmid()), Syscall.SHMGET, e.getKey(), e.getSize(),
                    IPC_CREAT | IPC_EXCL | 0600 | (e.getNoreserve() ? SHM_NORESERVE : 0));
        } catch (CryoException failed) {
            consumeNextId(task);
            throw failed;
        }
        created.add((int) id);
        if (id != e.getShmid()) {
            task.syscall("shmctl(" + id + ", IPC_RMID)", Syscall.SHMCTL, id, IPC_RMID, 0);
            throw conflict("sysv-shm/ID_TAKEN", task, e, "the kernel gave it id " + id + " instead",
                    "restore again (another program created a segment at the same instant)");
        }
        // IPC_SET takes uid, gid and the permission bits from a struct shmid64_ds (x86_64 layout: ipc64_perm
        // key@0 uid@4 gid@8 cuid@12 cgid@16 mode@20, 112 bytes in all)
        ByteBuffer ds = ByteBuffer.allocate(112).order(ByteOrder.LITTLE_ENDIAN);
        ds.putInt(4, e.getUid()).putInt(8, e.getGid()).putInt(20, e.getMode());
        task.writeMemory(task.scratchAddress(), ds);
        task.syscall(String.format("shmctl(%d, IPC_SET, uid %d gid %d mode 0%o)", id, e.getUid(), e.getGid(),
                e.getMode()), Syscall.SHMCTL, id, IPC_SET, task.scratchAddress());
        if (e.getLocked()) {
            task.syscall("shmctl(" + id + ", SHM_LOCK)", Syscall.SHMCTL, id, SHM_LOCK, 0);
        }
        return new Ready(true);
    }

    private static void setNextId(RemoteTask task, SysvShmEntry e) throws CryoException {
        try {
            Files.writeString(NEXT_ID, Integer.toString(e.getShmid()));
        } catch (IOException ex) {
            throw new CryoException(CryoException.Category.KERNEL, "sysv-shm/NEXT_ID", String.format(
                    "restore failed: %s of pid %s \"%s\" must be created again with id %d, but writing %s failed: %s",
                    e.getName(), task.pid(), task.comm(), e.getShmid(), NEXT_ID, ex.getMessage()),
                    "run cryo as root on a kernel with CONFIG_CHECKPOINT_RESTORE");
        }
    }

    /**
     * The kernel forgets the requested id once a segment gets it, and refuses to be told -1: after a failed
     * {@code shmget} the next segment anyone on the host creates would take it. A throw-away segment uses it up.
     */
    private static void consumeNextId(RemoteTask task) {
        try {
            // readAllLines: readString sizes its buffer from the file (0 for sysctls) and may stop after one byte
            if (!Files.readAllLines(NEXT_ID).get(0).strip().equals("-1")) {
                long id = task.syscallRaw(Syscall.SHMGET, 0, 1, IPC_CREAT | 0600);
                if (id >= 0) {
                    task.syscallRaw(Syscall.SHMCTL, id, IPC_RMID, 0);
                }
            }
        } catch (IOException | CryoException ignored) {
            // the restore fails anyway with the shmget error; nothing better to do here
        }
    }

    private void attach(MemoryRestoreContext ctx, SysvShmEntry e, Ready r) throws CryoException {
        RemoteTask task = ctx.task();
        boolean load = r.created && e.getHasPages() && !r.contentsLoaded;
        int flags = (e.getProt() & PROT_EXEC) != 0 ? SHM_EXEC : 0;
        boolean readOnly = (e.getProt() & PROT_WRITE) == 0;
        if (load && readOnly) {
            shmat(task, e, flags); // writable while the contents go in, then attached again as it was
            ctx.pages().load(e.getStart(), e.getEnd() - e.getStart(), e.getPagesOffset());
            task.syscall(String.format("shmdt(%x) of %s", e.getStart(), e.getName()), Syscall.SHMDT, e.getStart());
            r.contentsLoaded = true;
        }
        shmat(task, e, flags | (readOnly ? SHM_RDONLY : 0));
        if (load && !readOnly) {
            ctx.pages().load(e.getStart(), e.getEnd() - e.getStart(), e.getPagesOffset());
            r.contentsLoaded = true;
        }
        if (r.created && e.getRemoved() && !r.removedAgain) {
            // Linux lets the other processes attach it by id afterwards
            task.syscall("shmctl(" + e.getShmid() + ", IPC_RMID)", Syscall.SHMCTL, e.getShmid(), IPC_RMID, 0);
            r.removedAgain = true;
        }
        int attachedProt = PROT_READ | (readOnly ? 0 : PROT_WRITE) | (flags != 0 ? PROT_EXEC : 0);
        if (e.getProt() != attachedProt) {
            task.syscall(String.format("mprotect(%x-%x of %s, %d)", e.getStart(), e.getEnd(), e.getName(),
                    e.getProt()), Syscall.MPROTECT, e.getStart(), e.getEnd() - e.getStart(), e.getProt());
        }
    }

    private static void shmat(RemoteTask task, SysvShmEntry e, int flags) throws CryoException {
        String what = String.format("shmat(%d, %x, 0%o) of %s in pid %s \"%s\"", e.getShmid(), e.getStart(), flags,
                e.getName(), task.pid(), task.comm());
        long got = task.syscall(what, Syscall.SHMAT, e.getShmid(), e.getStart(), flags);
        if (got != e.getStart()) {
            throw new CryoException(CryoException.Category.CONFLICT, "sysv-shm/ATTACH",
                    String.format("restore failed: %s attached it at %x", what, got), null);
        }
    }

    private static CryoException refusal(String code, RemoteTask task, Mapping m, String what, String fix) {
        return new CryoException(CryoException.Category.UNSUPPORTED, code, String.format(
                "pid %s \"%s\": SysV shared memory %s (shmid %d) attached at %x-%x %s", task.pid(), task.comm(),
                m.name(), m.inode(), m.start(), m.end(), what), fix);
    }

    private static CryoException conflict(String code, RemoteTask task, SysvShmEntry e, String what, String fix) {
        return new CryoException(CryoException.Category.CONFLICT, code, String.format(
                "restore failed: SysV shared memory %s (shmid %d, key 0x%08x, %d bytes) of pid %s \"%s\" cannot be "
                        + "created again: %s", e.getName(), e.getShmid(), e.getKey(), e.getSize(), task.pid(),
                task.comm(), what), fix);
    }

    static long roundUp(long size) {
        return (size + PAGE - 1) & -PAGE;
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(SysvShmEntry.getDescriptor());
    }
}
