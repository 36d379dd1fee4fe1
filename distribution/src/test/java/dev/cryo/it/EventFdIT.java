package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The event-fd plugin through bin/cryo: {@code event_fds} holds an eventfd (semaphore, counter 5), a relative, an
 * absolute, a periodic and an expired-unread timerfd, and a signalfd; after the restore it checks each through its
 * own fdinfo and calls, and the test checks from outside that the relative timer kept the time it had left.
 */
class EventFdIT extends WithTestBed {

    @Test
    void eventfdTimerfdsAndSignalfdComeBackWorking() {
        Workload w = bed.startVerified("event_fds");

        Path image = bed.dumpAndAwaitGone(w);
        ShowOutput show = bed.cryo().show(image);
        assertEquals("eventfd", ShowOutput.fdKind(show.fd(w.pid(), 10)));
        Struct ev = ShowOutput.fdRecord(show.fd(w.pid(), 10));
        assertEquals(5, ShowOutput.num(ev, "count"), ShowOutput.json(ev));
        assertTrue(ShowOutput.bool(ev, "semaphore"), ShowOutput.json(ev));
        Struct rel = ShowOutput.fdRecord(show.fd(w.pid(), 11));
        long leftAtDumpMs = ShowOutput.num(rel, "remainingNs") / 1_000_000;
        assertTrue(leftAtDumpMs > 40_000 && leftAtDumpMs <= 60_000, ShowOutput.json(rel));
        Struct abs = ShowOutput.fdRecord(show.fd(w.pid(), 12));
        long deadlineDrift = ShowOutput.num(abs, "absoluteNs") - Long.parseLong(w.ready("deadline"));
        assertTrue(Math.abs(deadlineDrift) < 20_000_000, "absolute deadline off by " + deadlineDrift + " ns: "
                + ShowOutput.json(abs));
        assertEquals(1, ShowOutput.num(ShowOutput.fdRecord(show.fd(w.pid(), 14)), "ticks"));
        assertEquals("signalfd", ShowOutput.fdKind(show.fd(w.pid(), 15)));

        ProcessControl.sleep(2_000); // the image waits: a relative timer must not count this time
        long restoreStart = System.nanoTime();
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        r.awaitNewTicks(3);
        String verdict = r.assertVerifyPass();
        long sinceRestoreMs = (System.nanoTime() - restoreStart) / 1_000_000;
        long left = number(verdict, "t11_left_ms");
        assertTrue(left <= leftAtDumpMs && left >= leftAtDumpMs - sinceRestoreMs - 500, "timer 11 had "
                + leftAtDumpMs + " ms left at dump and " + left + " ms " + sinceRestoreMs + " ms after the restore"
                + " began: " + verdict);

        long mark = r.log().size();
        r.signal(ProcessControl.SIGUSR1);
        r.log().awaitPrefix(mark, "SIGNALFD signo=10", Workload.TIMEOUT);
        r.awaitNewTicks(3); // the periodic timer expires in between: the check compares with the last one
        r.assertVerifyPass();
        TestBed.killRestored(r, rc);
    }

    private static long number(String line, String key) {
        Matcher m = Pattern.compile(key + "=(-?\\d+)").matcher(line);
        assertTrue(m.find(), key + " in " + line);
        return Long.parseLong(m.group(1));
    }
}
