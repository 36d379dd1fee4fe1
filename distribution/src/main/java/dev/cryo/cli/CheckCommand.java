package dev.cryo.cli;

import dev.cryo.core.KernelCheck;
import dev.cryo.core.linux.KernelProbe;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.List;

/** {@code cryo check}: probe the kernel features cryo needs; exit 4 when one is missing. */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Check that this kernel and these privileges support cryo: one line per feature, "
                + "OK or MISSING with what was tried.", "Exits 0 when everything is OK, else 4."})
final class CheckCommand extends CryoSubcommand {
    @picocli.CommandLine.Mixin
    OutputOption output;

    @Override
    public Integer call() {
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
}
