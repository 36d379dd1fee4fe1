package dev.cryo.it;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;

/** Checksums the workloads print, computed the same way in Java. */
public final class Checksums {
    private Checksums() {
    }

    /**
     * FNV-1a over little-endian u64 words, as {@code heap_sum} in st_workload.c: h = 0xcbf29ce484222325; for each
     * word w: h ^= w; h *= 0x100000001b3.
     */
    public static long heapSum(ByteBuffer bytes) {
        LongBuffer words = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(0).slice()
                .order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
        long h = 0xcbf29ce484222325L;
        while (words.hasRemaining()) {
            h ^= words.get();
            h *= 0x100000001b3L;
        }
        return h;
    }
}
