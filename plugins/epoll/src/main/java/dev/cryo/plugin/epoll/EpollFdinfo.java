package dev.cryo.plugin.epoll;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdinfoLines;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The registrations {@code /proc/PID/fdinfo/N} lists for an epoll instance, one line each, as
 * {@code fs/eventpoll.c ep_show_fdinfo} writes them:
 * {@code tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x}, in the order of the kernel's tree.
 */
final class EpollFdinfo {
    private static final Pattern TFD = Pattern.compile("^tfd:\\s*(\\d+)\\s+events:\\s*([0-9a-fA-F]+)\\s+data:\\s*"
            + "([0-9a-fA-F]+)\\s+pos:\\s*(-?\\d+)\\s+ino:\\s*([0-9a-fA-F]+)\\s+sdev:\\s*([0-9a-fA-F]+)\\s*$");

    /**
     * One registration.
     *
     * @param toff how many earlier registrations of the list have the same {@code tfd}: the index
     *             {@code kcmp(KCMP_EPOLL_TFD)} takes to tell them apart
     */
    record Target(int tfd, int events, long data, long ino, long sdev, int toff) {
    }

    private EpollFdinfo() {
    }

    static List<Target> parse(String text, String source) throws CryoException {
        List<Target> out = new ArrayList<>();
        Map<Integer, Integer> seen = new HashMap<>();
        for (Matcher m : FdinfoLines.matching(text, "tfd:", TFD, source, "epoll/FDINFO")) {
            int tfd = Integer.parseInt(m.group(1));
            int toff = seen.merge(tfd, 1, Integer::sum) - 1;
            out.add(new Target(tfd, (int) Long.parseLong(m.group(2), 16), Long.parseUnsignedLong(m.group(3), 16),
                    Long.parseLong(m.group(5), 16), Long.parseLong(m.group(6), 16), toff));
        }
        return out;
    }
}
