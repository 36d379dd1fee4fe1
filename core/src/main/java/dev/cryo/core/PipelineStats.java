package dev.cryo.core;

import dev.cryo.api.CryoException;
import dev.cryo.core.image.ImageDir;
import dev.cryo.core.image.ImageFormat;
import dev.cryo.core.image.proto.PhaseTime;
import dev.cryo.core.image.proto.StatsEntry;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Per-phase wall times of one dump or restore, kept in the image ({@code stats-dump.img}, {@code stats-restore.img})
 * and logged with {@code -v}. A phase may be timed many times (once per process); its times add up. Used by one
 * pipeline thread.
 */
public final class PipelineStats {
    /** System property bin/cryo sets to its start time ({@code $EPOCHREALTIME}: seconds with microseconds). */
    public static final String LAUNCHED_PROPERTY = "cryo.launched";

    private final String command;
    private final long startNs = System.nanoTime();
    private final long startUnixMs = System.currentTimeMillis();
    private final long startupUs = startupUs(startUnixMs);
    private final Map<String, Long> phasesNs = new LinkedHashMap<>();
    private final StatsEntry.Builder counts = StatsEntry.newBuilder();
    private long frozenAtNs;
    private long frozenNs;
    private long phaseStartNs;
    private String phase;
    private Progress progress = Progress.NONE;
    /** The phase {@link #progress} was last told of (phases alternate per process: told once per change). */
    private String lastTold;

    /** @param command {@code dump} or {@code restore}; the clock starts now */
    public PipelineStats(String command) {
        this.command = command;
    }

    /** Ends the phase running, if any, and starts {@code name}; {@code progress} hears of each new phase. */
    public void begin(String name) {
        end();
        if (!name.equals(lastTold)) {
            progress.phase(name);
            lastTold = name;
        }
        phase = name;
        phaseStartNs = System.nanoTime();
    }

    /** The display that hears of the phases; {@link Progress#NONE} by default. */
    public PipelineStats progress(Progress p) {
        progress = p;
        return this;
    }

    /** Ends the phase running, if any, adding its time. */
    public void end() {
        if (phase != null) {
            add(phase, System.nanoTime() - phaseStartNs);
            phase = null;
        }
    }

    /** Adds {@code nanos} to phase {@code name}. */
    public void add(String name, long nanos) {
        // no method reference: phases begin and end while a tree is frozen, where linking one costs (issue 13)
        Long before = phasesNs.get(name);
        phasesNs.put(name, before == null ? nanos : before + nanos);
    }

    /** The tree is stopped from now on (dump). */
    public void frozen() {
        frozenAtNs = System.nanoTime();
    }

    /** The tree runs again, is left stopped or was killed (dump). */
    public void released() {
        if (frozenAtNs != 0 && frozenNs == 0) {
            frozenNs = System.nanoTime() - frozenAtNs;
        }
    }

    /** @return the builder of the counters (processes, threads, mappings, fds, pages bytes, fsync) */
    public StatsEntry.Builder counts() {
        return counts;
    }

    /** Ends the phase running and @return the statistics so far ({@code pages_written} from the page bytes) */
    public StatsEntry finish() {
        end();
        StatsEntry.Builder b = counts.clone().setCommand(command).setStartUnixMs(startUnixMs)
                .setPagesWritten(counts.getPagesBytes() / ImageFormat.PAGE_SIZE)
                .setTotalUs((System.nanoTime() - startNs) / 1000).setStartupUs(startupUs)
                .setFrozenUs(frozenNs / 1000).clearPhases();
        for (Map.Entry<String, Long> phase : phasesNs.entrySet()) {
            b.addPhases(PhaseTime.newBuilder().setName(phase.getKey()).setUs(phase.getValue() / 1000));
        }
        return b.build();
    }

    /** @return e.g. {@code dump: startup 182 ms, freeze 0.4 ms, ..., total 31 ms, frozen 29 ms; 1 process, ...} */
    public static String describe(StatsEntry s) {
        StringBuilder sb = new StringBuilder(s.getCommand()).append(':');
        if (s.getStartupUs() > 0) {
            sb.append(" startup ").append(ms(s.getStartupUs())).append(',');
        }
        for (PhaseTime p : s.getPhasesList()) {
            sb.append(' ').append(p.getName()).append(' ').append(ms(p.getUs())).append(',');
        }
        sb.append(" total ").append(ms(s.getTotalUs()));
        if (s.getFrozenUs() > 0) {
            sb.append(", frozen ").append(ms(s.getFrozenUs()));
        }
        sb.append("; ").append(s.getProcesses()).append(s.getProcesses() == 1 ? " process, " : " processes, ")
                .append(s.getThreads()).append(" threads, ").append(s.getMappings()).append(" mappings, ")
                .append(s.getFds()).append(" fds, ").append(mib(s.getPagesBytes())).append(" of pages");
        if (s.getPagesScanned() > 0 || s.getPagesWritten() > 0) {
            sb.append(", pages ").append(s.getCommand().equals("restore") ? "loaded " : "scanned ")
                    .append(s.getCommand().equals("restore") ? s.getPagesWritten() : s.getPagesScanned());
            if (!s.getCommand().equals("restore")) {
                sb.append(", written ").append(s.getPagesWritten());
            }
        }
        if (s.getImageBytes() > 0) {
            sb.append(", image ").append(mib(s.getImageBytes()));
        }
        if (s.getFsync()) {
            sb.append(", fsync");
        }
        return sb.toString();
    }

