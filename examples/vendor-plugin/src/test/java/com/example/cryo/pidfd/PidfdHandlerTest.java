package com.example.cryo.pidfd;

import com.example.cryo.pidfd.proto.PidfdEntry;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.Errno;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.HostKernel;
import dev.cryo.api.ImageSource;
import dev.cryo.api.LocalFd;
import dev.cryo.api.ObjectId;
import dev.cryo.api.Pid;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreCheckContext;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.api.Syscall;
import dev.cryo.api.TargetFd;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The handler against a fake {@code /proc} and fake contexts: what it records, what it refuses and with which
 * message, and which system calls it injects on restore. The real thing on real processes is {@link PidfdKitIT}.
 */
class PidfdHandlerTest {
    private static final int CRYO = 500;
    private static final int TRACER_THREAD = 503; // a thread of cryo's process, the one that ptraces the tree
    private static final int HOLDER = 812;
    private static final int CHILD = 813;
    private static final int OUTSIDER = 77;

    @TempDir
    Path dir;
    private FakeProc proc;
    private PidfdHandler handler;

    @BeforeEach
    void setUp() {
        proc = new FakeProc(dir);
        proc.process(CRYO, "java", 'S', CRYO, 1, 0, 100)
                .process(TRACER_THREAD, "cryo-tracer", 'S', CRYO, 1, 0, 100)
                .process(HOLDER, "holder", 't', HOLDER, 1, TRACER_THREAD, 200)
                .process(CHILD, "child", 't', CHILD, HOLDER, TRACER_THREAD, 300)
                .process(OUTSIDER, "sshd", 'S', OUTSIDER, 1, 0, 50);
        handler = new PidfdHandler(dir, CRYO);
    }

    @Test
    void claimsPidfdsOnly() {
        assertTrue(handler.probe(fd(4, 0)));
        assertFalse(handler.probe(new FdInfo(TargetFd.of(5), "anon_inode:[eventfd]", 0600, 14, 9, 0, 0, 0, 2, true,
                0, 15)));
    }

    @Test
    void aPidfdOnAChildOfTheTreeKeepsItsPidAndPidfdFlags() throws CryoException {
        proc.pidfd(HOLDER, 4, "Pid:\t" + CHILD + "\nNSpid:\t" + CHILD + "\n");
        PidfdEntry e = (PidfdEntry) handler.collect(dumpContext(Set.of()), fd(4, 02 | PidfdHandler.O_NONBLOCK));
        assertEquals(CHILD, e.getTargetPid());
        assertEquals(PidfdHandler.O_NONBLOCK, e.getOpenFlags(), "O_RDWR is not a pidfd_open flag");
        assertFalse(e.getOutsideTree());
        assertEquals("child", e.getTargetComm());
    }

    @Test
    void aZombieChildIsInTheTreeThroughItsParent() throws CryoException {
        proc.process(CHILD, "child", 'Z', CHILD, HOLDER, 0, 300).pidfd(HOLDER, 4, "Pid:\t" + CHILD + "\n");
        assertFalse(((PidfdEntry) handler.collect(dumpContext(Set.of()), fd(4, 02))).getOutsideTree());
    }

    @Test
    void aProcessOutsideTheTreeIsRefusedNamingBothAndTheOption() {
        proc.pidfd(HOLDER, 4, "Pid:\t" + OUTSIDER + "\n");
        CryoException e = assertThrows(CryoException.class, () -> handler.collect(dumpContext(Set.of()), fd(4, 02)));
        assertEquals("example-pidfd/OUTSIDE_TREE", e.code());
        assertEquals(CryoException.Category.UNSUPPORTED, e.category());
        assertEquals("dump refused: the pidfd (pid 812 \"holder\", fd 4) refers to pid 77 \"sshd\", which is outside "
                + "the dumped tree", e.getMessage());
        assertTrue(e.fix().startsWith("pass --pidfd-outside-tree (or add `pidfd-outside-tree` to conf/cryo.conf)"),
                e.fix());
    }

