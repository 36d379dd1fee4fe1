package dev.cryo.plugin.epoll;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdInfo;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.epoll.proto.EpollEntry;
import dev.cryo.plugin.epoll.proto.EpollTargetEntry;
import dev.cryo.testkit.ExtensionIndex;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EpollHandlerTest {
    /** Kernel 6.18: an ONESHOT timerfd, an EXCLUSIVE signalfd registered as fd 9 (closed since), an EPOLLET eventfd. */
    static final String SAMPLE = """
            pos:\t0
            flags:\t02
            mnt_id:\t17
            ino:\t1038
            tfd:        4 events: 40000019 data:                7  pos:0 ino:40e sdev:10
            tfd:        9 events: 10000019 data:                9  pos:0 ino:40e sdev:10
            tfd:        3 events: 80000019 data: 1122334455667788  pos:0 ino:40e sdev:10
            tfd:        9 events:       19 data: ffffffffffffffff  pos:0 ino:1e2a3 sdev:fe00001
            """;

    @Test
    void parsesEveryRegistrationWithItsIndexAmongTheSameNumber() throws Exception {
        List<EpollFdinfo.Target> t = EpollFdinfo.parse(SAMPLE, "fdinfo/8");
        assertEquals(4, t.size());
        assertEquals(new EpollFdinfo.Target(4, 0x40000019, 7, 0x40e, 0x10, 0), t.get(0));
        assertEquals(0x10000019, t.get(1).events());
        assertEquals(0x1122334455667788L, t.get(2).data());
        assertEquals(0x80000019, t.get(2).events(), "EPOLLET is bit 31");
        assertEquals(-1L, t.get(3).data(), "64-bit data");
        assertEquals(0x1e2a3, t.get(3).ino());
        assertEquals(1, t.get(3).toff(), "the second registration under fd 9");
        assertEquals(0, t.get(1).toff());
    }

    @Test
    void anEmptySetHasNoRegistration() throws Exception {
        assertTrue(EpollFdinfo.parse("pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t1038\n", "x").isEmpty());
    }

    @Test
    void anUnknownLineIsRefusedNamingTheFile() {
        CryoException x = assertThrows(CryoException.class,
                () -> EpollFdinfo.parse("tfd: 4 events: zz\n", "/proc/5/fdinfo/8"));
        assertEquals("epoll/FDINFO", x.code());
        assertTrue(x.getMessage().contains("/proc/5/fdinfo/8") && x.getMessage().contains("tfd: 4 events: zz"));
    }

    @Test
    void unnamableTargetRefusalSaysWhatAndHow() {
        CryoException x = EpollHandler.targetNotHeld("pid 812 \"redis-server\" fd 5",
                new EpollFdinfo.Target(9, 0x19, 0x2a, 0x40e, 0x10, 0));
        assertEquals("epoll/TARGET_NOT_HELD", x.code());
        assertEquals(CryoException.Category.UNSUPPORTED, x.category());
        assertTrue(x.getMessage().startsWith("dump refused: the epoll instance pid 812 \"redis-server\" fd 5 watches a"
                + " file registered as fd 9 (inode 1038, events 0x19, data 0x2a)"), x.getMessage());
        assertTrue(x.fix().contains("EPOLL_CTL_DEL"), x.fix());
    }

    @Test
    void recordRoundTrips() throws Exception {
        EpollEntry e = EpollEntry.newBuilder().setFlags(04002)
                .addTargets(EpollTargetEntry.newBuilder().setTfd(9).setEvents(0x80000019).setData(-1L).setSourceFd(27)
                        .setIno(0x40e))
                .build();
        assertEquals(e, EpollEntry.parseFrom(e.toByteArray()));
    }

    @Test
    void claimsEpollOnly() {
        EpollHandler h = new EpollHandler();
        assertTrue(h.probe(new FdInfo(TargetFd.of(8), "anon_inode:[eventpoll]", 0600, 15, 1038, 0, 0, 0, 2, false, 0,
                17)));
        assertFalse(h.probe(new FdInfo(TargetFd.of(3), "anon_inode:[eventfd]", 0600, 15, 1038, 0, 0, 0, 2, false, 0,
                17)));
    }

    @Test
    void theIndexListsTheHandler() throws Exception {
        EpollHandler extension = ExtensionIndex.only(EpollHandler.class);
        assertEquals("epoll", ((FdHandler) extension).kind());
    }
}
