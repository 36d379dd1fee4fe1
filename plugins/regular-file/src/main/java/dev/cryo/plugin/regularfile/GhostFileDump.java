package dev.cryo.plugin.regularfile;

import com.google.protobuf.ByteString;
import dev.cryo.api.CryoException;
import dev.cryo.api.FdInfo;
import dev.cryo.api.GhostFiles;
import dev.cryo.api.ImageSink;
import dev.cryo.api.RemoteTask;
import dev.cryo.plugin.regularfile.proto.GhostFileEntry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dump of ghost files held as fds: an unlinked regular file's content is read once per file (dev and inode),
 * however many fds and processes hold it, through {@code /proc/PID/fd/N} (which opens the file itself even
 * without a name), and written into the object table by {@link #write}.
 *
 * <p>Refused: a file larger than {@code ghost-limit} ({@code regular-file/GHOST_TOO_BIG}); a file whose name was
 * removed but that has other hard links ({@code regular-file/DELETED_LINKED}: recreating it would split it from
 * its other names).
 *
 * <p>Lifetime: one instance per dump (state across processes). Tracer thread only.
 */
final class GhostFileDump {
    static final int CHUNK = 1 << 20;

    /** What a ghost file looked like; data chunks that are all zeros are left out. */
    record Ghost(GhostFileEntry header, List<GhostFileEntry> chunks) {
    }

    /** What the ghost's record in the fd entry needs. */
    record Owner(int uid, int gid) {
    }

    private final Map<String, Ghost> ghosts = new LinkedHashMap<>();

    void reset() {
        ghosts.clear();
    }

    boolean isEmpty() {
        return ghosts.isEmpty();
    }

    /**
     * Saves (once per file) the content of the unlinked regular file {@code fd} of {@code task}.
     *
     * @param limit the {@code ghost-limit} in bytes
     * @return the owner of the file
     */
    Owner collect(RemoteTask task, FdInfo fd, long limit) throws CryoException {
        String path = GhostFiles.originalPath(fd.link());
        String who = task.describeFd(fd.fd());
        Path link = task.procDir().resolve("fd").resolve(Integer.toString(fd.fd().value()));
        Map<String, Object> a;
        try {
            a = Files.readAttributes(link, "unix:uid,gid,nlink,size");
        } catch (IOException | RuntimeException e) {
            throw new CryoException(CryoException.Category.KERNEL, "regular-file/STAT_FAILED",
                    "dump failed: stat of " + link + " (" + who + ", the unlinked file " + path + ") failed: " + e,
                    null, e);
        }
        int nlink = (Integer) a.get("nlink");
        if (nlink > 0) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "regular-file/DELETED_LINKED",
                    "dump refused: " + who + " is open on " + path + ", whose name was removed but which still has "
                            + nlink + " other link" + (nlink == 1 ? "" : "s") + " (inode " + fd.inode() + "); a file "
                            + "with other names cannot be recreated as one file yet",
                    "close the fd, or remove the file's other links too, before dumping");
        }
        long size = (Long) a.get("size");
        checkLimit(who, path, size, limit);
        Owner owner = new Owner((Integer) a.get("uid"), (Integer) a.get("gid"));
        String key = key(fd.dev(), fd.inode());
        if (ghosts.containsKey(key)) {
            return owner;
        }
        GhostFileEntry header = GhostFileEntry.newBuilder().setDev(fd.dev()).setInode(fd.inode()).setPath(path)
                .setSize(size).setMode(fd.mode()).setUid(owner.uid()).setGid(owner.gid()).build();
        List<GhostFileEntry> chunks = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(link)) {
            ByteBuffer buf = ByteBuffer.allocate(CHUNK);
            for (long at = 0; at < size; at += CHUNK) {
                buf.clear().limit((int) Math.min(CHUNK, size - at));
                while (buf.hasRemaining()) {
                    if (ch.read(buf, at + buf.position()) < 0) {
                        break;
                    }
                }
                buf.flip();
                if (!allZero(buf)) {
                    chunks.add(header.toBuilder().setOffset(at).setData(ByteString.copyFrom(buf)).build());
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new CryoException(CryoException.Category.KERNEL, "regular-file/GHOST_READ",
                    "dump failed: reading the unlinked file " + path + " through " + link + " (" + who + ") failed: "
                            + e, null, e);
        }
        ghosts.put(key, new Ghost(header, chunks));
        return owner;
    }

    /** @throws CryoException UNSUPPORTED {@code regular-file/GHOST_TOO_BIG} when {@code size > limit} */
    static void checkLimit(String who, String path, long size, long limit) throws CryoException {
        if (size > limit) {
            throw new CryoException(CryoException.Category.UNSUPPORTED, "regular-file/GHOST_TOO_BIG",
                    "dump refused: " + who + " is open on " + path + ", which was deleted; its content ("
                            + size + " bytes) would be saved into the image, but it is larger than the ghost-limit of "
                            + GhostLimit.describe(limit),
                    "pass --ghost-limit SIZE (e.g. --ghost-limit " + suggest(size) + ", or ghost-limit in the "
                            + "config) to save unlinked files up to SIZE bytes");
        }
    }

    private static String suggest(long size) {
        long m = (size + (1 << 20) - 1) >> 20;
        return m + "M";
    }

    /** Writes every ghost's records: the header and its non-zero chunks. */
    void write(ImageSink sink) throws CryoException {
        for (Ghost g : ghosts.values()) {
            if (g.chunks().isEmpty()) {
                sink.write(g.header());
            }
            for (GhostFileEntry c : g.chunks()) {
                sink.write(c);
            }
        }
    }

    static String key(long dev, long inode) {
        return dev + ":" + inode;
    }

    private static boolean allZero(ByteBuffer b) {
        for (int i = b.position(); i < b.limit(); i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
