package dev.cryo.core.restore;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.Errno;
import dev.cryo.core.image.proto.CoreEntry;
import dev.cryo.core.image.proto.PosixTimerEntry;
import dev.cryo.core.linux.Errors;
import dev.cryo.core.linux.LiveTask;
import dev.cryo.core.linux.PosixTimers;
import dev.cryo.core.linux.Sys;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Recreates the POSIX timers of a restored process (dumped by {@code CoreCollector}) with their ids: programs keep
 * timer ids in their memory. With {@code prctl(PR_TIMER_CREATE_RESTORE_IDS, ON)} (recent kernels; 6.18 has it) {@code timer_create}
 * takes the id to use from {@code *timerid}; a kernel without it allocates ids in sequence from 0 in a new process,
 * so the gaps are filled with placeholder timers deleted afterwards, and every id is checked. Then
 * {@code timer_settime} arms each with its remaining time and interval, relative to now.
 *
 * <p>A timer whose signal was still queued at dump is armed to expire at once instead: the kernel queues the timer's
 * own signal again (and counts overruns on it as before), rather than cryo queueing a copy of the old siginfo that
 * the timer would not know ({@link #queuedByTimer} keeps that copy out of the pending signals). The overrun count
 * itself (timer_getoverrun, si_overrun) cannot be set: after restore it counts from 0.
 */
final class PosixTimerRestore {
    private static final int SIGEVENT_SIZE = 64;
    private static final int RESTORE_IDS_OFF = 0, RESTORE_IDS_ON = 1;

    private PosixTimerRestore() {
    }

    static void restore(LiveTask task, CoreEntry core, long data) throws CryoException {
        List<PosixTimerEntry> timers = core.getPosixTimersList();
        if (timers.isEmpty()) {
            return;
        }
        long on = task.syscallRaw(Sys.PRCTL, Sys.PR_TIMER_CREATE_RESTORE_IDS, RESTORE_IDS_ON, 0, 0, 0);
        if (on == 0) {
            try {
                for (PosixTimerEntry t : timers) {
                    create(task, t, t.getId(), data);
                }
            } finally {
                task.syscallRaw(Sys.PRCTL, Sys.PR_TIMER_CREATE_RESTORE_IDS, RESTORE_IDS_OFF, 0, 0, 0);
            }
        } else if (Errno.EINVAL.is(on)) {
            createInSequence(task, timers, data);
        } else {
            throw Errors.failure("prctl(PR_TIMER_CREATE_RESTORE_IDS) in " + task.who(), (int) -on);
        }
        for (PosixTimerEntry t : timers) {
            long valueSec = t.getValueSec();
            long valueNsec = t.getValueNsec();
            if (signalQueued(core, t.getId())) {
                valueSec = 0;
                valueNsec = 1;
            }
            if (valueSec == 0 && valueNsec == 0) {
                continue;
            }
            ByteBuffer b = ByteBuffer.allocateDirect(32).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(0, t.getIntervalSec()).putLong(8, t.getIntervalNsec()).putLong(16, valueSec)
                    .putLong(24, valueNsec);
            task.writeMemory(data, b);
            task.syscall("timer_settime(" + t.getId() + ")", Sys.TIMER_SETTIME, t.getId(), 0, data, 0);
        }
    }

    private static final int SI_TIMER = -2;

    /**
     * @return whether a pending siginfo (128 bytes) was queued by one of the process's timers: it is not restored
     * as such, the timer queues it again ({@link #restore})
     */
    static boolean queuedByTimer(com.google.protobuf.ByteString siginfo, CoreEntry core) {
        ByteBuffer b = siginfo.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 24 || b.getInt(8) != SI_TIMER) {
            return false;
        }
        int id = b.getInt(16);
        return core.getPosixTimersList().stream().anyMatch(t -> t.getId() == id);
    }

    private static boolean signalQueued(CoreEntry core, int id) {
        java.util.stream.Stream<com.google.protobuf.ByteString> all = java.util.stream.Stream.concat(
                core.getSharedPendingList().stream(),
                core.getThreadsList().stream().flatMap(t -> t.getPendingList().stream()));
        return all.anyMatch(si -> queuedByTimer(si, core) && si.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
                .getInt(16) == id);
    }

    /** Kernels without PR_TIMER_CREATE_RESTORE_IDS: ids come in sequence from 0; fill the gaps, then delete. */
    private static void createInSequence(LiveTask task, List<PosixTimerEntry> timers, long data) throws CryoException {
        List<Integer> placeholders = new ArrayList<>();
        int next = 0;
        for (PosixTimerEntry t : timers) {
            while (next < t.getId()) {
                placeholders.add(create(task, PosixTimerEntry.newBuilder().setNotify(PosixTimers.SIGEV_NONE).build(),
                        next, data));
                next++;
            }
            create(task, t, t.getId(), data);
            next = t.getId() + 1;
        }
        for (int id : placeholders) {
            task.syscall("timer_delete(placeholder " + id + ")", Sys.TIMER_DELETE, id);
        }
    }

    /** timer_create with the dumped clock and sigevent; fails unless the kernel gave {@code wanted} as the id. */
    private static int create(LiveTask task, PosixTimerEntry t, int wanted, long data) throws CryoException {
        ByteBuffer b = ByteBuffer.allocateDirect(SIGEVENT_SIZE + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, t.getSigevValue()).putInt(8, t.getSigno()).putInt(12, t.getNotify())
                .putInt(16, (t.getNotify() & PosixTimers.SIGEV_THREAD_ID) != 0 ? t.getNotifyTid() : 0)
                .putInt(SIGEVENT_SIZE, wanted);
        task.writeMemory(data, b);
        long r = task.syscallRaw(Sys.TIMER_CREATE, t.getClockId(), data, data + SIGEVENT_SIZE);
        if (r < 0) {
            throw new CryoException(Category.KERNEL, "core/POSIX_TIMER", "cannot recreate POSIX timer " + wanted
                    + " of " + task.who() + " (clock " + t.getClockId() + ", signal " + t.getSigno() + ", notify "
                    + t.getNotify() + "): timer_create failed: " + Errors.describe((int) -r));
        }
        ByteBuffer id = ByteBuffer.allocateDirect(4).order(ByteOrder.LITTLE_ENDIAN);
        task.readMemory(data + SIGEVENT_SIZE, id);
        int got = id.getInt(0);
        if (got != wanted) {
            throw new CryoException(Category.KERNEL, "core/POSIX_TIMER_ID", "cannot recreate POSIX timer " + wanted
                    + " of " + task.who() + ": the kernel gave it id " + got,
                    "restore on a kernel with prctl PR_TIMER_CREATE_RESTORE_IDS (6.18 has it)");
        }
        return got;
    }
}
