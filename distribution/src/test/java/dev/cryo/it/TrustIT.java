package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Run as root, cryo loads plugins and config files only when nobody but root can change them (FileTrust): a
 * group-writable plugin jar, a jar owned by another uid, a world-writable config file and a config file in a
 * world-writable directory are each refused with {@code core/UNSAFE_FILE}, naming the path, owner uid, mode and fix;
 * {@code CRYO_INSECURE=1} loads them with a warning; and the tarball as shipped, unpacked under /tmp with umask 022,
 * run through a symlink to {@code bin/cryo}, with a plugin jar copied into {@code plugins/} and a {@code --config}
 * file in a temporary directory, dumps and restores a real process.
 */
class TrustIT extends WithTestBed {
    private static final int OTHER_UID = 4321;
    private Path dist;
    private Cryo cryo;

    @BeforeEach
    void unpackTheTarball() throws IOException, InterruptedException {
        assumeTrue(isRoot(), "the check applies to root only");
        // unpacked exactly as a user would: a fresh directory under /tmp, tar with umask 022
        Path tarball = Cryo.distribution().resolveSibling(Cryo.distribution().getFileName() + ".tar.gz");
        Path into = Files.createTempDirectory(tmp, "unpacked");
        run(List.of("tar", "-xzf", tarball.toString(), "-C", into.toString()));
        dist = into.resolve(Cryo.distribution().getFileName());
        cryo = new Cryo(dist, tmp.resolve("cryo-output"), bed.workloads());
    }

    @Test
    void theShippedTarballUnpackedUnderTmpDumpsAndRestoresThroughASymlinkWithAConfigAndACopiedJar() throws Exception {
        // a "vendor" jar copied into plugins/ as an operator would (cp, umask 022): the pipe plugin moved out and back
        Path jar = pluginJar("pipe");
        Path outside = Files.createTempDirectory(tmp, "vendor").resolve(jar.getFileName());
        Files.move(jar, outside);
        Files.copy(outside, jar);
        Path linkDir = Files.createTempDirectory(tmp, "bin");
        Path link = linkDir.resolve("cryo");
        Files.createSymbolicLink(link, dist.resolve("bin/cryo"));
        Path confDir = Files.createTempDirectory(tmp, "conf");
        Path config = confDir.resolve("extra.conf");
        Files.writeString(config, "# written by the test\nplugins.disabled inotify\n");

        Cryo viaLink = new Cryo(dist, tmp.resolve("cryo-output-link"), bed.workloads()).launchedThrough(link);
        CryoResult plugins = viaLink.run("plugins", "--config", config.toString()).assertOk();
        assertTrue(plugins.stdout().lines().anyMatch(l -> l.matches("pipe\\s.*enabled.*")), plugins.describe());
        assertTrue(plugins.stdout().lines().anyMatch(l -> l.matches("inotify\\s.*disabled.*")), plugins.describe());
        assertFalse(plugins.stderr().contains("UNSAFE") || plugins.stderr().contains("WARNING"), plugins.describe());

        Workload w = bed.workloads().start("with_pipe");
        w.assertVerifyPass();
        Path image = bed.dumpAndAwaitGone(viaLink, w, "--config", config.toString());
        viaLink.restore(image, "-d", "--config", config.toString()).assertOk();
        bed.workloads().adoptRestored(w).assertVerifyPass();
    }

    @Test
    void aGroupWritableJarIsRefusedNamingItsModeAndTheFix() throws IOException {
        Path jar = pluginJar("pipe");
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-rw-r--"));
        cryo.run("plugins").assertExit(CryoResult.PLUGIN).assertStderrMentions("[core/UNSAFE_FILE]",
                "plugin jar " + jar, "writable by group", "owner uid 0, mode 0664", "Fix: chmod go-w " + jar,
                "CRYO_INSECURE=1");
    }

    @Test
    void aJarOwnedByAnotherUserIsRefusedEvenForADump() throws IOException {
        Path jar = pluginJar("epoll");
        Files.setAttribute(jar, "unix:uid", OTHER_UID);
        cryo.run("check").assertExit(CryoResult.PLUGIN).assertStderrMentions("[core/UNSAFE_FILE]",
                "plugin jar " + jar, "owned by uid " + OTHER_UID, "mode 0644", "Fix: chown root " + jar);
        Workload w = bed.workloads().start("st_workload");
        cryo.dump(w.pid(), bed.newImageDir(), "-R").assertExit(CryoResult.PLUGIN)
                .assertStderrMentions("[core/UNSAFE_FILE]", jar.toString());
        w.assertVerifyPass();
    }

    @Test
    void aWorldWritableConfigFileIsRefused() throws IOException {
        Path config = Files.createTempDirectory(tmp, "conf").resolve("cryo.conf");
        Files.writeString(config, "plugins.disabled inotify\n");
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-rw-rw-"));
        cryo.run("plugins", "--config", config.toString()).assertExit(CryoResult.PLUGIN).assertStderrMentions(
                "[core/UNSAFE_FILE]", "configuration file " + config, "writable by group and others",
                "mode 0666", "Fix: chmod go-w " + config);
        // the distribution's own conf/cryo.conf too
        Path own = dist.resolve("conf/cryo.conf");
        Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rw-r--rw-"));
        cryo.run("plugins").assertExit(CryoResult.PLUGIN).assertStderrMentions("[core/UNSAFE_FILE]",
                "configuration file " + own, "writable by others", "mode 0646");
    }

    @Test
    void aConfigInAWorldWritableDirectoryIsRefusedNamingTheDirectory() throws IOException {
        Path dir = Files.createTempDirectory(tmp, "open");
        Path config = dir.resolve("cryo.conf");
        Files.writeString(config, "plugins.disabled inotify\n");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        cryo.run("plugins", "--config", config.toString()).assertExit(CryoResult.PLUGIN).assertStderrMentions(
                "[core/UNSAFE_FILE]", "configuration file " + config, "its directory " + dir,
                "writable by group and others", "mode 0777", "Fix: chmod go-w " + dir);
        // a root-owned sticky directory (as /tmp) is a fine parent
        Files.setAttribute(dir, "unix:mode", 01777);
        cryo.run("plugins", "--config", config.toString()).assertOk();
    }

    @Test
    void anUnsafePluginDirectoryIsRefused() throws IOException {
        Path plugins = dist.resolve("plugins");
        Files.setAttribute(plugins, "unix:mode", 01777);
        cryo.run("plugins").assertExit(CryoResult.PLUGIN).assertStderrMentions("[core/UNSAFE_FILE]",
                "plugin directory " + plugins, "writable by group and others", "mode 1777");
    }

    @Test
    void theOptOutLoadsUnsafeFilesWithAWarningOnEveryCommand() throws IOException {
        Path jar = pluginJar("pipe");
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-rw-rw-"));
        cryo.environment("CRYO_INSECURE", "1");
        CryoResult plugins = cryo.run("plugins").assertOk();
        assertTrue(plugins.stderr().contains("WARNING: CRYO_INSECURE=1"), plugins.describe());
        CryoResult version = cryo.run("--version").assertOk();
        assertTrue(version.stderr().contains("WARNING: CRYO_INSECURE=1"), version.describe());
        cryo.environment("CRYO_INSECURE", "0");
        cryo.run("plugins").assertExit(CryoResult.PLUGIN).assertStderrMentions("[core/UNSAFE_FILE]");
    }

    private Path pluginJar(String id) throws IOException {
        try (var s = Files.list(dist.resolve("plugins"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("cryo-plugin-" + id + "-")).findFirst()
                    .orElseThrow();
        }
    }

    private static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), command + ": " + out);
    }
}
