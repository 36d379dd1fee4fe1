package dev.cryo.plugin.regularfile;

import org.junit.jupiter.api.Test;

import static dev.cryo.plugin.regularfile.OpenFlags.*;
import static org.junit.jupiter.api.Assertions.*;

class OpenFlagsTest {
    @Test
    void recordingDropsOpenTimeFlagsAndKeepsTheRest() {
        int kept = O_RDWR | O_APPEND | O_NONBLOCK | O_DIRECT | O_LARGEFILE | O_NOATIME;
        assertEquals(kept, recorded(kept | O_CLOEXEC | O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY));
        assertEquals(O_RDONLY | O_DIRECTORY | O_LARGEFILE, recorded(O_DIRECTORY | O_LARGEFILE | O_CLOEXEC));
        assertEquals(O_PATH, recorded(O_PATH));
        // the value fdinfo shows for a file opened O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC (kernel keeps O_LARGEFILE)
        assertEquals(0100001, recorded(02100001));
    }

    @Test
    void openFlagsAddCloexecAndNoctty() {
        assertEquals(O_RDWR | O_APPEND, forOpen(O_RDWR | O_APPEND, false, false));
        assertEquals(O_RDWR | O_APPEND | O_CLOEXEC, forOpen(O_RDWR | O_APPEND, true, false));
        assertEquals(O_RDWR | O_NOCTTY, forOpen(O_RDWR, false, true));
        // a record written by an older version with O_TRUNC in it never truncates the file
        assertEquals(O_WRONLY, forOpen(O_WRONLY | O_TRUNC, false, false));
    }

    @Test
    void positionIsRestoredForFilesAndDirectoriesNotDevicesOrPathFds() {
        assertTrue(needsSeek(O_RDONLY, false, 4096));
        assertTrue(needsSeek(O_WRONLY | O_APPEND, false, 6));
        assertTrue(needsSeek(O_RDONLY | O_DIRECTORY, false, 0x7fffffffL));
        assertFalse(needsSeek(O_RDONLY, false, 0));
        assertFalse(needsSeek(O_RDWR, true, 100));
        assertFalse(needsSeek(O_PATH, false, 100));
    }

    @Test
    void anOpathOpenKeepsOnlyWhatTheKernelKeeps() {
        // fdinfo of open("link", O_PATH|O_NOFOLLOW|O_CLOEXEC): 012400000
        assertEquals(O_PATH | O_NOFOLLOW | O_CLOEXEC, forOpen(recorded(012400000), true, false));
        assertEquals(O_PATH | O_DIRECTORY, forOpen(O_PATH | O_DIRECTORY | O_LARGEFILE, false, false));
    }
}
