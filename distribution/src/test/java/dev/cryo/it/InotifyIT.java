package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The inotify plugin through bin/cryo: {@code inotify_watch} holds watches with wds 1, 3 and 4 (2 was removed);
 * after the restore the same wds watch the same files and deliver events, and a refusal when events wait unread.
 */
class InotifyIT extends WithTestBed {

    @Test
    void watchesComeBackWithTheirNumbers() throws IOException {
        Workload w = bed.startVerified("inotify_watch");

        Path image = bed.dumpAndAwaitGone(w);
        Struct rec = ShowOutput.fdRecord(bed.cryo().show(image).fd(w.pid(), 10));
        List<Value> watches = ShowOutput.list(rec, "watches");
        assertEquals(List.of(1L, 3L, 4L), watches.stream().map(v -> ShowOutput.num(v.getStructValue(), "wd")).toList(),
                ShowOutput.json(rec));
        assertEquals(w.workdir().resolve("a.txt").toString(), ShowOutput.str(watches.get(0).getStructValue(), "path"));

        RunningCryo rc = bed.cryo().restoreInBackground(image);
        Workload r = bed.awaitRestoredRoot(rc, w);
        r.awaitNewTicks(2);
        // before the events: wd 4 is IN_ONESHOT and goes with its first event. The check adds and removes a watch of
        // its own (fresh_wd): its IN_IGNORED may be printed after the verdict, and is the program's, not a dummy's
        String verdict = r.assertVerifyPass();
        String fresh = "wd=" + verdict.replaceAll("(?s).*fresh_wd=(-?\\d+).*", "$1") + " ";
        long mark = r.log().size();
        Files.writeString(w.workdir().resolve("a.txt"), "more\n", StandardOpenOption.APPEND);
        r.log().awaitPrefix(mark, "EVENT wd=1 mask=2", Workload.TIMEOUT);
        Files.writeString(w.workdir().resolve("d").resolve("born-after-restore"), "");
        r.log().awaitPrefix(mark, "EVENT wd=3 mask=100 name=born-after-restore", Workload.TIMEOUT);
        Files.writeString(w.workdir().resolve("b.txt"), "x\n", StandardOpenOption.APPEND);
        r.log().awaitPrefix(mark, "EVENT wd=4 mask=2", Workload.TIMEOUT);
        assertFalse(r.log().linesFrom(mark).stream()
                        .anyMatch(l -> l.contains("mask=8000 ") && !l.contains("wd=4 ") && !l.contains(fresh)),
                "a dummy watch's IN_IGNORED reached the program: " + r.log().linesFrom(mark));
        TestBed.killRestored(r, rc);
    }

    @Test
    void unreadEventsAreRefusedNamingTheWatch() throws IOException {
        Workload w = bed.workloads().start("inotify_watch", "noread");
        w.awaitNewTicks(1);
        Files.writeString(w.workdir().resolve("a.txt"), "unread\n", StandardOpenOption.APPEND);
        Path image = bed.newImageDir();
        bed.cryo().dump(w.pid(), image).assertFailedWithFix(CryoResult.UNSUPPORTED)
                .assertStderrMentions("[inotify/EVENTS_QUEUED]", "wd 1 " + w.workdir().resolve("a.txt"),
                        "has not read", "dump again once the program has read them")
                .assertStderrMatches("fd 10(?!\\d)", "fd 10").assertStderrNamesPid(w.pid());
        assertFalse(Files.exists(image.resolve("inventory.img")));
        assertTrue(w.isAlive());
        w.awaitNewTicks(2);
        w.assertVerifyPass();
    }
}
