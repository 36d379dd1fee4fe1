package dev.cryo.plugin.externalunixsocket;

import dev.cryo.core.linux.HostView;
import com.google.protobuf.Message;
import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.ExternalReference;
import dev.cryo.api.ObjectId;
import dev.cryo.api.Pid;
import dev.cryo.api.TargetFd;
import dev.cryo.plugin.externalunixsocket.proto.Connection;
import dev.cryo.plugin.externalunixsocket.proto.ExternalUnixPeerEntry;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decision of {@link ExternalUnixSocketHandler#accept} on {@code /proc/net/unix} snapshots given as text. */
class ExternalUnixSocketHandlerTest {
    private static final String HEAD = "Num       RefCount Protocol Flags    Type St Inode Path\n";

    /** One /proc/net/unix line. */
    private static String line(long ino, int type, int st, boolean listening, String path) {
        return String.format("0000000000000000: 00000002 00000000 %08x %04x %02x %5d%s%n", listening ? 0x10000 : 0,
                type, st, ino, path == null ? "" : " " + path);
    }

    /** {@code --ext-unix-sk[=value]} given ("" for the bare flag) or not (null). */
    private static Config config(String value) {
        return Config.of(value == null ? Map.of()
                : Map.of("ext-unix-sk", value.isEmpty() ? List.of() : List.of(value)));
    }

    private static ExternalReference ref(long from, long to) {
        return new ExternalReference(new ObjectId("unix-socket", from), new ObjectId("unix-socket", to), Pid.of(812),
                "nginx", TargetFd.of(5), "(/run/app.sock, pid 77 \"syslogd\")");
    }

    /** The host view's parser of /proc/net/unix, as core hands the table to the plugin. */
    private static ProcNetUnix parse(String text) {
        return new ProcNetUnix(HostView.parseUnix(text));
    }

    private static Optional<Message> accept(String table, long from, long to, String option) throws CryoException {
        return new ExternalUnixSocketHandler().accept(ref(from, to), config(option), parse(HEAD + table), ino -> Optional.empty());
    }

    @Test
    void declinesWithoutTheOption() throws Exception {
        String t = line(100, 2, 3, false, null) + line(200, 2, 1, false, "/run/log.sock");
        assertEquals(Optional.empty(), accept(t, 100, 200, null));
    }

    @Test
    void declinesReferencesOfOtherKinds() throws Exception {
        ExternalReference pipe = new ExternalReference(new ObjectId("pipe", 1), new ObjectId("pipe", 2), Pid.of(1),
                "x", TargetFd.of(3), "");
        assertEquals(Optional.empty(), new ExternalUnixSocketHandler().accept(pipe, config(""),
                parse(HEAD), ino -> Optional.empty()));
    }

    @Test
    void acceptsADatagramPeerWithAName() throws Exception {
        String t = line(100, 2, 3, false, "/tmp/me.sock") + line(200, 2, 1, false, "/run/log.sock");
        ExternalUnixPeerEntry e = (ExternalUnixPeerEntry) accept(t, 100, 200, "").orElseThrow();
        assertEquals(Connection.DGRAM_CONNECTED, e.getConnection());
        assertEquals(100, e.getIno());
        assertEquals(200, e.getPeerIno());
        assertEquals(2, e.getType());
        assertEquals("/run/log.sock", e.getPeerName().toString(StandardCharsets.UTF_8));
        assertEquals(812, e.getHolderPid());
        assertEquals(5, e.getHolderFd());
    }

    @Test
    void acceptsAnAbstractPeer() throws Exception {
        String t = line(100, 2, 3, false, null) + line(200, 2, 1, false, "@syslog");
        ExternalUnixPeerEntry e = (ExternalUnixPeerEntry) accept(t, 100, 200, "").orElseThrow();
        assertTrue(e.getPeerAbstract());
        assertEquals("\0syslog", e.getPeerName().toString(StandardCharsets.ISO_8859_1));
        assertEquals("@syslog", e.getPeerNameText());
    }

    @Test
    void acceptsAStreamClientOfAListenerReachableByName() throws Exception {
        String t = line(100, 1, 3, false, null) + line(200, 1, 3, false, "/run/app.sock")
                + line(300, 1, 1, true, "/run/app.sock");
        ExternalUnixPeerEntry e = (ExternalUnixPeerEntry) accept(t, 100, 200, "200").orElseThrow();
        assertEquals(Connection.STREAM_ACCEPTED, e.getConnection());
        assertEquals(300, e.getListenerIno());
    }

    @Test
    void acceptsAPendingClient() throws Exception {
        String t = line(100, 1, 3, false, null) + line(300, 1, 1, true, "/run/app.sock");
        ExternalUnixPeerEntry e = (ExternalUnixPeerEntry) accept(t, 100, 300, "").orElseThrow();
        assertEquals(Connection.STREAM_PENDING, e.getConnection());
    }

    @Test
    void refusesANamelessPeerEvenWithTheOption() {
        String t = line(100, 1, 3, false, null) + line(200, 1, 3, false, null);
        CryoException e = assertThrows(CryoException.class, () -> accept(t, 100, 200, ""));
        assertEquals("external-unix-socket/NOT_RECONNECTABLE", e.code());
        assertTrue(e.getMessage().contains("no name"), e.getMessage());
        assertTrue(e.getMessage().contains("pid 812 \"nginx\", fd 5"), e.getMessage());
        assertTrue(e.getMessage().contains("ino 200"), e.getMessage());
    }

    @Test
    void refusesAnAcceptedStreamPeerWithoutListener() {
        String t = line(100, 1, 3, false, null) + line(200, 1, 3, false, "/run/gone.sock");
        CryoException e = assertThrows(CryoException.class, () -> accept(t, 100, 200, ""));
        assertTrue(e.getMessage().contains("not an accepted connection of a listener reachable by that name"),
                e.getMessage());
    }

    @Test
    void refusesAnOutsideClientOfTheTreesListener() {
        String t = line(100, 1, 3, false, "/tmp/srv.sock") + line(150, 1, 1, true, "/tmp/srv.sock")
                + line(200, 1, 3, false, "/tmp/client.sock");
        CryoException e = assertThrows(CryoException.class, () -> accept(t, 100, 200, ""));
        assertTrue(e.getMessage().contains("its own listener"), e.getMessage());
    }

    @Test
    void refusesAListenerWithAnOutsideClientWaiting() {
        String t = line(150, 1, 1, true, "/tmp/srv.sock") + line(200, 1, 1, false, null);
        CryoException e = assertThrows(CryoException.class, () -> accept(t, 150, 200, ""));
        assertTrue(e.getMessage().contains("has a pending connection from"), e.getMessage());
    }

    @Test
    void refusesARelativePeerName() {
        String t = line(100, 2, 3, false, null) + line(200, 2, 1, false, "log.sock");
        CryoException e = assertThrows(CryoException.class, () -> accept(t, 100, 200, ""));
        assertTrue(e.getMessage().contains("relative path"), e.getMessage());
    }

    @Test
    void listAcceptsOnlyListedPeers() throws Exception {
        String t = line(100, 2, 3, false, null) + line(101, 2, 3, false, null) + line(200, 2, 1, false, "/a.sock")
                + line(201, 2, 1, false, "/b.sock");
        assertTrue(accept(t, 100, 200, "200").isPresent());
        CryoException e = assertThrows(CryoException.class, () -> accept(t, 101, 201, "200"));
        assertEquals("external-unix-socket/PEER_NOT_LISTED", e.code());
        assertTrue(e.getMessage().contains("--ext-unix-sk=200 does not list ino 201"), e.getMessage());
        assertTrue(e.fix().contains("--ext-unix-sk=200,201"), e.fix());
    }

    @Test
    void pathsWithSpacesSurviveParsing() {
        ProcNetUnix t = parse(HEAD + line(7, 2, 1, false, "/tmp/a b.sock"));
        assertEquals("/tmp/a b.sock", t.get(7).orElseThrow().nameText());
    }
}
