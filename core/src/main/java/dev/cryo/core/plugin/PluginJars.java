package dev.cryo.core.plugin;

import dev.cryo.api.PluginOption;
import org.pf4j.LegacyExtensionFinder;
import org.pf4j.ManifestPluginDescriptorFinder;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginRuntimeException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;

/**
 * What cryo reads of a plugin jar before loading it — its PF4J descriptor (from the manifest), its extension index
 * ({@code META-INF/extensions.idx}) and the class-level annotations of the classes the index names (their
 * {@code @PluginOption}s and {@code @Extension} ordinal, {@link ClassFileAnnotations}) — read in one opening of the
 * jar, once per jar per JVM. A command reads them on
 * its start-up thread for the plugins' options, again when it loads the enabled plugins, and PF4J reads the
 * descriptor a third time and the index a fourth: 15 jars opened four times were ~15 ms of a small dump's start-up
 * (JFR, issue 13). An entry is used again only while the jar's file key, size and modification time are those it was
 * read with. Thread-safe (the start-up thread and the main thread both read).
 */
final class PluginJars {
    /** Extensions are listed in this resource of the plugin jar (PF4J's legacy index, which cryo's build writes). */
    static final String INDEX = LegacyExtensionFinder.EXTENSIONS_RESOURCE;

    /**
     * A plugin jar as read.
     *
     * @param descriptor its PF4J descriptor; null when the jar has no manifest
     * @param indexed    the class names of its extension index, each once, in order; empty without an index
     * @param classes    what was read of the class file of each class of {@code indexed}, by class name
     */
    record Read(PluginDescriptor descriptor, List<String> indexed, Map<String, IndexedClass> classes) {
    }

    /**
     * The class-level annotations of an indexed class, read from its class file.
     *
     * @param options        its {@code @PluginOption}s (none when they could not be read)
     * @param ordinal        the ordinal of its own {@code @Extension}; null when it has none of its own or its class
     *                       file could not be read (the caller then asks reflection, which also sees an inherited one)
     * @param optionsProblem why its options could not be read, or null
     */
    record IndexedClass(List<PluginOption> options, Integer ordinal, String optionsProblem) {
    }

    /**
     * What a jar was read at. Compared field by field: a record's {@code equals} is bound at its first call through
     * {@code ObjectMethods}' method handles, which cost this command's main thread ~20 ms of start-up.
     */
    private record Entry(Object fileKey, long size, FileTime modified, Read read) {
        boolean readAt(BasicFileAttributes a) {
            return size == a.size() && modified.compareTo(a.lastModifiedTime()) == 0
                    && java.util.Objects.equals(fileKey, a.fileKey());
        }
    }

    private static final Map<Path, Entry> READ = new ConcurrentHashMap<>();

    private static final Descriptors DESCRIPTORS = new Descriptors();

    private PluginJars() {
    }

    /** @return the descriptor and index of {@code jar}, read now or when it last had this size and time */
    static Read read(Path jar) throws IOException {
        BasicFileAttributes a = Files.readAttributes(jar, BasicFileAttributes.class);
        Entry known = READ.get(jar);
        if (known != null && known.readAt(a)) {
            return known.read();
        }
        Read read;
        try (JarFile j = new JarFile(jar.toFile())) {
            Manifest m = j.getManifest();
            ZipEntry index = j.getEntry(INDEX);
            List<String> indexed = index == null ? List.of() : indexedClasses(j.getInputStream(index));
            Map<String, IndexedClass> classes = new HashMap<>();
            for (String name : indexed) {
                classes.put(name, indexedClass(j, name));
            }
            read = new Read(m == null ? null : DESCRIPTORS.of(m), indexed, classes);
        }
        READ.put(jar, new Entry(a.fileKey(), a.size(), a.lastModifiedTime(), read));
        return read;
    }

    private static IndexedClass indexedClass(JarFile jar, String name) {
        ZipEntry entry = jar.getEntry(name.replace('.', '/') + ".class");
        if (entry == null) {
            return new IndexedClass(List.of(), null, "its extension index names " + name + ", which it does not hold");
        }
        byte[] bytes;
        try (InputStream in = jar.getInputStream(entry)) {
            bytes = in.readAllBytes();
        } catch (IOException | RuntimeException e) {
            return new IndexedClass(List.of(), null, "cannot read the class file of " + name + ": " + e);
        }
        List<PluginOption> options = List.of();
        String problem = null;
        try {
            options = ClassFileAnnotations.pluginOptions(bytes);
        } catch (IOException | RuntimeException e) {
            problem = "cannot read the options of " + name + ": " + e;
        }
        Integer ordinal = null;
        try {
            java.util.OptionalInt own = ClassFileAnnotations.extensionOrdinal(bytes);
            ordinal = own.isPresent() ? own.getAsInt() : null;
        } catch (IOException | RuntimeException e) {
            // left to reflection
        }
        return new IndexedClass(options, ordinal, problem);
    }

    /** @return the class names of an extension index, each once, in order; closes {@code index} */
    static List<String> indexedClasses(InputStream index) throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(index, StandardCharsets.UTF_8))) {
            // a class implementing several extension points is listed once per point
            return r.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).distinct().toList();
        }
    }

    /** PF4J's manifest reading; {@link #find} (PF4J's own use, when it loads a jar) answers from {@link #read}. */
    static final class Descriptors extends ManifestPluginDescriptorFinder {
        PluginDescriptor of(Manifest m) {
            return createPluginDescriptor(m);
        }

        @Override
        public PluginDescriptor find(Path jar) {
            Read read;
            try {
                read = read(jar);
            } catch (IOException e) {
                throw new PluginRuntimeException(e, "Cannot read manifest from {}", jar);
            }
            if (read.descriptor() == null) {
                throw new PluginRuntimeException("Cannot read manifest from {}", jar);
            }
            return read.descriptor();
        }
    }
}
