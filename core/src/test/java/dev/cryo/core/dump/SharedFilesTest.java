package dev.cryo.core.dump;

import dev.cryo.core.image.proto.FdRef;
import dev.cryo.core.linux.LibC;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kcmp-ordered grouping on the test JVM's own fds: dups are found, distinct opens are not, at O(log n) per fd. */
class SharedFilesTest {
    private static final int PID = (int) ProcessHandle.current().pid();
    private static final int SYS_DUP = 32;

    @Test
    void findsDupsAndOnlyThem() throws Exception {
        LibC c = LibC.INSTANCE;
        int n = 300;
        List<Integer> fds = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                fds.add(c.open("/dev/null", 0));
            }
            int dup = (int) c.syscall(SYS_DUP, fds.get(n / 2), 0, 0, 0, 0, 0);
            fds.add(dup);
            SharedFiles shared = new SharedFiles();
            FdInfos infos = new FdInfos(new dev.cryo.core.linux.HostView());
            for (int i = 0; i < n; i++) {
                assertEquals(Optional.empty(), shared.findOrAdd(PID, infos.read(PID, fds.get(i))),
                        "a distinct open of /dev/null is not shared");
            }
            Optional<FdRef> same = shared.findOrAdd(PID, infos.read(PID, dup));
            assertTrue(same.isPresent(), "the dup is found");
            assertEquals(fds.get(n / 2), same.get().getFd());
            long perFd = shared.kcmpCalls() / (n + 1);
            assertTrue(perFd <= 2L * (32 - Integer.numberOfLeadingZeros(n)), "kcmp calls per fd: " + perFd);
        } finally {
            for (int fd : fds) {
                c.close(fd);
            }
        }
    }
}
