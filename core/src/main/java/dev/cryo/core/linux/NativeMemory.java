package dev.cryo.core.linux;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A block of native memory for syscall arguments and results (iovecs, register sets, {@code struct rlimit}...):
 * a direct buffer in native byte order and its address. Offsets are in bytes. Freed by the garbage collector with
 * its buffer; not thread-safe.
 */
public final class NativeMemory {
    private final ByteBuffer buffer;
    private final long address;

    private NativeMemory(ByteBuffer buffer) {
        this.buffer = buffer;
        this.address = LibC.address(buffer);
    }

    /** @return {@code size} zeroed bytes */
    public static NativeMemory allocate(int size) {
        return new NativeMemory(ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder()));
    }

    public long address() {
        return address;
    }

    /** @return the address {@code offset} bytes in */
    public long address(long offset) {
        return address + offset;
    }

    public int size() {
        return buffer.capacity();
    }

    public long getLong(long offset) {
        return buffer.getLong((int) offset);
    }

    public NativeMemory putLong(long offset, long value) {
        buffer.putLong((int) offset, value);
        return this;
    }

    public int getInt(long offset) {
        return buffer.getInt((int) offset);
    }

    public NativeMemory putInt(long offset, int value) {
        buffer.putInt((int) offset, value);
        return this;
    }

    public short getShort(long offset) {
        return buffer.getShort((int) offset);
    }

    public NativeMemory putShort(long offset, short value) {
        buffer.putShort((int) offset, value);
        return this;
    }

    /** Copies {@code length} bytes at {@code offset} into {@code dst[index..]}. */
    public void get(long offset, byte[] dst, int index, int length) {
        buffer.get((int) offset, dst, index, length);
    }

    /** Copies {@code src[index..index+length)} to {@code offset}. */
    public NativeMemory put(long offset, byte[] src, int index, int length) {
        buffer.put((int) offset, src, index, length);
        return this;
    }

    /** Copies {@code count} longs at {@code offset} into {@code dst[index..]}. */
    public void get(long offset, long[] dst, int index, int count) {
        buffer.asLongBuffer().get((int) (offset / 8), dst, index, count);
    }

    /** Copies {@code src[index..index+count)} as longs to {@code offset}. */
    public NativeMemory put(long offset, long[] src, int index, int count) {
        buffer.asLongBuffer().put((int) (offset / 8), src, index, count);
        return this;
    }
}
