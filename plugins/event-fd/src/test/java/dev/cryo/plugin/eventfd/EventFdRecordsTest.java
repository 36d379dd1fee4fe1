package dev.cryo.plugin.eventfd;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdInfo;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.eventfd.proto.EventfdEntry;
import dev.cryo.plugin.eventfd.proto.SignalfdEntry;
import dev.cryo.plugin.eventfd.proto.TimerfdEntry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Records built from real fdinfo samples (kernel 6.18), and their round trip through the wire format. */
class EventFdRecordsTest {
    static final String EVENTFD = """
            pos:\t0
            flags:\t02004002
            mnt_id:\t17
            ino:\t1038
            eventfd-count:                5
            eventfd-id: 1
            eventfd-semaphore: 1
            """;
    static final String EVENTFD_OLD_KERNEL = """
            pos:\t0
            flags:\t02
            mnt_id:\t15
            ino:\t1038
            eventfd-count:               2a
            """;
    static final String TIMERFD_RELATIVE = """
            pos:\t0
            flags:\t04002
            mnt_id:\t17
            ino:\t1038
            clockid: 1
            ticks: 0
            settime flags: 00
            it_value: (99, 999980974)
            it_interval: (1, 500)
            """;
    static final String TIMERFD_ABSOLUTE = """
            pos:\t0
            flags:\t02
            mnt_id:\t17
            ino:\t1038
            clockid: 0
            ticks: 0
            settime flags: 01
            it_value: (999, 127758335)
            it_interval: (0, 0)
            """;
    static final String TIMERFD_EXPIRED = """
            pos:\t0
            flags:\t02
            mnt_id:\t17
            ino:\t1038
            clockid: 1
            ticks: 1
            settime flags: 00
            it_value: (0, 0)
            it_interval: (0, 10000000)
            """;
    static final String SIGNALFD = """
            pos:\t0
            flags:\t04002
            mnt_id:\t17
            ino:\t1038
            sigmask:\t0000000800000200
            """;

    @Test
    void eventfdCounterAndSemaphore() throws Exception {
        assertEventfdRecord(EVENTFD, "fdinfo/3", 04002, 5, true, true);
    }

    @Test
    void eventfdCountIsHexAndAnOldKernelLeavesTheSemaphoreUnknown() throws Exception {
        assertEventfdRecord(EVENTFD_OLD_KERNEL, "/proc/9/fdinfo/3", 02, 42, false, false);
    }

    /**
     * Builds the record of the eventfd whose fdinfo is {@code fdinfo} (read from {@code path}, opened with
     * {@code flags}), checks what it holds and that it survives the wire format unchanged.
     */
    private static void assertEventfdRecord(String fdinfo, String path, int flags, long count, boolean semaphoreKnown,
                                            boolean semaphore) throws Exception {
        EventfdEntry e = EventFdHandler.record(FdinfoFields.parse(fdinfo, path), flags);
        assertEquals(count, e.getCount());
        assertEquals(semaphoreKnown, e.getSemaphoreKnown(), "semaphore known");
        assertEquals(semaphore, e.getSemaphore(), "semaphore");
        assertEquals(flags, e.getFlags());
        assertEquals(e, EventfdEntry.parseFrom(e.toByteArray()));
    }

    @Test
    void eventfdCountAboveLongMaxValue() throws Exception {
        EventfdEntry e = EventFdHandler.record(FdinfoFields.parse("eventfd-count: fffffffffffffffe\n", "x"), 0);
        assertEquals(-2L, e.getCount());
    }

    @Test
    void unreadableValueIsAnUnknownFormatNamingTheFile() {
        CryoException x = assertThrows(CryoException.class,
                () -> EventFdHandler.record(FdinfoFields.parse("eventfd-count: lots\n", "/proc/9/fdinfo/3"), 0));
        assertTrue(x.getMessage().contains("/proc/9/fdinfo/3: cannot read 'eventfd-count: lots'"), x.getMessage());
        assertEquals("event-fd/FDINFO", x.code());
    }

    @Test
    void relativeTimerKeepsWhatWasLeft() throws Exception {
        FdinfoFields f = FdinfoFields.parse(TIMERFD_RELATIVE, "fdinfo/4");
        assertEquals(99_999_980_974L, f.timespecNs("it_value"));
        TimerfdEntry t = TimerFdHandler.record(f, 04002, 99_999_000_000L, 1_000_000_500L, 5_000_000_000L);
        assertEquals(1, t.getClockid());
        assertEquals(0, t.getSettimeFlags());
        assertEquals(0, t.getAbsoluteNs(), "a relative timer records no deadline");
        assertEquals(99_999_000_000L, TimerFdHandler.restoreValue(t));
        assertEquals(1_000_000_500L, t.getIntervalNs());
        assertEquals(t, TimerfdEntry.parseFrom(t.toByteArray()));
    }

    @Test
    void absoluteTimerStaysAbsolute() throws Exception {
        TimerfdEntry t = TimerFdHandler.record(FdinfoFields.parse(TIMERFD_ABSOLUTE, "fdinfo/5"), 02,
                999_127_758_335L, 0, 1_700_000_000_000_000_000L);
        assertEquals(0, t.getClockid());
        assertEquals(1, t.getSettimeFlags());
        assertEquals(1_700_000_000_000_000_000L + 999_127_758_335L, t.getAbsoluteNs());
        assertEquals(t.getAbsoluteNs(), TimerFdHandler.restoreValue(t), "restored with its deadline, not what was left");
    }

    @Test
    void expiredPeriodicTimerKeepsItsTicksAndIsArmedForOneInterval() throws Exception {
        TimerfdEntry t = TimerFdHandler.record(FdinfoFields.parse(TIMERFD_EXPIRED, "fdinfo/6"), 02, 0, 10_000_000L, 0);
        assertEquals(1, t.getTicks());
        assertTrue(t.getExpiredPending());
        assertEquals(10_000_000L, TimerFdHandler.restoreValue(t));
    }

    @Test
    void signalfdMask() throws Exception {
        SignalfdEntry s = SignalFdHandler.record(FdinfoFields.parse(SIGNALFD, "fdinfo/7"), 04002);
        assertEquals((1L << (10 - 1)) | (1L << (36 - 1)), s.getSigmask(), "SIGUSR1 (10) and SIGRTMIN+2 (36)");
        assertEquals(s, SignalfdEntry.parseFrom(s.toByteArray()));
    }

    @Test
    void missingLineIsAnUnknownFormatNamingTheFile() {
        CryoException x = assertThrows(CryoException.class,
                () -> SignalFdHandler.record(FdinfoFields.parse("pos:\t0\n", "/proc/7/fdinfo/9"), 0));
        assertTrue(x.getMessage().contains("/proc/7/fdinfo/9 has no 'sigmask' line"), x.getMessage());
    }

    @Test
    void claimsOnlyItsOwnAnonInodes() {
        assertTrue(new EventFdHandler().probe(fd("anon_inode:[eventfd]")));
        assertFalse(new EventFdHandler().probe(fd("anon_inode:[timerfd]")));
        assertTrue(new TimerFdHandler().probe(fd("anon_inode:[timerfd]")));
        assertTrue(new SignalFdHandler().probe(fd("anon_inode:[signalfd]")));
        assertFalse(new SignalFdHandler().probe(fd("anon_inode:[eventpoll]")));
    }

    private static FdInfo fd(String link) {
        return new FdInfo(TargetFd.of(3), link, 0600, 15, 1038, 0, 0, 0, 02, false, 0, 17);
    }
}
