package dev.cryo.core.restore;

import java.util.List;

/** Finds address ranges that are free in several layouts at once (restore's scratch and relocation areas). */
final class AddressSpace {
    /** A half-open range [start, end). */
    record Range(long start, long end) {
        boolean overlaps(long s, long e) {
            return Long.compareUnsigned(s, end) < 0 && Long.compareUnsigned(start, e) < 0;
        }
    }

    private AddressSpace() {
    }

    /**
     * @return the first address {@code from + k * step} such that {@code [a, a + size)} overlaps no range of
     *         {@code taken}
     */
    static long findFree(List<Range> taken, long size, long from, long step) {
        for (long a = from; a > 0 && a < 0x7ff000000000L; a += step) {
            boolean free = true;
            for (Range r : taken) {
                if (r.overlaps(a, a + size)) {
                    free = false;
                    break;
                }
            }
            if (free) {
                return a;
            }
        }
        throw new IllegalStateException("no free address range of " + size + " bytes");
    }
}
