package dev.cryo.plugin.actionscript;

import dev.cryo.api.LifecycleListener;
import dev.cryo.api.PluginOption;
import org.junit.jupiter.api.Test;
import org.pf4j.Extension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PF4J finds extensions only through META-INF/extensions.idx; this reads the one the build wrote. */
class ExtensionIndexTest {
    @Test
    void theIndexListsTheListenerWithItsOption() throws Exception {
        Path classes = Path.of(ActionScriptListener.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path index = classes.resolve("META-INF/extensions.idx");
        assertTrue(Files.isRegularFile(index), index + " is missing: pf4j's annotation processor did not run");
        List<String> names = Files.readAllLines(index, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertEquals(List.of(ActionScriptListener.class.getName()), names);
        Class<?> c = Class.forName(names.get(0));
        assertNotNull(c.getAnnotation(Extension.class), "@Extension on " + c);
        assertTrue(c.getDeclaredConstructor().newInstance() instanceof LifecycleListener);
        PluginOption option = c.getAnnotation(PluginOption.class);
        assertNotNull(option, "@PluginOption on " + c);
        assertEquals("action-script", option.name());
        assertTrue(option.repeatable());
        assertEquals(PluginOption.Shape.VALUE, option.shape());
    }
}
