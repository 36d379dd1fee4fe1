package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The vendor kit end to end, from the unpacked tarball only: its {@code examples/vendor-plugin}, copied out of the
 * distribution, is built by its {@code build-outside.sh DIST OUT} against the distribution's {@code sdk/} (unit
 * tests, and the test kit dumping and restoring real processes with the new jar); the jar it prints, copied into a
 * copy of the distribution's {@code plugins/}, is listed by {@code cryo plugins} with its option; a real process
 * holding pidfds on its child is dumped and restored and checks them; disabled in the config, the plugin's pidfd
 * is refused naming the plugin, and its option is an error naming it.
 *
 * <p>The nested Maven build needs Maven Central (for third-party artifacts) the first time; it keeps them in
 * {@code ~/.cache/cryo-sdk/repository}.
 */
class VendorPluginIT extends WithTestBed {
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(15);

    @Test
    void theExamplePluginBuiltOutsideFromTheSdkDumpsAndRestoresAPidfd() throws Exception {
        Path dist = bed.cryo().dist();
        Path example = tmp.resolve("vendor-plugin");
        copyTree(dist.resolve("examples/vendor-plugin"), example);
        Path out = tmp.resolve("out");

        BuildResult build = buildOutside(example.resolve("build-outside.sh"), dist, out);
        assertEquals(0, build.exit, "build-outside.sh failed:\n" + build.stderrTail());
        List<String> printed = build.stdout.lines().toList();
        assertEquals(1, printed.size(), "build-outside.sh must print only the jar's path: " + printed);
        Path jar = Path.of(printed.get(0));
        assertTrue(Files.isRegularFile(jar) && jar.startsWith(out), jar + " is not a file under " + out);
        try (JarFile j = new JarFile(jar.toFile())) {
            var m = j.getManifest().getMainAttributes();
            assertEquals("example-pidfd", m.getValue("Plugin-Id"));
            assertEquals(">=" + dev.cryo.api.Spi.VERSION + " & <2.0.0", m.getValue("Plugin-Requires"));
            assertTrue(j.getEntry("META-INF/extensions.idx") != null, "no extension index in " + jar);
            assertTrue(j.stream().noneMatch(e -> e.getName().startsWith("dev/cryo/api/")), "the api is bundled");
        }
        assertTrue(build.stderr.contains("Tests run:") && build.stderr.contains("PidfdKitIT"),
                "the example's test-kit tests did not run:\n" + build.stderrTail());

        Cryo cryo = bed.cryo().copyTo(tmp.resolve("cryo"));
        Files.copy(jar, cryo.dist().resolve("plugins").resolve(jar.getFileName()));
        String plugins = cryo.run("plugins").assertOk().stdout();
        assertTrue(plugins.lines().anyMatch(l -> l.matches("example-pidfd\\s+1\\.0\\.0\\s+enabled\\s+FdHandler\\[example/pidfd\\]\\s.*")),
                plugins);
        String options = cryo.run("plugins", "--options").assertOk().stdout();
        assertTrue(options.lines().anyMatch(l -> l.matches("example-pidfd\\s+--pidfd-outside-tree\\s+dump\\s.*")),
                options);

        Path script = example.resolve("src/test/resources/workloads/pidfd_child.py");
        Workload w = bed.workloads().startCommand("pidfd_child", List.of(Workloads.python3(), script.toString()),
                bed.workloads().newDir("pidfd"));
        w.awaitReady();
        Path image = bed.newImageDir();
        List<Long> descendants = TestBed.descendantsOf(w.pid());
        cryo.dump(w.pid(), image).assertOk();
        w.awaitGone(Duration.ofSeconds(10));
        for (long pid : descendants) {
            assertTrue(ProcessControl.reap(pid, Duration.ofSeconds(10)), "dumped child " + pid + " not reaped");
        }
        long mark = w.log().size();
        RunningCryo restore = cryo.start("restore", "-D", image.toString());
        bed.awaitRestoredRoot(restore, w);
        Files.writeString(w.workdir().resolve("go"), "");
        CryoResult restored = restore.awaitExit(Duration.ofSeconds(60));
        List<String> report = w.log().linesFrom(mark);
        assertEquals(0, restored.exit(), "the restored workload's checks failed: " + report + "\n" + restored.describe());
        assertEquals(7, report.stream().filter(l -> l.startsWith("OK ")).count(), String.join("\n", report));

        Path disabled = cryo.writeConfig("disabled.conf", "plugins.disabled example-pidfd");
        Workload w2 = bed.workloads().startCommand("pidfd_child", List.of(Workloads.python3(), script.toString()),
                bed.workloads().newDir("pidfd"));
        w2.awaitReady();
        cryo.dump(w2.pid(), bed.newImageDir(), "--config", disabled.toString())
                .assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w2.pid())
                .assertStderrMentions("is a pidfd (anon_inode:[pidfd])", "'example-pidfd'", "plugins.disabled",
                        disabled.toString(), "core/UNSUPPORTED_FD");
        cryo.dump(w2.pid(), bed.newImageDir(), "--config", disabled.toString(), "--pidfd-outside-tree")
                .assertExit(CryoResult.PLUGIN).assertStderrMentions("pidfd-outside-tree", "example-pidfd",
                        "core/PLUGIN_OPTION_DISABLED");
        assertTrue(w2.isAlive(), "a refused dump harmed " + w2);
    }

    private record BuildResult(int exit, String stdout, String stderr) {
        String stderrTail() {
            List<String> l = stderr.lines().toList();
            return String.join("\n", l.subList(Math.max(0, l.size() - 80), l.size()));
        }
    }

    /** Runs {@code build-outside.sh DIST OUT} with a clean environment for Maven (no inherited MAVEN_* settings). */
    private BuildResult buildOutside(Path script, Path dist, Path out) throws IOException, InterruptedException {
        Path stdout = tmp.resolve("build-outside.out");
        Path stderr = tmp.resolve("build-outside.err");
        ProcessBuilder pb = new ProcessBuilder(script.toString(), dist.toString(), out.toString())
                .directory(tmp.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        pb.environment().remove("MAVEN_OPTS");
        pb.environment().remove("MAVEN_ARGS");
        pb.environment().remove("MAVEN_PROJECTBASEDIR");
        pb.environment().remove("CRYO_CONFIG");
        Process p = ProcessControl.registerJdkChild(pb.start());
        bed.workloads().trackProcess(p);
        if (!p.waitFor(BUILD_TIMEOUT.toMinutes(), TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("build-outside.sh did not finish within " + BUILD_TIMEOUT.toMinutes() + " min: "
                    + Files.readString(stderr));
        }
        return new BuildResult(p.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8),
                Files.readString(stderr, StandardCharsets.UTF_8));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (Path src : (Iterable<Path>) walk::iterator) {
                Path dst = to.resolve(from.relativize(src).toString());
                if (Files.isDirectory(src)) {
                    Files.createDirectories(dst);
                } else {
                    Files.copy(src, dst, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
