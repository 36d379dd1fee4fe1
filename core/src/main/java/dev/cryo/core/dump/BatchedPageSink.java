package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;
import dev.cryo.api.PageSink;
import dev.cryo.core.image.PageBuffers;
import dev.cryo.core.image.PagesWriter;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.NativeMemory;
import dev.cryo.core.linux.Tracee;

import java.nio.ByteBuffer;

/**
 * {@link PageSink} that gathers the queued ranges into one direct buffer with a single process_vm_readv per
 * batch (up to {@value #MAX_IOV} remote ranges, {@link #BATCH_BYTES} bytes) and appends it to the pages file.
 * {@value #BUFFERS} buffers take turns: while batches are written to the file by a writer thread, the next is read
 * from the process on the tracer thread, so both copies run at once on two cores. Batches are a few MiB, not tens:
 * a buffer the CPU cache still holds is written to the page cache much faster (512 MiB: 0.08 s with 8 MiB
 * batches, 0.2-0.5 s with 32 MiB ones on the development machine), and cryo's memory stays small. The heap never
 * holds page data.
 *
 * <p>Each page's crc32c ({@link PagesWriter#checksum}) is computed by whichever thread has time: the tracer thread
 * right after its read when the writer is still busy with an earlier batch (the writer is the slower side: the
 * checksum then costs the tracer, not the page phase), else the writer thread before its write. Both threads keep
 * their times ({@link #describeTimes}, logged with {@code -vv}). The last batch, read at {@link #close}, is written by
 * the tracer thread itself after the earlier ones: most processes have a single small batch, and its round trip
 * through the writer thread cost a few milliseconds of a small dump's frozen time (issue 13).
 *
 * <p>Reading straight into a shared mapping of the pages file (no buffer, one copy fewer) was measured and rejected:
 * on ext4 the page faults and page_mkwrite of the file mapping cost three times the CPU of the copy they save (512
 * MiB: 2.0 s of system time against 0.65 s for process_vm_readv + pwrite, issue 13).
 *
 * <p>process_vm_readv stops at the first page the task could not read itself (no PROT_READ); the rest of that batch
 * is read with one pread of {@code /proc/TID/mem} per range ({@link #readRest}: the kernel reads it with FOLL_FORCE for
 * the tracer, which CRIU relies on for PROT_NONE memory), so the task's protections are never changed.
 */
final class BatchedPageSink implements PageSink, AutoCloseable {
    static final int BATCH_BYTES = PageBuffers.MAX_BYTES;
    static final int MAX_IOV = 1024;
    /** Buffers in turn; as many as the {@link PageBuffers} the sink is given. */
    static final int BUFFERS = 4;

    private final Tracee tracee;
    private final PagesWriter writer;
    private final String fileName;
    private final PageBuffers buffers;
    private final java.util.concurrent.ExecutorService fileWriter;
    /** The write in flight of each buffer, null when the buffer is free. */
    @SuppressWarnings("unchecked")
    private final java.util.concurrent.Future<Void>[] writes = new java.util.concurrent.Future[BUFFERS];
    private int current;
    private final NativeMemory localIov = NativeMemory.allocate(16);
    private final NativeMemory remoteIov = NativeMemory.allocate(MAX_IOV * 16);
    /** The crc32c of each page of each buffer's batch; {@code checksummed[b]}: computed by the tracer thread. */
    private final int[][] crcs = new int[BUFFERS][BATCH_BYTES / 4096];
    private final boolean[] checksummed = new boolean[BUFFERS];
    private long readNs;
    private long tracerCrcNs;
    private long waitNs;
    /** Written by the writer thread; read after its last write completed (Future.get orders them). */
    private long writerCrcNs;
    private long writeNs;
    private int iovCount;
    private int filled;
    private long nextOffset;
    private long savedBytes;
    /** Told the bytes of each batch read from the task (the progress display). */
    private final java.util.function.LongConsumer onRead;
    /** {@code /proc/TID/mem}, opened at the first range process_vm_readv cannot read; -1 before. */
    private int memFd = -1;
    /**
     * Read every page through {@code /proc/TID/mem}, not process_vm_readv: process_vm_readv pins the pages it reads,
     * and the kernel gives a pinned copy-on-write page its own copy (FOLL_PIN unshares), so a process that still
     * shares pages with its parent or child since a fork would leave the dump using more memory; {@code
     * /proc/TID/mem} reads without pinning.
     */
    private boolean keepCopyOnWrite;

