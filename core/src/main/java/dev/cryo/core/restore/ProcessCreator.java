package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;
import dev.cryo.api.Mapping;
import dev.cryo.core.linux.SyscallSite;
import dev.cryo.core.image.proto.MmEntry;
import dev.cryo.core.image.proto.SpecialVmaEntry;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Reaper;
import dev.cryo.core.linux.Spawner;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates a process with a given pid as a child of cryo: starts cryo's static stub with posix_spawn (never
 * ProcessBuilder: the JDK reaper would steal ptrace stops), seizes it, maps a scratch area holding
 * {@code syscall; int3} at an address free in both the stub's and the dumped layout, and injects
 * {@code clone3(CLONE_PARENT, set_tid = {pid})}. The new process is a copy of the stub (scratch included),
 * auto-attached and stopped; the stub is then killed.
 */
final class ProcessCreator implements AutoCloseable {
    /** Scratch area: one code page, then {@link #DATA_SIZE} bytes of data. */
    static final int DATA_SIZE = 2 * 4096;
    static final int SCRATCH_SIZE = 4096 + DATA_SIZE;
    private static final int CLONE_ARGS_SIZE = 88;
    /** CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM */
    private static final long CLONE_THREAD_FLAGS = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000;

    private final Path stub;
    private int stubPid = -1;
    private long scratch;
    private long vdsoSyscallOffset;
    private long tempArea;
    private boolean seccompSuspended;

    ProcessCreator(Path stub) {
        this.stub = stub;
    }

    long scratchCode() {
        return scratch;
    }

    long dataArea() {
        return scratch + 4096;
    }

    /** The batch executor in the code page, after {@code syscall; int3} (every created task has it). */
    private long batchCode() {
        return scratch + 16;
    }

    long vdsoSyscallOffset() {
        return vdsoSyscallOffset;
    }

    /** @return whether the created tasks are traced with seccomp suspended (PTRACE_O_SUSPEND_SECCOMP) */
    boolean seccompSuspended() {
        return seccompSuspended;
    }

    /** @return an area free in both layouts, large enough to park the kernel areas while moving them */
    long tempArea() {
        return tempArea;
    }

    /**
     * Creates the root of the tree with {@code pid}, a child of cryo, from the stub. The scratch area is placed
     * where it is free in the stub and in every dumped layout of {@code layouts}.
     */
    Tracee createRoot(int pid, String comm, List<MmEntry> layouts) throws CryoException {
        if (!Files.isExecutable(stub)) {
            throw new CryoException(Category.PLUGIN_CONFIG, "core/NO_STUB", "the restore stub " + stub
                    + " is missing or not executable", "reinstall cryo; the stub ships in lib/cryo-stub");
        }
        stubPid = Spawner.spawnDetachedStdio(stub.toString(), List.of("cryo-stub"));
        Tracee st = new Tracee(stubPid, "cryo-stub");
        // the options pass to every task cloned from the stub; with seccomp suspended, the seccomp state a restored
        // task gets back never judges the syscalls cryo injects afterwards
        st.seize(Sys.PTRACE_O_EXITKILL | Sys.PTRACE_O_TRACEFORK | Sys.PTRACE_O_TRACECLONE
                | (Tracee.canSuspendSeccomp() ? Sys.PTRACE_O_SUSPEND_SECCOMP : 0));
        seccompSuspended = st.seccompSuspended();
        st.freeze();
        st.setSavedRegs(st.getRegs());
        List<Mapping> stubMaps = ProcFs.mapsOnly(stubPid);
        Mapping vdso = stubMaps.stream().filter(m -> m.name().equals("[vdso]")).findFirst()
                .orElseThrow(() -> new CryoException(Category.KERNEL, "core/NO_VDSO", "the stub has no [vdso]"));
        vdsoSyscallOffset = SyscallSite.vdso(st, vdso).syscallOffset();
        st.setSyscallInsn(vdso.start() + vdsoSyscallOffset);

        List<AddressSpace.Range> taken = new ArrayList<>();
        for (Mapping m : stubMaps) {
            taken.add(new AddressSpace.Range(m.start(), m.end()));
        }
        for (MmEntry mm : layouts) {
            for (SpecialVmaEntry v : mm.getLayoutList()) {
                taken.add(new AddressSpace.Range(v.getStart(), v.getEnd()));
            }
        }
        scratch = AddressSpace.findFree(taken, SCRATCH_SIZE, 0x10000000L, 0x10000000L);
        taken.add(new AddressSpace.Range(scratch, scratch + SCRATCH_SIZE));
        tempArea = AddressSpace.findFree(taken, 64L << 20, 0x300000000000L, 0x1000000000L);

        st.injectChecked("mmap(scratch)", Sys.MMAP, scratch, SCRATCH_SIZE,
                Sys.PROT_READ | Sys.PROT_WRITE | Sys.PROT_EXEC,
                Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS | Sys.MAP_FIXED_NOREPLACE, -1, 0);
        ByteBuffer code = ByteBuffer.allocateDirect(3).put(new byte[]{0x0f, 0x05, (byte) 0xcc}).flip();
        st.writeFully(scratch, code, "scratch code");
        st.setSyscallInsn(scratch);
        st.installBatchCode(batchCode());

        Tracee root = cloneInto(st, Sys.CLONE_PARENT, 0, pid, comm);
        killStub();
        return root;
    }

