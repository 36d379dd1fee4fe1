import org.objectweb.asm.ClassReader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Build step of the distribution (issue 13): adds the classes of the plugin jars the distribution ships to its class
 * list ({@code lib/cryo.classlist}), so that the class data archive {@code bin/cryo} makes from it holds them too.
 *
 * <p>Why: plugin classes are defined by the plugins' own class loaders, and {@code -XX:DumpLoadedClassList} leaves
 * such classes out; each command read, parsed and verified the ~90 plugin classes of a small dump again (~50 ms of
 * CPU: {@code sun.cls.defineAppClassTime}, {@code sun.urlClassLoader.readClassBytesTime}). A JDK 17 archive can hold
 * classes of other loaders as "unregistered" classes, listed with an id, their super class and interfaces by id, and
 * the jar they come from: {@code NAME id: N super: S interfaces: I... source: JAR}. At run time, when a plugin's
 * loader defines a class whose name, size and CRC32 match an archived one, the JVM takes the archived class instead
 * of parsing and verifying the bytes; a plugin jar changed since the archive was made simply does not match.
 *
 * <p>Each class of each plugin jar is listed (not only those a training run loads: every handler's path is then
 * covered), after the classes of lib/ it extends or implements (listed again with an id) and after the plugin classes
 * it extends or implements, which the list must name first. A class name two jars hold is listed from the first jar
 * only. The sources are relative to the distribution directory, from which {@code bin/cryo} makes the archive, so
 * that the list stays valid wherever the tarball is unpacked. Run as
 * {@code java -cp asm.jar PluginClassList.java DIST_DIR}; does nothing when the class list is missing (the training
 * run failed).
 */
public final class PluginClassList {
    /** The last id given to a class of the list. */
    private static int lastId;

    private PluginClassList() {
    }

    /** A class of a plugin jar: its super class and interfaces (internal names) and its jar (relative path). */
    private record PluginClass(String superName, String[] interfaces, String jar) {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: java -cp asm.jar PluginClassList.java DIST_DIR");
            System.exit(2);
        }
        Path dist = Path.of(args[0]);
        Path list = dist.resolve("lib/cryo.classlist");
        if (!Files.exists(list)) {
            return;
        }
        List<Path> jars = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dist.resolve("plugins"), "*.jar")) {
            s.forEach(jars::add);
        }
        Collections.sort(jars);
        Map<String, PluginClass> classes = new LinkedHashMap<>();
        for (Path jar : jars) {
            String source = dist.relativize(jar).toString();
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                for (ZipEntry e : Collections.list(zip.entries())) {
                    String n = e.getName();
                    if (!n.endsWith(".class") || n.startsWith("META-INF/") || n.endsWith("module-info.class")
                            || n.endsWith("package-info.class")) {
                        continue;
                    }
                    try (InputStream in = zip.getInputStream(e)) {
                        ClassReader r = new ClassReader(in);
                        classes.putIfAbsent(r.getClassName(),
                                new PluginClass(r.getSuperName(), r.getInterfaces(), source));
                    }
                }
            }
        }
        Map<String, Integer> ids = new LinkedHashMap<>();   // every listed class's id; -1 while it is being listed
        List<String> lines = new ArrayList<>();
        lines.add("# the classes of the plugin jars (distribution/src/build/PluginClassList.java)");
        // the classes of lib/ and the JDK the plugin classes extend or implement, each with an id
        for (PluginClass c : classes.values()) {
            for (String t : supertypes(c)) {
                if (!classes.containsKey(t) && !ids.containsKey(t)) {
                    ids.put(t, ++lastId);
                    lines.add(t + " id: " + lastId);
                }
            }
        }
        for (String name : classes.keySet()) {
            add(name, classes, ids, lines);
        }
        Files.write(list, lines, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        System.out.println("[cds] lib/cryo.classlist: " + classes.size() + " classes of " + jars.size()
                + " plugin jars added");
    }

    /** Lists {@code name} after the plugin classes it extends or implements (depth first). */
    private static void add(String name, Map<String, PluginClass> classes, Map<String, Integer> ids,
                            List<String> lines) {
        if (ids.containsKey(name)) {
            return;
        }
        PluginClass c = classes.get(name);
        ids.put(name, -1);   // in progress: a cycle (not valid Java) would just stop here
        for (String t : supertypes(c)) {
            if (classes.containsKey(t)) {
                add(t, classes, ids, lines);
            }
        }
        int id = ++lastId;
        ids.put(name, id);
        StringBuilder line = new StringBuilder(name).append(" id: ").append(id).append(" super: ")
                .append(ids.get(c.superName()));
        if (c.interfaces().length > 0) {
            line.append(" interfaces:");
            for (String i : c.interfaces()) {
                line.append(' ').append(ids.get(i));
            }
        }
        lines.add(line.append(" source: ").append(c.jar()).toString());
    }

    private static List<String> supertypes(PluginClass c) {
        List<String> all = new ArrayList<>();
        if (c.superName() != null) {
            all.add(c.superName());
        }
        all.addAll(List.of(c.interfaces()));
        return all;
    }
}
