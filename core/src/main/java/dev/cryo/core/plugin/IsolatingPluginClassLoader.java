package dev.cryo.core.plugin;

import org.pf4j.ClassLoadingStrategy;
import org.pf4j.PluginClassLoader;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginManager;

import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

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
 * <p>Thread-safe (per-class-name locking as in {@link ClassLoader}).
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

    IsolatingPluginClassLoader(PluginManager manager, PluginDescriptor descriptor, ClassLoader shared) {
        super(manager, descriptor, shared, ClassLoadingStrategy.PDA);
        this.pluginId = descriptor.getPluginId();
        this.shared = shared;
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
