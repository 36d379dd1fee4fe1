package dev.cryo.core.config;

import dev.cryo.api.Config;

import java.util.List;
import java.util.Optional;

/** PLACEHOLDER signature — replaced by the real config chain. */
public final class CryoConfig implements Config {
    @Override public Optional<String> value(String key) { throw new UnsupportedOperationException(); }
    @Override public List<String> values(String key) { throw new UnsupportedOperationException(); }
    @Override public boolean isSet(String key) { throw new UnsupportedOperationException(); }
    /** @return where the effective value of {@code key} came from, e.g. {@code /etc/cryo/cryo.conf:12} */
    public Optional<String> source(String key) { throw new UnsupportedOperationException(); }
}
