import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Build step of the distribution (issue 13): rewrites the class files of the jars in {@code lib/} that predate Java 6
 * (major version below 50: picocli's, compiled for Java 5) as Java 8 class files with stack map frames, computed by
 * ASM, and changes nothing else about them.
 *
 * <p>Why: the JVM checks a class file older than version 50 with the old type-inferring verifier, and a JDK 17
 * class data sharing archive ({@code bin/cryo}, {@code lib/cryo.jsa}) stores such a class unverified — so every
 * command verified picocli's ~150 classes again on its start-up thread before it could parse its command line
 * (~30 ms of CPU of a 0.3 s dump: {@code -Xlog:verification}, {@code sun.cls.classVerifyTime}). A class file with
 * frames is verified once, when the archive is made. The bytecode is the same; only the version and the
 * {@code StackMapTable} attributes are new.
 *
 * <p>A class ASM cannot give frames to (it uses {@code jsr}/{@code ret}, or a frame needs a type that is neither in
 * {@code lib/} nor in the JDK) is left as it is, and so is a signed jar (rewriting would break its signature). A jar
 * without any old class file is not touched. Every rewritten class is then verified by the JVM itself, in a child
 * {@code java -Xshare:dump} over exactly those classes (it links each class without initialising it): a frame the
 * verifier rejects fails the build instead of surfacing as a {@code VerifyError} at run time. Run as
 * {@code java -cp asm.jar ModernClassFiles.java LIB_DIR}; fails the build on an unreadable jar.
 */
public final class ModernClassFiles {
    private static final int JAVA_6 = 50;
    private static final String NOTICE = "META-INF/MODIFIED-BY-CRYO.txt";

    private ModernClassFiles() {
    }

    /** One entry of a jar, read once. */
    private record Entry(ZipEntry entry, byte[] bytes) {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 1) {
            System.err.println("usage: java -cp asm.jar ModernClassFiles.java LIB_DIR");
            System.exit(2);
        }
        List<Path> jars = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(Path.of(args[0]), "*.jar")) {
            s.forEach(jars::add);
        }
        Collections.sort(jars);
        List<URL> urls = new ArrayList<>();
        for (Path jar : jars) {
            urls.add(jar.toUri().toURL());
        }
        List<String> rewritten = new ArrayList<>();
        List<Path> classPath = new ArrayList<>(jars);
        // the rewritten jars (*.jar.tmp) replace the originals only once the JVM accepted every rewritten class; any
        // failure leaves lib/ as it was
        try {
            // resolves the common super class of two types when frames are computed: every jar of lib/ and the JDK's
            // modules (java.sql...), no class initialised
            try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new),
                    ClassLoader.getPlatformClassLoader())) {
                for (int i = 0; i < jars.size(); i++) {
                    Path tmp = rewrite(jars.get(i), loader, rewritten);
                    if (tmp != null) {
                        classPath.set(i, tmp);
                    }
                }
            }
            if (!rewritten.isEmpty()) {
                verify(classPath, rewritten);
            }
            for (int i = 0; i < jars.size(); i++) {
                if (!classPath.get(i).equals(jars.get(i))) {
                    Files.move(classPath.get(i), jars.get(i), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } finally {
            for (Path p : classPath) {
                if (p.getFileName().toString().endsWith(".tmp")) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** @return the rewritten jar (beside {@code jar}, {@code .tmp}), or null when {@code jar} stays as it is */
    private static Path rewrite(Path jar, ClassLoader loader, List<String> rewritten) throws IOException {
        List<Entry> entries = new ArrayList<>();
        boolean signed = false;
        boolean old = false;
        try (ZipFile in = new ZipFile(jar.toFile())) {
            for (ZipEntry e : Collections.list(in.entries())) {
                String n = e.getName();
                if (n.equals(NOTICE)) {
                    return null;    // rewritten by an earlier build
                }
                signed |= n.startsWith("META-INF/") && (n.endsWith(".SF") || n.endsWith(".RSA")
                        || n.endsWith(".DSA") || n.endsWith(".EC"));
                try (InputStream s = in.getInputStream(e)) {
                    Entry entry = new Entry(e, s.readAllBytes());
                    old |= isOldClass(entry);
                    entries.add(entry);
                }
            }
        }
        if (signed || !old) {
            return null;
        }
        Path out = jar.resolveSibling(jar.getFileName() + ".tmp");
        int upgraded = 0;
        int kept = 0;
        try (OutputStream file = Files.newOutputStream(out); ZipOutputStream zip = new ZipOutputStream(file)) {
            for (Entry e : entries) {
                byte[] bytes = e.bytes();
                if (isOldClass(e)) {
                    byte[] modern = modern(bytes, loader);
                    if (modern != null) {
                        bytes = modern;
                        upgraded++;
                        String name = e.entry().getName();
                        rewritten.add(name.substring(0, name.length() - ".class".length()));
                    } else {
                        kept++;
                    }
                }
                ZipEntry copy = new ZipEntry(e.entry().getName());
                copy.setTime(e.entry().getTime());
                zip.putNextEntry(copy);
                zip.write(bytes);
                zip.closeEntry();
            }
            // the notice a modified file of an Apache-2.0 work carries (section 4b)
            zip.putNextEntry(new ZipEntry(NOTICE));
            zip.write(("The class files of this jar older than Java 6 were rewritten by cryo's build "
                    + "(distribution/src/build/ModernClassFiles.java) as Java 8 class files with stack map frames "
                    + "computed by ASM; their bytecode is unchanged. The original is " + jar.getFileName()
                    + " as published.\n").getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(out);
            throw e;
        }
        System.out.println("[class files] " + jar.getFileName() + ": " + upgraded + " classes given Java 8 class files"
                + (kept == 0 ? "" : ", " + kept + " left as they were (jsr/ret, or a type outside lib/ and the JDK)"));
        return out;
    }

    private static boolean isOldClass(Entry e) {
        byte[] b = e.bytes();
        String n = e.entry().getName();
        return n.endsWith(".class") && !n.startsWith("META-INF/") && b.length >= 8
                && (b[0] & 0xff) == 0xca && (b[1] & 0xff) == 0xfe && (b[2] & 0xff) == 0xba && (b[3] & 0xff) == 0xbe
                && (((b[6] & 0xff) << 8) | (b[7] & 0xff)) < JAVA_6;
    }

    /** @return the class as a version 52 class file with frames, or null when it cannot have frames */
    private static byte[] modern(byte[] classFile, ClassLoader loader) {
        ClassReader reader = new ClassReader(classFile);
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
            @Override
            protected ClassLoader getClassLoader() {
                return loader;
            }
        };
        try {
            reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
                @Override
                public void visit(int version, int access, String name, String signature, String superName,
                                  String[] interfaces) {
                    super.visit(Opcodes.V1_8, access, name, signature, superName, interfaces);
                }
            }, 0);
            return writer.toByteArray();
        } catch (IllegalArgumentException | UnsupportedOperationException | TypeNotPresentException e) {
            return null;    // jsr/ret (ASM computes no frames for them), or a type neither lib/ nor the JDK has
        }
    }

    /**
     * Has the JVM verify {@code classes} (internal names) from {@code jars}: {@code java -Xshare:dump} over a class
     * list of exactly them links each one (the verifier runs) without running any of their code, and says "Preload
     * Warning: Verification failed for C" of a class it rejects. Throws when it rejects one or fails.
     */
    private static void verify(List<Path> jars, List<String> classes) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("cryo-verify");
        try {
            Path list = dir.resolve("classes.list");
            Files.write(list, classes);
            String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            String cp = jars.stream().map(Path::toString).collect(Collectors.joining(java.io.File.pathSeparator));
            Process p = new ProcessBuilder(javaBin, "-Xshare:dump", "-XX:SharedClassListFile=" + list,
                    "-XX:SharedArchiveFile=" + dir.resolve("verify.jsa"), "-cp", cp)
                    .redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int status = p.waitFor();
            // only what the verifier rejects: "Cannot find X" (a class whose super type is an optional dependency
            // absent from lib/) was not rewritten wrong and fails nowhere at run time that it would not have before
            List<String> failures = output.lines().filter(l -> l.contains("Verification failed")
                    || l.contains("VerifyError")).toList();
            if (status != 0 || !failures.isEmpty()) {
                throw new IllegalStateException("the JVM rejects class files this step rewrote (exit " + status
                        + "):\n" + (failures.isEmpty() ? output : String.join("\n", failures)));
            }
            System.out.println("[class files] the JVM verified the " + classes.size() + " rewritten classes");
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }
}
