package dev.cryo.it;

import com.google.protobuf.Struct;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads saved memory back out of an image: page data lives in {@code pages-<pid>.img} at byte
 * {@value #HEADER_BYTES} + {@code pagesOffset} of each page run listed by the VMA records.
 */
public final class ImagePages {
    /** The pages file's header size; page data starts here (page-aligned). */
    public static final int HEADER_BYTES = 4096;

    private ImagePages() {
    }

    /** Flips bits of the byte at {@code at} of {@code file} (damage a test undoes by calling it again). */
    public static void flip(Path file, long at) throws IOException {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
    }

    /** @return the pages file of {@code pid}: {@code pages-<pid>.img}, else the only {@code pages-*.img} */
    public static Path pagesFile(Path imageDir, long pid) {
        Path p = imageDir.resolve("pages-" + pid + ".img");
        if (Files.exists(p)) {
            return p;
        }
        try (Stream<Path> s = Files.list(imageDir)) {
            List<Path> all = s.filter(f -> f.getFileName().toString().matches("pages-\\d+\\.img")).toList();
            if (all.size() == 1) {
                return all.get(0);
            }
            throw new AssertionError("no pages-" + pid + ".img in " + imageDir + " (pages files: " + all + ")");
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + imageDir, e);
        }
    }

    /**
     * Reassembles {@code [addr, addr + len)} of {@code pid}'s memory from the image. Bytes no page run covers are
     * zero (anonymous memory never touched); the result says how many bytes runs covered.
     */
    public static Region read(Path imageDir, ShowOutput show, long pid, long addr, int len) {
        ByteBuffer out = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        long end = addr + len;
        long covered = 0;
        boolean anyVma = false;
        try (FileChannel ch = FileChannel.open(pagesFile(imageDir, pid), StandardOpenOption.READ)) {
            for (Struct vma : show.vmas(pid)) {
                if (ShowOutput.vmaEnd(vma) <= addr || ShowOutput.vmaStart(vma) >= end) {
                    continue;
                }
                anyVma = true;
                for (ShowOutput.PageRun run : ShowOutput.pageRuns(vma)) {
                    long from = Math.max(run.start(), addr);
                    long to = Math.min(run.start() + run.length(), end);
                    if (from >= to) {
                        continue;
                    }
                    long fileOffset = HEADER_BYTES + run.pagesOffset() + (from - run.start());
                    ByteBuffer dst = out.duplicate();
                    dst.position((int) (from - addr)).limit((int) (to - addr));
                    while (dst.hasRemaining()) {
                        int n = ch.read(dst, fileOffset + (dst.position() - (from - addr)));
                        if (n < 0) {
                            throw new AssertionError("pages file ends before offset " + fileOffset + " + " + (to - from)
                                    + " (run " + run + ")");
                        }
                    }
                    covered += to - from;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read pages of " + pid + " in " + imageDir, e);
        }
        if (!anyVma) {
            throw new AssertionError("no VMA of pid " + pid + " covers 0x" + Long.toHexString(addr));
        }
        return new Region(out, covered);
    }

    /** Bytes of a memory range read from an image, and how many of them were saved pages. */
    public record Region(ByteBuffer bytes, long coveredBytes) {
    }
}
