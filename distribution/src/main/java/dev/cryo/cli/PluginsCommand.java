package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.core.Cryo;
import dev.cryo.core.plugin.PluginInfo;
import dev.cryo.core.config.ConfigKeys;
import dev.cryo.core.config.OptionSet;
import dev.cryo.core.image.ImageSummary;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** {@code cryo plugins}: the plugins found in {@code plugins/}, whether the config enables them, what they provide. */
final class PluginsCommand extends CryoSubcommand {
    PluginsCommand() {
        super("plugins",
                "List the plugins in the distribution's plugins/ directory: id, version, state, the extension points "
                        + "each provides, and its file.",
                "Enable or disable them with `plugins.enabled` / `plugins.disabled` in conf/cryo.conf or "
                        + "/etc/cryo/cryo.conf.",
                "With --options: the options the plugins declare, with the commands that take them (each is also a "
                        + "config key).");
    }

    @Override
    boolean sortOptions() {
        return true;
    }

    @Override
    void addOptions(CommandSpec spec) {
        spec.addMixin(OutputOption.MIXIN, OutputOption.mixin());
        spec.addOption(CommandModel.flag("List the options each plugin declares instead of the plugins.",
                "--options"));
    }

    @Override
    public Integer call() throws CryoException {
        try (Cryo cryo = startEngine(loadConfig())) {
            PrintWriter out = spec.commandLine().getOut();
            if (OutputFormat.json()) {
                out.println(Json.write(json(PluginOptions.current(), cryo.plugins())));
            } else {
                out.print(option("--options", false) ? optionTable(PluginOptions.current(), cryo.plugins())
                        : table(cryo.plugins()));
            }
            out.flush();
        }
        return ExitCodes.OK;
    }

    /** @return the plugins and the options they declare, as {@code --output json} prints them */
    static java.util.Map<String, Object> json(OptionSet set, List<PluginInfo> plugins) {
        java.util.Map<String, Object> m = JsonResult.success("plugins");
        List<Object> list = new ArrayList<>();
        for (PluginInfo p : plugins) {
            java.util.Map<String, Object> o = Json.object();
            o.put("id", p.id());
            o.put("version", p.version());
            o.put("enabled", p.enabled());
            o.put("extensionPoints", p.extensionPoints());
            o.put("file", String.valueOf(p.path()));
            list.add(o);
        }
        m.put("plugins", list);
        List<Object> opts = new ArrayList<>();
        for (ConfigKeys.Key k : set.all()) {
            if (k.plugin().isEmpty()) {
                continue;
            }
            java.util.Map<String, Object> o = Json.object();
            o.put("plugin", k.plugin().get());
            o.put("option", "--" + k.name());
            o.put("commands", k.commands().stream().map(c -> c.name().toLowerCase(java.util.Locale.ROOT)).toList());
            o.put("default", k.defaultValue().orElse(null));
            o.put("description", k.description());
            opts.add(o);
        }
        m.put("options", opts);
        return m;
    }

    /** @return one row per plugin option: plugin (and its state), option, commands, default, description */
    static String optionTable(OptionSet set, List<PluginInfo> plugins) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"PLUGIN", "OPTION", "COMMANDS", "DEFAULT", "DESCRIPTION"});
        for (ConfigKeys.Key k : set.all()) {
            if (k.plugin().isEmpty()) {
                continue;
            }
            String id = k.plugin().get();
            boolean enabled = plugins.stream().anyMatch(p -> p.id().equals(id) && p.enabled());
            rows.add(new String[] {id + (enabled ? "" : " (disabled)"), "--" + OptionSet.usage(k).replace(' ', '='),
                String.join(",", k.commands().stream().map(c -> c.name().toLowerCase(java.util.Locale.ROOT)).toList()),
                k.defaultValue().orElse("-"), k.description()});
        }
        return ImageSummary.Tables.align(rows);
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
        return ImageSummary.Tables.align(rows);
    }

}
