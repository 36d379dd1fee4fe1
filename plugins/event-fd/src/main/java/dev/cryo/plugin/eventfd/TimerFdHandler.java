package dev.cryo.plugin.eventfd;

import static dev.cryo.api.SyscallFlags.MAP_ANONYMOUS;
import static dev.cryo.api.SyscallFlags.MAP_PRIVATE;
import static dev.cryo.api.SyscallFlags.PROT_READ;
import static dev.cryo.api.SyscallFlags.PROT_WRITE;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdInfo;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;
import dev.cryo.plugin.eventfd.proto.TimerfdEntry;
import org.pf4j.Extension;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The {@code timerfd} handler: {@code anon_inode:[timerfd]} with its clock, the time left, the interval, the
 * expirations not read yet, and whether it was set with an absolute deadline.
 *
 * <p>Dump: {@code clockid}, {@code ticks} and {@code settime flags} from {@code /proc/PID/fdinfo/N}; the time left
 * and the interval with an injected {@code timerfd_gettime} (nanosecond-exact, unlike fdinfo's snapshot). A timer
 * set with TFD_TIMER_ABSTIME keeps its deadline: the handler injects {@code clock_gettime(clockid)} in the task and
 * records {@code now + left} on that clock (now: the middle of two {@code clock_gettime} calls around
 * {@code timerfd_gettime}, the three run back to back in one batch, into a page mapped for them and unmapped after:
 * the deadline is exact to within microseconds; as three stops of the task it was off by 25 ms on a loaded machine).
 * A periodic timer that expired and was not read shows no time left (the
 * kernel re-arms it only on read): it is recorded as {@code expired_pending}.
 *
 * <p>Restore: {@code timerfd_create(clockid, TFD_CLOEXEC [| TFD_NONBLOCK])}, then {@code timerfd_settime}: a relative
 * timer gets the time it had left at dump (the time the image waited does not count), an absolute one its dumped
 * deadline with the dumped settime flags (a CLOCK_REALTIME deadline that passed meanwhile fires at once, as it
 * would have); an expired periodic timer is armed for one interval. Unread expirations are put back with
 * {@code ioctl(TFD_IOC_SET_TICKS)} (a kernel built with CONFIG_CHECKPOINT_RESTORE; without it the restore fails
 * with {@code event-fd/SET_TICKS}). Then {@code dup3} to the dumped number with its FD_CLOEXEC.
 */
@Extension
public final class TimerFdHandler extends AnonInodeHandler<TimerfdEntry> {
    public static final String KIND = "timerfd";
    static final String LINK = "anon_inode:[timerfd]";
    static final int TFD_TIMER_ABSTIME = 1;
    /** {@code _IOW('T', 0, __u64)} */
    static final long TFD_IOC_SET_TICKS = 0x40085400L;
    private static final long NS = 1_000_000_000L;

    public TimerFdHandler() {
        super(KIND, LINK, TimerfdEntry.class);
    }

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        RemoteTask task = ctx.task();
        FdinfoFields f = FdinfoFields.read(task, fd.fd());
        String who = who(task, fd.fd());
        int clockid = (int) f.decimal("clockid");
        boolean absolute = (f.octal("settime flags") & TFD_TIMER_ABSTIME) != 0;
        if (!absolute) {
            task.syscall("timerfd_gettime(" + who + ")", Syscall.TIMERFD_GETTIME, fd.fd().value(),
                    task.scratchAddress());
            long[] its = TaskFds.scratchLongs(task, 4);
            return record(f, fd.flags(), its[2] * NS + its[3], its[0] * NS + its[1], 0);
        }
        // the deadline is "now + remaining" at the instant of timerfd_gettime: bracket it with two clock readings,
        // all three in one batch (a batch may not write into the scratch area: a page of the task's own, for them)
        long page = task.syscall("mmap(4096) for the clock readings of " + who, Syscall.MMAP, 0, 4096,
                PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        long[] got;
        ByteBuffer out = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
        try {
            got = task.syscallBatchRaw(List.of(new RemoteTask.Call(Syscall.CLOCK_GETTIME, clockid, page),
                    new RemoteTask.Call(Syscall.TIMERFD_GETTIME, fd.fd().value(), page + 16),
                    new RemoteTask.Call(Syscall.CLOCK_GETTIME, clockid, page + 48)));
            task.readMemory(page, out);
        } finally {
            task.syscall("munmap of the clock readings' page of " + who, Syscall.MUNMAP, page, 4096);
        }
        String[] what = {"clock_gettime(" + clockid + ")", "timerfd_gettime", "clock_gettime(" + clockid + ")"};
        for (int i = 0; i < got.length; i++) {
            if (got[i] < 0) {
                throw CryoException.kernel("event-fd/SYSCALL_FAILED", what[i] + " for " + who, (int) -got[i]);
            }
        }
        long before = out.getLong(0) * NS + out.getLong(8);
        long interval = out.getLong(16) * NS + out.getLong(24);
        long remaining = out.getLong(32) * NS + out.getLong(40);
        long after = out.getLong(48) * NS + out.getLong(56);
        return record(f, fd.flags(), remaining, interval, before + (after - before) / 2);
    }

    /**
     * @param remaining the time left from timerfd_gettime
     * @param interval  the interval from timerfd_gettime
     * @param now       the timer's clock at dump (used for absolute timers only)
     */
    static TimerfdEntry record(FdinfoFields f, int flags, long remaining, long interval, long now)
            throws CryoException {
        int settime = (int) f.octal("settime flags");
        boolean expiredPending = remaining == 0 && interval != 0;
        TimerfdEntry.Builder b = TimerfdEntry.newBuilder().setClockid((int) f.decimal("clockid")).setFlags(flags)
                .setSettimeFlags(settime).setTicks(f.unsignedDecimal("ticks")).setRemainingNs(remaining)
                .setIntervalNs(interval).setExpiredPending(expiredPending);
        if ((settime & TFD_TIMER_ABSTIME) != 0 && (remaining != 0 || expiredPending)) {
            b.setAbsoluteNs(now + (expiredPending ? interval : remaining));
        }
        return b.build();
    }

    /** The {@code it_value} to give {@code timerfd_settime} on restore (0: leave disarmed). */
    static long restoreValue(TimerfdEntry e) {
        if ((e.getSettimeFlags() & TFD_TIMER_ABSTIME) != 0) {
            return e.getAbsoluteNs();
        }
        return e.getExpiredPending() ? e.getIntervalNs() : e.getRemainingNs();
    }

    @Override
    long create(RemoteTask task, TimerfdEntry e, String who) throws CryoException {
        long flags = createFlags(e.getFlags());
        return task.syscall("timerfd_create(" + e.getClockid() + ", 0" + Long.toOctalString(flags) + ") for " + who,
                Syscall.TIMERFD_CREATE, e.getClockid(), flags);
    }

    /** The time left and the interval ({@code timerfd_settime}), then the expirations not read yet. */
    @Override
    void setUp(RemoteTask task, TimerfdEntry e, long fd, String who) throws CryoException {
        long value = restoreValue(e);
        if (value != 0 || e.getIntervalNs() != 0 || e.getSettimeFlags() != 0) {
            long its = TaskFds.putLongs(task, e.getIntervalNs() / NS, e.getIntervalNs() % NS, value / NS,
                    value % NS);
            task.syscall("timerfd_settime(" + who + ", flags " + e.getSettimeFlags() + ", value " + value
                    + " ns, interval " + e.getIntervalNs() + " ns)", Syscall.TIMERFD_SETTIME, fd,
                    e.getSettimeFlags(), its, 0);
        }
        if (e.getTicks() != 0) {
            long ticks = TaskFds.putLongs(task, e.getTicks());
            long r = task.syscallRaw(Syscall.IOCTL, fd, TFD_IOC_SET_TICKS, ticks);
            if (r < 0) {
                throw new CryoException(Category.KERNEL, "event-fd/SET_TICKS", "restore failed: " + who + " had "
                        + e.getTicks() + " expirations not read yet, and ioctl(TFD_IOC_SET_TICKS) failed: "
                        + dev.cryo.api.Errno.describe((int) -r), "restore on a kernel built with"
                        + " CONFIG_CHECKPOINT_RESTORE, or dump again once the program has read its timer", (int) -r,
                        null);
            }
        }
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(TimerfdEntry.getDescriptor());
    }
}
