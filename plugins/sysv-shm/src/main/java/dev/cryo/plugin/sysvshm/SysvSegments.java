package dev.cryo.plugin.sysvshm;

import dev.cryo.api.CryoException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The SysV shared memory segments of cryo's IPC namespace, as {@code /proc/sysvipc/shm} lists them: key, shmid,
 * perms, size, cpid, lpid, nattch, uid, gid, cuid, cgid, atime, dtime, ctime, rss, swap.
 */
final class SysvSegments {
    static final Path TABLE = Path.of("/proc/sysvipc/shm");
    /** shm_perm.mode bits beyond the permissions (include/linux/shm.h). */
    static final int SHM_DEST = 01000;
    static final int SHM_LOCKED = 02000;

    /**
     * One segment.
     * @param key    its key (0: IPC_PRIVATE, or marked for removal)
     * @param mode   shm_perm.mode: permission bits, {@link #SHM_DEST}, {@link #SHM_LOCKED}
     * @param nattch how many attachments it has, over all processes of the host
     */
    record Segment(int key, int shmid, int mode, long size, long nattch, int uid, int gid) {
        boolean removed() {
            return (mode & SHM_DEST) != 0;
        }

        boolean locked() {
            return (mode & SHM_LOCKED) != 0;
        }

        @Override
        public String toString() {
            return String.format("SysV segment shmid %d (key 0x%08x, %d bytes, mode 0%o, owner %d:%d, %d attached)",
                    shmid, key, size, mode & 0777, uid, gid, nattch);
        }
    }

    private final Map<Integer, Segment> byId;

    private SysvSegments(Map<Integer, Segment> byId) {
        this.byId = byId;
    }

    /** Reads the host's table now. */
    static SysvSegments read() throws CryoException {
        try {
            return parse(Files.readString(TABLE));
        } catch (IOException e) {
            throw new CryoException(CryoException.Category.KERNEL, "sysv-shm/TABLE",
                    "cannot read " + TABLE + ": " + e.getMessage(), "check that /proc is mounted");
        }
    }

    /** Parses the text of {@code /proc/sysvipc/shm} (first line: the column names). */
    static SysvSegments parse(String text) throws CryoException {
        Map<Integer, Segment> byId = new HashMap<>();
        String[] lines = text.split("\n");
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\\s+");
            if (f.length < 9) {
                throw new CryoException(CryoException.Category.KERNEL, "sysv-shm/TABLE",
                        TABLE + ": unexpected line \"" + line + "\"", null);
            }
            try {
                Segment s = new Segment(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2], 8),
                        Long.parseUnsignedLong(f[3]), Long.parseLong(f[6]), Integer.parseInt(f[7]),
                        Integer.parseInt(f[8]));
                byId.put(s.shmid(), s);
            } catch (NumberFormatException e) {
                throw new CryoException(CryoException.Category.KERNEL, "sysv-shm/TABLE",
                        TABLE + ": unexpected line \"" + line + "\"", null);
            }
        }
        return new SysvSegments(byId);
    }

    Optional<Segment> byId(int shmid) {
        return Optional.ofNullable(byId.get(shmid));
    }

    /** @return a segment with this key other than {@code shmid}, if any (keys are unique except IPC_PRIVATE) */
    Optional<Segment> otherWithKey(int key, int shmid) {
        if (key == 0) {
            return Optional.empty();
        }
        return byId.values().stream().filter(s -> s.key() == key && s.shmid() != shmid).findFirst();
    }
}
