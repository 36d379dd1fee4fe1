package dev.cryo.plugin.pipe;

import dev.cryo.api.ExternalPeerHandler;
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
 * PF4J finds extensions only through META-INF/extensions.idx, written by pf4j's annotation processor; without
 * it core finds nothing in this plugin. This reads the index the build wrote into target/classes.
 */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheExtension() throws Exception {
        Path classes = Path.of(PipeHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path index = classes.resolve("META-INF/extensions.idx");
        assertTrue(Files.isRegularFile(index), index + " is missing: pf4j's annotation processor did not run "
                + "(check annotationProcessorPaths of maven-compiler-plugin)");
        List<String> names = Files.readAllLines(index, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertEquals(List.of(ExternalPipeHandler.class.getName(), PipeHandler.class.getName()),
                names.stream().sorted().toList());

        for (String name : names) {
            Class<?> c = Class.forName(name);
            assertNotNull(c.getAnnotation(Extension.class), "@Extension on " + c);
            Object extension = c.getDeclaredConstructor().newInstance();
            if (extension instanceof FdHandler h) {
                assertEquals("pipe", h.kind());
            } else {
                assertTrue(extension instanceof ExternalPeerHandler, c + " implements ExternalPeerHandler");
                assertEquals("pipe", ((ExternalPeerHandler) extension).kind());
            }
        }
    }
}
