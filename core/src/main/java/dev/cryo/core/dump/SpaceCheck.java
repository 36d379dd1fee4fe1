package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;
import dev.cryo.core.linux.ProcFs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Room for an image: the size a dump will write, estimated before the tree is frozen, against the free space of the
 * image directory's filesystem ({@code statvfs}); and the refusal when a write fails with {@code ENOSPC} after all
 * (the estimate is a guess, other writers share the filesystem). Both are {@code core/NO_SPACE} (KERNEL, errno
 * ENOSPC) naming the directory, the estimate and the free space.
 *
 * <p>The estimate is the page data of the tree's processes now, from {@code /proc/PID/smaps_rollup}: every anonymous
 * page (private memory and written pages of private file mappings: what the memory plugin saves), swapped-out pages,
 * and shared memory ({@code Pss_Shmem}, so an object several processes of the tree map counts once), plus a page per
 * 1024 for the checksums and a little for the records. One read per process; the processes are found through
 * {@code /proc/PID/task/TID/children}. Used on the dump's tracer thread.
 */
final class SpaceCheck {
    static final String CODE = "core/NO_SPACE";
    /** Records (core, fds, objects), headers: generous for most trees, small next to any real memory image. */
    private static final long RECORD_SLACK = 256 << 10;

    private final Path dir;
    private final long estimate;
    private final long freeBefore;

    private SpaceCheck(Path dir, long estimate, long freeBefore) {
        this.dir = dir;
        this.estimate = estimate;
        this.freeBefore = freeBefore;
    }

    /**
     * Estimates the image of the tree under {@code rootPid} and refuses it when {@code dir}'s filesystem has less
     * room; nothing of the tree has been touched then.
     *
     * @return the check, to describe an {@code ENOSPC} met later ({@link #noSpace})
     */
    static SpaceCheck before(int rootPid, Path dir) throws CryoException {
        long free;
        try {
            free = Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            free = -1; // unknown: the writes will tell
        }
        SpaceCheck check = new SpaceCheck(dir, estimate(rootPid), free);
        if (free >= 0 && check.estimate > free) {
            throw check.refusal("refusing to dump", null);
        }
        return check;
    }

    /** @return the estimated image size of the tree under {@code rootPid}, in bytes */
    static long estimate(int rootPid) {
        long pages = 0;
        for (int pid : reachable(rootPid, SpaceCheck::childrenOrNone)) {
            pages += processBytes(pid);
        }
        return pages + pages / 1024 + RECORD_SLACK;
    }

    /** Anonymous + Swap + Pss_Shmem of smaps_rollup, in bytes (0 when unreadable: a kernel thread, a zombie). */
    private static long processBytes(int pid) {
        long kb = 0;
        try {
            for (String line : Files.readAllLines(ProcFs.dir(pid).resolve("smaps_rollup"))) {
                if (line.startsWith("Anonymous:") || line.startsWith("Swap:") || line.startsWith("Pss_Shmem:")) {
                    kb += Long.parseLong(line.substring(line.indexOf(':') + 1).replace("kB", "").trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return kb << 10;
    }

    /** @return whether {@code t} or anything it was caused by (or suppressed) is a write that met ENOSPC */
    static boolean isNoSpace(Throwable t) {
        return reachable(t, x -> {
            List<Throwable> next = new ArrayList<>(List.of(x.getSuppressed()));
            if (x.getCause() != null) {
                next.add(0, x.getCause());
            }
            return next;
        }).stream().anyMatch(x -> x instanceof CryoException c && c.errnoValue() == Errno.ENOSPC.number()
                || x instanceof IOException && String.valueOf(x.getMessage()).contains(Errno.ENOSPC.text()));
    }

    /** @return {@code start} and everything reachable from it through {@code next}, each once, breadth first */
    static <T> List<T> reachable(T start, Function<T, Collection<? extends T>> next) {
        Set<T> seen = new LinkedHashSet<>();
        Deque<T> todo = new ArrayDeque<>();
        todo.add(start);
        while (!todo.isEmpty()) {
            T x = todo.poll();
            if (seen.add(x)) {
                todo.addAll(next.apply(x));
            }
        }
        return new ArrayList<>(seen);
    }

    /** @return the children of {@code pid}, none when it is gone meanwhile (the freeze will say so) */
    private static List<Integer> childrenOrNone(int pid) {
        try {
            return ProcFs.children(pid);
        } catch (CryoException e) {
            return List.of();
        }
    }

    /** The refusal for a write that met ENOSPC in the middle of the dump; the caller has released the tree. */
    CryoException noSpace(Throwable cause) {
        return refusal("dump failed", cause);
    }

    private CryoException refusal(String what, Throwable cause) {
        String free = freeBefore < 0 ? "unknown" : mib(freeBefore);
        String now = cause == null ? "" : freeNow().map(n -> ", " + mib(n) + " is now").orElse("");
        return new CryoException(Category.KERNEL, CODE, what + ": no space left for the image in " + dir
                + ": it needs about " + mib(estimate) + " (estimated from the tree's memory) and " + free
                + " was free" + (cause == null ? "" : " before the dump" + now + " (ENOSPC while writing)")
                + "; the tree was left as it was and no partial image was kept",
                "free space on that filesystem, or dump into a directory on a larger one (-D)",
                Errno.ENOSPC.number(), cause);
    }

    /** @return the free space of the filesystem of the image directory (or its nearest existing parent: it was removed) */
    private java.util.Optional<Long> freeNow() {
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                try {
                    return java.util.Optional.of(Files.getFileStore(p).getUsableSpace());
                } catch (IOException e) {
                    return java.util.Optional.empty();
                }
            }
        }
        return java.util.Optional.empty();
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
