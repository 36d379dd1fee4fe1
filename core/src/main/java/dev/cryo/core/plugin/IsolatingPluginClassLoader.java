package dev.cryo.core.plugin;

import org.pf4j.ClassLoadingStrategy;
import org.pf4j.PluginClassLoader;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginManager;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Path;
import java.security.CodeSigner;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipFile;

/**
 * The class loader of one plugin. Like Trino's plugin class loader, its parent delegation exposes only an
 * allowlist: the SPI ({@code dev.cryo.api}), PF4J ({@code org.pf4j}), protobuf ({@code com.google.protobuf}),
 * SLF4J ({@code org.slf4j}) — from cryo's class loader, so that a plugin shares those classes with core even if
 * it bundles a copy — and the JDK ({@code java.}, {@code javax.}, {@code jdk.}) from the platform class loader.
 * Every other class (core, jnr, picocli, ...) is invisible: loading it fails with a
 * {@link ClassNotFoundException} that says why. All other classes come from the plugin's own jar first, then
 * from the plugins it declares in {@code Plugin-Dependencies}.
 *
 * <p>Resources follow the same rule: the plugin's jar first (so {@code META-INF/extensions.idx} is only ever
 * the plugin's own), then the parent only for the allowlisted package paths.
 *
 * <p>The plugin's own classes are read from its jar, opened once by this loader, and defined with one code source
 * (the jar): {@link java.net.URLClassLoader}'s way (its class path looked up, the manifest and a code source per
 * class) was a third of loading the plugins on a small dump's start-up (JFR, issue 13). A jar whose manifest has
 * per-entry sections (a signed jar's digests) is left to {@link java.net.URLClassLoader}, which checks signatures.
 * Classes defined from the same bytes are still taken from the class data archive (the JVM matches an archived class
 * of a custom loader by name, size and checksum).
 *
 * <p>Thread-safe: PF4J's loader is not registered as parallel-capable, so every load holds this loader's lock.
 */
final class IsolatingPluginClassLoader extends PluginClassLoader {
    /** Packages (with trailing dot) a plugin sees from cryo's class loader. */
    static final List<String> SHARED_PACKAGES = List.of("dev.cryo.api.", "org.pf4j.", "com.google.protobuf.",
            "org.slf4j.");
    /** Packages a plugin sees from the JDK. */
    static final List<String> JDK_PACKAGES = List.of("java.", "javax.", "jdk.");

    private static final List<String> SHARED_RESOURCES = List.of("dev/cryo/api/", "org/pf4j/",
            "com/google/protobuf/", "google/protobuf/", "org/slf4j/");
    private static final List<String> JDK_RESOURCES = List.of("java/", "javax/", "jdk/");

    static {
        ClassLoader.registerAsParallelCapable();
    }

    private final String pluginId;
    private final ClassLoader shared;
    private final ClassLoader jdk = ClassLoader.getPlatformClassLoader();
    /** The plugin's jar, whose classes {@link #findClass} reads. */
    private final Path jarPath;
    /** The plugin's jar, opened at the first class; guarded by {@code this}. */
    private Own own;
    /** Set by {@link #close}: no jar is opened again (as URLClassLoader finds no class once closed). */
    private boolean closed;

    /**
     * @param jar the plugin's jar (the caller adds it with {@link #addFile}, as PF4J's loader does, for its
     *            resources)
     */
    IsolatingPluginClassLoader(PluginManager manager, PluginDescriptor descriptor, ClassLoader shared, Path jar) {
        super(manager, descriptor, shared, ClassLoadingStrategy.PDA);
        this.pluginId = descriptor.getPluginId();
        this.shared = shared;
        this.jarPath = jar;
    }

    /** The plugin's jar as this loader reads it: null fields for a signed jar, left to URLClassLoader. */
    private record Own(JarFile jar, Manifest manifest, URL url, CodeSource source) {
    }

