package dev.cryo.core.dump;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Mapping;
import dev.cryo.core.image.proto.FileLockEntry;
import dev.cryo.core.linux.FileLocks;
import dev.cryo.core.linux.FileLocks.Lock;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.TracerThread;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * File locks held by the frozen tree (flock, POSIX fcntl and OFD locks), found through the {@code lock:} lines of
 * {@code /proc/PID/fdinfo/FD}: the kernel lists there the locks taken through that open file (for POSIX locks: by
 * that fd table). Without the {@code file-locks} option a tree holding a lock is refused, since a restore would
 * bring the process back without its lock. With it, each lock is recorded with its fd, kind, type and range, and
 * {@code FileLockRestore} re-takes it inside the restored process once its fds exist.
 *
 * <p>{@code /proc/locks} is read too: a flock the kernel attributes to a process of the tree that no fd shows but a
 * shared mapping of the file does (its fd closed, as the JVM does with its hsperfdata file) is recorded with the
 * mapped areas and re-taken through them; any other lock no fd of the tree shows (an fd handed outside the tree)
 * cannot be re-taken, so such a tree is refused. Leases and delegations are refused.
 */
final class FileLockDump {
    static final String OPTION = "file-locks";
    /** The largest file a mapping-held lock is on that the image keeps a copy of. */
    private static final long MAX_SAVED_FILE = 1 << 20;

    private FileLockDump() {
    }

    /**
     * Starts reading {@code /proc/locks} on {@code thread}; call it twice: just before the tree is frozen (the answer
     * is dropped) and just after (the answer {@link #collect} uses).
     *
     * <p>Why: the kernel takes a per-cpu rw-semaphore for writing to list the host's locks, which waits for an RCU
     * grace period — 10–45 ms for the first read after a quiet spell on this machine type, 0.1 ms for a read soon
     * after another (measured with a Python loop, issue 13). The read before the freeze starts that wait while the
     * tree is still running; the one after it, which must follow the freeze (a lock taken in between would be
     * missed), then waits at most for what is left of it, on this thread while the tracer goes on with the tree.
     */
    static Future<List<Lock>> readHostLocks(ExecutorService thread) {
        return thread.submit(FileLocks::all);
    }

    /** Reads the locks of every live process of the frozen tree into {@link FrozenProcess#fileLocks}, or refuses. */
    static void collect(FrozenTree tree, Config config, Future<List<Lock>> hostLocks) throws CryoException {
        boolean enabled = config.isSet(OPTION);
        // the tree is frozen: it takes no lock from here on. Only an fd on a file /proc/locks lists can hold one, so
        // only those fds' fdinfo is read (reading every fd's cost a 10,000-fd dump a quarter of a second, issue 13)
        List<Lock> host = TracerThread.await(hostLocks, "/proc/locks");
        if (host.isEmpty()) {
            return;
        }
        Set<Long> lockedInodes = new HashSet<>();
        for (Lock l : host) {
            lockedInodes.add(l.inode());
        }
        long[] st = new long[6];
        Map<Integer, List<Lock>> seen = new HashMap<>();
        for (FrozenProcess p : tree.processes) {
            if (p.isZombie()) {
                continue;
            }
            List<Lock> ofProcess = new ArrayList<>();
            for (int fd : ProcFs.fds(p.pid)) {
                if (LibC.INSTANCE.stat("/proc/" + p.pid + "/fd/" + fd, false, st) == 0
                        && !lockedInodes.contains(st[2])) {
                    continue;
                }
                List<Lock> locks = FileLocks.ofFd(p.pid, fd);
                if (locks.isEmpty()) {
                    continue;
                }
                String path = fdPath(p.pid, fd);
                for (Lock l : locks) {
                    if (l.other()) {
                        throw new CryoException(Category.UNSUPPORTED, "core/FILE_LEASE", "dump refused: " + p.who()
                                + " holds a " + l.clazz() + " (" + l.mode() + " " + (l.write() ? "WRITE" : "READ")
                                + ") on " + path + " (fd " + fd + ", " + l.devIno() + "), which cryo cannot re-take",
                                "release the lease (fcntl F_SETLEASE F_UNLCK) before dumping");
                    }
                    if (!enabled) {
                        throw new CryoException(Category.UNSUPPORTED, "core/FILE_LOCKS", "dump refused: " + p.who()
                                + " holds a " + l.describe() + " on " + path + " (fd " + fd + ", " + l.devIno()
                                + "); without --file-locks the restored process would not hold it",
                                "pass --file-locks on dump and on restore (or add `file-locks` to conf/cryo.conf):"
                                        + " cryo then re-takes the lock in the restored process");
                    }
                    ofProcess.add(l);
                    p.fileLocks.add(FileLockEntry.newBuilder().setFd(fd).setKind(kind(l)).setWrite(l.write())
                            .setStart(l.start()).setEnd(l.end()).setPath(path).setDevIno(l.devIno()).build());
                }
            }
            seen.put(p.pid, ofProcess);
        }
        crossCheck(host, tree, seen, enabled);
    }

