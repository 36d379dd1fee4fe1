package dev.cryo.core.plugin;

import com.google.protobuf.Message;
import dev.cryo.api.FdHandler;
import org.pf4j.Extension;
import org.slf4j.Logger;

import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Builds small plugin jars inside a test: compiles Java sources with the JDK's compiler (against the api, pf4j,
 * protobuf, slf4j and core on the test's class path), writes a PF4J manifest and, when asked, a
 * {@code META-INF/extensions.idx}.
 */
final class TestPluginJars {
    private TestPluginJars() {
    }

    /** One plugin jar to build. */
    static final class Spec {
        final String id;
        final Map<String, String> manifest = new LinkedHashMap<>();
        final Map<String, String> sources = new LinkedHashMap<>();
        List<String> index;

        Spec(String id) {
            this.id = id;
            manifest.put("Plugin-Id", id);
            manifest.put("Plugin-Version", "1.2.3");
            manifest.put("Plugin-Requires", ">=1.0.0 & <2.0.0");
            manifest.put("Plugin-Description", "test plugin " + id);
        }

        Spec manifest(String key, String value) {
            if (value == null) {
                manifest.remove(key);
            } else {
                manifest.put(key, value);
            }
            return this;
        }

        /** Adds a class; {@code source} is the whole compilation unit. */
        Spec source(String className, String source) {
            sources.put(className, source);
            return this;
        }

        /** Lines of META-INF/extensions.idx; without a call, the jar has no index. */
        Spec index(String... classNames) {
            index = List.of(classNames);
            return this;
        }

        Path build(Path dir) throws IOException {
            Path classes = Files.createTempDirectory(dir, id + "-classes");
            if (!sources.isEmpty()) {
                compile(classes, sources);
            }
            Path jar = dir.resolve(id + "-plugin.jar");
            Manifest mf = new Manifest();
            mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
            manifest.forEach((k, v) -> mf.getMainAttributes().put(new Attributes.Name(k), v));
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), mf)) {
                if (index != null) {
                    out.putNextEntry(new JarEntry("META-INF/extensions.idx"));
                    out.write((String.join("\n", index) + "\n").getBytes(StandardCharsets.UTF_8));
                    out.closeEntry();
                }
                List<Path> files;
                try (Stream<Path> s = Files.walk(classes)) {
                    files = s.filter(Files::isRegularFile).sorted().toList();
                }
                for (Path f : files) {
                    out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                    out.write(Files.readAllBytes(f));
                    out.closeEntry();
                }
            }
            return jar;
        }
    }

    static void compile(Path out, Map<String, String> sources) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<JavaFileObject> units = new ArrayList<>();
        sources.forEach((name, src) -> units.add(new SimpleJavaFileObject(
                URI.create("string:///" + name.replace('.', '/') + ".java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return src;
            }
        }));
        String cp = Stream.of(FdHandler.class, Extension.class, Message.class, Logger.class, PluginHost.class)
                .map(TestPluginJars::location).distinct().collect(Collectors.joining(java.io.File.pathSeparator));
        StringWriter diagnostics = new StringWriter();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8)) {
            boolean ok = javac.getTask(diagnostics, fm, null,
                    List.of("-proc:none", "--release", "17", "-classpath", cp, "-d", out.toString()), null, units)
                    .call();
            if (!ok) {
                throw new IllegalStateException("test plugin sources do not compile:\n" + diagnostics);
            }
        }
    }

    private static String location(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A jar that is not a zip at all. */
    static Path garbage(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(p)) {
            out.write("this is not a jar\n".getBytes(StandardCharsets.UTF_8));
        }
        return p;
    }
}
