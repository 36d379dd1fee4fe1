/**
 * The {@code unix-socket} plugin (dump: collect + object table; restore: fd installation): AF_UNIX sockets through
 * the SPI only. {@link dev.cryo.plugin.unixsocket.UnixSocketHandler} is the extension; the dump half is
 * {@link dev.cryo.plugin.unixsocket.SocketCollector} (NETLINK_SOCK_DIAG via {@code FdDumpContext.kernel()},
 * options and peeked queues via injected syscalls), the restore half
 * {@link dev.cryo.plugin.unixsocket.SocketRebuilder}.
 *
 * <h2>Choices, and what they mean for users</h2>
 * <ul>
 *   <li><b>Pending connections</b> (in a listener's queue, accepted by nobody): kept when the client socket belongs
 *       to the tree — restore connects it to the listener again, in queue order, so {@code accept()} returns them as
 *       before. Data a client already wrote on a pending connection lives in a socket no process holds; reading it
 *       needs {@code accept()}, which would change the tree (and a {@code --leave-running} dump must not), so such a
 *       dump is refused ({@code unix-socket/PENDING_DATA}). A pending connection from a client outside the tree is an
 *       external peer and refused like one.</li>
 *   <li><b>Names of accepted connections</b>: an accepted socket carries its listener's name. Restore makes such a
 *       pair by connecting the client end (bound to its own name first, if it had one) to a listener bound at that
 *       name — the tree's own listener when it has one (before any pending connection is queued again), else a
 *       temporary listener that is closed (and its path unlinked) right after — and accepting; so
 *       {@code getsockname}/{@code getpeername} of both ends read as before. With two named ends and no listener,
 *       the end with the higher inode is taken as the accepted one (it was created by the connect).</li>
 *   <li><b>Paths</b>: a socket file no live socket is bound to is stale and unlinked before binding again; a path
 *       held by a live socket, or a file that is not a socket, is a conflict naming the path. A relative name is
 *       bound again relative to the holder's cwd at dump. A name whose file had been unlinked at dump is bound and
 *       unlinked again at the end; when the directories it was under are gone too (removed or renamed since), the
 *       missing ones are created for the bind and exactly those are removed again after the unlink, so the socket
 *       has its name with nothing on disk, as before. A name still on disk at dump whose directory is gone at
 *       restore is a bind failure naming the directory. The socket file's permission bits and owner are recorded at dump and set again
 *       after the bind ({@code fchownat}, then {@code fchmodat}: bind itself applies the restoring umask and
 *       credentials).</li>
 *   <li><b>Queues</b>: sent again from the peer (stream, seqpacket, datagram socketpairs), or for a datagram from a
 *       socket bound to its sender's name (a socket of the image, or a temporary one), so {@code recvfrom} reports
 *       the same sender; unnamed senders are stood in for by a temporary unnamed socket. Datagrams in flight with
 *       file descriptors (SCM_RIGHTS) are refused at dump.</li>
 *   <li><b>Peer gone</b>: a connected stream or seqpacket socket whose peer was closed keeps its queued data and then
 *       reads EOF. When the peer was closed with data of ours unread, an ECONNRESET waits for the next read: the dump
 *       sees it with {@code ppoll} (POLLERR; any receive that finds no data, or SO_ERROR, would consume it), reads a
 *       stream queue only as far as {@code UNIX_DIAG_RQLEN} says, and the restore makes the same error by closing the
 *       stand-in peer with a byte of ours unread. Refused ({@code unix-socket/PENDING_ERROR}): such an error on a
 *       datagram socket, or on a seqpacket socket with records queued (every datagram receive reports the error
 *       first).</li>
 *   <li><b>Never connected</b>: a stream or seqpacket socket that is neither listening nor connected (bound or not)
 *       has no queue to read; it is created and bound again.</li>
 *   <li><b>Outside peers</b>: whether a peer outside the tree may stay is decided by the external-unix-socket plugin
 *       (with {@code ext-unix-sk}); this plugin refuses what it did not take over ({@code unix-socket/EXTERNAL_PEER};
 *       with {@code ext-unix-sk} given, {@code unix-socket/EXT_UNIX_SK_WITHOUT_PLUGIN}, as also before any dump or
 *       restore whose configuration disables that plugin) and marks the rest {@code peer_external}. Data the outside
 *       peer sent that the tree had not read is refused at dump ({@code unix-socket/EXTERNAL_QUEUE}): it cannot be
 *       put back on a new connection. At restore every such socket needs {@code ext-unix-sk} again (one error names
 *       them all otherwise) and is connected anew to the peer's name: a datagram socket after binding its own name,
 *       a stream client as a new connection the server accepts as a new client; a peer that is not there fails the
 *       restore ({@code unix-socket/EXTERNAL_PEER_ABSENT}, naming the path, fd and pid).</li>
 *   <li>Every socket is created inside the first restored process that holds one, then installed into each holder
 *       with {@code pushFd}; {@code SO_PEERCRED} therefore names that process. Options restored: SO_SNDBUF,
 *       SO_RCVBUF (with the FORCE variants, so values above the sysctl maximum come back), SO_PASSCRED,
 *       SO_PASSSEC, SO_PEEK_OFF, O_NONBLOCK, FD_CLOEXEC.</li>
 * </ul>
 */
package dev.cryo.plugin.unixsocket;
