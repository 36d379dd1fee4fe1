import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
 * <p>A class ASM cannot give frames to (it uses {@code jsr}/{@code ret}) is left as it is, and so is a signed jar
 * (rewriting would break its signature). A jar without any old class file is not touched. Run as
 * {@code java -cp asm.jar ModernClassFiles.java LIB_DIR}; fails the build on an unreadable jar.
 */
public final class ModernClassFiles {
    private static final int JAVA_6 = 50;
    private static final String NOTICE = "META-INF/MODIFIED-BY-CRYO.txt";

    private ModernClassFiles() {
    }

    public static void main(String[] args) throws IOException {
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
        // resolves the common super class of two types when frames are computed: every jar of lib/, not initialised
        try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), null)) {
            for (Path jar : jars) {
                rewrite(jar, loader);
            }
        }
    }

    private static void rewrite(Path jar, ClassLoader loader) throws IOException {
        Path out = jar.resolveSibling(jar.getFileName() + ".tmp");
        int upgraded = 0;
        int kept = 0;
        try (ZipFile in = new ZipFile(jar.toFile())) {
            boolean signed = Collections.list(in.entries()).stream().map(ZipEntry::getName)
                    .anyMatch(n -> n.startsWith("META-INF/") && (n.endsWith(".SF") || n.endsWith(".RSA")
                            || n.endsWith(".DSA") || n.endsWith(".EC")));
            if (signed || in.getEntry(NOTICE) != null
                    || Collections.list(in.entries()).stream().noneMatch(e -> isOld(in, e))) {
                return;
            }
            try (OutputStream file = Files.newOutputStream(out); ZipOutputStream zip = new ZipOutputStream(file)) {
                for (ZipEntry e : Collections.list(in.entries())) {
                    byte[] bytes = in.getInputStream(e).readAllBytes();
                    if (isOldClass(e, bytes)) {
                        byte[] modern = modern(bytes, loader);
                        if (modern != null) {
                            bytes = modern;
                            upgraded++;
                        } else {
                            kept++;
                        }
                    }
                    ZipEntry copy = new ZipEntry(e.getName());
                    copy.setTime(e.getTime());
                    zip.putNextEntry(copy);
                    zip.write(bytes);
                    zip.closeEntry();
                }
                // the notice a modified file of an Apache-2.0 work carries (section 4b)
                zip.putNextEntry(new ZipEntry(NOTICE));
                zip.write(("The class files of this jar older than Java 6 were rewritten by cryo's build "
                        + "(distribution/src/build/ModernClassFiles.java) as Java 8 class files with stack map frames "
                        + "computed by ASM; their bytecode is unchanged. The original is " + jar.getFileName()
                        + " as published.\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(out);
            throw e;
        }
        Files.move(out, jar, StandardCopyOption.REPLACE_EXISTING);
        System.out.println("[class files] " + jar.getFileName() + ": " + upgraded + " classes given Java 8 class files"
                + (kept == 0 ? "" : ", " + kept + " left as they were (jsr/ret)"));
    }

    private static boolean isOld(ZipFile jar, ZipEntry e) {
        if (!e.getName().endsWith(".class")) {
            return false;
        }
        try (var in = jar.getInputStream(e)) {
            return isOldClass(e, in.readNBytes(8));
        } catch (IOException x) {
            throw new java.io.UncheckedIOException(x);
        }
    }

    private static boolean isOldClass(ZipEntry e, byte[] b) {
        return e.getName().endsWith(".class") && !e.getName().startsWith("META-INF/") && b.length >= 8
                && (b[0] & 0xff) == 0xca && (b[1] & 0xff) == 0xfe && (b[2] & 0xff) == 0xba && (b[3] & 0xff) == 0xbe
                && (((b[6] & 0xff) << 8) | (b[7] & 0xff)) < JAVA_6;
    }

    /** @return the class as a version 52 class file with frames, or null when it cannot have frames (jsr/ret) */
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
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return null;    // ASM refuses to compute frames for jsr/ret
        }
        return writer.toByteArray();
    }
}
