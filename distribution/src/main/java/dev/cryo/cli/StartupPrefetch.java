package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.api.PluginOption;
import dev.cryo.core.CryoHome;
import dev.cryo.core.WarmUp;
import dev.cryo.core.plugin.PluginHost;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Start-up work moved off the main thread (issue 13): while the main thread builds the picocli model (whose first
 * use costs tens of milliseconds of reflection and annotation proxies), a daemon thread reads the plugins' option
 * declarations from their jars ({@link PluginHost#declaredOptions}) and then warms the pipeline of the command up
 * ({@link WarmUp}). The main thread takes the declarations when it merges them into the command line; it waits if the
 * thread has not finished them, and reads them itself on a machine with one processor (no thread is started then).
 * One instance per invocation, created on the main thread before anything logs.
 */
final class StartupPrefetch {
    private final FutureTask<Map<String, List<PluginOption>>> declared;

    private StartupPrefetch(CryoHome home) {
        declared = new FutureTask<>(() -> PluginHost.declaredOptions(home.pluginsDir()));
    }

    /**
     * Starts the work for {@code command} (the subcommand named on the command line, or null).
     *
     * @param home the distribution whose plugins are read
     */
    static StartupPrefetch start(String command, CryoHome home) {
        StartupPrefetch p = new StartupPrefetch(home);
        if (Runtime.getRuntime().availableProcessors() > 1) {
            Thread t = new Thread(() -> {
                p.declared.run();
                try {
                    if (command != null) {
                        WarmUp.forCommand(command);
                    }
                } catch (Throwable ignored) { // NOPMD - best effort: the pipeline meets any such error itself
                }
            }, "cryo-prefetch");
            t.setDaemon(true);
            t.start();
        }
        return p;
    }

    /**
     * @return every plugin jar's declared options, by plugin id (see {@link PluginHost#declaredOptions})
     * @throws CryoException as {@link PluginHost#declaredOptions} would have on this thread
     */
    Map<String, List<PluginOption>> declaredOptions() throws CryoException {
        declared.run(); // does nothing when the thread ran (or runs) it
        try {
            return declared.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the plugins' options", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CryoException c) {
                throw c;
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }
}
