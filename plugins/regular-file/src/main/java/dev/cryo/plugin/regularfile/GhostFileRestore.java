package dev.cryo.plugin.regularfile;

import dev.cryo.api.CryoException;
import dev.cryo.api.GhostFiles;
import dev.cryo.api.ImageSource;
import dev.cryo.plugin.regularfile.proto.GhostFileEntry;
import dev.cryo.plugin.regularfile.proto.RegularFileEntry;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Restore of ghost files held as fds ({@link GhostFiles}): each one is recreated once, at
 * {@link GhostFiles#restorePath}, with its size, owner, permissions and content, for every fd of every process to
 * open; {@link #unlinkAll} removes the names once every process is rebuilt.
 *
 * <p>Lifetime: one instance per restore. Tracer thread only.
 */
final class GhostFileRestore {
    private Map<String, List<GhostFileEntry>> table;
    private final Set<Path> prepared = new LinkedHashSet<>();

    /**
     * Refuses, before any process exists, a ghost whose directory is gone or whose temporary name is taken.
     */
    static void check(String who, RegularFileEntry e) throws CryoException {
        Path ghost = GhostFiles.restorePath(e.getPath(), e.getInode());
        Path dir = ghost.getParent();
        if (!Files.isDirectory(dir)) {
            throw new CryoException(CryoException.Category.CONFLICT, "regular-file/GHOST_DIR_MISSING",
                    "restore refused: " + who + " was open on the deleted file " + e.getPath() + ", which is "
                            + "recreated in its directory " + dir + " for the restore, but that directory does not exist",
                    "create " + dir + " (the file is unlinked again once the processes are rebuilt)");
        }
        if (Files.exists(ghost, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new CryoException(CryoException.Category.CONFLICT, "regular-file/GHOST_EXISTS",
                    "restore refused: " + who + " was open on the deleted file " + e.getPath() + ", to be recreated "
                            + "as " + ghost + ", which exists (left by an earlier cryo that was killed?)",
                    "remove " + ghost);
        }
    }

    /**
     * @return the recreated file of {@code e}, created and filled the first time it is asked for
     */
    Path prepare(String who, RegularFileEntry e, ImageSource objects) throws CryoException {
        Path ghost = GhostFiles.restorePath(e.getPath(), e.getInode());
        if (prepared.contains(ghost)) {
            return ghost;
        }
        if (table == null) {
            table = new HashMap<>();
            for (GhostFileEntry g : objects.read(GhostFileEntry.class)) {
                table.computeIfAbsent(GhostFileDump.key(g.getDev(), g.getInode()), k -> new ArrayList<>()).add(g);
            }
        }
        List<GhostFileEntry> chunks = table.get(GhostFileDump.key(e.getDev(), e.getInode()));
        if (chunks == null) {
            throw new CryoException(CryoException.Category.IMAGE, "regular-file/GHOST_CONTENT_MISSING",
                    "restore failed: " + who + " was open on the deleted file " + e.getPath() + " (inode "
                            + e.getInode() + "), but regular-file.img holds no content for it",
                    "the image is incomplete or corrupt; dump again");
        }
        GhostFileEntry head = chunks.get(0);
        prepared.add(ghost);
        try {
            GhostFiles.create(ghost, head.getSize(), head.getMode(), head.getUid(), head.getGid());
            // written even when another plugin created it first: its part is the same content at dump
            try (FileChannel ch = FileChannel.open(ghost, StandardOpenOption.WRITE)) {
                for (GhostFileEntry c : chunks) {
                    var buf = c.getData().asReadOnlyByteBuffer();
                    long at = c.getOffset();
                    while (buf.hasRemaining()) {
                        at += ch.write(buf, at);
                    }
                }
            }
        } catch (java.nio.file.FileAlreadyExistsException ex) {
            throw new CryoException(CryoException.Category.CONFLICT, "regular-file/GHOST_EXISTS",
                    "restore refused: " + who + " was open on the deleted file " + e.getPath() + ", to be recreated "
                            + "as " + ghost + ", which exists (left by an earlier cryo that was killed?)",
                    "remove " + ghost, ex);
        } catch (IOException | RuntimeException ex) {
            throw new CryoException(CryoException.Category.KERNEL, "regular-file/GHOST_CREATE",
                    "restore failed: recreating the deleted file " + e.getPath() + " as " + ghost + " for " + who
                            + " failed: " + ex, null, ex);
        }
        return ghost;
    }

    /** Unlinks every recreated file; the processes keep them open. Never throws. */
    void unlinkAll() {
        for (Path p : prepared) {
            GhostFiles.unlink(p);
        }
        prepared.clear();
        table = null;
    }
}
