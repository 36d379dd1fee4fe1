package dev.cryo.plugin.pipe;

import dev.cryo.api.ObjectId;
import dev.cryo.api.SyscallFlags;
import dev.cryo.plugin.pipe.proto.PipeAccess;

import java.util.Optional;

/**
 * One end of an anonymous pipe as an object of core's self-containment check: kinds {@code pipe-read} and
 * {@code pipe-write}, id = the pipe's inode (so core's messages read {@code pipe-write:[4711]}). An fd holds the
 * end its access mode gives and references the other one.
 */
enum PipeEnd {
    READ("pipe-read", "read end", PipeAccess.PIPE_ACCESS_READ),
    WRITE("pipe-write", "write end", PipeAccess.PIPE_ACCESS_WRITE);

    final String kind;
    final String label;
    final PipeAccess access;

    PipeEnd(String kind, String label, PipeAccess access) {
        this.kind = kind;
        this.label = label;
        this.access = access;
    }

    ObjectId of(long inode) {
        return new ObjectId(kind, inode);
    }

    PipeEnd other() {
        return this == READ ? WRITE : READ;
    }

    /** @return the end an object id names, empty when it is not a pipe end */
    static Optional<PipeEnd> of(ObjectId id) {
        for (PipeEnd e : values()) {
            if (e.kind.equals(id.kind())) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    /** @return whether open flags (access mode {@code flags & O_ACCMODE}) give this end */
    boolean givenBy(int flags) {
        int acc = flags & SyscallFlags.O_ACCMODE;
        return acc == SyscallFlags.O_RDWR || acc == (this == READ ? SyscallFlags.O_RDONLY : SyscallFlags.O_WRONLY);
    }

    static PipeAccess access(int flags) {
        return switch (flags & SyscallFlags.O_ACCMODE) {
            case SyscallFlags.O_RDONLY -> PipeAccess.PIPE_ACCESS_READ;
            case SyscallFlags.O_WRONLY -> PipeAccess.PIPE_ACCESS_WRITE;
            default -> PipeAccess.PIPE_ACCESS_READ_WRITE;
        };
    }

    /** @return the open(2) access mode that gives {@code a} */
    static int accessMode(PipeAccess a) {
        return switch (a) {
            case PIPE_ACCESS_READ -> SyscallFlags.O_RDONLY;
            case PIPE_ACCESS_WRITE -> SyscallFlags.O_WRONLY;
            default -> SyscallFlags.O_RDWR;
        };
    }

    static String label(PipeAccess a) {
        return switch (a) {
            case PIPE_ACCESS_READ -> "read end";
            case PIPE_ACCESS_WRITE -> "write end";
            case PIPE_ACCESS_READ_WRITE -> "both ends (O_RDWR)";
            default -> "unknown end";
        };
    }
}
