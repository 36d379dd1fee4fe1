package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.core.KernelCheck;
import dev.cryo.core.image.ImageVerifier;
import dev.cryo.core.linux.KernelProbe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code cryo check}: probe the kernel features cryo needs (exit 4 when one is missing); {@code cryo check --images
 * -D DIR}: check a whole image without restoring it (exit 6 with the first damage found).
 */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Check that this kernel and these privileges support cryo: one line per feature, "
                + "OK or MISSING with what was tried.", "Exits 0 when everything is OK, else 4.",
                "With --images -D DIR: check every file of the image in DIR instead (inventory, record checksums, "
                        + "the checksum of every page) without restoring it; exits 0 when intact, else 6."})
final class CheckCommand extends CryoSubcommand {
    @Option(names = "--images", description = "Check the image given with -D instead of the kernel.")
    boolean images;

    @Option(names = {"-D", "--images-dir"}, paramLabel = "DIR", description = "Image directory (with --images).")
    Path dir;

    @Override
    public Integer call() throws CryoException {
        if (dir != null && !images) {
            throw usage("-D " + dir + " given without --images", "cryo check --images -D " + dir);
        }
        if (images) {
            return checkImages();
        }
        List<KernelCheck> checks = KernelProbe.checkAll();
        PrintWriter out = spec.commandLine().getOut();
        int width = checks.stream().mapToInt(c -> c.feature().length()).max().orElse(0);
        boolean allOk = true;
        for (KernelCheck c : checks) {
            out.printf("%-7s %-" + Math.max(width, 1) + "s  %s%n", c.ok() ? "OK" : "MISSING", c.feature(), c.detail());
            allOk &= c.ok();
        }
        out.flush();
        return allOk ? ExitCodes.OK : ExitCodes.KERNEL;
    }

    private Integer checkImages() throws CryoException {
        if (dir == null) {
            throw usage("--images needs the image directory", "cryo check --images -D DIR");
        }
        PrintWriter out = spec.commandLine().getOut();
        Path image = path(dir.toString());
        List<ImageVerifier.FileCheck> checks = ImageVerifier.verify(image, c -> {
            out.printf("OK      %-24s %s%n", c.file(), c.describe());
            out.flush();
        });
        long pages = checks.stream().filter(c -> !c.type().hasRecords()).mapToLong(ImageVerifier.FileCheck::count)
                .sum();
        out.printf("image %s is intact: %d files, %d pages%n", image, checks.size(), pages);
        out.flush();
        return ExitCodes.OK;
    }
}
