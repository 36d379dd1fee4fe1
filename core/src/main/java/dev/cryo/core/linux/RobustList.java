package dev.cryo.core.linux;

import dev.cryo.api.CryoException;

/** get_robust_list(2) of another thread, called from cryo's own process. */
public final class RobustList {
    private RobustList() {
    }

    /** @return {head address, length} of the thread's robust futex list */
    public static long[] of(int tid) throws CryoException {
        NativeMemory head = NativeMemory.allocate(8);
        NativeMemory len = NativeMemory.allocate(8);
        long r = LibC.INSTANCE.syscall(Sys.GET_ROBUST_LIST, tid, head.address(), len.address(), 0, 0, 0);
        if (r != 0) {
            throw Errors.failure("get_robust_list(" + tid + ")", LibC.errno());
        }
        return new long[]{head.getLong(0), len.getLong(0)};
    }
}
