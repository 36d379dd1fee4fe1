package dev.cryo.core.dump;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.image.proto.FileLockEntry;
import dev.cryo.core.linux.FileLocks;
import dev.cryo.core.linux.FileLocks.Lock;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.ProcFs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * File locks held by the frozen tree (flock, POSIX fcntl and OFD locks), found through the {@code lock:} lines of
 * {@code /proc/PID/fdinfo/FD}: the kernel lists there the locks taken through that open file (for POSIX locks: by
 * that fd table). Without the {@code file-locks} option a tree holding a lock is refused, since a restore would
 * bring the process back without its lock. With it, each lock is recorded with its fd, kind, type and range, and
 * {@code FileLockRestore} re-takes it inside the restored process once its fds exist.
 *
 * <p>{@code /proc/locks} is read too: a lock the kernel attributes to a process of the tree that no fd of the tree
 * shows (a flock kept alive by a memory mapping after its fd was closed, an fd handed outside the tree) cannot be
 * re-taken, so such a tree is refused. Leases and delegations are refused.
 */
final class FileLockDump {
    static final String OPTION = "file-locks";

    private FileLockDump() {
    }

    /** Reads the locks of every live process of the frozen tree into {@link FrozenProcess#fileLocks}, or refuses. */
    static void collect(FrozenTree tree, Config config) throws CryoException {
        boolean enabled = config.isSet(OPTION);
        // the tree is frozen: it takes no lock from here on. Only an fd on a file /proc/locks lists can hold one, so
        // only those fds' fdinfo is read (reading every fd's cost a 10,000-fd dump a quarter of a second, issue 13)
        List<Lock> host = FileLocks.all();
        if (host.isEmpty()) {
            return;
        }
        Set<Long> lockedInodes = new HashSet<>();
        host.forEach(l -> lockedInodes.add(l.inode()));
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
        crossCheck(host, tree, seen);
    }

    /** Refuses when /proc/locks shows a lock taken by a process of the tree that none of its fds shows. */
    private static void crossCheck(List<Lock> host, FrozenTree tree, Map<Integer, List<Lock>> seen)
            throws CryoException {
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