    /**
     * @param buffers    {@value #BUFFERS} slots, shared by the sinks of one dump (one sink at a time)
     * @param fileWriter the one thread that writes batches to the pages files of a dump (see {@link #writerThread})
     */
    BatchedPageSink(Tracee tracee, PagesWriter writer, String fileName, PageBuffers buffers,
                    java.util.concurrent.ExecutorService fileWriter, java.util.function.LongConsumer onRead) {
        this.onRead = onRead;
        this.tracee = tracee;
        this.fileWriter = fileWriter;
        this.buffers = buffers;
        this.writer = writer;
        this.fileName = fileName;
    }

    /** Reads every page through {@code /proc/TID/mem} (see {@link #keepCopyOnWrite}); before the first save. */
    BatchedPageSink keepCopyOnWrite(boolean keep) {
        this.keepCopyOnWrite = keep;
        return this;
    }

    @Override
    public long save(long address, long length) throws CryoException {
        if ((address & 4095) != 0 || (length & 4095) != 0 || length <= 0) {
            throw new CryoException(Category.INTERNAL, "core/PAGES_UNALIGNED", "page range 0x"
                    + Long.toHexString(address) + "+" + length + " of " + tracee.who() + " is not page aligned");
        }
        long offset = nextOffset;
        nextOffset += length;
        savedBytes += length;
        while (length > 0) {
            if (filled == BATCH_BYTES || iovCount == MAX_IOV) {
                flush();
            }
            int chunk = (int) Math.min(length, BATCH_BYTES - filled);
            remoteIov.putLong(iovCount * 16L, address);
            remoteIov.putLong(iovCount * 16L + 8, chunk);
            iovCount++;
            filled += chunk;
            address += chunk;
            length -= chunk;
        }
        return offset;
    }

    /** Reads the queued ranges into the current buffer and hands it to the writer thread. */
    void flush() throws CryoException {
        flush(false);
    }

    /**
     * @param last the sink's last batch: written by this thread once the earlier ones are in the file, in their order
     *             — the tracer has nothing else to do meanwhile, and a small process's only batch then costs no hand
     *             over to the writer thread and back inside the frozen window (issue 13)
     */
    private void flush(boolean last) throws CryoException {
        if (iovCount == 0) {
            return;
        }
        long t0 = System.nanoTime();
        awaitWrite(current);
        long t1 = System.nanoTime();
        dev.cryo.core.linux.StopRequest.check();
        ByteBuffer batch = buffers.get(current, filled);
        localIov.putLong(0, Tracee.address(batch));
        localIov.putLong(8, filled);
        long n = keepCopyOnWrite ? 0
                : LibC.INSTANCE.process_vm_readv(tracee.tid(), localIov.address(), 1, remoteIov.address(), iovCount, 0);
        if (n != filled) {
            if (n < 0 && LibC.errno() != Errno.EFAULT.number()) {
                throw new CryoException(Category.KERNEL, "core/MEMORY_READ", "process_vm_readv of " + iovCount
                        + " page ranges from 0x" + Long.toHexString(remoteIov.getLong(0)) + " of " + tracee.who()
                        + " failed: " + Errors.describe(LibC.errno()));
            }
            readRest(Tracee.address(batch), Math.max(n, 0));
        }
        batch.limit(filled);
        onRead.accept(filled);
        long t2 = System.nanoTime();
        int slot = current;
        int[] pageCrcs = crcs[slot];
        if (last) {
            for (int i = 0; i < BUFFERS; i++) {
                awaitWrite(i);
            }
            long w0 = System.nanoTime();
            waitNs += t1 - t0 + w0 - t2;
            readNs += t2 - t1;
            long w1;
            try {
                PagesWriter.checksum(batch, pageCrcs);
                w1 = System.nanoTime();
                writer.append(batch, pageCrcs);
            } catch (RuntimeException | Error e) { // as a write on the writer thread fails (awaitWrite)
                throw new CryoException(Category.INTERNAL, "core/PAGES_WRITE", "writing " + fileName + " failed: "
                        + e, null, e);
            }
            tracerCrcNs += w1 - w0;
            writeNs += System.nanoTime() - w1;
            iovCount = 0;
            filled = 0;
            return;
        }
        checksummed[slot] = writerBusy();
        if (checksummed[slot]) {
            PagesWriter.checksum(batch, pageCrcs);
            tracerCrcNs += System.nanoTime() - t2;
        }
        waitNs += t1 - t0;
        readNs += t2 - t1;
        writes[slot] = fileWriter.submit(() -> {
            long w0 = System.nanoTime();
            if (!checksummed[slot]) {
                PagesWriter.checksum(batch, pageCrcs);
            }
            long w1 = System.nanoTime();
            writer.append(batch, pageCrcs);
            writerCrcNs += w1 - w0;
            writeNs += System.nanoTime() - w1;
            return null;
        });
        current = (current + 1) % BUFFERS;
        iovCount = 0;
        filled = 0;
    }

