package dev.cryo.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.Constructor;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The check every plugin's build needs once: PF4J finds a plugin's extensions only through
 * {@code META-INF/extensions.idx}, written by pf4j's annotation processor (set up by cryo-plugin-parent). A missing
 * or empty index loses them silently: cryo would find nothing in the plugin and refuse it ({@code core/PLUGIN_EMPTY}).
 *
 * <p>A plugin's unit test calls {@link #extensions(Class)} with any class of the plugin and then asserts what it
 * expects of the returned instances (their classes, kinds, options):
 * <pre>{@code
 * List<Object> extensions = ExtensionIndex.extensions(MyHandler.class);
 * assertEquals(List.of(MyHandler.class), ExtensionIndex.classes(extensions));
 * assertEquals("acme/gpu-fd", ((FdHandler) extensions.get(0)).kind());
 * }</pre>
 * Runs in the test JVM only (no cryo, no processes).
 */
public final class ExtensionIndex {
    /** Where PF4J reads the index, relative to the plugin's classes directory or jar. */
    public static final String INDEX = "META-INF/extensions.idx";

    private static final String EXTENSION_ANNOTATION = "org.pf4j.Extension";

    private ExtensionIndex() {
    }

    /**
     * The extensions the index lists, one new instance of each, ordered by class name. The index is read from the
     * classes directory (or jar) that {@code pluginClass} was loaded from; a class listed more than once (pf4j's
     * processor writes one line per extension point the class implements, PF4J reads them as a set) counts once.
     * Each listed class must carry PF4J's {@code @Extension} and have a no-argument constructor, as PF4J needs.
     *
     * @throws AssertionError when the index is missing or empty, or a listed class is not such an extension
     */
    public static List<Object> extensions(Class<?> pluginClass) throws Exception {
        List<Object> extensions = new ArrayList<>();
        for (String name : names(pluginClass)) {
            Class<?> c = Class.forName(name, true, pluginClass.getClassLoader());
            assertTrue(Arrays.stream(c.getAnnotations()).map(Annotation::annotationType)
                    .anyMatch(a -> a.getName().equals(EXTENSION_ANNOTATION)), c + " lacks @Extension");
            Constructor<?> constructor = c.getDeclaredConstructor();
            constructor.setAccessible(true); // the test is not in the plugin's package
            extensions.add(constructor.newInstance());
        }
        return extensions;
    }

    /**
     * The one extension of a plugin that has one: asserts that the index lists {@code extensionClass} and nothing
     * else, and returns its instance.
     */
    public static <T> T only(Class<T> extensionClass) throws Exception {
        List<Object> all = extensions(extensionClass);
        assertEquals(List.of(extensionClass), classes(all), "the extensions " + INDEX + " lists");
        return extensionClass.cast(all.get(0));
    }

    /** The classes of {@code extensions}, in the same order: what a test compares with the classes it expects. */
    public static List<Class<?>> classes(List<Object> extensions) {
        return extensions.stream().<Class<?>>map(Object::getClass).toList();
    }

    /** The distinct class names the index lists, sorted; blank lines and {@code #} comments are skipped. */
    private static List<String> names(Class<?> pluginClass) throws IOException, URISyntaxException {
        URL location = pluginClass.getProtectionDomain().getCodeSource().getLocation();
        Path where = Path.of(location.toURI());
        String text = Files.isDirectory(where) ? readFromDirectory(where) : readFromJar(where);
        List<String> names = text.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .distinct().sorted(Comparator.naturalOrder()).toList();
        assertFalse(names.isEmpty(), where.resolve(INDEX) + " lists no extension");
        return names;
    }

    private static String readFromDirectory(Path classes) throws IOException {
        Path index = classes.resolve(INDEX);
        assertTrue(Files.isRegularFile(index), index + " is missing: pf4j's annotation processor did not run "
                + "(check annotationProcessorPaths of maven-compiler-plugin)");
        return Files.readString(index, StandardCharsets.UTF_8);
    }

    private static String readFromJar(Path jar) throws IOException {
        try (JarFile j = new JarFile(jar.toFile())) {
            ZipEntry entry = j.getEntry(INDEX);
            if (entry == null) {
                fail(INDEX + " is missing from " + jar + ": pf4j's annotation processor did not run");
            }
            try (InputStream in = j.getInputStream(entry)) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }
    }
}
