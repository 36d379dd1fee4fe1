package dev.cryo.core.image;

import java.nio.ByteBuffer;

/**
 * The direct buffers page data moves through during a dump, shared by every process of the dump. Allocating a
 * direct buffer zero-fills it, so buffers are allocated on first use, sized to the need (a power of two from 1 MiB
 * up to {@link #MAX_BYTES}), kept, and grown only when a larger batch comes. At most {@code slots * MAX_BYTES}
 * bytes are ever held. Not thread-safe: one pipeline thread hands the buffers out.
 */
public final class PageBuffers {
    /** The largest buffer, i.e. the largest batch of pages read or written at once. */
    public static final int MAX_BYTES = 4 << 20;
    private static final int MIN_BYTES = 1 << 20;

    private final ByteBuffer[] slots;

    /** @param slots how many buffers may be in use at once (2 for double buffering) */
    public PageBuffers(int slots) {
        this.slots = new ByteBuffer[slots];
    }

    /** @return the buffer of {@code slot}, cleared, with a capacity of at least {@code bytes} (≤ MAX_BYTES) */
    public ByteBuffer get(int slot, int bytes) {
        if (bytes > MAX_BYTES) {
            throw new IllegalArgumentException(bytes + " > " + MAX_BYTES);
        }
        ByteBuffer b = slots[slot];
        if (b == null || b.capacity() < bytes) {
            int size = MIN_BYTES;
            while (size < bytes) {
                size <<= 1;
            }
            b = ByteBuffer.allocateDirect(size);
            slots[slot] = b;
        }
        return b.clear();
    }
}
