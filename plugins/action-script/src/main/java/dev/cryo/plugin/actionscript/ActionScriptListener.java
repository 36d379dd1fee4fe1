package dev.cryo.plugin.actionscript;

import dev.cryo.api.CryoException;
import dev.cryo.api.LifecycleEvent;
import dev.cryo.api.LifecycleListener;
import dev.cryo.api.PluginOption;
import org.pf4j.Extension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * CRIU's {@code --action-script PATH}: the user's scripts, run at the points of a dump and a restore where CRIU runs
 * them, with CRIU's environment ({@link ActionScripts}). The points, in the order a dump and a restore reach them:
 *
 * <table>
 *   <caption>actions</caption>
 *   <tr><th>{@code CRTOOLS_SCRIPT_ACTION}</th><th>when (lifecycle call)</th><th>a script exiting non-zero</th></tr>
 *   <tr><td>{@code pre-dump}</td><td>before the tree is frozen ({@code preDump})</td>
 *       <td>refuses the dump; the tree was never stopped</td></tr>
 *   <tr><td>{@code network-lock}</td><td>the tree is frozen, nothing read yet ({@code postFreeze})</td>
 *       <td>fails the dump; the tree is resumed, {@code network-unlock} runs</td></tr>
 *   <tr><td>{@code post-dump}</td><td>the image is complete, the tree not yet killed, resumed or left stopped
 *       ({@code postDump})</td><td>fails the dump; the image stays, the tree is resumed (as CRIU: the tree runs on),
 *       {@code network-unlock} runs</td></tr>
 *   <tr><td>{@code network-unlock}</td><td>dump: after {@code post-dump} when the tree runs on ({@code -R}), or after a
 *       failure once {@code network-lock} ran ({@code onFailure}); restore: after {@code post-restore}</td>
 *       <td>as the action it follows; after a failure only logged</td></tr>
 *   <tr><td>{@code pre-restore}</td><td>the image is checked, no process exists yet ({@code preRestore})</td>
 *       <td>refuses the restore; nothing was created</td></tr>
 *   <tr><td>{@code post-restore}</td><td>every process is rebuilt and still stopped ({@code postRestore})</td>
 *       <td>fails the restore; the restored processes are killed</td></tr>
 *   <tr><td>{@code post-resume}</td><td>the restored tree runs (not with {@code -s}) ({@code postResume})</td>
 *       <td>reported as a failure; the processes run on</td></tr>
 * </table>
 *
 * <p>As in CRIU, {@code network-lock} and {@code network-unlock} bracket the time the tree must not talk to the
 * outside: a tree dumped and killed stays locked until its restore unlocks it; with {@code -s} (left stopped) the
 * dump does not unlock either. CRIU runs them only for a dumped network namespace; cryo dumps none, so it runs them
 * always, at the same points. CRIU's {@code setup-namespaces} and {@code post-setup-namespaces} are not run: cryo
 * creates no namespaces. In a dry run ({@code cryo check -t}) no script runs; each must exist and be executable.
 *
 * <p>One instance serves one command; state is reset by {@code preDump} and {@code preRestore}. Threading: the
 * tracer thread only.
 */
@Extension
@PluginOption(name = ActionScripts.OPTION, shape = PluginOption.Shape.VALUE, repeatable = true, valueHint = "PATH",
        help = "Run the executable PATH at each step of the dump or restore, as CRIU does: CRTOOLS_SCRIPT_ACTION"
                + " names the step (pre-dump, network-lock, post-dump, network-unlock, pre-restore, post-restore,"
                + " post-resume), CRTOOLS_IMAGE_DIR the image directory, CRTOOLS_INIT_PID the root pid. A script"
                + " exiting non-zero fails the dump or restore there.")
public final class ActionScriptListener implements LifecycleListener {
    private static final Logger LOG = LoggerFactory.getLogger(ActionScriptListener.class);

    private ActionScripts scripts;
    /** A dump that ran (or tried) {@code network-lock} and has not unlocked yet. */
    private boolean networkLocked;
    private boolean restoring;

    /** Resets the state for a new command and reads its scripts, each of which must be executable. */
    private void start(LifecycleEvent event, boolean restore) throws CryoException {
        restoring = restore;
        networkLocked = false;
        scripts = ActionScripts.of(event.config().values(ActionScripts.OPTION));
        scripts.checkRunnable();
    }

    @Override
    public void preDump(LifecycleEvent event) throws CryoException {
        start(event, false);
        if (!event.dryRun()) {
            scripts.run(ActionScripts.Action.PRE_DUMP, event, true);
        }
    }

    @Override
    public void postFreeze(LifecycleEvent event) throws CryoException {
        if (event.dryRun() || scripts.isEmpty()) {
            return;
        }
        networkLocked = true; // a lock script that failed half-way is unlocked too, as in CRIU
        scripts.run(ActionScripts.Action.NETWORK_LOCK, event, true);
    }

    @Override
    public void postDump(LifecycleEvent event) throws CryoException {
        if (event.dryRun() || scripts.isEmpty()) {
            return;
        }
        scripts.run(ActionScripts.Action.POST_DUMP, event, true);
        if (event.config().isSet("leave-running")) {
            networkLocked = false;
            scripts.run(ActionScripts.Action.NETWORK_UNLOCK, event, true);
        }
    }

    @Override
    public void preRestore(LifecycleEvent event) throws CryoException {
        start(event, true);
        scripts.run(ActionScripts.Action.PRE_RESTORE, event, false); // as CRIU: no process, no CRTOOLS_INIT_PID yet
    }

    @Override
    public void postRestore(LifecycleEvent event) throws CryoException {
        if (scripts.isEmpty()) {
            return;
        }
        scripts.run(ActionScripts.Action.POST_RESTORE, event, true);
        scripts.run(ActionScripts.Action.NETWORK_UNLOCK_RESTORE, event, true);
    }

    @Override
    public void postResume(LifecycleEvent event) throws CryoException {
        if (!scripts.isEmpty()) {
            scripts.run(ActionScripts.Action.POST_RESUME, event, true);
        }
    }

    @Override
    public void onFailure(LifecycleEvent event, CryoException cause) {
        if (restoring || !networkLocked || scripts == null) {
            return;
        }
        networkLocked = false;
        try {
            scripts.run(ActionScripts.Action.NETWORK_UNLOCK, event, true);
        } catch (CryoException e) {
            LOG.warn("{}", e.getMessage());
        }
    }

    /** @return the scripts of this command, in the order given; empty before {@code preDump}/{@code preRestore} */
    List<String> scripts() {
        return scripts == null ? List.of() : scripts.paths();
    }
}
