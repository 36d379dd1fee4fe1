package dev.cryo.plugin.eventfd;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdInfo;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;
import dev.cryo.plugin.eventfd.proto.EventfdEntry;
import org.pf4j.Extension;

import java.util.List;

/**
 * The {@code eventfd} handler: {@code anon_inode:[eventfd]} with its counter and flags.
 *
 * <p>Dump: {@link #collect} reads {@code /proc/PID/fdinfo/N}: {@code eventfd-count} (the counter, in hex), {@code
 * eventfd-semaphore} (EFD_SEMAPHORE; kernels before 6.6 do not show it: then it is recorded as unknown and
 * restored off) and the open flags (O_NONBLOCK). Nothing is injected; the counter is not touched.
 *
 * <p>Restore: {@code eventfd2(0, EFD_CLOEXEC [| EFD_NONBLOCK] [| EFD_SEMAPHORE])} injected in the process, then the
 * counter is put back with one 8-byte {@code write} (eventfd2 takes only a 32-bit initial value), then {@code dup3}
 * to the dumped fd number with its FD_CLOEXEC. An eventfd shared by several fds or processes is one open file
 * description: core restores the others as duplicates of the first.
 */
@Extension
public final class EventFdHandler extends AnonInodeHandler<EventfdEntry> {
    public static final String KIND = "eventfd";
    static final String LINK = "anon_inode:[eventfd]";
    static final int EFD_SEMAPHORE = 1;

    public EventFdHandler() {
        super(KIND, LINK, EventfdEntry.class);
    }

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        return record(FdinfoFields.read(ctx.task(), fd.fd()), fd.flags());
    }

    static EventfdEntry record(FdinfoFields f, int flags) throws CryoException {
        EventfdEntry.Builder b = EventfdEntry.newBuilder().setCount(f.hex("eventfd-count"))
                .setFlags(flags);
        if (f.get("eventfd-semaphore").isPresent()) {
            b.setSemaphoreKnown(true).setSemaphore(f.decimal("eventfd-semaphore") != 0);
        }
        return b.build();
    }

    @Override
    long create(RemoteTask task, EventfdEntry e, String who) throws CryoException {
        long flags = createFlags(e.getFlags()) | (e.getSemaphore() ? EFD_SEMAPHORE : 0);
        return task.syscall("eventfd2(0, 0" + Long.toOctalString(flags) + ") for " + who, Syscall.EVENTFD2, 0, flags);
    }

    /** The counter, with one 8-byte write: eventfd2 takes only a 32-bit initial value. */
    @Override
    void setUp(RemoteTask task, EventfdEntry e, long fd, String who) throws CryoException {
        if (e.getCount() != 0) {
            long buf = TaskFds.putLongs(task, e.getCount());
            task.syscall("write(eventfd, " + Long.toUnsignedString(e.getCount()) + ") for " + who, Syscall.WRITE, fd,
                    buf, 8);
        }
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(EventfdEntry.getDescriptor());
    }
}
