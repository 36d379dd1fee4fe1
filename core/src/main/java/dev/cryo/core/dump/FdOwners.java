package dev.cryo.core.dump;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.FdInfo;
import dev.cryo.api.LocalFd;
import dev.cryo.core.image.proto.FdOwnerEntry;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.NativeMemory;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.ProcFs;
import dev.cryo.core.linux.Sys;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

import static dev.cryo.core.linux.Sys.F_GETOWN_EX;
import static dev.cryo.core.linux.Sys.F_GETSIG;
import static dev.cryo.core.linux.Sys.F_OWNER_PGRP;
import static dev.cryo.core.linux.Sys.F_OWNER_TID;
import static dev.cryo.core.linux.Sys.O_ASYNC;
import static dev.cryo.core.linux.Sys.O_PATH;

/**
 * Signal-driven I/O of each open file description the dump collects: the owner that gets SIGIO/SIGURG
 * ({@code fcntl F_GETOWN_EX}: a thread, a process or a process group), the signal ({@code F_GETSIG}) and O_ASYNC
 * (from fdinfo). /proc does not show the owner, so the fd is duplicated into cryo ({@code pidfd_getfd}: the same open
 * file description) and asked there — no call is injected into the task. An owner outside the dumped tree is
 * refused: after a restore its pid would name nobody, or somebody else.
 */
final class FdOwners {
    private final Set<Integer> tids = new HashSet<>();
    private final Set<Integer> pgids = new HashSet<>();
    private final NativeMemory ownerEx = NativeMemory.allocate(8);

    FdOwners(FrozenTree tree) {
        for (FrozenProcess p : tree.processes) {
            pgids.add(p.stat.pgrp());
            tids.add(p.pid);
            for (FrozenProcess.FrozenThread t : p.threads) { // no lambda: the tree is frozen (issue 13)
                tids.add(t.tracee.tid());
            }
        }
    }

    /**
     * What {@code fcntl} says of an fd: its owner's type and id ({@code F_GETOWN_EX}) and its signal
     * ({@code F_GETSIG}).
     */
    record Raw(int type, int owner, int signal) {
    }

    /**
     * Asks the kernel for the owner of fd {@code fd} of {@code pid} through a duplicate ({@code pidfd_getfd} of
     * {@code pidfd}, a pidfd of {@code pid}). Any thread: {@link FdReadAhead}'s helper asks ahead of the tracer.
     *
     * @param ownerEx 8 bytes of the calling thread's for {@code struct f_owner_ex}
     */
    static Raw readRaw(int pidfd, int pid, int fd, NativeMemory ownerEx) throws CryoException {
        try (LocalFd local = LiveTask.pullFd(pidfd, pid, fd)) {
            return raw(local.value(), ownerEx, fd, "pid " + pid);
        }
    }

    private static Raw raw(int local, NativeMemory ownerEx, int fd, String who) throws CryoException {
        ownerEx.putLong(0, 0);
        long r = LibC.INSTANCE.syscall(Sys.FCNTL, local, F_GETOWN_EX, ownerEx.address(), 0, 0, 0);
        if (r < 0) {
            throw Errors.failure("fcntl(F_GETOWN_EX) of fd " + fd + " of " + who, LibC.errno());
        }
        int signal = (int) LibC.INSTANCE.syscall(Sys.FCNTL, local, F_GETSIG, 0, 0, 0, 0);
        if (signal < 0) {
            throw Errors.failure("fcntl(F_GETSIG) of fd " + fd + " of " + who, LibC.errno());
        }
        return new Raw(ownerEx.getInt(0), ownerEx.getInt(4), signal);
    }

    /** @return whether {@link #read} asks the kernel about {@code fd} (not for an O_PATH fd) */
    static boolean hasOwner(FdInfo fd) {
        return (fd.flags() & O_PATH) == 0;
    }

    /**
     * @param known what {@link #readRaw} read of the fd ahead (on the read-ahead thread), or null: asked now
     * @return the owner record of fd {@code fd} of {@code task}, empty when no owner, signal or O_ASYNC is set
     */
    Optional<FdOwnerEntry> read(LiveTask task, FdInfo fd, Raw known) throws CryoException {
        if (!hasOwner(fd)) {
            return Optional.empty(); // an O_PATH fd takes no fcntl owner, signal or O_ASYNC (EBADF)
        }
        Raw raw = known;
        if (raw == null) {
            try (LocalFd local = task.pullFd(fd.fd())) {
                raw = raw(local.value(), ownerEx, fd.fd().value(), task.who());
            }
        }
        int type = raw.type();
        int owner = raw.owner();
        int signal = raw.signal();
        boolean async = (fd.flags() & O_ASYNC) != 0;
        if (owner == 0 && signal == 0 && !async) {
            return Optional.empty();
        }
        if (owner != 0 && !(type == F_OWNER_PGRP ? pgids.contains(owner) : tids.contains(owner))) {
            throw outside(task, fd, type, owner);
        }
        return Optional.of(FdOwnerEntry.newBuilder().setType(owner == 0 ? 0 : type).setPid(owner).setSignal(signal)
                .setAsync(async).build());
    }

    private static CryoException outside(LiveTask task, FdInfo fd, int type, int owner) {
        String kind = switch (type) {
            case F_OWNER_TID -> "thread " + owner;
            case F_OWNER_PGRP -> "process group " + owner;
            default -> "pid " + owner;
        };
        String comm;
        try {
            comm = " (\"" + ProcFs.stat(owner).comm() + "\")";
        } catch (CryoException | RuntimeException e) {
            comm = type == F_OWNER_PGRP ? "" : ", which has exited";
        }
        return new CryoException(Category.UNSUPPORTED, "core/FD_OWNER_OUTSIDE", "dump refused: fd " + fd.fd().value()
                + " of " + task.who() + " (" + fd.link() + ") sends its SIGIO/SIGURG to " + kind + comm
                + ", outside the dumped tree; after a restore that number would name another process or none",
                "dump a tree that contains " + kind + " too, or have the program clear the owner (fcntl(fd, F_SETOWN, 0))"
                        + " before the dump");
    }
}