    /**
     * @return the statistics as {@code --stats} prints them, one figure a line, e.g.
     *         <pre>
     * dump statistics
     *   freeze          0.4 ms
     *   ...
     *   total            31 ms
     *   frozen           29 ms
     *   pages scanned    6012
     *   pages written     230 (920 KiB)
     *   image bytes    958464 (936 KiB)
     *         </pre>
     */
    public static String report(StatsEntry s) {
        StringBuilder sb = new StringBuilder(s.getCommand()).append(" statistics\n");
        if (s.getStartupUs() > 0) {
            line(sb, "startup", ms(s.getStartupUs()));
        }
        for (PhaseTime p : s.getPhasesList()) {
            line(sb, p.getName(), ms(p.getUs()));
        }
        line(sb, "total", ms(s.getTotalUs()));
        if (s.getFrozenUs() > 0) {
            line(sb, "frozen", ms(s.getFrozenUs()));
        }
        line(sb, "processes", Integer.toString(s.getProcesses()));
        line(sb, "threads", Integer.toString(s.getThreads()));
        line(sb, "mappings", Integer.toString(s.getMappings()));
        line(sb, "fds", Integer.toString(s.getFds()));
        boolean restore = s.getCommand().equals("restore");
        if (!restore) {
            line(sb, "pages scanned", Long.toString(s.getPagesScanned()));
        }
        line(sb, restore ? "pages loaded" : "pages written",
                s.getPagesWritten() + " (" + mib(s.getPagesBytes()) + ")");
        if (s.getImageBytes() > 0) {
            line(sb, restore ? "image read" : "image bytes", s.getImageBytes() + " (" + mib(s.getImageBytes()) + ")");
        }
        if (s.getFsync()) {
            line(sb, "fsync", "yes");
        }
        return sb.toString();
    }

    /** One figure, its number right-aligned and its unit or comment after it. */
    private static void line(StringBuilder sb, String name, String value) {
        int sp = value.indexOf(' ');
        String number = sp < 0 ? value : value.substring(0, sp);
        String rest = sp < 0 ? "" : value.substring(sp);
        sb.append(String.format(Locale.ROOT, "  %-14s %10s%s", name, number, rest)).append('\n');
    }

    /**
     * Logs the statistics ({@code -v}) and keeps them in {@code image} as {@code fileName}. The pipeline is over (the
     * image complete, the tree released): a file that cannot be written is a warning, not a failure.
     */
    public static void keep(ImageDir image, String fileName, StatsEntry stats, org.slf4j.Logger log) {
        if (log.isInfoEnabled()) {
            log.info("{}", describe(stats));
        }
        try {
            image.writeStats(fileName, stats);
        } catch (CryoException e) {
            log.warn("{} statistics not kept in the image: {}", stats.getCommand(), e.getMessage());
        }
    }

    /** @return {@code 0.4 ms} below 10 ms, {@code 31 ms} above */
    public static String describeUs(long us) {
        return ms(us);
    }

    /** @return {@code 92 KiB} below 1 MiB, {@code 40 MiB} above */
    public static String describeBytes(long bytes) {
        return mib(bytes);
    }

    private static String ms(long us) {
        if (us >= 10_000) {
            return (us / 1000) + " ms";
        }
        if (us < 0) { // never measured so; kept readable all the same
            return String.format(Locale.ROOT, "%.1f ms", us / 1000.0);
        }
        long tenths = (us + 50) / 100; // as %.1f rounds, without a Formatter on the path of every command
        return tenths / 10 + "." + tenths % 10 + " ms";
    }

    private static String mib(long bytes) {
        return bytes < (1 << 20) ? (bytes >> 10) + " KiB" : (bytes >> 20) + " MiB";
    }

    private static long startupUs(long nowUnixMs) {
        String launched = System.getProperty(LAUNCHED_PROPERTY);
        if (launched == null || launched.isBlank()) {
            return 0;
        }
        try {
            long launchedUs = (long) (Double.parseDouble(launched.replace(',', '.')) * 1_000_000);
            long us = nowUnixMs * 1000 - launchedUs;
            return us > 0 && us < 600_000_000L ? us : 0;
        } catch (NumberFormatException e) {
            return 0; // a launcher other than bin/cryo: unknown
        }
    }
}
