package dev.cryo.core.plugin;

import dev.cryo.api.PluginOption;
import dev.cryo.api.PluginOption.Command;
import dev.cryo.api.PluginOption.Shape;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The class-file reader of {@link PluginOption}s agrees with what reflection reads from the same classes. */
class DeclaredOptionsTest {
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
    void readsWhatReflectionReads() throws IOException {
        for (Class<?> c : List.of(Defaults.class, EveryElement.class, Repeated.class, None.class)) {
            List<String> expected = Arrays.stream(c.getAnnotationsByType(PluginOption.class))
                    .map(DeclaredOptionsTest::describe).toList();
            List<String> actual = DeclaredOptions.read(bytes(c)).stream().map(DeclaredOptionsTest::describe).toList();
            assertEquals(expected, actual, c.getSimpleName());
        }
        assertEquals(2, DeclaredOptions.read(bytes(Repeated.class)).size());
        assertTrue(DeclaredOptions.read(bytes(None.class)).isEmpty());
    }

    @Test
    void aTruncatedClassFileIsAnIoError() throws IOException {
        byte[] whole = bytes(EveryElement.class);
        assertThrows(IOException.class, () -> DeclaredOptions.read(Arrays.copyOf(whole, whole.length / 2)));
        assertThrows(IOException.class, () -> DeclaredOptions.read(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
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
