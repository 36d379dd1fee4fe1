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
                String sleep = Files.isExecutable(Path.of("/usr/bin/sleep")) ? "/usr/bin/sleep" : "/bin/sleep";
                dumpAndRestore(image, sleep, List.of("sleep", "60"), 0);
                // a tree of three joined by a pipe: the pipe plugin's, a tree's and a shell's classes
                if (Files.isExecutable(Path.of("/bin/sh"))) {
                    dumpAndRestore(dir.resolve("img-pipe"), "/bin/sh", List.of("sh", "-c", "sleep 60 | sleep 60"), 2);
                }
            }
            if (Files.exists(image)) {
                run("show", image.toString());
            }
        } finally {
            delete(dir);
            System.setOut(realOut);
        }
    }

    /**
     * Dumps the tree of a program started here and restores it, then kills and reaps everything; this JVM is a child
     * subreaper meanwhile, so that the tree's processes, orphaned when the dump kills it, are reaped here and their
     * pids are free for the restore.
     *
     * @param children how many children the program has once it is ready (waited for, up to 2 s)
     */
    private static void dumpAndRestore(Path image, String path, List<String> argv, int children) {
        LibC c = LibC.INSTANCE;
        c.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        List<Integer> tree = new java.util.ArrayList<>();
        boolean ours = true; // the pids of tree are this run's processes (not after a failed restore: then free)
        try {
            tree.add(Spawner.spawnDetachedStdio(path, argv));
            tree.addAll(awaitChildren(tree.get(0), children));
            if (run("dump", "-t", Integer.toString(tree.get(0)), "-D", image.toString()) == 0) {
                reapAll(); // killed by the dump: free its pids for the restore
                ours = run("restore", "-D", image.toString(), "-d") == 0;
            }
        } catch (Exception e) {
            System.err.println("[cds training] cannot start " + path + ": " + e.getMessage());
        } finally {
            if (ours) {
                for (int p : tree) {
                    c.kill(p, Sys.SIGKILL);
                }
            }
            reapAll();
            c.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
        }
    }

    private static final int PR_SET_CHILD_SUBREAPER = 36;

    private static List<Integer> awaitChildren(int pid, int count) {
        Path children = Path.of("/proc/" + pid + "/task/" + pid + "/children");
        List<Integer> found = List.of();
        for (int i = 0; i < 200 && found.size() < count; i++) {
            try {
                String text = Files.readString(children).strip();
                found = text.isEmpty() ? List.of() : Stream.of(text.split(" ")).map(Integer::valueOf).toList();
                if (found.size() < count) {
                    Thread.sleep(10);
                }
            } catch (IOException | InterruptedException e) {
                break;
            }
        }
        return found;
    }

    /** Reaps every exited child (this JVM's own and adopted orphans) until none is left, for up to 2 s in all. */
    private static void reapAll() {
        int[] status = new int[1];
        for (int i = 0; i < 200; i++) {
            int r = LibC.INSTANCE.waitpid(-1, status, Sys.WALL | Sys.WNOHANG);
            if (r < 0) {
                return; // ECHILD: none left
            }
            if (r == 0) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
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