    private synchronized Own own() throws IOException {
        if (closed) {
            throw new IOException("the class loader of plugin '" + pluginId + "' is closed");
        }
        if (own == null) {
            JarFile jar = new JarFile(jarPath.toFile(), false, ZipFile.OPEN_READ, JarFile.runtimeVersion());
            try {
                Manifest manifest = jar.getManifest();
                // a signed jar's manifest has a section per entry (its digests); cryo's build writes none. Looked
                // up there, not by listing the jar's entries for signature files (~5% of loading the plugins).
                if (manifest != null && !manifest.getEntries().isEmpty()) {
                    jar.close();
                    own = new Own(null, null, null, null);
                } else {
                    // the canonical path, as PF4J's addFile gives URLClassLoader (code source, package seal)
                    URL url = jarPath.toFile().getCanonicalFile().toURI().toURL();
                    own = new Own(jar, manifest, url, new CodeSource(url, (CodeSigner[]) null));
                }
            } catch (IOException | RuntimeException e) {
                jar.close();
                throw e;
            }
        }
        return own;
    }

    /** Defines a class of the plugin's own jar (see the class comment); a signed jar's through URLClassLoader. */
    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        Own o;
        JarEntry entry;
        byte[] bytes;
        try {
            o = own();
            if (o.jar() == null) {
                return super.findClass(name);
            }
            entry = o.jar().getJarEntry(name.replace('.', '/') + ".class");
            if (entry == null) {
                throw new ClassNotFoundException(name);
            }
            try (InputStream in = o.jar().getInputStream(entry)) {
                bytes = in.readAllBytes();
            }
        } catch (IOException | UncheckedIOException | IllegalStateException e) {
            throw new ClassNotFoundException(name + " (reading " + jarPath + ": " + e + ")", e);
        }
        int dot = name.lastIndexOf('.');
        if (dot > 0) {
            String pkg = name.substring(0, dot);
            if (getDefinedPackage(pkg) == null) {
                try {
                    if (o.manifest() != null) {
                        definePackage(pkg, o.manifest(), o.url());
                    } else {
                        definePackage(pkg, null, null, null, null, null, null, null);
                    }
                } catch (IllegalArgumentException e) {
                    // already defined (URLClassLoader tolerates it the same way)
                }
            }
        }
        return defineClass(name, bytes, 0, bytes.length, o.source());
    }

    @Override
    public void close() throws IOException {
        try {
            super.close();
        } finally {
            synchronized (this) {
                closed = true;
                if (own != null && own.jar() != null) {
                    own.jar().close();
                }
            }
        }
    }

    @Override
    public Class<?> loadClass(String name) throws ClassNotFoundException {
        return loadClass(name, false);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (startsWithAny(name, JDK_PACKAGES)) {
            return jdk.loadClass(name);
        }
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null && startsWithAny(name, SHARED_PACKAGES)) {
                try {
                    c = shared.loadClass(name);
                } catch (ClassNotFoundException e) {
                    // not in cryo: a class of the plugin's own in one of these packages
                }
            }
            if (c == null) {
                try {
                    c = findClass(name);
                } catch (ClassNotFoundException e) {
                    c = loadClassFromDependencies(name);
                }
            }
            if (c == null) {
                throw new ClassNotFoundException(name + " is not visible to plugin '" + pluginId
                        + "': a plugin sees its own classes, those of its Plugin-Dependencies, "
                        + String.join(", ", SHARED_PACKAGES.stream().map(p -> p.substring(0, p.length() - 1)).toList())
                        + " and the JDK");
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }

    @Override
    public URL getResource(String name) {
        URL own = findResource(name);
        if (own != null) {
            return own;
        }
        String path = name.startsWith("/") ? name.substring(1) : name;
        if (startsWithAny(path, JDK_RESOURCES)) {
            return jdk.getResource(path);
        }
        if (startsWithAny(path, SHARED_RESOURCES)) {
            return shared.getResource(path);
        }
        return findResourceFromDependencies(name);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        List<URL> all = new ArrayList<>(Collections.list(findResources(name)));
        String path = name.startsWith("/") ? name.substring(1) : name;
        if (startsWithAny(path, JDK_RESOURCES)) {
            all.addAll(Collections.list(jdk.getResources(path)));
        } else if (startsWithAny(path, SHARED_RESOURCES)) {
            all.addAll(Collections.list(shared.getResources(path)));
        } else {
            all.addAll(findResourcesFromDependencies(name));
        }
        return Collections.enumeration(all);
    }

    private static boolean startsWithAny(String s, List<String> prefixes) {
        for (String p : prefixes) {
            if (s.startsWith(p)) {
                return true;
            }
        }
        return false;
    }
}
