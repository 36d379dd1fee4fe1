package dev.cryo.plugin.eventfd;

import dev.cryo.api.CryoException;
import dev.cryo.api.RemoteTask;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The scratch-area helpers the three handlers share. */
final class TaskFds {
    private TaskFds() {
    }

    /** Writes little-endian longs at the start of the task's scratch area; returns its address. */
    static long putLongs(RemoteTask task, long... values) throws CryoException {
        ByteBuffer b = ByteBuffer.allocateDirect(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        task.writeMemory(task.scratchAddress(), b.flip());
        return task.scratchAddress();
    }

    /** Reads {@code n} little-endian longs at the start of the task's scratch area. */
    static long[] scratchLongs(RemoteTask task, int n) throws CryoException {
        ByteBuffer b = ByteBuffer.allocateDirect(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        task.readMemory(task.scratchAddress(), b);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = b.getLong(8 * i);
        }
        return out;
    }
}
