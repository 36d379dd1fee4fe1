package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * What the start-up of a command relies on in the distribution as built (issue 13): every class file of {@code lib/}
 * is one the class data archive can hold verified (Java 6 or later: picocli's Java 5 class files are rewritten by
 * the build, {@code distribution/src/build/ModernClassFiles.java}), and a command parsing its command line verifies
 * none of picocli's classes at run time (the JVM's own {@code -Xlog:verification} of a real {@code cryo dump
 * --help}); the plugins' classes come from the archive too; no command makes an annotation proxy class (the command
 * model is built without annotations, the plugins' annotations are read from their class files: the JDK's first
 * annotation read costs tens of milliseconds); and a dump and a restore of a pipe tree make no lambda or reflection
 * accessor class at run time.
 */
class StartupIT extends WithTestBed {
    @Test
    void everyClassFileOfLibCanBeArchivedVerified() throws IOException {
        List<String> old = new ArrayList<>();
        int classes = 0;
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(Cryo.distribution().resolve("lib"), "*.jar")) {
            for (Path jar : jars) {
                try (ZipFile zip = new ZipFile(jar.toFile())) {
                    for (ZipEntry e : Collections.list(zip.entries())) {
                        if (!e.getName().endsWith(".class") || e.getName().startsWith("META-INF/")) {
                            continue;
                        }
                        classes++;
                        try (InputStream in = zip.getInputStream(e)) {
                            byte[] head = in.readNBytes(8);
                            int major = ((head[6] & 0xff) << 8) | (head[7] & 0xff);
                            if (major < 50) {
                                old.add(jar.getFileName() + "!" + e.getName() + " (version " + major + ")");
                            }
                        }
                    }
                }
            }
        }
        assertTrue(classes > 1000, "lib/ holds only " + classes + " classes");
        assertEquals(List.of(), old, "class files the JVM verifies at every start (the old verifier)");
    }

    @Test
    void parsingACommandLineVerifiesNoPicocliClass() throws IOException {
        Path log = tmp.resolve("verification.log");
        CryoResult r = runWithJvmOptions("-Xlog:verification=info:file=" + log, "dump", "--help");
        assertTrue(r.stdout().contains("--tree"), r.describe());
        List<String> verified = Files.readAllLines(log).stream()
                .filter(l -> l.contains("Verifying class ")).toList();
        // the CLI's own classes that implement a picocli interface may be verified; picocli's must not be
        List<String> picocli = verified.stream().filter(l -> l.contains("Verifying class picocli.")).toList();
        assertEquals(List.of(), picocli, "picocli classes verified at run time (is lib/cryo.jsa in use?)");
    }

    @Test
    void noAnnotationIsReadReflectivelyToParseACommandLineOrLoadThePlugins() {
        // `cryo plugins` builds its model, reads every plugin's options and loads every plugin and extension
        CryoResult r = runWithJvmOptions("-Djdk.proxy.debug=debug", "plugins");
        assertTrue(r.stdout().contains("memory"), r.describe());
        List<String> proxies = (r.stdout() + r.stderr()).lines().filter(l -> l.startsWith("PROXY:")).toList();
        assertEquals(List.of(), proxies, "proxy classes made at run time (an annotation read by reflection?)");
    }

    @Test
    void thePluginClassesComeFromTheClassDataArchive() {
        // the build adds the plugin jars' classes to lib/cryo.classlist (src/build/PluginClassList.java)
        CryoResult r = runWithJvmOptions("-Xlog:class+load=info", "plugins");
        List<String> plugin = r.stdout().lines().filter(l -> l.contains("[class,load] dev.cryo.plugin.")
                && !l.contains("$$Lambda")).toList();
        assertTrue(plugin.size() >= 13, "plugin classes loaded by `cryo plugins`: " + plugin);
        List<String> parsed = plugin.stream().filter(l -> !l.endsWith("source: shared objects file")).toList();
        assertEquals(List.of(), parsed, "plugin classes parsed from their jars, not taken from lib/cryo.jsa");
    }

    @Test
    void aDumpAndARestoreOfAPipeTreeMakeNoClassAtRunTime() throws IOException {
        // a lambda of a plugin (never in the archive), or of core not met by the archive's training run, is made by
        // the JVM at its first use (~1 ms each, inside the frozen window for a dump's); a method called by reflection
        // 16 times gets a generated accessor class
        Workload w = bed.workloads().start("pipe_tree", "chain", "4");
        w.awaitNewTicks(5);
        w.assertVerifyPass();
        Path dumpLog = tmp.resolve("dump-classes.log");
        Path restoreLog = tmp.resolve("restore-classes.log");
        Cryo cryo = bed.cryo();
        try {
            cryo.environment("CRYO_JAVA_OPTS", "-Xlog:class+load=info:file=" + dumpLog);
            Path image = bed.dumpAndAwaitGone(w);
            cryo.environment("CRYO_JAVA_OPTS", "-Xlog:class+load=info:file=" + restoreLog);
            RunningCryo rc = cryo.restoreInBackground(image);
            Workload r = bed.awaitRestoreDone(rc, w);
            r.assertVerifyPass();
            TestBed.killRestored(r, rc);
        } finally {
            cryo.environment("CRYO_JAVA_OPTS", null);
        }
        for (Path log : List.of(dumpLog, restoreLog)) {
            List<String> made = Files.readAllLines(log).stream()
                    // $$Lambda$N (JDK 17) or $$Lambda/0x... (21+); jdk.internal.reflect.Generated*Accessor
                    .filter(l -> l.contains("$$Lambda") || l.contains("jdk.internal.reflect.Generated"))
                    .filter(l -> !l.endsWith("source: shared objects file")).toList();
            assertEquals(List.of(), made, "classes made at run time by " + log.getFileName());
        }
    }

    /** Runs {@code cryo args} with {@code CRYO_JAVA_OPTS=options}; it must succeed. */
    private CryoResult runWithJvmOptions(String options, String... args) {
        return Cryo.fromSystemProperty(tmp.resolve("out"), bed.workloads()).environment("CRYO_JAVA_OPTS", options)
                .run(args).assertOk();
    }
}
