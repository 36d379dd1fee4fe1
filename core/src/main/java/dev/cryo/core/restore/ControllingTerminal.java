package dev.cryo.core.restore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which controlling terminal a restored session leader takes again while the tree is created (before its children
 * are forked, so that they inherit it; only a session leader can take one). Core does not create terminals: it takes
 * one only when it is a unix98 pseudo-terminal whose master cryo's own process holds at that point — a plugin (the
 * bundled {@code tty}) recreated it for this restore, before any process existed. Any other terminal (the one a
 * {@code --shell-job} tree had, a console) is not touched: opening it could take a terminal that belongs to someone
 * else now.
 */
final class ControllingTerminal {
    private static final int PTS_MAJOR = 136;
    private static final int PTS_MAJORS = 8;
    private static final Pattern TTY_INDEX = Pattern.compile("(?m)^tty-index:\\s*([0-9]+)\\s*$");

    private ControllingTerminal() {
    }

    /**
     * @param ttyNr {@code tty_nr} of the dumped process ({@code /proc/PID/stat} encoding)
     * @return {@code /dev/pts/N} when it names a pseudo-terminal whose master cryo holds now
     */
    static Optional<String> recreated(int ttyNr) {
        int index = ptyIndex(ttyNr);
        return index >= 0 && cryoHoldsMaster(Path.of("/proc/self"), index) ? Optional.of("/dev/pts/" + index)
                : Optional.empty();
    }

    /** @return the index N of {@code /dev/pts/N} that {@code tty_nr} names, or -1 for another device or none */
    static int ptyIndex(int ttyNr) {
        int major = (ttyNr >>> 8) & 0xfff;
        int minor = (ttyNr & 0xff) | ((ttyNr >>> 12) & 0xfff00);
        return ttyNr != 0 && major >= PTS_MAJOR && major < PTS_MAJOR + PTS_MAJORS
                ? (major - PTS_MAJOR) * 256 + minor : -1;
    }

    /** Whether one of {@code self}'s fds is a pty master ({@code /dev/ptmx}) with fdinfo {@code tty-index: N}. */
    static boolean cryoHoldsMaster(Path self, int index) {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(self.resolve("fd"))) {
            for (Path fd : fds) {
                Optional<String> link = readOfOpenFd(() -> Files.readSymbolicLink(fd).toString());
                if (link.isEmpty() || !link.get().equals("/dev/ptmx") && !link.get().equals("/dev/pts/ptmx")) {
                    continue;
                }
                Optional<String> info = readOfOpenFd(() -> Files.readString(self.resolve("fdinfo")
                        .resolve(fd.getFileName()), StandardCharsets.UTF_8));
                Matcher m = TTY_INDEX.matcher(info.orElse(""));
                if (m.find() && Integer.parseInt(m.group(1)) == index) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /** A read of {@code /proc/self/fd/N} or its fdinfo, which fails when the fd was closed meanwhile. */
    private interface FdRead {
        String read() throws IOException;
    }

    /** @return what {@code read} reads; empty when it failed (the fd was closed meanwhile: not a master cryo holds) */
    private static Optional<String> readOfOpenFd(FdRead read) {
        try {
            return Optional.of(read.read());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
