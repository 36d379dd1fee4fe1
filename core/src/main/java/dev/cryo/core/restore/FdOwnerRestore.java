package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.core.image.proto.FdOwnerEntry;
import dev.cryo.core.image.proto.FdinfoEntry;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.Sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static dev.cryo.core.linux.Sys.F_GETFL;
import static dev.cryo.core.linux.Sys.F_SETFL;
import static dev.cryo.core.linux.Sys.F_SETOWN_EX;
import static dev.cryo.core.linux.Sys.F_SETSIG;
import static dev.cryo.core.linux.Sys.O_ASYNC;

/**
 * Puts back the signal-driven I/O of every open file description that had it ({@code FdinfoEntry.owner}): the owner
 * ({@code fcntl F_SETOWN_EX}), the signal ({@code F_SETSIG}) and O_ASYNC ({@code F_SETFL}), by calls injected into the
 * process that holds the fd, so that the kernel registers the fd number the program knows (it is {@code si_fd} of
 * the signal). Runs once every process of the tree exists with its threads (an owner may be a thread of a process
 * rebuilt later) and its credentials (F_SETOWN records the caller's, which decide whether the signal may be sent),
 * before the registers.
 */
final class FdOwnerRestore {
    private record Pending(LiveTask task, int fd, FdOwnerEntry owner) {
    }

    private final List<Pending> pending = new ArrayList<>();

    /** Remembers the owners among the fds of one process (just restored). */
    void add(LiveTask task, List<FdinfoEntry> fds) {
        for (FdinfoEntry e : fds) {
            if (e.hasOwner()) {
                pending.add(new Pending(task, e.getFd(), e.getOwner()));
            }
        }
    }

    /** Sets every remembered owner, signal and O_ASYNC. */
    void apply() throws CryoException {
        for (Pending p : pending) {
            restore(p.task(), p.fd(), p.owner());
        }
        pending.clear();
    }

    private static void restore(LiveTask task, int fd, FdOwnerEntry o) throws CryoException {
        String what = "fd " + fd + " of " + task.who();
        if (o.getPid() != 0) {
            ByteBuffer b = ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(o.getType()).putInt(o.getPid()).flip();
            task.writeMemory(task.scratchAddress(), b);
            task.syscall("fcntl(" + what + ", F_SETOWN_EX, {" + ownerName(o) + "})", Sys.FCNTL, fd, F_SETOWN_EX,
                    task.scratchAddress());
        }
        if (o.getSignal() != 0) {
            task.syscall("fcntl(" + what + ", F_SETSIG, " + o.getSignal() + ")", Sys.FCNTL, fd, F_SETSIG,
                    o.getSignal());
        }
        long cur = task.syscall("fcntl(" + what + ", F_GETFL)", Sys.FCNTL, fd, F_GETFL);
        if ((cur & O_ASYNC) != 0) {
            // a plugin that opened the file with O_ASYNC got the flag without the registration (open(2) does not
            // call ->fasync): off, then on again below
            task.syscall("fcntl(" + what + ", F_SETFL, ~O_ASYNC)", Sys.FCNTL, fd, F_SETFL, cur & ~O_ASYNC);
        }
        if (o.getAsync()) {
            task.syscall("fcntl(" + what + ", F_SETFL, O_ASYNC)", Sys.FCNTL, fd, F_SETFL, cur | O_ASYNC);
        }
    }

    private static String ownerName(FdOwnerEntry o) {
        return switch (o.getType()) {
            case 0 -> "F_OWNER_TID, " + o.getPid();
            case 2 -> "F_OWNER_PGRP, " + o.getPid();
            default -> "F_OWNER_PID, " + o.getPid();
        };
    }
}
