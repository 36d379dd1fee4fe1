package dev.cryo.core.linux;

import dev.cryo.api.CryoException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * File locks as the kernel lists them: the {@code lock:} lines of {@code /proc/PID/fdinfo/FD} (the locks taken
 * through that open file, by that fd table for POSIX locks) and {@code /proc/locks} (every lock of the host). A line
 * reads {@code 1: POSIX  ADVISORY  WRITE 812 fe:00:2146850 10 29}: id, class, mode, type, pid, MAJ:MIN:INO, first
 * byte, last byte (inclusive) or {@code EOF}. OFD locks show pid -1. Waiters ({@code ->} lines) are skipped.
 */
public final class FileLocks {
    /** Lock classes cryo can re-take; anything else (leases, delegations) is {@link Lock#other()}. */
    public enum Kind { FLOCK, POSIX, OFD }

    /**
     * One granted lock.
     *
     * @param kind    FLOCK, POSIX or OFD; empty for a class cryo cannot re-take ({@code clazz} says which)
     * @param clazz   the class word as printed (FLOCK, POSIX, OFDLCK, LEASE, DELEG...)
     * @param mode    ADVISORY, MANDATORY, or a lease state (ACTIVE, BREAKING...)
     * @param write   WRITE (exclusive) rather than READ (shared)
     * @param pid     the pid the kernel recorded (-1 for OFD locks)
     * @param devIno  MAJ:MIN:INO of the locked file
     * @param start   first byte
     * @param end     last byte inclusive, -1 for EOF
     * @param line    the line as read, for messages
     */
    public record Lock(Optional<Kind> kind, String clazz, String mode, boolean write, int pid, String devIno,
                       long start, long end, String line) {
        public boolean other() {
            return kind.isEmpty() || !mode.equals("ADVISORY");
        }

        /** @return the inode number of the locked file */
        public long inode() {
            return Long.parseLong(devIno.substring(devIno.lastIndexOf(':') + 1));
        }

        /** @return e.g. {@code POSIX WRITE lock on bytes 10-29} / {@code flock READ lock} for messages */
        public String describe() {
            String what = switch (kind.orElse(Kind.POSIX)) {
                case FLOCK -> "flock " + (write ? "LOCK_EX" : "LOCK_SH");
                case POSIX -> "POSIX (fcntl F_SETLK) " + (write ? "F_WRLCK" : "F_RDLCK");
                case OFD -> "OFD (fcntl F_OFD_SETLK) " + (write ? "F_WRLCK" : "F_RDLCK");
            };
            if (kind.isEmpty()) {
                return clazz + " " + mode + " " + (write ? "WRITE" : "READ");
            }
            if (kind.get() == Kind.FLOCK) {
                return what + " lock";
            }
            return what + " lock on bytes " + start + "-" + (end < 0 ? "EOF" : Long.toString(end));
        }

        /** Same lock (class, type, file, range) as {@code o}, whatever the pid and the id. */
        public boolean sameAs(Lock o) {
            return clazz.equals(o.clazz) && write == o.write && devIno.equals(o.devIno) && start == o.start
                    && end == o.end;
        }
    }

    private FileLocks() {
    }

    /** @return the locks taken through fd {@code fd} of {@code pid} */
    public static List<Lock> ofFd(int pid, int fd) throws CryoException {
        return parseFdinfo(ProcFs.read(ProcFs.dir(pid).resolve("fdinfo").resolve(Integer.toString(fd))));
    }

    /** @return every granted lock of the host ({@code /proc/locks}) */
    public static List<Lock> all() throws CryoException {
        return parseProcLocks(ProcFs.read(java.nio.file.Path.of("/proc/locks")));
    }

    /** Parses the {@code lock:} lines of an fdinfo file. */
    public static List<Lock> parseFdinfo(String fdinfo) {
        List<Lock> out = new ArrayList<>();
        for (String line : fdinfo.split("\n")) {
            if (line.startsWith("lock:")) {
                addParsed(line.substring(5), out);
            }
        }
        return out;
    }

    /** Parses {@code /proc/locks}, granted locks only. */
    public static List<Lock> parseProcLocks(String text) {
        List<Lock> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            addParsed(line, out);
        }
        return out;
    }

    /** Adds the lock of {@code line}, if it is one (no method reference: read while a tree is frozen, issue 13). */
    private static void addParsed(String line, List<Lock> out) {
        Optional<Lock> lock = parseLine(line);
        if (lock.isPresent()) {
            out.add(lock.get());
        }
    }

    static Optional<Lock> parseLine(String raw) {
        String line = raw.strip();
        String[] f = line.split("\\s+");
        // id: [->] class mode type pid dev:ino start end
        if (f.length < 8 || !f[0].endsWith(":") || f[1].equals("->")) {
            return Optional.empty();
        }
        Optional<Kind> kind = switch (f[1]) {
            case "FLOCK" -> Optional.of(Kind.FLOCK);
            case "POSIX" -> Optional.of(Kind.POSIX);
            case "OFDLCK" -> Optional.of(Kind.OFD);
            default -> Optional.empty();
        };
        long start;
        long end;
        int pid;
        try {
            pid = Integer.parseInt(f[4]);
            start = Long.parseLong(f[6]);
            end = f[7].equals("EOF") ? -1 : Long.parseLong(f[7]);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.of(new Lock(kind, f[1], f[2], f[3].equals("WRITE"), pid, f[5], start, end, line));
    }
}
