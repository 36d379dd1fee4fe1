package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The epoll plugin through bin/cryo: {@code epoll_set} runs its loop on an epoll set holding an EPOLLET pipe, an
 * EPOLLONESHOT eventfd, an EPOLLEXCLUSIVE socket, a timerfd, an inner epoll set and a pipe registered under a
 * number that was reused since; after the restore every registration is listed as before and delivers its data.
 */
class EpollIT extends WithTestBed {

    @Test
    void everyRegistrationComesBackAndDelivers() {
        Workload w = bed.startVerified("epoll_set");

        Path image = bed.dumpAndAwaitGone(w);
        ShowOutput show = bed.cryo().show(image);
        Struct outer = ShowOutput.fdRecord(show.fd(w.pid(), 30));
        assertEquals("epoll", ShowOutput.fdKind(show.fd(w.pid(), 30)));
        List<Value> targets = ShowOutput.list(outer, "targets");
        assertEquals(6, targets.size(), ShowOutput.json(outer));
        Struct moved = targets.stream().map(Value::getStructValue).filter(t -> ShowOutput.num(t, "tfd") == 26)
                .findFirst().orElseThrow();
        assertEquals(27, ShowOutput.num(moved, "sourceFd"), "the file registered as fd 26 is found at fd 27: "
                + ShowOutput.json(moved));
        assertEquals("epoll", ShowOutput.fdKind(show.fd(w.pid(), 24)), "the inner set");

        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        r.awaitNewTicks(2);
        r.assertVerifyPass();
        r.assertVerifyPass();
        TestBed.killRestored(r, rc);
    }

    @Test
    void aRegistrationNoFdNamesIsRefusedAndTheTreeRunsOn() {
        Workload w = bed.workloads().start("epoll_set", "unnamable");
        bed.workloads().trackChild(w);
        w.awaitNewTicks(2);
        Path image = bed.newImageDir();
        bed.cryo().dump(w.pid(), image).assertFailedWithFix(CryoResult.UNSUPPORTED)
                .assertStderrMentions("[epoll/TARGET_NOT_HELD]", "registered as fd 28", "EPOLL_CTL_DEL")
                .assertStderrMatches("fd 30(?!\\d)", "the epoll fd 30").assertStderrNamesPid(w.pid());
        assertFalse(Files.exists(image.resolve("inventory.img")));
        assertTrue(w.isAlive());
        w.awaitNewTicks(2);
        w.assertVerifyPass();
    }
}
