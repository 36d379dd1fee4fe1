package dev.cryo.plugin.memory;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.GhostFiles;
import dev.cryo.api.LocalFd;
import dev.cryo.api.ObjectDumpContext;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.RestoreCheckContext;
import dev.cryo.api.RestoreOutcome;
import dev.cryo.api.Syscall;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.memory.proto.MemfdContent;
import dev.cryo.plugin.memory.proto.MemfdEntry;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.cryo.api.SyscallFlags.*;
import static dev.cryo.plugin.memory.MemorySyscalls.*;

/**
 * The {@code memfd} handler: fds on memfds ({@code /memfd:NAME (deleted)}), one memfd with the same memory as its
 * MAP_SHARED mappings, which {@link MemoryPluginHandler} restores.
 *
 * <p>Dump: per fd, the open flags and offset from fdinfo, and the seals ({@code fcntl(F_GET_SEALS)} injected on the
 * fd); per memfd (dev/inode, the same key as its mappings' {@code shmem_key}), once, its name, size, mode and
 * non-zero content read through {@code /proc/PID/fd/N}, into {@code memfd.img}. No size limit: a memfd is memory.
 *
 * <p>Restore: {@link #checkRestore} registers every memfd an fd holds with {@link SharedMemoryRestore} before any
 * process exists, so that the first of its mappings or fds creates it ({@code memfd_create} with
 * MFD_ALLOW_SEALING when its seals say so, {@code ftruncate}, {@code fchmod} when the mode is not 0777). The first fd
 * of a memfd writes its content (from cryo, through {@code /proc/self/fd} of cryo's own fd of it). Each fd is then
 * a new open file description of that memfd: cryo's fd pushed into the task, {@code openat("/proc/self/fd/N")} with
 * the recorded flags, {@code dup3} to the fd number, {@code lseek}. The seals are added once every process is rebuilt
 * ({@link SharedMemoryRestore#applySeals}, from the memory plugin's {@code postRestore}). fds that shared an open
 * file description at dump are core's {@code same_as} duplicates.
 *
 * <p>Not kept: a hugetlbfs memfd (MFD_HUGETLB) is restored as a normal one.
 *
 * <p>Threading: the tracer thread. One instance per command (dump: the memfds saved so far).
 */
@Extension
public final class MemfdHandler implements FdHandler {
    /** The kind written into images. */
    public static final String KIND = "memfd";
    static final String PREFIX = "/memfd:";
    static final int CHUNK = 1 << 20;

    private final Map<String, List<MemfdContent>> saved = new LinkedHashMap<>();

    @Override
    public String kind() {
        return KIND;
    }

    /** Before {@code regular-file}, which claims every regular file. */
    @Override
    public int priority() {
        return -10;
    }

    @Override
    public boolean probe(FdInfo fd) {
        return fd.isRegular() && fd.link().startsWith(PREFIX) && GhostFiles.isDeleted(fd.link());
    }

    /** @return the memfd's name: {@code /memfd:NAME (deleted)} without prefix and suffix */
    static String nameOf(String link) {
        return GhostFiles.originalPath(link).substring(PREFIX.length());
    }

