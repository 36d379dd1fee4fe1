/**
 * The {@code inet-socket} plugin (dump: collect, then the established connections in repair mode under a network
 * lock; restore: checks before anything exists, then fd installation): AF_INET/AF_INET6 TCP and UDP sockets through
 * the SPI only. {@link dev.cryo.plugin.inetsocket.InetSocketHandler} is the extension and says what is kept per kind of
 * socket; {@link dev.cryo.plugin.inetsocket.InetCollector} is the dump half,
 * {@link dev.cryo.plugin.inetsocket.InetRebuilder} the restore half, {@link dev.cryo.plugin.inetsocket.TcpRepair} the
 * TCP_REPAIR protocol and {@link dev.cryo.plugin.inetsocket.NetworkLock} the nftables lock.
 */
package dev.cryo.plugin.inetsocket;