    @Test
    void withTheOptionAnOutsideProcessIsRecordedWithItsStartTime() throws CryoException {
        proc.pidfd(HOLDER, 4, "Pid:\t" + OUTSIDER + "\n");
        PidfdEntry e = (PidfdEntry) handler.collect(dumpContext(Set.of("pidfd-outside-tree")), fd(4, 02));
        assertTrue(e.getOutsideTree());
        assertEquals(50, e.getTargetStartTime());
    }

    @Test
    void aPidfdOnAReapedProcessIsRefused() {
        proc.pidfd(HOLDER, 4, "Pid:\t-1\nNSpid:\t-1\n");
        assertEquals("example-pidfd/TARGET_EXITED", assertThrows(CryoException.class,
                () -> handler.collect(dumpContext(Set.of()), fd(4, 02))).code());
    }

    @Test
    void aThreadPidfdOnAnotherProcessesThreadIsRefused() {
        proc.process(CHILD + 1, "worker", 't', CHILD, HOLDER, TRACER_THREAD, 301)
                .pidfd(HOLDER, 4, "Pid:\t" + (CHILD + 1) + "\n");
        CryoException e = assertThrows(CryoException.class,
                () -> handler.collect(dumpContext(Set.of()), fd(4, 02 | PidfdHandler.O_EXCL)));
        assertEquals("example-pidfd/THREAD_OF_OTHER_PROCESS", e.code());
        assertTrue(e.getMessage().contains("thread 814 of pid 813 \"worker\""), e.getMessage());
    }

    @Test
    void checkRestoreRefusesAnOutsideTargetThatExitedOrWasReplaced() throws CryoException {
        PidfdEntry outside = PidfdEntry.newBuilder().setTargetPid(OUTSIDER).setOutsideTree(true)
                .setTargetStartTime(50).setTargetComm("sshd").build();
        PidfdEntry inTree = PidfdEntry.newBuilder().setTargetPid(4242).setTargetComm("gone-child").build();
        RestoreCheckContext ctx = checkContext(List.of(outside, inTree));

        handler.checkRestore(ctx); // present and the same: fine; the in-tree target is restored with the tree

        proc.process(OUTSIDER, "bash", 'S', OUTSIDER, 1, 0, 999);
        CryoException replaced = assertThrows(CryoException.class, () -> handler.checkRestore(ctx));
        assertEquals("example-pidfd/TARGET_GONE", replaced.code());
        assertEquals(CryoException.Category.CONFLICT, replaced.category());
        assertTrue(replaced.getMessage().contains("pid 77 is another process now (\"bash\""), replaced.getMessage());

        proc.remove(OUTSIDER);
        CryoException exited = assertThrows(CryoException.class, () -> handler.checkRestore(ctx));
        assertEquals("restore refused: the pidfd (pid 812 \"holder\", fd 4) referred to pid 77 \"sshd\" outside the "
                + "dumped tree, which has exited since the dump", exited.getMessage());
    }

    @Test
    void restoreOpensTheSameFdNumberDirectly() throws CryoException {
        FakeTask task = new FakeTask(HOLDER, dir.resolve("812"), call -> call == Syscall.PIDFD_OPEN ? 4 : 0);
        PidfdEntry e = PidfdEntry.newBuilder().setTargetPid(CHILD).setOpenFlags(PidfdHandler.O_NONBLOCK).build();
        assertEquals(RestoreOutcome.DONE, handler.restore(restoreContext(task, 4, true, e)));
        assertEquals(List.of("pidfd_open[813, 2048]"), task.calls());
    }

    @Test
    void restoreMovesAnotherNumberToTheRecordedFd() throws CryoException {
        FakeTask task = new FakeTask(HOLDER, dir.resolve("812"), call -> call == Syscall.PIDFD_OPEN ? 3 : 0);
        PidfdEntry e = PidfdEntry.newBuilder().setTargetPid(CHILD).build();
        handler.restore(restoreContext(task, 7, true, e));
        assertEquals(List.of("pidfd_open[813, 0]", "dup3[3, 7, 524288]", "close[3]"), task.calls());
    }

