package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.core.Cryo;
import dev.cryo.core.plugin.PluginInfo;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** {@code cryo plugins}: the plugins found in {@code plugins/}, whether the config enables them, what they provide. */
@Command(name = "plugins", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"List the plugins in the distribution's plugins/ directory: id, version, state, the "
                + "extension points each provides, and its file.",
                "Enable or disable them with `plugins.enabled` / `plugins.disabled` in conf/cryo.conf or "
                        + "/etc/cryo/cryo.conf."})
final class PluginsCommand extends CryoSubcommand {
    @Override
    public Integer call() throws CryoException {
        try (Cryo cryo = startEngine(loadConfig())) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(table(cryo.plugins()));
            out.flush();
        }
        return ExitCodes.OK;
    }

    /** @return the plugins as an aligned text table with a header line */
    static String table(List<PluginInfo> plugins) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "VERSION", "STATE", "EXTENSION POINTS", "FILE"});
        for (PluginInfo p : plugins) {
            rows.add(new String[] {p.id(), p.version(), p.enabled() ? "enabled" : "disabled",
                p.extensionPoints().isEmpty() ? "-" : String.join(", ", p.extensionPoints()),
                String.valueOf(p.path())});
        }
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                sb.append(i == row.length - 1 ? row[i] : String.format("%-" + (width[i] + 2) + "s", row[i]));
            }
            sb.append(System.lineSeparator());
        }
        return sb.toString();
    }
}