    /** @return the key of the memfd, as its mappings' shmem_key: {@code major:minor/inode} */
    static String keyOf(FdInfo fd) {
        return new ShmemKey(MappedFileCheck.devString(fd.dev()), fd.inode()).toString();
    }

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        RemoteTask task = ctx.task();
        int n = fd.fd().value();
        long seals = task.syscall("fcntl(fd " + n + " " + fd.link() + ", F_GET_SEALS)", Syscall.FCNTL, n,
                SharedMemoryRestore.F_GET_SEALS);
        String key = keyOf(fd);
        if (!saved.containsKey(key)) {
            saved.put(key, content(task, fd, key));
        }
        return MemfdEntry.newBuilder().setShmemKey(key).setName(nameOf(fd.link())).setFlags(fd.flags())
                .setPos(fd.pos()).setSize(fd.size()).setMode(fd.mode()).setSeals((int) seals).build();
    }

    private static List<MemfdContent> content(RemoteTask task, FdInfo fd, String key) throws CryoException {
        Path link = task.procDir().resolve("fd").resolve(Integer.toString(fd.fd().value()));
        List<MemfdContent> chunks = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(link)) {
            long size = ch.size();
            ByteBuffer buf = ByteBuffer.allocate(CHUNK);
            for (long at = 0; at < size; at += CHUNK) {
                buf.clear().limit((int) Math.min(CHUNK, size - at));
                while (buf.hasRemaining() && ch.read(buf, at + buf.position()) >= 0) {
                    // until full or EOF
                }
                buf.flip();
                if (!allZero(buf)) {
                    chunks.add(MemfdContent.newBuilder().setShmemKey(key).setOffset(at)
                            .setData(ByteString.copyFrom(buf)).build());
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new CryoException(CryoException.Category.KERNEL, "memory/MEMFD_READ",
                    "dump failed: reading memfd " + nameOf(fd.link()) + " through " + link + " (pid " + task.pid()
                            + " \"" + task.comm() + "\" fd " + fd.fd() + ") failed: " + e, null, e);
        }
        if (chunks.isEmpty()) {
            chunks.add(MemfdContent.newBuilder().setShmemKey(key).build());
        }
        return chunks;
    }

    private static boolean allZero(ByteBuffer b) {
        for (int i = b.position(); i < b.limit(); i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void dumpObjects(ObjectDumpContext ctx) throws CryoException {
        for (List<MemfdContent> chunks : saved.values()) {
            for (MemfdContent c : chunks) {
                ctx.objects().write(c);
            }
        }
        saved.clear();
    }

    @Override
    public void checkRestore(RestoreCheckContext ctx) throws CryoException {
        RemoteTask self = ctx.kernel().self();
        for (RestoreCheckContext.FdRecord r : ctx.fdRecords()) {
            MemfdEntry e = r.unpack(MemfdEntry.class);
            SharedMemoryRestore.SHARED.expect(e.getShmemKey(),
                    new SharedMemoryRestore.Spec(e.getName(), e.getSize(), e.getMode(), e.getSeals()), self);
        }
    }

    @Override
    public RestoreOutcome restore(FdRestoreContext ctx) throws CryoException {
        RemoteTask task = ctx.task();
        MemfdEntry e = ctx.record(MemfdEntry.class);
        int target = ctx.fd().value();
        String what = "memfd " + e.getName() + " for pid " + task.pid() + " fd " + target;
        SharedMemoryRestore shared = SharedMemoryRestore.SHARED;
        LocalFd memfd = shared.obtain(task, e.getShmemKey(), what);
        if (shared.firstFill(e.getShmemKey())) {
            fill(memfd, e, ctx.objects().read(MemfdContent.class), what);
        }
        int tmp = SharedMemoryRestore.freeFd(task);
        task.pushFd(memfd, TargetFd.of(tmp), true);
        long opened;
        try {
            int flags = e.getFlags() | (ctx.cloexec() ? O_CLOEXEC : 0);
            long path = task.putScratchString(0, "/proc/self/fd/" + tmp);
            opened = task.syscall("openat(/proc/self/fd/" + tmp + ", 0" + Integer.toOctalString(flags) + ") of "
                    + what, Syscall.OPENAT, AT_FDCWD, path, flags, 0);
        } finally {
            if (tmp != target) {
                task.syscallRaw(Syscall.CLOSE, tmp);
            }
        }
        if (opened != target) {
            task.syscall("dup3(" + opened + ", " + target + ") of " + what, Syscall.DUP3, opened, target,
                    ctx.cloexec() ? O_CLOEXEC : 0);
            task.syscall("close(" + opened + ") after dup3 of " + what, Syscall.CLOSE, opened);
        }
        if (e.getPos() != 0) {
            task.syscall("lseek(" + what + ", " + e.getPos() + ")", Syscall.LSEEK, target, e.getPos(), 0);
        }
        return RestoreOutcome.DONE;
    }

    /** Writes the saved content of {@code e}'s memfd through cryo's own fd of it (a new open of /proc/self/fd). */
    private static void fill(LocalFd memfd, MemfdEntry e, List<MemfdContent> table, String what)
            throws CryoException {
        Path self = Path.of("/proc/self/fd/" + memfd.value());
        try (FileChannel ch = FileChannel.open(self, StandardOpenOption.WRITE)) {
            for (MemfdContent c : table) {
                if (!c.getShmemKey().equals(e.getShmemKey())) {
                    continue;
                }
                ByteBuffer b = c.getData().asReadOnlyByteBuffer();
                long at = c.getOffset();
                while (b.hasRemaining()) {
                    at += ch.write(b, at);
                }
            }
        } catch (IOException | RuntimeException ex) {
            throw new CryoException(CryoException.Category.KERNEL, "memory/MEMFD_WRITE",
                    "restore failed: writing the content of " + what + " through " + self + " failed: " + ex, null, ex);
        }
    }

    @Override
    public void finishRestore() {
        SharedMemoryRestore.SHARED.close();
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(MemfdEntry.getDescriptor(), MemfdContent.getDescriptor());
    }
}
