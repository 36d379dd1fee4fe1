package dev.cryo.cli;

import dev.cryo.api.CryoException;
import dev.cryo.api.Pid;
import dev.cryo.core.image.proto.PhaseTime;
import dev.cryo.core.image.proto.StatsEntry;

import java.nio.file.Path;
import java.util.Map;

/**
 * The one JSON object {@code --output json} prints on stdout, the same shape for every command:
 * <pre>
 * {"command":"dump","ok":true,"exitCode":0, ...what the command reports...}
 * {"command":"dump","ok":false,"exitCode":3,"error":{"code":"core/UNSUPPORTED_FD","category":"UNSUPPORTED",
 *   "message":"dump refused: ...","fix":"..."}}
 * </pre>
 * Documented in README ("Machine-readable output"); fields are only ever added.
 */
final class JsonResult {
    private JsonResult() {
    }

    /** @return {@code {"command":..,"ok":true,"exitCode":0}}, to which the command adds its fields */
    static Map<String, Object> success(String command) {
        Map<String, Object> m = Json.object();
        m.put("command", command);
        m.put("ok", true);
        m.put("exitCode", 0);
        return m;
    }

    /**
     * @return {@code {"command":..,"ok":true,"exitCode":0,"root":PID,"imagesDir":DIR}}: how dump and restore begin
     *         theirs
     */
    static Map<String, Object> success(String command, Pid root, Path imagesDir) {
        Map<String, Object> m = success(command);
        m.put("root", root.value());
        m.put("imagesDir", imagesDir.toString());
        return m;
    }

    static Map<String, Object> failure(String command, CryoException e) {
        Map<String, Object> m = Json.object();
        m.put("command", command);
        m.put("ok", false);
        m.put("exitCode", e.category().exitCode());
        m.put("error", error(e));
        return m;
    }

    /** @return {@code {"code":..,"category":..,"message":..,"fix":..}} ({@code fix} null when there is none) */
    static Map<String, Object> error(CryoException e) {
        Map<String, Object> m = Json.object();
        m.put("code", e.code());
        m.put("category", e.category().name());
        m.put("message", e.getMessage());
        m.put("fix", e.fix());
        return m;
    }

    /**
     * @return the statistics of a pipeline: counts, {@code pagesBytes}, {@code pagesScanned} (dump),
     *         {@code pagesWritten} (restore: pages loaded), {@code imageBytes}, {@code totalUs}, {@code startupUs},
     *         {@code frozenUs} (dump, check) and {@code phasesUs} (phase name to microseconds, pipeline order)
     */
    static Map<String, Object> stats(StatsEntry s) {
        Map<String, Object> m = Json.object();
        m.put("processes", s.getProcesses());
        m.put("threads", s.getThreads());
        m.put("mappings", s.getMappings());
        m.put("fds", s.getFds());
        m.put("pagesBytes", s.getPagesBytes());
        m.put("pagesScanned", s.getPagesScanned());
        m.put("pagesWritten", s.getPagesWritten());
        m.put("imageBytes", s.getImageBytes());
        m.put("totalUs", s.getTotalUs());
        m.put("startupUs", s.getStartupUs());
        m.put("frozenUs", s.getFrozenUs());
        Map<String, Object> phases = Json.object();
        for (PhaseTime p : s.getPhasesList()) {
            phases.put(p.getName(), p.getUs());
        }
        m.put("phasesUs", phases);
        return m;
    }
}
