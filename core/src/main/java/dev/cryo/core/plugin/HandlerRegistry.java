package dev.cryo.core.plugin;

import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.api.FdHandler;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.MemoryHandler;

import java.util.List;
import java.util.Optional;

/** The extensions the pipelines use, in dispatch order, and which plugin each came from. */
public interface HandlerRegistry {
    List<FdHandler> fdHandlers();

    List<MemoryHandler> memoryHandlers();

    List<ExternalPeerHandler> externalPeerHandlers();

    List<LifecycleListener> lifecycleListeners();

    /** @return the plugin with this id, enabled or not */
    Optional<PluginInfo> plugin(String id);

    /** @return the id of the plugin that contributed {@code extension} */
    String pluginIdOf(Object extension);

    /** @return the plugins found but not enabled, with why and how to enable them */
    List<PluginHost.DisabledPlugin> disabledPlugins();
}