    /** Refuses when /proc/locks shows a lock taken by a process of the tree that none of its fds shows. */
    private static void crossCheck(List<Lock> host, FrozenTree tree, Map<Integer, List<Lock>> seen,
                                   boolean enabled) throws CryoException {
        for (Lock l : host) {
            if (l.kind().isEmpty() || l.kind().get() == FileLocks.Kind.OFD || !seen.containsKey(l.pid())) {
                continue;
            }
            boolean found;
            if (l.kind().get() == FileLocks.Kind.POSIX) {
                // a POSIX lock belongs to the fd table of the process that took it
                found = seen.get(l.pid()).stream().anyMatch(l::sameAs);
            } else {
                // a flock belongs to the open file, which a child may share
                found = seen.values().stream().flatMap(List::stream).anyMatch(l::sameAs);
            }
            if (!found && l.kind().get() == FileLocks.Kind.FLOCK) {
                found = keptByMapping(tree.process(l.pid()), l, enabled);
            }
            if (!found) {
                FrozenProcess p = tree.process(l.pid());
                throw new CryoException(Category.UNSUPPORTED, "core/FILE_LOCK_UNREACHABLE", "dump refused: "
                        + p.who() + " took a " + l.describe() + " on inode " + l.devIno() + " (/proc/locks: "
                        + l.line() + ") that no fd of the tree shows: the file is held only by a memory mapping, or"
                        + " its fd was passed outside the tree, and cryo cannot re-take the lock",
                        "release the lock (or unmap the file) before dumping");
            }
        }
    }

    /**
     * A flock whose fd was closed while a MAP_SHARED mapping of the file stayed (the JVM holds its hsperfdata file
     * so): the mapping keeps the open file, and with it the lock. Recorded with the areas that map the file, which
     * {@code FileLockRestore} maps again from a file it opens and locks (the same pages: the file's), so that the
     * lock lives as long as the mapping again.
     *
     * @return whether {@code l} is such a lock of {@code p} (recorded when {@code enabled}, refused otherwise)
     */
    private static boolean keptByMapping(FrozenProcess p, Lock l, boolean enabled) throws CryoException {
        List<Mapping> areas = p.maps.stream()
                .filter(m -> m.shared() && m.fileBacked() && l.devIno().equals(m.dev() + ":" + m.inode()))
                .toList();
        if (areas.isEmpty()) {
            return false;
        }
        Mapping first = areas.get(0);
        String where = "through its shared mapping of " + first.name() + " at 0x" + Long.toHexString(first.start())
                + " (the fd that took the lock is closed)";
        if (first.name().endsWith(" (deleted)") || !first.name().startsWith("/")) {
            throw new CryoException(Category.UNSUPPORTED, "core/FILE_LOCK_UNREACHABLE", "dump refused: " + p.who()
                    + " holds a " + l.describe() + " " + where + " on a file that has no name any more, which cryo"
                    + " cannot open again to re-take the lock", "release the lock (or unmap the file) before dumping");
        }
        if (!enabled) {
            throw new CryoException(Category.UNSUPPORTED, "core/FILE_LOCKS", "dump refused: " + p.who() + " holds a "
                    + l.describe() + " " + where + "; without --file-locks the restored process would not hold it",
                    "pass --file-locks on dump and on restore (or add `file-locks` to conf/cryo.conf): cryo then"
                            + " re-takes the lock in the restored process");
        }
        FileLockEntry.Builder e = FileLockEntry.newBuilder().setKind(FileLockEntry.Kind.FLOCK).setWrite(l.write())
                .setStart(0).setEnd(-1).setPath(first.name()).setDevIno(l.devIno());
        saveSmallFile(first.name(), e);
        for (Mapping m : areas) {
            e.addMapped(FileLockEntry.MappedArea.newBuilder().setStart(m.start()).setEnd(m.end()).setProt(m.prot())
                    .setOffset(m.offset()));
        }
        p.fileLocks.add(e.build());
        return true;
    }

    /** Keeps a copy of the file a mapping-held lock is on, with its mode and owner, when it is at most 1 MiB. */
    private static void saveSmallFile(String path, FileLockEntry.Builder e) throws CryoException {
        Path file = Path.of(path);
        try {
            Map<String, Object> attrs = Files.readAttributes(file, "unix:mode,uid,gid,size",
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if ((Long) attrs.get("size") > MAX_SAVED_FILE) {
                return;
            }
            e.setContent(com.google.protobuf.ByteString.copyFrom(Files.readAllBytes(file)))
                    .setMode((Integer) attrs.get("mode") & 07777).setUid((Integer) attrs.get("uid"))
                    .setGid((Integer) attrs.get("gid"));
        } catch (IOException | RuntimeException ex) {
            throw new CryoException(Category.KERNEL, "core/FILE_LOCK", "cannot read " + path + ", the file of a lock"
                    + " kept by a mapping: " + ex.getMessage(), "make the file readable, then dump again");
        }
    }

    private static FileLockEntry.Kind kind(Lock l) {
        return switch (l.kind().orElseThrow()) {
            case FLOCK -> FileLockEntry.Kind.FLOCK;
            case POSIX -> FileLockEntry.Kind.POSIX;
            case OFD -> FileLockEntry.Kind.OFD;
        };
    }

    private static String fdPath(int pid, int fd) {
        try {
            return ProcFs.readLink(ProcFs.dir(pid).resolve("fd").resolve(Integer.toString(fd)));
        } catch (CryoException e) {
            return "?";
        }
    }
}
