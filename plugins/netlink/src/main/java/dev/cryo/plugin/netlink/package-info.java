/**
 * The {@code netlink} plugin: {@link dev.cryo.plugin.netlink.NetlinkHandler netlink sockets}, read from
 * {@code NETLINK_SOCK_DIAG} ({@link dev.cryo.plugin.netlink.NetlinkDiag}) at dump and made again inside the restored
 * process with the same port id, groups and options.
 */
package dev.cryo.plugin.netlink;
