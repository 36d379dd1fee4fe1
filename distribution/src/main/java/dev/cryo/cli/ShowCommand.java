package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.core.Cryo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;

/** {@code cryo show DIR}: print an image's records as JSON (page data summarised). */
@Command(name = "show", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Print every record of the image in DIR as JSON; page contents are summarised.")
final class ShowCommand extends CryoSubcommand {
    @Parameters(paramLabel = "DIR", description = "Image directory written by `cryo dump`.")
    Path dir;

    @Override
    public Integer call() throws CryoException {
        try (Cryo cryo = startEngine(loadConfig())) {
            PrintWriter out = spec.commandLine().getOut();
            cryo.show(path(dir.toString()), out);
            out.flush();
        }
        return ExitCodes.OK;
    }
}