    /**
     * Creates a child of {@code parent} (a process created by this creator) with {@code pid}; with
     * {@code shareFdTable} it shares its parent's fd table ({@code CLONE_FILES}), else it gets a copy.
     */
    Tracee createChild(Tracee parent, int pid, String comm, boolean shareFdTable) throws CryoException {
        return cloneInto(parent, shareFdTable ? Sys.CLONE_FILES : 0, Sys.SIGCHLD, pid, comm);
    }

    /**
     * Creates a helper process with pid {@code pid} as a child of {@code parent} with exit signal 0 (its exit sends
     * the parent no SIGCHLD; the parent reaps it with __WALL), see {@link OrphanedGroups}.
     */
    Tracee createGroupHelper(Tracee parent, int pid, String what) throws CryoException {
        return cloneInto(parent, 0, 0, pid, what);
    }

    /** Creates a thread {@code tid} in the process of {@code leader}, whose memory must be in place already. */
    Tracee createThread(Tracee leader, int tid, String comm) throws CryoException {
        return cloneInto(leader, CLONE_THREAD_FLAGS, 0, tid, comm);
    }

    /**
     * Injects {@code clone3(flags, exit_signal, set_tid = {tid})} into {@code parent}; the new task is
     * auto-attached (PTRACE_O_TRACEFORK/TRACECLONE are inherited from the stub), stopped, and set up to inject
     * through the scratch area.
     */
    private Tracee cloneInto(Tracee parent, long flags, int exitSignal, int tid, String comm) throws CryoException {
        ByteBuffer args = ByteBuffer.allocateDirect(CLONE_ARGS_SIZE + 8).order(ByteOrder.LITTLE_ENDIAN);
        long setTid = dataArea() + CLONE_ARGS_SIZE;
        args.putLong(0, flags);
        args.putLong(32, exitSignal);        // must be 0 with CLONE_PARENT or CLONE_THREAD
        args.putLong(64, setTid);            // set_tid
        args.putLong(72, 1);                 // set_tid_size
        args.putInt(CLONE_ARGS_SIZE, tid);
        parent.writeFully(dataArea(), args, "clone_args");
        long r = parent.injectFork(Sys.CLONE3, dataArea(), CLONE_ARGS_SIZE);
        if (r < 0) {
            int errno = (int) -r;
            if (errno == Errno.EEXIST.number()) {
                String holder = ProcFs.exists(tid) ? "is in use by \"" + ProcFs.comm(tid) + "\""
                        : "is still in use as the id of a session or process group (its leader exited, members"
                        + " of the group or session still run)";
                throw new CryoException(Category.CONFLICT, "core/PID_IN_USE", "cannot restore pid " + tid + " (\""
                        + comm + "\"): pid " + tid + " " + holder,
                        ProcFs.exists(tid) ? "stop pid " + tid + " first, then restore again"
                                : "end the processes of session/group " + tid + " (ps -eo pid,pgid,sid,comm), then"
                                + " restore again");
            }
            throw new CryoException(Category.KERNEL, "core/CLONE3", "clone3(set_tid=" + tid + ") in "
                    + parent.who() + " failed: " + Errors.describe(errno), errno == Errno.EPERM.number()
                    ? "creating a process with a chosen pid needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE" : null);
        }
        Tracee child = new Tracee(tid, comm);
        try {
            child.waitStop();
            child.setSavedRegs(child.getRegs());
            child.setSyscallInsn(scratch);
            child.useBatchCode(batchCode());
        } catch (CryoException e) {
            Reaper.killAndReap(tid);
            throw e;
        }
        return child;
    }

    /**
     * Makes {@code path} the controlling terminal of {@code leader}, a session leader without one that is still a copy
     * of the stub: {@code openat(path, O_RDWR)} without O_NOCTTY (the kernel makes a terminal no session has the
     * opener's), then {@code close}; checks {@code tty_nr} afterwards.
     */
    void takeTerminal(Tracee leader, String path, int ttyNr) throws CryoException {
        byte[] name = (path + "\0").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        leader.writeFully(dataArea(), ByteBuffer.allocateDirect(name.length).put(name).flip(), "terminal path");
        long fd = leader.injectChecked("openat(" + path + ", O_RDWR) to take it as the controlling terminal",
                Sys.OPENAT, Sys.AT_FDCWD, dataArea(), Sys.O_RDWR | Sys.O_CLOEXEC, 0);
        leader.injectChecked("close(" + fd + ") of " + path, Sys.CLOSE, fd);
        long now = ProcFs.stat(leader.tid()).field(7);
        if (now != ttyNr) {
            throw new CryoException(Category.KERNEL, "core/CTTY", "restore failed: " + leader.who()
                    + " did not get " + path + " as its controlling terminal (tty_nr " + now
                    + ", not " + ttyNr + "): another session has it", "end the session that uses " + path
                    + ", then restore again");
        }
    }

    /** Sets the name (comm) of a created task that is still a copy of the stub: prctl(PR_SET_NAME) in it. */
    void setName(Tracee t, String comm) throws CryoException {
        byte[] name = comm.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocateDirect(16);
        b.put(name, 0, Math.min(name.length, 15)).put((byte) 0).flip();
        t.writeFully(dataArea(), b, "comm");
        t.injectChecked("prctl(PR_SET_NAME, " + comm + ")", Sys.PRCTL, Sys.PR_SET_NAME, dataArea(), 0, 0, 0);
    }

    private void killStub() {
        if (stubPid > 0) {
            Reaper.killAndReap(stubPid);
            stubPid = -1;
        }
    }

    @Override
    public void close() {
        killStub();
    }
}
