package dev.cryo.plugin.memory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A set of byte ranges {@code [from, to)} of one shmem object, kept as disjoint, non-adjacent intervals: which
 * parts of the object have already been saved during a dump. Not thread-safe.
 */
public final class ObjectRanges {
    /** A range {@code [from, to)}. */
    public record Range(long from, long to) {
        public Range {
            if (to < from) {
                throw new IllegalArgumentException("range end before start: " + from + ".." + to);
            }
        }

        public long length() {
            return to - from;
        }
    }

    private final TreeMap<Long, Long> byStart = new TreeMap<>();

    /** Adds {@code [from, to)}, merging with overlapping and adjacent ranges. */
    public void add(long from, long to) {
        if (to <= from) {
            return;
        }
        Map.Entry<Long, Long> before = byStart.floorEntry(from);
        if (before != null && before.getValue() >= from) {
            from = before.getKey();
            to = Math.max(to, before.getValue());
        }
        Map.Entry<Long, Long> next = byStart.ceilingEntry(from);
        while (next != null && next.getKey() <= to) {
            to = Math.max(to, next.getValue());
            byStart.remove(next.getKey());
            next = byStart.ceilingEntry(from);
        }
        byStart.put(from, to);
    }

    /** @return the parts of {@code [from, to)} not in the set, in ascending order */
    public List<Range> missing(long from, long to) {
        List<Range> out = new ArrayList<>();
        long at = from;
        Map.Entry<Long, Long> e = byStart.floorEntry(from);
        if (e == null || e.getValue() <= from) {
            e = byStart.higherEntry(from);
        }
        while (at < to && e != null && e.getKey() < to) {
            if (e.getKey() > at) {
                out.add(new Range(at, e.getKey()));
            }
            at = Math.max(at, e.getValue());
            e = byStart.higherEntry(e.getKey());
        }
        if (at < to) {
            out.add(new Range(at, to));
        }
        return out;
    }

    /** @return the intervals of the set, in ascending order */
    public List<Range> ranges() {
        List<Range> out = new ArrayList<>();
        byStart.forEach((f, t) -> out.add(new Range(f, t)));
        return out;
    }
}
