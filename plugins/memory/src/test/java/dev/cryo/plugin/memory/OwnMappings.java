package dev.cryo.plugin.memory;

import dev.cryo.api.Mapping;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The test JVM's own /proc/self/maps and pagemap: real kernel data without a traced process. */
final class OwnMappings {
    /** One line of /proc/self/maps. */
    record MapsLine(long start, long end, String perms, long offset, String dev, long inode, String name) {
    }

    private OwnMappings() {
    }

    /** @return the first mapping of {@code path} in this JVM */
    static MapsLine find(Path path) throws IOException {
        List<MapsLine> all = findAll(path);
        if (all.isEmpty()) {
            throw new AssertionError(path + " is not mapped in this JVM");
        }
        return all.get(0);
    }

    /** @return every mapping of {@code path} in this JVM, in address order */
    static List<MapsLine> findAll(Path path) throws IOException {
        List<MapsLine> out = new ArrayList<>();
        for (String l : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] f = l.trim().split("\\s+", 6);
            if (f.length == 6 && f[5].equals(path.toString())) {
                String[] range = f[0].split("-");
                out.add(new MapsLine(Long.parseUnsignedLong(range[0], 16), Long.parseUnsignedLong(range[1], 16),
                        f[1], Long.parseLong(f[2], 16), f[3], Long.parseLong(f[4]), f[5]));
            }
        }
        return out;
    }

    /** @return {@code l} as the SPI's {@link Mapping} (no VmFlags) */
    static Mapping toMapping(MapsLine l) {
        String p = l.perms();
        int prot = (p.charAt(0) == 'r' ? 1 : 0) | (p.charAt(1) == 'w' ? 2 : 0) | (p.charAt(2) == 'x' ? 4 : 0);
        return new Mapping(l.start(), l.end(), prot, p.charAt(3) == 's', l.offset(), l.dev(), l.inode(), l.name(),
                Set.of());
    }

    /** @return pagemap entries of [start, end) of this JVM */
    static long[] pagemap(long start, long end) throws IOException {
        int n = (int) ((end - start) / 4096);
        ByteBuffer b = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ)) {
            long pos = start / 4096 * 8;
            while (b.hasRemaining()) {
                if (ch.read(b, pos + b.position()) < 0) {
                    throw new IOException("short pagemap read");
                }
            }
        }
        b.flip();
        long[] e = new long[n];
        b.asLongBuffer().get(e);
        return e;
    }
}
