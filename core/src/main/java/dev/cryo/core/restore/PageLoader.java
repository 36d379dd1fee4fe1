package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.PageSource;
import dev.cryo.core.image.ImageFormat;
import dev.cryo.core.image.PagesReader;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.NativeMemory;
import dev.cryo.core.linux.Sys;
import dev.cryo.core.linux.Tracee;

/**
 * {@link PageSource} that moves page data from the pages file into the task with one copy: runs are queued as
 * they are asked for, and a batch — up to {@value #MAX_IOV} runs stored back to back in the file, at most
 * {@link #WINDOW} bytes — is written with a single process_vm_writev straight from the file mapped read-only
 * into cryo (MAP_POPULATE from the page cache, unmapped right after: cryo's memory stays bounded by one window),
 * once the window's pages match the file's checksums ({@link PagesReader#verify}).
 * A process with 10,000 one-page mappings costs ten system calls here instead of 20,000. A large batch is split in
 * two halves written at once by the tracer thread and a helper thread: the copy into the task (and the task's
 * page faults, which allocate and zero its memory — most of the cost) then runs on two cores.
 *
 * <p>Queued runs are written before the task executes an injected call that could see or change their memory,
 * before its memory is touched otherwise (the loader is the {@link Tracee#setPendingWrites pending writes} of the
 * task while memory is restored) and at {@link #close()}: a plugin that loads pages and then mprotects the mapping
 * read-only finds them in place, as the SPI promises. Only calls that cannot touch existing memory let the queue
 * grow across them: {@code mmap} without MAP_FIXED (MAP_FIXED_NOREPLACE included), {@code openat}, {@code close}.
 * Tracer thread only.
 */
final class PageLoader implements PageSource, AutoCloseable {
    private static final int MAX_IOV = 1024;
    /** Batches at least this large are written by two threads. */
    private static final long PARALLEL_BYTES = 4L << 20;
    /** The helper thread of every loader (one restore at a time per cryo). */
    private static volatile java.util.concurrent.ExecutorService helper;
    /** The most bytes of the pages file mapped, and written into the task, at once. */
    static final long WINDOW = 16L << 20;

    private final Tracee tracee;
    private final PagesReader reader;
    private final NativeMemory localIov = NativeMemory.allocate(MAX_IOV * 16);
    private final NativeMemory remoteIov = NativeMemory.allocate(MAX_IOV * 16);
    /** The second half of a batch split in two: local and remote iovecs. */
    private NativeMemory splitLocal;
    private NativeMemory splitRemote;
    private int count;
    private long firstOffset;
    private long nextOffset;
    private long loadedBytes;
    private int fd = -1;

    /** Told the bytes of each batch written into the task (the progress display). */
    private final java.util.function.LongConsumer onLoaded;

    PageLoader(Tracee tracee, PagesReader reader, java.util.function.LongConsumer onLoaded) {
        this.onLoaded = onLoaded;
        this.tracee = tracee;
        this.reader = reader;
        tracee.setPendingWrites(new Tracee.PendingWrites() {
            @Override
            public void flush() throws CryoException {
                PageLoader.this.flush();
            }

            @Override
            public void beforeSyscall(long nr, long[] args) throws CryoException {
                boolean harmless = nr == Sys.OPENAT || nr == Sys.CLOSE
                        || (nr == Sys.MMAP && args.length > 3 && (args[3] & Sys.MAP_FIXED) == 0);
                if (!harmless) {
                    PageLoader.this.flush();
                }
            }
        });
    }

    @Override
    public void load(long address, long length, long offset) throws CryoException {
        reader.checkRange(offset, length); // throws IMAGE core/IMAGE_TRUNCATED naming the file
        if (((address | length | offset) & (ImageFormat.PAGE_SIZE - 1)) != 0) {
            // the three come from the image's records: a damaged image, not a bug of cryo
            throw new CryoException(Category.IMAGE, "core/IMAGE_CORRUPT", "corrupt image: page load of " + length
                    + " bytes at 0x" + Long.toHexString(address) + " from offset " + offset + " of "
                    + reader.fileName() + " into " + tracee.who() + " is not page aligned",
                    "the image is damaged; dump the tree again");
        }
        loadedBytes += length;
        while (length > 0) {
            if (count > 0 && (count == MAX_IOV || offset != nextOffset || nextOffset - firstOffset == WINDOW)) {
                flush();
            }
            if (count == 0) {
                firstOffset = offset;
            }
            long chunk = Math.min(length, WINDOW - (offset - firstOffset));
            remoteIov.putLong(count * 16L, address).putLong(count * 16L + 8, chunk);
            localIov.putLong(count * 16L + 8, chunk);
            count++;
            nextOffset = offset + chunk;
            address += chunk;
            offset += chunk;
            length -= chunk;
        }
    }

    /** Writes every queued run into the task. */
    void flush() throws CryoException {
        if (count == 0) {
            return;
        }
        LibC c = LibC.INSTANCE;
        if (fd < 0) {
            fd = c.open(reader.path().toString(), 0 /* O_RDONLY */);
            if (fd < 0) {
                throw new CryoException(Category.IMAGE, "core/IMAGE_IO", "open(" + reader.path() + ") failed: "
                        + Errors.describe(LibC.errno()));
            }
        }
        long span = nextOffset - firstOffset;
        long base = c.mmap(0, span, Sys.PROT_READ, Sys.MAP_PRIVATE | Sys.MAP_POPULATE, fd,
                ImageFormat.PAGES_HEADER_BYTES + firstOffset);
        if (base == -1) {
            throw new CryoException(Category.KERNEL, "core/SYSCALL_FAILED", "mmap(" + reader.path() + ", offset "
                    + firstOffset + ", " + span + " bytes) failed: " + Errors.describe(LibC.errno()));
        }
        try {
            reader.verify(firstOffset, LibC.wrap(base, span));
            long at = base;
            for (int i = 0; i < count; i++) {
                localIov.putLong(i * 16L, at);
                at += localIov.getLong(i * 16L + 8);
            }
            writeAll(c);
            onLoaded.accept(span);
        } finally {
            c.munmap(base, span);
            count = 0;
        }
    }