    /** @return whether the writer thread still has an earlier batch to write */
    private boolean writerBusy() {
        for (java.util.concurrent.Future<Void> w : writes) {
            if (w != null && !w.isDone()) {
                return true;
            }
        }
        return false;
    }

    /** @return where the page phase's time went, once closed: each thread's reads, checksums, writes and waits */
    String describeTimes() {
        return String.format("%d MiB: tracer read %d ms, checksummed %d ms, waited for the writer %d ms; writer "
                        + "checksummed %d ms; written in %d ms (the last batch by the tracer)", savedBytes >> 20,
                readNs / 1_000_000, tracerCrcNs / 1_000_000, waitNs / 1_000_000, writerCrcNs / 1_000_000,
                writeNs / 1_000_000);
    }

    /**
     * Reads the queued ranges from byte {@code done} of the batch on through {@code /proc/TID/mem}: process_vm_readv
     * stopped there (a range without PROT_READ). Short or failed reads are errors: the plugin only queues pages
     * pagemap showed present or swapped.
     */
    private void readRest(long local, long done) throws CryoException {
        LibC c = LibC.INSTANCE;
        if (memFd < 0) {
            String path = "/proc/" + tracee.tid() + "/mem";
            memFd = c.open(path, 0 /* O_RDONLY */ | 02000000 /* O_CLOEXEC */);
            if (memFd < 0) {
                throw new CryoException(Category.KERNEL, "core/MEMORY_READ", "open(" + path + ") to read the pages "
                        + "of " + tracee.who() + " that process_vm_readv cannot read failed: "
                        + Errors.describe(LibC.errno()));
            }
        }
        long at = 0;
        for (int i = 0; i < iovCount; i++) {
            long addr = remoteIov.getLong(i * 16L);
            long len = remoteIov.getLong(i * 16L + 8);
            if (at + len > done) {
                for (long off = Math.max(0, done - at); off < len; ) {
                    long r = c.pread(memFd, local + at + off, len - off, addr + off);
                    if (r <= 0) {
                        String why = r < 0 ? Errors.describe(LibC.errno()) : "end of file";
                        throw new CryoException(Category.KERNEL, "core/MEMORY_READ", "reading " + (len - off)
                                + " bytes at 0x" + Long.toHexString(addr + off) + " of " + tracee.who()
                                + (keepCopyOnWrite ? "" : " (process_vm_readv could not)") + " from /proc/"
                                + tracee.tid() + "/mem failed: " + why);
                    }
                    off += r;
                }
            }
            at += len;
        }
    }

    /** Waits until the buffer's previous batch is in the file; a write failure surfaces here. */
    private void awaitWrite(int buffer) throws CryoException {
        java.util.concurrent.Future<Void> w = writes[buffer];
        if (w == null) {
            return;
        }
        writes[buffer] = null;
        try {
            w.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CryoException(Category.INTERNAL, "core/INTERRUPTED", "interrupted while writing "
                    + fileName);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof CryoException ce) {
                throw ce;
            }
            throw new CryoException(Category.INTERNAL, "core/PAGES_WRITE", "writing " + fileName + " failed: "
                    + e.getCause(), null, e.getCause());
        }
    }

    /** @return the writer thread of one dump's sinks (daemon; shut down by the dump when it ends) */
    static java.util.concurrent.ExecutorService writerThread() {
        return java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "cryo-pages-writer");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String fileName() {
        return fileName;
    }

    long savedBytes() {
        return savedBytes;
    }

    /** Flushes the last batch and waits until every batch is in the file. */
    @Override
    public void close() throws CryoException {
        try {
            flush(true);
            for (int i = 0; i < BUFFERS; i++) {
                awaitWrite(i);
            }
        } finally {
            for (int i = 0; i < BUFFERS; i++) {
                if (writes[i] != null) {
                    writes[i].cancel(false);   // after a failure: nothing more of this file is written
                }
            }
            if (memFd >= 0) {
                LibC.INSTANCE.close(memFd);
                memFd = -1;
            }
        }
    }
}
