package dev.cryo.plugin.unixsocket;

import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.testkit.ExtensionIndex;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PF4J finds extensions only through META-INF/extensions.idx, written by pf4j's annotation processor (one line per
 * extension point the class implements; core reads them as a set); without
 * it core finds nothing in this plugin. This reads the index the build wrote into target/classes.
 */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheExtension() throws Exception {
        UnixSocketHandler extension = ExtensionIndex.only(UnixSocketHandler.class);
        assertEquals("unix-socket", extension.kind());
        // one instance serves as FdHandler and as the ExternalPeerHandler that refuses outside peers
        assertTrue(extension instanceof ExternalPeerHandler, extension.getClass() + " implements ExternalPeerHandler");
    }
}
