package dev.cryo.plugin.externalunixsocket;

import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.testkit.ExtensionIndex;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * PF4J finds extensions only through META-INF/extensions.idx, written by pf4j's annotation processor; without
 * it core finds nothing in this plugin. This reads the index the build wrote into target/classes.
 */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheExtension() throws Exception {
        ExternalUnixSocketHandler extension = ExtensionIndex.only(ExternalUnixSocketHandler.class);
        assertEquals("external-unix-socket", ((ExternalPeerHandler) extension).kind());
    }
}
