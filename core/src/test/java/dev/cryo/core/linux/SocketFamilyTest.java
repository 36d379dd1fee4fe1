package dev.cryo.core.linux;

import org.junit.jupiter.api.Test;

import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A socket's family comes from the protocol it names (no host table is read for a socket whose protocol cryo knows),
 * also for sockets that no {@code /proc/net} table lists (an unbound TCP socket); the protocol names map to families.
 */
class SocketFamilyTest {
    @Test
    void protocolNamesMapToFamilies() {
        assertEquals("inet", HostView.familyOfProtocol("TCP"));
        assertEquals("inet", HostView.familyOfProtocol("UDP"));
        assertEquals("inet6", HostView.familyOfProtocol("TCPv6"));
        assertEquals("inet6", HostView.familyOfProtocol("UDPv6"));
        assertEquals("unix", HostView.familyOfProtocol("UNIX"));
        assertEquals("unix", HostView.familyOfProtocol("UNIX-STREAM"));
        assertEquals("", HostView.familyOfProtocol(""));
        assertEquals("", HostView.familyOfProtocol("ALG"));
    }

    @Test
    void aUnixStreamSocketAndAUnixDatagramSocketAreUnix() throws Exception {
        try (SocketChannel stream = SocketChannel.open(java.net.StandardProtocolFamily.UNIX);
             java.nio.channels.ServerSocketChannel listener =
                     java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            int seen = 0;
            for (Path fd : Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
                String link;
                try {
                    link = Files.readSymbolicLink(fd).toString();
                } catch (java.io.IOException e) {
                    continue;
                }
                if (!link.startsWith("socket:")) {
                    continue;
                }
                long ino = (Long) Files.getAttribute(fd, "unix:ino");
                String proto = HostView.sockProtoName(fd);
                if (proto.startsWith("UNIX")) {
                    assertEquals("unix", new HostView().socketFamily(ino, fd), fd + " -> " + link + " " + proto);
                    seen++;
                }
            }
            assertEquals(true, seen >= 2, "the two unix sockets among cryo's own fds: " + seen);
        }
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
