package dev.cryo.api;

import com.google.protobuf.Message;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What a handler's {@code checkRestore} may use: the image, the options of the restore and the host — before any
 * process of the restore exists. Valid only during that call, on the tracer thread.
 *
 * @since 1.1.0
 */
public interface RestoreCheckContext {
    /** @return the image directory being restored */
    Path imageDir();

    /** @return the effective options of the restore */
    Config config();

    /** @return the host view */
    HostKernel kernel();

    /**
     * @return for an {@link FdHandler}: its object table ({@code <kind>.img}) as written by
     *         {@link FdHandler#dumpObjects}; empty for other handlers or when the dump wrote none
     */
    ImageSource objects();

    /** @return for an {@link FdHandler}: every fd record of its kind in the image, process by process */
    List<FdRecord> fdRecords();

    /**
     * @return for an {@link ExternalPeerHandler}: the records its {@code accept} returned at dump (from
     *         {@code external.img}), in dump order; empty for other handlers
     */
    ImageSource externals();

    /**
     * The fd the user handed over for {@code resource} with {@code --inherit-fd fd[N]:RESOURCE}, as
     * {@link FdRestoreContext#inheritedFd} will return it.
     */
    Optional<LocalFd> inheritedFd(String resource);

    /**
     * One fd of a process of the image, with the record its handler wrote at dump.
     *
     * @param pid    the process
     * @param comm   its name
     * @param fd     the fd number
     * @param record the record as core stored it; see {@link #unpack}
     */
    record FdRecord(Pid pid, String comm, TargetFd fd, com.google.protobuf.Any record) {
        /**
         * @return the record as {@code type}
         * @throws CryoException (IMAGE) when it is not one
         */
        public <T extends Message> T unpack(Class<T> type) throws CryoException {
            try {
                return AnyRecords.unpack(record, type);
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new CryoException(CryoException.Category.IMAGE, "core/BAD_RECORD", "fdinfo-" + pid
                        + ".img fd " + fd + ": the record is not a " + type.getSimpleName() + ": " + e.getMessage(),
                        "the image is corrupt or was written by another plugin version; dump again", e);
            }
        }
    }
}
