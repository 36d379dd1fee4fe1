package dev.acme.legacy;

import dev.cryo.api.CryoException;
import dev.cryo.api.FdDumpContext;
import dev.cryo.api.FdHandler;
import dev.cryo.api.FdInfo;
import dev.cryo.api.FdRestoreContext;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.RestoreOutcome;
import com.google.protobuf.Message;
import org.pf4j.Extension;

/**
 * A plugin compiled against cryo SPI 1.0.0 (cryo 0.1.0's api jar) and kept as a binary in
 * core/src/test/resources/spi-1.0/: it proves that SPI 1.x cores keep loading 1.0 plugins. It claims
 * fds whose link starts with "legacy:" (none exist) and counts preDump calls.
 */
@Extension
public final class LegacyListener implements FdHandler, LifecycleListener {
    public static int preDumps;

    @Override public String kind() { return "acme/legacy"; }
    @Override public boolean probe(FdInfo fd) { return fd.link().startsWith("legacy:"); }
    @Override public Message collect(FdDumpContext ctx, FdInfo fd) throws CryoException {
        throw new CryoException(CryoException.Category.UNSUPPORTED, "acme-legacy/NEVER", "never claims an fd");
    }
    @Override public RestoreOutcome restore(FdRestoreContext ctx) { return RestoreOutcome.DONE; }
    @Override public void preDump(LifecycleEvent event) { preDumps++; }
}
