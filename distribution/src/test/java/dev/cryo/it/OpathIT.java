package dev.cryo.it;

import org.junit.jupiter.api.Test;

/**
 * O_PATH fds ({@code opath_fds.c}): one on a symbolic link itself (O_PATH|O_NOFOLLOW) comes back on the link, not on
 * what it points to, and one on the followed link comes back on the target file; the restored program checks type,
 * link content, inode and flags itself.
 */
class OpathIT extends WithTestBed {

    @Test
    void anOpathFdOnASymlinkStaysOnTheLink() {
        Workload w = bed.workloads().start("opath_fds");
        w.assertVerifyPass();
        bed.dumpRestoreAndVerify(w);
    }
}
