package dev.cryo.api;

import com.google.protobuf.Message;

/**
 * What {@link FdHandler#restore} may use. Valid only during that call, on the tracer thread.
 *
 * @since 1.0.0
 */
public interface FdRestoreContext {
    /** @return the stopped process being rebuilt */
    RemoteTask task();

    /** @return the fd number to install at */
    TargetFd fd();

    /** @return whether FD_CLOEXEC was set at dump */
    boolean cloexec();

    /**
     * @return the record {@link FdHandler#collect} returned for this fd
     * @throws CryoException (IMAGE) when it is not a {@code type}
     */
    <T extends Message> T record(Class<T> type) throws CryoException;

    /** @return this kind's object table as written by {@link FdHandler#dumpObjects} */
    ImageSource objects();

    /** @return the effective options of the restore */
    Config config();

    /**
     * @return kernel queries run from cryo's own process
     * @since 1.0.0
     */
    default HostKernel kernel() {
        throw new UnsupportedOperationException("this core offers no HostKernel");
    }

    /**
     * The fd of cryo's own process that the user handed over for {@code resource} with
     * {@code --inherit-fd fd[N]:RESOURCE} (CRIU's syntax), e.g. {@code resource} = {@code pipe:[12345]}. The
     * returned fd belongs to core; do not close it.
     *
     * @return empty when no {@code --inherit-fd} names {@code resource}
     * @since 1.0.0
     */
    default java.util.Optional<LocalFd> inheritedFd(String resource) {
        return java.util.Optional.empty();
    }
}
