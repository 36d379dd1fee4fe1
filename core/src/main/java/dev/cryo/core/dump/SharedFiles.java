package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdInfo;
import dev.cryo.core.image.proto.FdRef;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds fds that share one open file description — dup'ed in one process or inherited across fork — with
 * {@code kcmp(KCMP_FILE)}, comparing only fds of the same file. The first holder (parents first, fds ascending) is
 * dumped by its handler; the others are recorded as {@code same_as} and restored by duplicating it, so that a
 * shared offset or O_APPEND log stays one open file description.
 */
final class SharedFiles {
    private static final int SYS_KCMP = 312;
    private static final int KCMP_FILE = 0;

    private record Holder(int pid, int fd) {
    }

    private final Map<String, List<Holder>> byFile = new HashMap<>();

    /** @return the earlier fd with the same open file description, or empty (and remembers this one) */
    Optional<FdRef> findOrAdd(int pid, FdInfo fd) throws CryoException {
        String key = fd.dev() + ":" + fd.inode() + ":" + fd.link();
        List<Holder> holders = byFile.computeIfAbsent(key, k -> new ArrayList<>());
        for (Holder h : holders) {
            long r = LibC.INSTANCE.syscall(SYS_KCMP, pid, h.pid, KCMP_FILE, fd.fd().value(), h.fd, 0);
            if (r == -1) {
                throw Errors.failure("kcmp(pid " + pid + " fd " + fd.fd() + ", pid " + h.pid + " fd " + h.fd + ")",
                        LibC.errno());
            }
            if (r == 0) {
                return Optional.of(FdRef.newBuilder().setPid(h.pid).setFd(h.fd).build());
            }
        }
        holders.add(new Holder(pid, fd.fd().value()));
        return Optional.empty();
    }
}
