package dev.cryo.core.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class PosixTimersTest {
    @Test
    void parsesEveryNotifyKindSortedById() {
        String text = """
                ID: 8
                signal: 0/0000000000000000
                notify: none/pid.10781
                ClockID: 7
                ID: 7
                signal: 12/0000000000000000
                notify: signal/tid.10782
                ClockID: 0
                ID: 1
                signal: 10/000000001234abcd
                notify: signal/pid.10781
                ClockID: 1
                ID: 3
                signal: 32/00007f0000001000
                notify: thread/tid.10790
                ClockID: -6
                """;
        List<PosixTimers.Timer> t = PosixTimers.parse(text);
        assertEquals(List.of(1, 3, 7, 8), t.stream().map(PosixTimers.Timer::id).toList());
        assertEquals(new PosixTimers.Timer(1, 1, 10, 0x1234abcdL, PosixTimers.SIGEV_SIGNAL, 10781), t.get(0));
        assertEquals(new PosixTimers.Timer(3, -6, 32, 0x7f0000001000L,
                PosixTimers.SIGEV_THREAD | PosixTimers.SIGEV_THREAD_ID, 10790), t.get(1));
        assertEquals(new PosixTimers.Timer(7, 0, 12, 0, PosixTimers.SIGEV_SIGNAL | PosixTimers.SIGEV_THREAD_ID, 10782),
                t.get(2));
        assertEquals(new PosixTimers.Timer(8, 7, 0, 0, PosixTimers.SIGEV_NONE, 10781), t.get(3));
    }

    @Test
    void noTimers() {
        assertEquals(List.of(), PosixTimers.parse(""));
    }
}
