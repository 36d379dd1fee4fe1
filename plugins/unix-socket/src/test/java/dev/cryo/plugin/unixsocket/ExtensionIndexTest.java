package dev.cryo.plugin.unixsocket;

import dev.cryo.api.FdHandler;
import org.junit.jupiter.api.Test;
import org.pf4j.Extension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PF4J finds extensions only through META-INF/extensions.idx, written by pf4j's annotation processor (one line per
 * extension point the class implements; core reads them as a set); without
 * it core finds nothing in this plugin. This reads the index the build wrote into target/classes.
 */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheExtension() throws Exception {
        Path classes = Path.of(UnixSocketHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path index = classes.resolve("META-INF/extensions.idx");
        assertTrue(Files.isRegularFile(index), index + " is missing: pf4j's annotation processor did not run "
                + "(check annotationProcessorPaths of maven-compiler-plugin)");
        List<String> names = Files.readAllLines(index, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).distinct().toList();
        assertEquals(List.of(UnixSocketHandler.class.getName()), names);

        Class<?> c = Class.forName(names.get(0));
        assertNotNull(c.getAnnotation(Extension.class), "@Extension");
        assertTrue(FdHandler.class.isAssignableFrom(c), c + " implements FdHandler");
        FdHandler extension = (FdHandler) c.getDeclaredConstructor().newInstance();
        assertEquals("unix-socket", extension.kind());
        // one instance serves as FdHandler and as the ExternalPeerHandler that refuses outside peers
        assertTrue(dev.cryo.api.ExternalPeerHandler.class.isAssignableFrom(c), c + " implements ExternalPeerHandler");
    }
}
