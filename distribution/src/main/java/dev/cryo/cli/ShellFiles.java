package dev.cryo.cli;

import dev.cryo.core.CryoHome;
import picocli.AutoComplete;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The build writes the distribution's shell completion and man pages with this, from the same command model the CLI
 * runs — every subcommand ({@link CryoCli#commandLine()}) plus the options the bundled plugins of the distribution's
 * {@code plugins/} declare ({@link PluginOptions#install}, read from the jars without running plugin code):
 * <ul>
 *   <li>{@code share/bash-completion/completions/cryo}: picocli's {@link AutoComplete} script, for bash; zsh runs the
 *       same script through {@code bashcompinit}, which the script loads itself when sourced by zsh.</li>
 *   <li>{@code share/man/man1/cryo.1} and {@code cryo-COMMAND.1} per subcommand ({@link ManPages}).</li>
 * </ul>
 * Not part of the CLI; run as {@code java -Dcryo.home=DIST ... dev.cryo.cli.ShellFiles DIST} (distribution's
 * {@code shell-files} execution, between unpacking the tarball and packing it again). A failure fails the build.
 */
final class ShellFiles {
    private ShellFiles() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: ShellFiles DIST_DIR");
        }
        Path dist = Path.of(args[0]);
        CommandLine cl = CryoCli.commandLine();
        PluginOptions.install(cl, new CryoHome(dist.toAbsolutePath().normalize()));
        write(dist.resolve("share/bash-completion/completions/cryo"), AutoComplete.bash("cryo", cl));
        String version = VersionProvider.version();
        Path man = dist.resolve("share/man/man1");
        write(man.resolve("cryo.1"), ManPages.page(cl, version));
        for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
            write(man.resolve("cryo-" + e.getKey() + ".1"), ManPages.page(e.getValue(), version));
        }
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
        System.out.println("[shell-files] " + file);
    }
}
