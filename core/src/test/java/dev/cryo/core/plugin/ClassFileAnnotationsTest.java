package dev.cryo.core.plugin;

import dev.cryo.api.PluginOption;
import dev.cryo.api.PluginOption.Command;
import dev.cryo.api.PluginOption.Shape;
import org.junit.jupiter.api.Test;
import org.pf4j.Extension;

import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The class-file reader of plugin annotations agrees with what reflection reads from the same classes. */
class ClassFileAnnotationsTest {
    @PluginOption(name = "only-defaults", help = "an option leaving every other element at its default")
    static final class Defaults {
    }

    @PluginOption(name = "every-element", shape = Shape.FLAG_OR_VALUE, repeatable = true, valueHint = "SIZE",
            valuePattern = "[0-9]+[KMG]?", defaultValue = "1M", help = "an option with \"quotes\" and ünïcode",
            commands = {Command.CHECK, Command.RESTORE})
    static final class EveryElement {
    }

    @PluginOption(name = "first", shape = Shape.VALUE, help = "one of two", commands = Command.DUMP)
    @PluginOption(name = "second", help = "two of two", commands = {})
    @Deprecated
    static final class Repeated {
        @Deprecated(since = "members carry attributes the reader skips")
        static final int FIELD = 1;
    }

    @Deprecated
    static final class None {
    }

    @Test
    void readsThePluginOptionsReflectionReads() throws IOException {
        for (Class<?> c : List.of(Defaults.class, EveryElement.class, Repeated.class, None.class)) {
            List<String> expected = Arrays.stream(c.getAnnotationsByType(PluginOption.class))
                    .map(ClassFileAnnotationsTest::describe).toList();
            List<String> actual = ClassFileAnnotations.pluginOptions(bytes(c)).stream()
                    .map(ClassFileAnnotationsTest::describe).toList();
            assertEquals(expected, actual, c.getSimpleName());
        }
        assertEquals(2, ClassFileAnnotations.pluginOptions(bytes(Repeated.class)).size());
        assertTrue(ClassFileAnnotations.pluginOptions(bytes(None.class)).isEmpty());
    }

    /**
     * Extension classes compiled here without annotation processing (PF4J's processor would list them in the test
     * classes' extension index), each with its ordinal as reflection reads it.
     */
    @Test
    void readsTheExtensionOrdinalReflectionReads(@TempDir Path dir) throws Exception {
        Path src = dir.resolve("Ext.java");
        Files.writeString(src, """
                package acme;
                import dev.cryo.api.PluginOption;
                import org.pf4j.Extension;
                public class Ext {
                    @Extension(ordinal = -7)
                    @PluginOption(name = "beside-an-extension", help = "an option of an extension class")
                    public static class Ordered implements org.pf4j.ExtensionPoint {
                    }
                    @Deprecated
                    @Extension
                    public static class Unordered implements org.pf4j.ExtensionPoint {
                    }
                    @Extension(ordinal = 3, plugins = "x")
                    public static class Late implements org.pf4j.ExtensionPoint {
                    }
                }
                """);
        int status = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-proc:none", "-d", dir.toString(),
                "-cp", System.getProperty("java.class.path"), src.toString());
        assertEquals(0, status, "javac");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()},
                ClassFileAnnotationsTest.class.getClassLoader())) {
            for (String name : List.of("Ordered", "Unordered", "Late")) {
                Class<?> c = loader.loadClass("acme.Ext$" + name);
                byte[] bytes = Files.readAllBytes(dir.resolve("acme/Ext$" + name + ".class"));
                assertEquals(c.getAnnotation(Extension.class).ordinal(),
                        ClassFileAnnotations.extensionOrdinal(bytes).getAsInt(), name);
            }
            byte[] ordered = Files.readAllBytes(dir.resolve("acme/Ext$Ordered.class"));
            assertEquals(-7, ClassFileAnnotations.extensionOrdinal(ordered).getAsInt());
            assertEquals(1, ClassFileAnnotations.pluginOptions(ordered).size());
        }
        assertTrue(ClassFileAnnotations.extensionOrdinal(bytes(Defaults.class)).isEmpty(), "no @Extension");
    }

    @Test
    void aTruncatedClassFileIsAnIoError() throws IOException {
        byte[] whole = bytes(EveryElement.class);
        assertThrows(IOException.class, () -> ClassFileAnnotations.pluginOptions(Arrays.copyOf(whole, whole.length / 2)));
        assertThrows(IOException.class, () -> ClassFileAnnotations.pluginOptions(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
    }

    private static String describe(PluginOption o) {
        return String.join("|", o.name(), o.shape().name(), Boolean.toString(o.repeatable()), o.valueHint(),
                o.valuePattern(), o.defaultValue(), o.help(), Arrays.toString(o.commands()),
                o.annotationType().getName());
    }

    private static byte[] bytes(Class<?> c) throws IOException {
        try (InputStream in = c.getResourceAsStream(c.getName().substring(c.getName().lastIndexOf('.') + 1)
                + ".class")) {
            return in.readAllBytes();
        }
    }
}
