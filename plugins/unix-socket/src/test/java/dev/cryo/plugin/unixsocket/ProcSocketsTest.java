package dev.cryo.plugin.unixsocket;

import org.junit.jupiter.api.Test;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Against real sockets of this JVM: /proc/net/unix lists them, the /proc/*&#47;fd scan finds their owner. */
class ProcSocketsTest {
    @Test
    void findsARealListenerAndItsOwner() throws Exception {
        Path dir = Files.createTempDirectory("procsockets");
        Path sock = dir.resolve("l.sock");
        try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(sock));
            long self = ProcessHandle.current().pid();
            long ino = -1;
            try (var fds = Files.list(Path.of("/proc/self/fd"))) {
                for (Path fd : fds.toList()) {
                    try {
                        String link = Files.readSymbolicLink(fd).toString();
                        if (link.startsWith("socket:[")) {
                            long i = Long.parseLong(link.substring(8, link.length() - 1));
                            if (ProcSockets.unixInodes().contains(i) && i > ino) {
                                ino = i;
                            }
                        }
                    } catch (java.io.IOException ignored) {
                        // closed meanwhile
                    }
                }
            }
            assertTrue(ino > 0, "no unix socket of this JVM in /proc/net/unix");
            var owner = ProcSockets.owner(ino).orElseThrow();
            assertEquals(self, owner.pid());
            assertTrue(owner.toString().startsWith("pid " + self + " \""), owner.toString());
        } finally {
            Files.deleteIfExists(sock);
            Files.delete(dir);
        }
    }
}
