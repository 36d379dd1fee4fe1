/**
 * The {@code external-unix-socket} plugin (dump: the closure check's external-peer stage): CRIU's
 * {@code --ext-unix-sk} as an {@link dev.cryo.api.ExternalPeerHandler}. {@link
 * dev.cryo.plugin.externalunixsocket.ExternalUnixSocketHandler} decides whether a unix socket of the tree may keep a
 * peer outside the tree and records the peer in this plugin's own schema ({@code external_unix_socket.proto},
 * {@code external.img}); {@link dev.cryo.plugin.externalunixsocket.PeerClassifier} says which peers can be
 * reconnected. On restore the unix-socket plugin connects such sockets anew to the recorded name (see the handler's
 * docs for what a server sees). Disabling this plugin ({@code plugins.disabled external-unix-socket}) makes
 * {@code ext-unix-sk} an error naming the plugin.
 */
package dev.cryo.plugin.externalunixsocket;