    @Test
    void restoreClearsCloseOnExecWhenTheDumpedFdHadNone() throws CryoException {
        FakeTask task = new FakeTask(HOLDER, dir.resolve("812"), call -> call == Syscall.PIDFD_OPEN ? 4 : 0);
        handler.restore(restoreContext(task, 4, false, PidfdEntry.newBuilder().setTargetPid(CHILD).build()));
        assertEquals(List.of("pidfd_open[813, 0]", "fcntl[4, 2, 0]"), task.calls());
    }

    @Test
    void aMissingTargetAtRestoreIsAConflictAndOtherErrorsCarryTheErrno() {
        PidfdEntry e = PidfdEntry.newBuilder().setTargetPid(CHILD).setTargetComm("child").build();
        FakeTask esrch = new FakeTask(HOLDER, dir.resolve("812"), call -> -Errno.ESRCH.number());
        assertEquals("example-pidfd/TARGET_GONE", assertThrows(CryoException.class,
                () -> handler.restore(restoreContext(esrch, 4, true, e))).code());

        FakeTask einval = new FakeTask(HOLDER, dir.resolve("812"), call -> -Errno.EINVAL.number());
        CryoException x = assertThrows(CryoException.class, () -> handler.restore(restoreContext(einval, 4, true, e)));
        assertEquals("example-pidfd/PIDFD_OPEN", x.code());
        assertEquals(Optional.of(Errno.EINVAL), x.errno());
        assertTrue(x.getMessage().startsWith("pidfd_open(813, 00) for pid 812 \"holder\", fd 4 failed: EINVAL"),
                x.getMessage());
    }

    // ------------------------------------------------------------------------------------------------ fakes

    private static FdInfo fd(int n, int flags) {
        return new FdInfo(TargetFd.of(n), PidfdHandler.LINK, 0700, 14, 1234, 0, 0, 0, flags, true, 0, 15);
    }

    /** The flags in {@code set} given, bare. */
    private static Config options(Set<String> set) {
        Map<String, List<String>> flags = new java.util.HashMap<>();
        set.forEach(k -> flags.put(k, List.of()));
        return Config.of(flags);
    }

    private FdDumpContext dumpContext(Set<String> options) {
        FakeTask task = new FakeTask(HOLDER, dir.resolve(Integer.toString(HOLDER)), call -> 0);
        return new FdDumpContext() {
            public RemoteTask task() {
                return task;
            }

            public Config config() {
                return options(options);
            }

            public void holds(ObjectId object) {
            }

            public void references(ObjectId from, ObjectId to, String description) {
            }
        };
    }

    private static FdRestoreContext restoreContext(FakeTask task, int fd, boolean cloexec, PidfdEntry e) {
        return new FdRestoreContext() {
            public RemoteTask task() {
                return task;
            }

            public TargetFd fd() {
                return TargetFd.of(fd);
            }

            public boolean cloexec() {
                return cloexec;
            }

            @SuppressWarnings("unchecked")
            public <T extends Message> T record(Class<T> type) {
                return (T) e;
            }

            public ImageSource objects() {
                throw new UnsupportedOperationException();
            }

            public Config config() {
                return options(Set.of());
            }
        };
    }

    private RestoreCheckContext checkContext(List<PidfdEntry> entries) {
        return new RestoreCheckContext() {
            public Path imageDir() {
                return dir;
            }

            public Config config() {
                return options(Set.of());
            }

            public HostKernel kernel() {
                throw new UnsupportedOperationException();
            }

            public ImageSource objects() {
                throw new UnsupportedOperationException();
            }

            public List<FdRecord> fdRecords() {
                return entries.stream().map(e -> new FdRecord(Pid.of(HOLDER), "holder", TargetFd.of(4), Any.pack(e)))
                        .toList();
            }

            public ImageSource externals() {
                throw new UnsupportedOperationException();
            }

            public Optional<LocalFd> inheritedFd(String resource) {
                return Optional.empty();
            }
        };
    }
}
