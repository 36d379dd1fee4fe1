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
            p.threads.forEach(t -> tids.add(t.tracee.tid()));
        }
    }

    /** @return the owner record of fd {@code fd} of {@code task}, empty when no owner, signal or O_ASYNC is set */
    Optional<FdOwnerEntry> read(LiveTask task, FdInfo fd) throws CryoException {
        if ((fd.flags() & O_PATH) != 0) {
            return Optional.empty(); // an O_PATH fd takes no fcntl owner, signal or O_ASYNC (EBADF)
        }
        int type;
        int owner;
        int signal;
        try (LocalFd local = task.pullFd(fd.fd())) {
            ownerEx.putLong(0, 0);
            long r = LibC.INSTANCE.syscall(Sys.FCNTL, local.value(), F_GETOWN_EX, ownerEx.address(), 0, 0, 0);
            if (r < 0) {
                throw Errors.failure("fcntl(F_GETOWN_EX) of fd " + fd.fd().value() + " of " + task.who(), LibC.errno());
            }
            type = ownerEx.getInt(0);
            owner = ownerEx.getInt(4);
            signal = (int) LibC.INSTANCE.syscall(Sys.FCNTL, local.value(), F_GETSIG, 0, 0, 0, 0);
            if (signal < 0) {
                throw Errors.failure("fcntl(F_GETSIG) of fd " + fd.fd().value() + " of " + task.who(), LibC.errno());
            }
        }
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
