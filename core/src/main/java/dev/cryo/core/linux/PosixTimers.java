package dev.cryo.core.linux;

import dev.cryo.api.CryoException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code /proc/PID/timers}: the POSIX timers (timer_create) of a process, newest first, one block per timer:
 * <pre>
 * ID: 3
 * signal: 10/00000000000000a1
 * notify: signal/tid.812
 * ClockID: 1
 * </pre>
 * {@code signal} is the signal number and the sigev_value (hex); {@code notify} is signal, none or thread, then
 * {@code pid.N} or, with SIGEV_THREAD_ID, {@code tid.N}.
 */
public final class PosixTimers {
    public static final int SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2, SIGEV_THREAD_ID = 4;

    /**
     * One timer as /proc lists it.
     *
     * @param how    sigev_notify, SIGEV_THREAD_ID included
     * @param tid    the thread or process the notification goes to
     */
    public record Timer(int id, int clockId, int signo, long value, int how, int tid) {
    }

    private PosixTimers() {
    }

    /** @return the timers of {@code pid} by ascending id; empty when it has none */
    public static List<Timer> of(int pid) throws CryoException {
        java.nio.file.Path p = ProcFs.dir(pid).resolve("timers");
        return java.nio.file.Files.exists(p) ? parse(ProcFs.read(p)) : List.of();
    }

    static List<Timer> parse(String text) {
        List<Timer> out = new ArrayList<>();
        Integer id = null;
        int signo = 0;
        long value = 0;
        int notify = 0;
        int tid = 0;
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon);
            String v = line.substring(colon + 1).strip();
            switch (key) {
                case "ID" -> id = Integer.parseInt(v);
                case "signal" -> {
                    int slash = v.indexOf('/');
                    signo = Integer.parseInt(v.substring(0, slash));
                    value = Long.parseUnsignedLong(v.substring(slash + 1), 16);
                }
                case "notify" -> {
                    int slash = v.indexOf('/');
                    String how = v.substring(0, slash);
                    String target = v.substring(slash + 1);
                    notify = switch (how) {
                        case "none" -> SIGEV_NONE;
                        case "thread" -> SIGEV_THREAD;
                        default -> SIGEV_SIGNAL;
                    };
                    if (target.startsWith("tid.")) {
                        notify |= SIGEV_THREAD_ID;
                    }
                    tid = Integer.parseInt(target.substring(target.indexOf('.') + 1));
                }
                case "ClockID" -> {
                    if (id != null) {
                        out.add(new Timer(id, Integer.parseInt(v), signo, value, notify, tid));
                    }
                    id = null;
                }
                default -> {
                }
            }
        }
        // a comparator class, not Comparator.comparing: the JDK's lambda inside it is not in the class data
        // archive
        out.sort(new Comparator<Timer>() {
            @Override
            public int compare(Timer a, Timer b) {
                return Integer.compare(a.id(), b.id());
            }
        });
        return out;
    }
}
