package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.FdInfo;
import dev.cryo.core.image.proto.FdRef;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Finds fds that share one open file description — dup'ed in one process or inherited across fork — with
 * {@code kcmp(KCMP_FILE)}. The first holder (parents first, fds ascending) is dumped by its handler; the others are
 * recorded as {@code same_as} and restored by duplicating it, so that a shared offset or O_APPEND log stays one
 * open file description.
 *
 * <p>Cost: fds are first grouped by what one open file description necessarily has in common (device, inode,
 * path, offset, status flags, mount); within a group, {@code kcmp(KCMP_FILE)} is not only an equality test but a
 * total order (of the kernel's obfuscated {@code struct file} pointers), so each group is a sorted tree and an fd
 * costs O(log n) kcmp calls — as CRIU's {@code kid_tree} does — instead of one kcmp per earlier fd of the group
 * (10,000 fds on {@code /dev/null}: 50 million kcmp calls, 78 s, before).
 */
final class SharedFiles {
    private static final int SYS_KCMP = 312;
    private static final int KCMP_FILE = 0;

    /** One open fd of the tree: {@code fd} of process {@code pid}. */
    private record Holder(int pid, int fd) {
    }

    /**
     * What every fd of one open file description has in common; fds differing here are different files. A class
     * with its own equals and hashCode, not a record: a record's are bootstrapped through method handles on first
     * use, some 30 generated classes and tens of milliseconds while the tree is frozen.
     */
    private static final class Key {
        /** One fd of the file; its device, inode, link, offset, status flags and mount are the key. */
        private final FdInfo fd;

        Key(FdInfo fd) {
            this.fd = fd;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.fd.dev() == fd.dev() && k.fd.inode() == fd.inode() && k.fd.pos() == fd.pos()
                    && k.fd.flags() == fd.flags() && k.fd.mntId() == fd.mntId() && k.fd.link().equals(fd.link());
        }

        @Override
        public int hashCode() {
            return (int) (fd.inode() * 31 + fd.dev()) * 31 + fd.link().hashCode();
        }
    }

    /** kcmp failed inside a comparison; carries the failure out of the {@link TreeMap}. */
    private static final class KcmpFailure extends RuntimeException {
        final transient CryoException failure;

        KcmpFailure(CryoException failure) {
            super(failure.getMessage(), null, false, false);
            this.failure = failure;
        }
    }

    private final Map<Key, TreeMap<Holder, Holder>> byFile = new HashMap<>();
    private long kcmpCalls;
    private final java.util.Comparator<Holder> byKcmp = new java.util.Comparator<>() {
        @Override
        public int compare(Holder a, Holder b) {
            return kcmp(a, b);
        }
    };

    /** @return the earlier fd with the same open file description, or empty (and remembers this one) */
    Optional<FdRef> findOrAdd(int pid, FdInfo fd) throws CryoException {
        Key key = new Key(fd);
        TreeMap<Holder, Holder> holders = byFile.get(key);
        if (holders == null) { // no lambda or method reference: this runs while the tree is frozen (issue 13)
            holders = new TreeMap<>(byKcmp);
            byFile.put(key, holders);
        }
        Holder me = new Holder(pid, fd.fd().value());
        Holder first;
        try {
            first = holders.putIfAbsent(me, me);
        } catch (KcmpFailure e) {
            throw e.failure;
        }
        return first == null ? Optional.empty()
                : Optional.of(FdRef.newBuilder().setPid(first.pid).setFd(first.fd).build());
    }

    /** @return kcmp calls made so far (for the dump statistics) */
    long kcmpCalls() {
        return kcmpCalls;
    }

    /** kcmp(KCMP_FILE) as a comparator: 0 same open file description, 1 less, 2 greater. */
    private int kcmp(Holder a, Holder b) {
        if (a.pid == b.pid && a.fd == b.fd) {
            return 0;
        }
        kcmpCalls++;
        long r = LibC.INSTANCE.syscall(SYS_KCMP, a.pid, b.pid, KCMP_FILE, a.fd, b.fd, 0);
        if (r == 0) {
            return 0;
        }
        if (r == 1) {
            return -1;
        }
        if (r == 2) {
            return 1;
        }
        String call = "kcmp(pid " + a.pid + " fd " + a.fd + ", pid " + b.pid + " fd " + b.fd + ", KCMP_FILE)";
        throw new KcmpFailure(r == -1 ? Errors.failure(call, LibC.errno())
                : new CryoException(Category.KERNEL, "core/SYSCALL_FAILED", call + " returned " + r
                        + ", not an order"));
    }
}
