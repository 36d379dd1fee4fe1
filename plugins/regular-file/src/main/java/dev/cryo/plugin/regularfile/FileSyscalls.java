package dev.cryo.plugin.regularfile;

/**
 * The flag values this plugin passes to the system calls it injects (calls are named with
 * {@link dev.cryo.api.Syscall}).
 */
final class FileSyscalls {

    static final long AT_FDCWD = -100;
    static final int SEEK_SET = 0;

    private FileSyscalls() {
    }
}
