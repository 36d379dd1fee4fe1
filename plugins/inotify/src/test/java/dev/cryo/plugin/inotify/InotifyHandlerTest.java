package dev.cryo.plugin.inotify;

import com.google.protobuf.ByteString;
import dev.cryo.api.CryoException;
import dev.cryo.api.FdHandler;
import dev.cryo.plugin.inotify.proto.InotifyEntry;
import dev.cryo.plugin.inotify.proto.InotifyWatchEntry;
import dev.cryo.testkit.ExtensionIndex;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InotifyHandlerTest {
    /** Kernel 6.18, ext4 root: a IN_ONESHOT|IN_MODIFY watch on /etc/passwd (wd 2), IN_CREATE|IN_DELETE on /tmp (wd 1). */
    static final String SAMPLE = """
            pos:\t0
            flags:\t04000
            mnt_id:\t17
            ino:\t1038
            inotify wd:2 ino:224009 sdev:fe00000 mask:80000002 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:09402200a9341f22
            inotify wd:1 ino:3f7e8 sdev:fe00000 mask:300 ignored_mask:0 fhandle-bytes:8 fhandle-type:1 f_handle:e8f7030000000000
            inotify wd:1f ino:10 sdev:1a mask:fff ignored_mask:0
            """;

    static final String MOUNTINFO = """
            21 26 0:20 / /proc rw,relatime - proc proc rw
            23 26 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334172k
            90 26 254:0 /srv/data /mnt/my\\040data rw,relatime - ext4 /dev/vda rw
            26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
            29 24 0:26 / /dev/shm rw,relatime - tmpfs tmpfs rw
            """;

    @Test
    void parsesWatchesInWdOrderWithTheirHandles() throws Exception {
        List<InotifyFdinfo.Watch> w = InotifyFdinfo.parse(SAMPLE, "fdinfo/11");
        assertEquals(3, w.size());
        assertEquals(1, w.get(0).wd());
        assertEquals(0x3f7e8, w.get(0).ino());
        assertEquals(0x300, w.get(0).mask());
        assertEquals(2, w.get(1).wd());
        assertEquals(0x80000002, w.get(1).mask(), "IN_ONESHOT is kept in the mask");
        assertEquals(254, w.get(1).major());
        assertEquals(0, w.get(1).minor());
        assertEquals(1, w.get(1).handleType());
        assertArrayEquals(HexFormat.of().parseHex("09402200a9341f22"), w.get(1).handle());
        assertEquals(0x1f, w.get(2).wd(), "wd is hex");
        assertEquals(0, w.get(2).handle().length, "no handle on a filesystem without export support");
    }

    @Test
    void anUnknownLineIsRefusedNamingTheFile() {
        CryoException x = assertThrows(CryoException.class,
                () -> InotifyFdinfo.parse("inotify wd:1 ino:zz\n", "/proc/5/fdinfo/4"));
        assertEquals("inotify/FDINFO", x.code());
        assertTrue(x.getMessage().contains("/proc/5/fdinfo/4"), x.getMessage());
    }

    @Test
    void mountPointOfADevicePrefersTheFilesystemRoot() {
        assertEquals(Optional.of("/"), Mounts.mountPoint(MOUNTINFO, 254, 0));
        assertEquals(Optional.of("/dev/shm"), Mounts.mountPoint(MOUNTINFO, 0, 26));
        assertEquals(Optional.empty(), Mounts.mountPoint(MOUNTINFO, 8, 1));
        assertEquals(Optional.of("/mnt/my data"), Mounts.mountPoint(MOUNTINFO.replace("26 1 254:0 / / ", "26 1 9:9 / / "),
                254, 0), "a bind mount when there is nothing else, unescaped");
    }

    @Test
    void queuedEventsAreRefusedNamingTheWatchesAndTheFix() {
        CryoException x = InotifyHandler.eventsQueued("pid 77 \"tail\" fd 4", 48,
                List.of(watch(1).setPath("/var/log/app.log").build(), watch(3).build()));
        assertEquals("inotify/EVENTS_QUEUED", x.code());
        assertEquals(CryoException.Category.UNSUPPORTED, x.category());
        assertEquals("dump refused: the inotify instance pid 77 \"tail\" fd 4 has 48 bytes of events the program has"
                + " not read yet (watches: wd 1 /var/log/app.log, wd 3 inode 4711); events cannot be put back into a"
                + " restored inotify instance", x.getMessage());
        assertTrue(x.fix().startsWith("dump again once the program has read them"), x.fix());
    }

    @Test
    void aWatchWithoutHandleOrPathIsRefused() {
        CryoException x = assertThrows(CryoException.class, () -> InotifyHandler.checkWatches("pid 7 \"w\" fd 3",
                List.of(watch(1).setHandle(ByteString.EMPTY).build())));
        assertEquals("inotify/NO_HANDLE", x.code());
        assertTrue(x.getMessage().contains("inode 4711 (wd 1, device 254:0)"), x.getMessage());
    }

    @Test
    void tooManyNumbersToSkipAreRefused() {
        List<InotifyWatchEntry> ws = new ArrayList<>(List.of(watch(1).build(), watch(70_000).build()));
        CryoException x = assertThrows(CryoException.class, () -> InotifyHandler.checkWatches("pid 7 \"w\" fd 3", ws));
        assertEquals("inotify/WD_GAP", x.code());
        assertTrue(x.getMessage().contains("descriptors up to 70000"), x.getMessage());
        assertDoesNotThrow(() -> InotifyHandler.checkWatches("x", List.of(watch(1).build(), watch(60_000).build())));
    }

    @Test
    void recordRoundTrips() throws Exception {
        InotifyEntry e = InotifyEntry.newBuilder().setFlags(04000).addWatches(watch(5).setPath("/tmp/x")).build();
        assertEquals(e, InotifyEntry.parseFrom(e.toByteArray()));
    }

    @Test
    void theIndexListsTheHandler() throws Exception {
        InotifyHandler extension = ExtensionIndex.only(InotifyHandler.class);
        assertEquals("inotify", ((FdHandler) extension).kind());
    }

    private static InotifyWatchEntry.Builder watch(int wd) {
        return InotifyWatchEntry.newBuilder().setWd(wd).setIno(4711).setSdev(254 << 20).setMask(0x2)
                .setHandleType(1).setHandle(ByteString.copyFrom(new byte[8])).setMountPath("/");
    }
}
