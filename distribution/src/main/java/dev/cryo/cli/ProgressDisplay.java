package dev.cryo.cli;

import dev.cryo.core.Progress;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The progress line of {@code cryo dump} and {@code cryo restore} on stderr, drawn by the progressbar library
 * (me.tongfei:progressbar): phase, page bytes done of the total (a dump's total is an estimate, the tree's anonymous
 * memory, raised when passed), MiB/s and ETA, refreshed five times a second on one line. It appears only once the
 * pipeline has run for a second, only when stderr is a terminal, never with {@code --quiet} or {@code --output json};
 * it is closed (its last state left on its line) when the pipeline ends, before anything else is printed.
 */
final class ProgressDisplay implements Progress {
    /**
     * A pipeline shorter than this shows nothing: one second, or the milliseconds of the system property
     * {@code cryo.progress.delay-ms} (tests set 0 through {@code CRYO_JAVA_OPTS} so as not to depend on the speed of
     * the machine).
     */
    static final Duration DELAY = Duration.ofMillis(Long.getLong("cryo.progress.delay-ms", 1000));

    private final String command;
    private final long startNs = System.nanoTime();
    private final java.util.Timer timer = new java.util.Timer("cryo-progress", true);
    private ProgressBar bar;
    private String phase = "";
    private long total;
    private long done;
    private boolean over;

    private ProgressDisplay(String command) {
        this.command = command;
        timer.schedule(new java.util.TimerTask() {
            @Override
            public void run() {
                show();
            }
        }, DELAY.toMillis());
    }

    /** @return the display for {@code command} ({@code dump}, {@code restore}), or {@link Progress#NONE} when off */
    static Progress of(String command, Invocation invocation) {
        if (invocation.quiet() || OutputFormat.json() || !stderrIsTerminal()) {
            return Progress.NONE;
        }
        return new ProgressDisplay(command);
    }

    /** @return whether fd 2 is a terminal ({@code /dev/pts/N}, {@code /dev/ttyN}, the console) */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    @Override
    public synchronized void phase(String name) {
        phase = name;
        if (bar != null) {
            bar.setExtraMessage(" " + name);
        }
    }

    @Override
    public synchronized void total(long bytes) {
        total = Math.max(bytes, done);
        if (bar != null) {
            bar.maxHint(Math.max(total, 1));
        }
    }

    @Override
    public synchronized void advance(long bytes) {
        done += bytes;
        if (done > total) {
            total(done);
        }
        if (bar != null) {
            bar.stepTo(done);
        }
    }

    @Override
    public synchronized void finished() {
        over = true;
        timer.cancel();
        if (bar != null) {
            bar.stepTo(done);
            bar.close();
            bar = null;
        }
    }

    private synchronized void show() {
        if (over) {
            return;
        }
        // an unbuffered stream: each refresh reaches the terminal at once
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), false, StandardCharsets.UTF_8);
        bar = new ProgressBarBuilder().setTaskName(command).setInitialMax(Math.max(total, 1))
                .setUnit(" MiB", 1L << 20).showSpeed().setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(200).setConsumer(new ConsoleProgressBarConsumer(err))
                .startsFrom(0, Duration.ofNanos(System.nanoTime() - startNs)).build();
        bar.stepTo(done);
        bar.setExtraMessage(" " + phase);
    }
}
