package dev.cryo.core.plugin;

import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.api.FdHandler;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.MemoryHandler;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** PLACEHOLDER signature — replaced by the real PF4J host. */
public final class PluginHost implements AutoCloseable, HandlerRegistry {
    public static PluginHost start(Path pluginsDir, Config config) throws CryoException {
        throw new UnsupportedOperationException();
    }

    public List<FdHandler> fdHandlers() { throw new UnsupportedOperationException(); }
    public List<MemoryHandler> memoryHandlers() { throw new UnsupportedOperationException(); }
    public List<ExternalPeerHandler> externalPeerHandlers() { throw new UnsupportedOperationException(); }
    public List<LifecycleListener> lifecycleListeners() { throw new UnsupportedOperationException(); }
    public List<PluginInfo> plugins() { throw new UnsupportedOperationException(); }
    public Optional<PluginInfo> plugin(String id) { throw new UnsupportedOperationException(); }
    /** @return the id of the plugin that contributed {@code extension} */
    public String pluginIdOf(Object extension) { throw new UnsupportedOperationException(); }
    @Override public void close() { }
}
