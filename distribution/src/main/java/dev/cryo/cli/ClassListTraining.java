package dev.cryo.cli;

import dev.cryo.core.linux.LibC;
import dev.cryo.core.linux.Spawner;
import dev.cryo.core.linux.Sys;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The build's training run for the class data sharing archive (see {@code bin/cryo}): runs the CLI's commands in
 * one JVM started with {@code -XX:DumpLoadedClassList=lib/cryo.classlist}, so that the list holds every class a
 * command loads. With root and ptrace it dumps and restores a real {@code sleep} (a child of this JVM, reaped here);
 * without them it runs the commands that need neither. Never fails the build: a command that fails is reported on
 * stderr and the next one runs. Not part of the CLI; run as {@code java ... dev.cryo.cli.ClassListTraining}.
 */
final class ClassListTraining {
    private ClassListTraining() {
    }

    public static void main(String[] args) throws IOException {
        PrintStream realOut = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        run("--help");
        run("dump", "--help");
        run("restore", "--help");
        run("plugins");
        Path dir = Files.createTempDirectory("cryo-training");
        try {
            Path image = dir.resolve("img");
            if (LibC.isAvailable() && isRoot()) {
                dumpAndRestore(image);
            }
            if (Files.exists(image)) {
                run("show", image.toString());
            }
        } finally {
            delete(dir);
            System.setOut(realOut);
        }
    }

    private static void dumpAndRestore(Path image) {
        String sleep = Files.isExecutable(Path.of("/usr/bin/sleep")) ? "/usr/bin/sleep" : "/bin/sleep";
        int pid;
        try {
            pid = Spawner.spawnDetachedStdio(sleep, List.of("sleep", "60"));
        } catch (Exception e) {
            System.err.println("[cds training] cannot start " + sleep + ": " + e.getMessage());
            return;
        }
        LibC c = LibC.INSTANCE;
        int[] status = new int[1];
        try {
            if (run("dump", "-t", Integer.toString(pid), "-D", image.toString()) == 0) {
                c.waitpid(pid, status, Sys.WALL);   // killed by the dump: free its pid for the restore
                if (run("restore", "-D", image.toString(), "-d") == 0) {
                    c.kill(pid, Sys.SIGKILL);
                }
            }
        } finally {
            c.kill(pid, Sys.SIGKILL);
            c.waitpid(pid, status, Sys.WALL);
        }
    }

    private static int run(String... args) {
        int rc;
        try {
            rc = CryoCli.run(args); // main's path, start-up thread and plugins' options included
        } catch (RuntimeException e) {
            rc = ExitCodes.INTERNAL;
        }
        if (rc != 0) {
            System.err.println("[cds training] cryo " + String.join(" ", args) + " exited with " + rc);
        }
        return rc;
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