    /** The batch with one process_vm_writev, or two at once on two threads when it is large. */
    private void writeAll(LibC c) throws CryoException {
        long want = nextOffset - firstOffset;
        if (want < PARALLEL_BYTES) {
            writeIovs(localIov, remoteIov, count, want);
            return;
        }
        int second = split(want / 2);
        java.util.concurrent.Future<Void> other = helper().submit(() -> {
            writeIovs(splitLocal, splitRemote, second, want - want / 2);
            return null;
        });
        CryoException failure = null;
        try {
            writeIovs(localIov, remoteIov, count, want / 2);
        } catch (CryoException e) {
            failure = e;
        }
        try {
            other.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = failure != null ? failure
                    : new CryoException(Category.INTERNAL, "core/INTERRUPTED", "interrupted while loading pages");
        } catch (java.util.concurrent.ExecutionException e) {
            CryoException cause = e.getCause() instanceof CryoException ce ? ce
                    : new CryoException(Category.INTERNAL, "core/PAGES_LOAD", "loading pages into " + tracee.who()
                    + " failed: " + e.getCause(), null, e.getCause());
            if (failure == null) {
                failure = cause;
            } else {
                failure.addSuppressed(cause);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Moves everything after the first {@code bytes} of the batch into the second iovec arrays (splitting the run
     * that straddles the point) and leaves the first part in place; {@link #count} becomes the first part's count.
     *
     * @return the number of iovecs of the second part
     */
    private int split(long bytes) {
        if (splitLocal == null) {
            splitLocal = NativeMemory.allocate(MAX_IOV * 16 + 16);
            splitRemote = NativeMemory.allocate(MAX_IOV * 16 + 16);
        }
        long seen = 0;
        int i = 0;
        while (seen + localIov.getLong(i * 16L + 8) <= bytes) {
            seen += localIov.getLong(i * 16L + 8);
            i++;
        }
        int n = 0;
        long cut = bytes - seen; // bytes of run i that stay in the first part (may be 0)
        for (int j = i; j < count; j++) {
            long len = localIov.getLong(j * 16L + 8);
            long skip = j == i ? cut : 0;
            splitLocal.putLong(n * 16L, localIov.getLong(j * 16L) + skip).putLong(n * 16L + 8, len - skip);
            splitRemote.putLong(n * 16L, remoteIov.getLong(j * 16L) + skip).putLong(n * 16L + 8, len - skip);
            n++;
        }
        if (cut > 0) {
            localIov.putLong(i * 16L + 8, cut);
            remoteIov.putLong(i * 16L + 8, cut);
            count = i + 1;
        } else {
            count = i;
        }
        return n;
    }

    private static java.util.concurrent.ExecutorService helper() {
        java.util.concurrent.ExecutorService h = helper;
        if (h == null) {
            synchronized (PageLoader.class) {
                if (helper == null) {
                    helper = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                        Thread t = new Thread(r, "cryo-page-loader");
                        t.setDaemon(true);
                        return t;
                    });
                }
                h = helper;
            }
        }
        return h;
    }

    /** One process_vm_writev of {@code n} iovecs ({@code want} bytes); a short write (rare) finishes run by run. */
    private void writeIovs(NativeMemory local0, NativeMemory remote0, int n, long want) throws CryoException {
        if (n == 0) {
            return;
        }
        LibC c = LibC.INSTANCE;
        long w0 = c.process_vm_writev(tracee.tid(), local0.address(), n, remote0.address(), n, 0);
        if (w0 == want) {
            return;
        }
        long done = Math.max(w0, 0);
        for (int i = 0; i < n; i++) {
            long len = local0.getLong(i * 16L + 8);
            if (done >= len) {
                done -= len;
                continue;
            }
            long local = local0.getLong(i * 16L) + done;
            long remote = remote0.getLong(i * 16L) + done;
            long left = len - done;
            done = 0;
            while (left > 0) {
                long w = writeOne(remote, local, left);
                if (w <= 0) {
                    throw new CryoException(Category.KERNEL, "core/MEMORY_WRITE", "process_vm_writev(pages at 0x"
                            + Long.toHexString(remote) + ", " + left + " bytes) of " + tracee.who() + " failed: "
                            + (w < 0 ? Errors.describe(LibC.errno()) : "wrote nothing"));
                }
                local += w;
                remote += w;
                left -= w;
            }
        }
    }

    /** process_vm_writev of one range, from any thread. */
    private long writeOne(long remote, long local, long len) {
        NativeMemory iov = NativeMemory.allocate(32);
        iov.putLong(0, local).putLong(8, len).putLong(16, remote).putLong(24, len);
        return LibC.INSTANCE.process_vm_writev(tracee.tid(), iov.address(), 1, iov.address(16), 1, 0);
    }

    long loadedBytes() {
        return loadedBytes;
    }

    /** Writes what is still queued and stops being the task's pending writes. */
    @Override
    public void close() throws CryoException {
        try {
            flush();
        } finally {
            tracee.setPendingWrites(null);
            if (fd >= 0) {
                LibC.INSTANCE.close(fd);
                fd = -1;
            }
        }
    }
}
