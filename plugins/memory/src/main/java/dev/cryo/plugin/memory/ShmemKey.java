package dev.cryo.plugin.memory;

import dev.cryo.api.Mapping;

/**
 * Identity of one shmem object (the memory behind MAP_SHARED|MAP_ANONYMOUS, {@code [anon_shmem:...]} or a memfd):
 * the device and inode that {@code /proc/PID/maps} shows. Every mapping with the same key, in any process of a
 * dump, is a view of the same memory. Written into images as {@code dev/inode}.
 *
 * @param dev   {@code major:minor} in hex, as maps prints it
 * @param inode the inode number
 */
public record ShmemKey(String dev, long inode) {
    /** @return the key of a shared mapping */
    public static ShmemKey of(Mapping m) {
        return new ShmemKey(m.dev(), m.inode());
    }

    /** @return the key written as {@link #toString()} */
    public static ShmemKey parse(String s) {
        int slash = s.lastIndexOf('/');
        if (slash <= 0) {
            throw new IllegalArgumentException("not a shmem key (dev/inode): " + s);
        }
        return new ShmemKey(s.substring(0, slash), Long.parseLong(s.substring(slash + 1)));
    }

    @Override
    public String toString() {
        return dev + "/" + inode;
    }
}
