package dev.cryo.api;

import java.util.List;

/**
 * Kernel queries core runs from cryo's own process on a plugin's behalf (plugins have no native access of their
 * own). Threading: the tracer thread, during the SPI call that handed it out.
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
}
