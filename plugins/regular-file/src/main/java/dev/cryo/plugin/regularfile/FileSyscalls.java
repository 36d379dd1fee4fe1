package dev.cryo.plugin.regularfile;

/**
 * The x86_64 system call numbers and flag values this plugin injects. Plugins cannot see core's Linux layer,
 * so the few constants needed live here.
 */
final class FileSyscalls {
    static final int SYS_CLOSE = 3;
    static final int SYS_LSEEK = 8;
    static final int SYS_OPENAT = 257;
    static final int SYS_DUP3 = 292;

    static final long AT_FDCWD = -100;
    static final int SEEK_SET = 0;

    private FileSyscalls() {
    }
}
