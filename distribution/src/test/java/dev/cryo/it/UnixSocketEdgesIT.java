package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Unix sockets at the edges ({@code unix_edges.c}): the mode and owner of bound socket files (and a file left as
 * bind made it keeps exactly that), sockets never connected (stream, bound stream, seqpacket), connections whose peer
 * is gone with data, with an ECONNRESET waiting or both, a client whose listener closed before accepting it. The
 * restored program reads what waits itself: data, then the error, then EOF. An error the dump cannot read without
 * consuming (a datagram socket's) is refused and left in place.
 */
class UnixSocketEdgesIT extends WithTestBed {

    @Test
    void unconnectedSocketsPeersGoneAndSocketFilesAreKept() {
        Workload w = bed.workloads().start("unix_edges");
        w.assertVerifyPass(); // looks only
        Path image = bed.dumpAndAwaitGone(w);
        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        String verdict = r.assertVerifyPass(); // reads data, errors and EOFs
        assertTrue(verdict.contains("verification=2"), verdict);
        TestBed.killRestored(r, rc);
    }

    @Test
    void aDatagramErrorIsRefusedAndLeftInPlace() {
        Workload w = bed.workloads().start("unix_edges", "dgramerr");
        String fd = w.ready("xfd");
        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions(w.comm(), "fd " + fd, "ECONNRESET", "[unix-socket/PENDING_ERROR]");
        assertTrue(w.isAlive(), w + " was not left running after the refused dump");
        w.assertVerifyPass(); // the error is still there
    }
}
