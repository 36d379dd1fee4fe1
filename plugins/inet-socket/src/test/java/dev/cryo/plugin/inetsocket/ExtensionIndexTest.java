package dev.cryo.plugin.inetsocket;

import dev.cryo.api.FdHandler;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.PluginOption;
import org.junit.jupiter.api.Test;
import org.pf4j.Extension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PF4J finds the extension only through META-INF/extensions.idx; the options are declared on it. */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheExtensionAndItDeclaresCriusOptions() throws Exception {
        Path classes = Path.of(InetSocketHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path index = classes.resolve("META-INF/extensions.idx");
        assertTrue(Files.isRegularFile(index), index + " is missing: pf4j's annotation processor did not run");
        List<String> names = Files.readAllLines(index, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).distinct().toList();
        assertEquals(List.of(InetSocketHandler.class.getName()), names);
        Class<?> c = Class.forName(names.get(0));
        assertNotNull(c.getAnnotation(Extension.class), "@Extension");
        assertTrue(FdHandler.class.isAssignableFrom(c) && LifecycleListener.class.isAssignableFrom(c));
        assertEquals("inet-socket", ((FdHandler) c.getDeclaredConstructor().newInstance()).kind());
        List<String> options = Arrays.stream(c.getAnnotationsByType(PluginOption.class)).map(PluginOption::name)
                .toList();
        assertEquals(List.of("tcp-established", "tcp-close", "skip-in-flight"), options);
    }
}
