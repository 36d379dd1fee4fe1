package dev.cryo.core.linux;

import org.junit.jupiter.api.Test;

import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Sockets that no {@code /proc/net} table lists (an unbound TCP socket) get their family from the protocol the socket
 * names; the protocol names map to families.
 */
class SocketFamilyTest {
    @Test
    void protocolNamesMapToFamilies() {
        assertEquals("inet", HostView.familyOfProtocol("TCP"));
        assertEquals("inet", HostView.familyOfProtocol("UDP"));
        assertEquals("inet6", HostView.familyOfProtocol("TCPv6"));
        assertEquals("inet6", HostView.familyOfProtocol("UDPv6"));
        assertEquals("unix", HostView.familyOfProtocol("UNIX"));
        assertEquals("", HostView.familyOfProtocol(""));
        assertEquals("", HostView.familyOfProtocol("ALG"));
    }

    @Test
    void anUnboundTcpSocketIsInet() throws Exception {
        try (SocketChannel unbound = SocketChannel.open(java.net.StandardProtocolFamily.INET)) {
            Path self = Path.of("/proc/self/fd");
            for (Path fd : Files.newDirectoryStream(self)) {
                String link;
                try {
                    link = Files.readSymbolicLink(fd).toString();
                } catch (java.io.IOException e) {
                    continue;
                }
                long ino = (Long) Files.getAttribute(fd, "unix:ino");
                if (link.startsWith("socket:") && new HostView().socketFamily(ino).isEmpty()) {
                    assertEquals("inet", new HostView().socketFamily(ino, fd), fd + " -> " + link);
                    return;
                }
            }
            throw new AssertionError("no unlisted socket among cryo's own fds");
        }
    }
}
