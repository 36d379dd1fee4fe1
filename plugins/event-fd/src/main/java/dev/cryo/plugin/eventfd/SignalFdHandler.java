package dev.cryo.plugin.eventfd;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.CryoException;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdInfo;
import dev.cryo.api.RemoteTask;
import dev.cryo.api.Syscall;
import dev.cryo.plugin.eventfd.proto.SignalfdEntry;
import org.pf4j.Extension;

import java.util.List;

/**
 * The {@code signalfd} handler: {@code anon_inode:[signalfd]} with the mask of signals it reads.
 *
 * <p>Dump: {@code sigmask} (hex, bit N-1 = signal N) and the open flags from {@code /proc/PID/fdinfo/N}. A signalfd
 * holds no signals itself: the pending signals it would read are the process's and the thread's, which core dumps
 * and queues again.
 *
 * <p>Restore: {@code signalfd4(-1, &mask, 8, SFD_CLOEXEC [| SFD_NONBLOCK])} injected in the process, then
 * {@code dup3} to the dumped number with its FD_CLOEXEC.
 */
@Extension
public final class SignalFdHandler extends AnonInodeHandler<SignalfdEntry> {
    public static final String KIND = "signalfd";
    static final String LINK = "anon_inode:[signalfd]";

    public SignalFdHandler() {
        super(KIND, LINK, SignalfdEntry.class);
    }

    @Override
    public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        return record(FdinfoFields.read(ctx.task(), fd.fd()), fd.flags());
    }

    static SignalfdEntry record(FdinfoFields f, int flags) throws CryoException {
        return SignalfdEntry.newBuilder().setSigmask(f.hex("sigmask")).setFlags(flags).build();
    }

    @Override
    long create(RemoteTask task, SignalfdEntry e, String who) throws CryoException {
        long mask = TaskFds.putLongs(task, e.getSigmask());
        return task.syscall("signalfd4(-1, 0x" + Long.toHexString(e.getSigmask()) + ") for " + who,
                Syscall.SIGNALFD4, -1, mask, 8, createFlags(e.getFlags()));
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(SignalfdEntry.getDescriptor());
    }
}
