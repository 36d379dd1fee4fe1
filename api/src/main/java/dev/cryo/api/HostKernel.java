package dev.cryo.api;

import java.util.List;
import java.util.Optional;

/**
 * The host as cryo sees it from its own process, shared by every handler of one command: kernel queries
 * (netlink) and views of the host's processes and sockets that several plugins need, so that none of them scans
 * {@code /proc} on its own. Views are read the first time they are asked for and then cached for the rest of the
 * command: during a dump the tree is frozen but the rest of the host is not, so a view is a snapshot.
 *
 * <p>Threading: the tracer thread, during the SPI call that handed it out. Errors: {@link CryoException}s of
 * category KERNEL naming the call and the errno.
 *
 * @since 1.0.0
 */
public interface HostKernel {
    /**
     * Sends one netlink request and collects every reply message up to {@code NLMSG_DONE}, e.g. a
     * {@code SOCK_DIAG_BY_FAMILY} dump of AF_UNIX sockets ({@code protocol} 4 = NETLINK_SOCK_DIAG).
     *
     * @param protocol the netlink protocol of the socket
     * @param request  a complete request: {@code struct nlmsghdr} (little endian) plus payload; core sets
     *                 {@code nlmsg_len}, {@code nlmsg_seq} and {@code nlmsg_pid}
     * @return each reply as one byte array holding a whole message, {@code nlmsghdr} included; {@code NLMSG_DONE}
     *         is not included
     * @throws CryoException (KERNEL) when the socket calls fail or the kernel answers {@code NLMSG_ERROR}
     */
    List<byte[]> netlink(int protocol, byte[] request) throws CryoException;

    /**
     * Every fd on the host whose {@code /proc/PID/fd/N} link is {@code link} (e.g. {@code pipe:[4711]},
     * {@code socket:[41235]}, a path), cryo's own process excluded, in pid then fd order. The links of all
     * processes are read once per command, on first use; the flags of the matching fds when asked.
     *
     * @since 1.1.0
     */
    default List<FdHolder> holders(String link) throws CryoException {
        throw new UnsupportedOperationException("this core implements SPI " + Spi.VERSION + " without holders()");
    }

    /**
     * The AF_UNIX sockets of cryo's network namespace as {@code /proc/net/unix} lists them, read once per command.
     *
     * @since 1.1.0
     */
    default List<UnixSocketInfo> unixSockets() throws CryoException {
        throw new UnsupportedOperationException("this core implements SPI " + Spi.VERSION
                + " without unixSockets()");
    }

    /**
     * @return the socket with inode {@code ino} in {@link #unixSockets()}
     * @since 1.1.0
     */
    default Optional<UnixSocketInfo> unixSocket(long ino) throws CryoException {
        return unixSockets().stream().filter(s -> s.ino() == ino).findFirst();
    }

    /**
     * cryo's own process as a {@link RemoteTask}, for the calls a task of the tree may not make itself: cryo runs as
     * root with CAP_NET_ADMIN, a task of the tree may run as another user (TCP_REPAIR on a socket of an nginx worker
     * running as {@code nobody}, pulled into cryo with {@link RemoteTask#pullFd}). {@code syscall} runs the call
     * directly on the tracer thread, so a {@link LocalFd#value()} is a valid fd argument; {@code scratchAddress()} is
     * native memory of cryo's own (at least 64 KiB, content undefined between calls); {@code readMemory} and
     * {@code writeMemory} copy from and to cryo's own addresses (the scratch area, or memory the caller mapped with
     * {@code syscall(MMAP)} and must unmap). {@code pullFd(n)} duplicates cryo's own fd {@code n} into a
     * {@link LocalFd} (e.g. a socket created here, to push into a task); {@code pushFd} and {@code pagemap} are not
     * supported. Unlike the views, it stays valid on the tracer thread until the command ends, so a plugin may keep
     * it from a handler call for its {@link LifecycleListener} methods of the same dump or restore (to turn TCP_REPAIR
     * off after {@code postDump}, say).
     *
     * @since 1.1.0
     */
    default RemoteTask self() {
        throw new UnsupportedOperationException("this core implements SPI " + Spi.VERSION + " without self()");
    }
}
