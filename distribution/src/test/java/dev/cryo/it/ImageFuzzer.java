package dev.cryo.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Image fuzzing: real images of several workloads (dumped here, the originals killed), each copy mutated once ({@link
 * ImageMutator}), then {@code cryo show}, {@code cryo show --json} and {@code cryo restore -d} run on it with a bounded
 * heap ({@code CRYO_JAVA_OPTS=-Xmx}{@value #HEAP}). Every run must end within 30 s, exit non-zero with one readable
 * error ({@code [code]} line, no Java stack trace, no OutOfMemoryError, not an internal error) — or succeed: a {@code
 * show} may, a {@code show --json} may when its records parse as JSON and match each file's header count, and a restore
 * may when the mutation hit slack, in which case the restored process must pass its own check. After every restore no
 * process may be left behind: a failed restore's leftovers are a bad outcome, a successful one's tree is killed and
 * reaped. A restore that succeeds with a wrong process is a bad outcome for a mutation that left a checksum stale (it
 * got past the checksums), and is only counted ("undetectable") for a mutation after which every checksum matches, the
 * inventory's record counts and whole-file crc32c included: records or pages swapped, duplicated or dropped with the
 * inventory recomputed ({@code +digest}; e.g. the record of fd 1 dropped: a valid image of a process without a
 * stdout), or values changed with every checksum recomputed. Records or pages swapped, duplicated or dropped with only
 * the recorded size fixed are counted apart ("structural, stale digest") and must all be refused: any of them that
 * {@code restore} accepts is a bad outcome.
 *
 * <p>Used by {@code FuzzIT} (a small fixed-seed sample) and by {@code bench/fuzz.sh} through {@link #main}.
 */
final class ImageFuzzer {
    static final String HEAP = "96m";
    private static final Duration LIMIT = Duration.ofSeconds(30);
    private static final Pattern STACK = Pattern.compile("(?m)^\\s+at [\\w.$]+\\(|Exception in thread|Caused by: "
            + "|OutOfMemoryError|^java\\.lang\\.|StackOverflowError");
    private static final Pattern CODE_LINE = Pattern.compile("(?m)^\\[[a-z0-9-]+/[A-Z0-9_]+\\]$");

    /** A dumped image and the workload it came from (killed; its pid is free for restores). */
    record Base(Workload original, Path image) {
    }

    /** Counts; {@code bad} lists each bad outcome with its mutation and what went wrong. */
    static final class Summary {
        int tried;
        int cleanFailures;
        int correctRestores;
        int showOk;
        int showJsonOk;
        int undetectable;
        int structural;
        int structuralRefused;
        final List<String> bad = new ArrayList<>();
        final Map<String, Integer> codes = new LinkedHashMap<>();

        @Override
        public String toString() {
            return "mutations tried: " + tried + ", clean failures: " + cleanFailures + ", correct restores: "
                    + correctRestores + ", undetectable (every checksum right, restored but wrong): " + undetectable
                    + ", structural with stale digest refused: " + structuralRefused + "/" + structural
                    + ", bad outcomes: " + bad.size() + " (show succeeded on " + showOk + ", show --json on "
                    + showJsonOk + "); error codes: " + codes;
        }
    }

    private final TestBed bed;
    private final Cryo cryo;
    private final Path work;

    ImageFuzzer(TestBed bed) {
        this.bed = bed;
        this.cryo = bed.cryo().environment("CRYO_JAVA_OPTS", "-Xmx" + HEAP + " -XX:+ExitOnOutOfMemoryError");
        this.work = bed.root().resolve("fuzz");
    }

    /** Dumps one image of each of several workloads: one process, threads, a pipe, a tree with a pipe between. */
    List<Base> dumpBases() {
        List<Base> bases = new ArrayList<>();
        for (String[] w : List.of(new String[] {"st_workload"}, new String[] {"with_thread"},
                new String[] {"with_pipe"}, new String[] {"pipe_tree", "pair"})) {
            Workload original = bed.workloads().start(w[0], java.util.Arrays.copyOfRange(w, 1, w.length));
            original.assertVerifyPass();
            bases.add(new Base(original, bed.dumpAndAwaitGone(original)));
        }
        return bases;
    }

    /** Runs {@code count} mutations from {@code seed}; prints one line per bad outcome and progress to stdout. */
    Summary run(List<Base> bases, int count, long seed) throws IOException {
        Random random = new Random(seed);
        ImageMutator mutator = new ImageMutator(random);
        Summary s = new Summary();
        for (int i = 0; i < count; i++) {
            Base base = bases.get(random.nextInt(bases.size()));
            Path copy = work.resolve("m-" + i);
            copyDir(base.image(), copy);
            ImageMutator.Mutation m = mutator.mutate(copy);
            s.tried++;
            try {
                one(base, copy, m, s);
            } finally {
                cleanUp();
                deleteDir(copy);
            }
            if ((i + 1) % 50 == 0) {
                System.out.println("[fuzz] " + (i + 1) + "/" + count + ": " + s);
            }
        }
        return s;
    }

    private void one(Base base, Path image, ImageMutator.Mutation m, Summary s) {
        CryoResult show = bounded("show", "-D", image.toString());
        String showProblem = problem(show, true);
        if (showProblem != null) {
            bad(s, m, "show: " + showProblem, show);
            return;
        }
        if (show.exit() == 0) {
            s.showOk++;
        }
        CryoResult json = bounded("show", "--json", "-D", image.toString());
        String jsonProblem = problem(json, true);
        if (jsonProblem == null && json.exit() == 0) {
            jsonProblem = unparsable(json.stdout());
        }
        if (jsonProblem != null) {
            bad(s, m, "show --json: " + jsonProblem, json);
            return;
        }
        if (json.exit() == 0) {
            s.showJsonOk++;
        }
        // on a shared machine another program may have taken the image's pid meanwhile: that one is not a leftover
        java.util.Optional<ProcStat> stranger = ProcStat.read(base.original().pid()).filter(st -> !st.isZombie());
        CryoResult restore = bounded("restore", "-D", image.toString(), "-d", "--skip-file-size-check");
        String problem = problem(restore, false);
        boolean structural = !m.checksummed() && m.kind().matches("(swap|duplicate|drop)-(records?|pages)");
        if (structural) {
            s.structural++;
        }
        if (problem != null) {
            bad(s, m, "restore: " + problem, restore);
            return;
        }
        if (restore.exit() != 0) {
            String left = leftBehind(base, stranger);
            if (left != null) {
                bad(s, m, "restore failed but left " + left, restore);
                return;
            }
            s.cleanFailures++;
            if (structural) {
                s.structuralRefused++;
            }
            String code = CODE_LINE.matcher(restore.stderr()).results().reduce((a, b) -> b).map(r -> r.group())
                    .orElse("?");
            s.codes.merge(code, 1, Integer::sum);
            return;
        }
        if (structural && !unchanged(base.image(), image, m.file())) {
            // the inventory's whole-file checksum of this file is stale: restore must have refused it
            bad(s, m, "restore accepted records or pages swapped, duplicated or dropped (stale whole-file checksum)",
                    restore);
            cleanUpRestored(base);
            return;
        }
        String verdict;
        try {
            Workload r = bed.workloads().adoptRestored(base.original());
            verdict = r.verify();
        } catch (AssertionError e) {
            verdict = "no verdict: " + e.getMessage().lines().findFirst().orElse("");
        }
        if (verdict.startsWith("VERDICT PASS")) {
            s.correctRestores++;
        } else if (m.checksummed()) {
            s.undetectable++;
        } else {
            bad(s, m, "restore succeeded past stale checksums, and the process is wrong: " + verdict, restore);
        }
    }

    /** @return whether the mutation left the file as it was (e.g. two equal records swapped) */
    private static boolean unchanged(Path original, Path mutated, String file) {
        try {
            return java.util.Arrays.equals(Files.readAllBytes(original.resolve(file)),
                    Files.readAllBytes(mutated.resolve(file)));
        } catch (IOException e) {
            return false;
        }
    }

    /** Kills the tree a restore that should have failed created (its pid is the original's). */
    private void cleanUpRestored(Base base) {
        try {
            bed.workloads().adoptRestored(base.original()).verify();
        } catch (AssertionError ignored) {
            // only its end matters here; cleanUp kills what is left
        }
    }

    /** @return why a successful {@code show --json}'s output is not what it promises (JSON records whose count
     *      matches each file's header), or null */
    private static String unparsable(String stdout) {
        try {
            ShowOutput.parse(stdout);
            return null;
        } catch (AssertionError | RuntimeException e) {
            return "exit 0 but the output does not parse: " + e.getMessage().lines().findFirst().orElse("");
        }
    }

    /** @return what is wrong with how the command ended, or null */
    private static String problem(CryoResult r, boolean zeroOk) {
        String all = r.stdout() + "\n" + r.stderr();
        if (r.exit() == -1) {
            return "did not end within " + LIMIT.toSeconds() + " s";
        }
        if (STACK.matcher(all).find()) {
            return "a Java stack trace or OutOfMemoryError in the output";
        }
        if (r.exit() == 0) {
            return null;
        }
        if (r.exit() == CryoResult.INTERNAL || r.exit() >= 128) {
            return "exit " + r.exit() + " (internal error or killed)";
        }
        if (!CODE_LINE.matcher(r.stderr()).find()) {
            return "exit " + r.exit() + " without a [code] error line";
        }
        String first = r.stderr().lines().filter(l -> !l.isBlank()).findFirst().orElse("");
        if (first.length() > 2000) {
            return "an unreadable error line of " + first.length() + " characters";
        }
        return null;
    }

    private CryoResult bounded(String... args) {
        RunningCryo rc = cryo.start(args);
        try {
            return rc.awaitExit(LIMIT);
        } catch (AssertionError timeout) {
            rc.process().destroyForcibly();
            CryoResult snap = rc.snapshot();
            return new CryoResult(snap.command(), -1, snap.stdout(), snap.stderr());
        }
    }

    /**
     * @param stranger the process that held the image's pid before the restore (not cryo's), if any
     * @return a description of a process left at one of the image's pids or under this JVM, or null
     */
    private String leftBehind(Base base, java.util.Optional<ProcStat> stranger) {
        for (int i = 0; i < 50; i++) {
            ProcessControl.reapOrphans();
            if (ProcStat.read(base.original().pid()).filter(st -> !st.isZombie())
                    .filter(st -> stranger.map(s -> s.startTime() != st.startTime()).orElse(true)).isEmpty()
                    && liveOrphans().isEmpty()) {
                return null;
            }
            ProcessControl.sleep(40);
        }
        return "pid " + base.original().pid() + ": " + ProcStat.read(base.original().pid()).map(Object::toString)
                .orElse("gone") + ", orphans " + liveOrphans();
    }

    private static List<String> liveOrphans() {
        List<String> out = new ArrayList<>();
        long self = ProcessControl.selfPid();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                if (n.chars().allMatch(Character::isDigit)) {
                    ProcStat.read(Long.parseLong(n)).filter(st -> st.ppid() == self && !st.isZombie()
                            && !st.comm().equals("java") && !st.comm().equals("cryo"))
                            .ifPresent(st -> out.add(st.toString()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static void cleanUp() {
        for (int i = 0; i < 3; i++) {
            ProcessControl.killOrphans(Duration.ofSeconds(5));
        }
    }

    private static void bad(Summary s, ImageMutator.Mutation m, String what, CryoResult r) {
        String out = r.describe();
        // a run that printed without end (what made it slow, often) is shown by its start and its end
        String shown = out.length() <= 20_000 ? out : out.substring(0, 10_000) + "\n  [... " + (out.length() - 20_000)
                + " characters ...]\n" + out.substring(out.length() - 10_000);
        String line = "BAD " + m + ": " + what + "\n" + shown;
        s.bad.add(line);
        System.out.println(line);
    }

    static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }

    static void deleteDir(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** {@code bench/fuzz.sh}: {@code ImageFuzzer N SEED WORKDIR}; exit 1 when there was a bad outcome. */
    public static void main(String[] args) throws Exception {
        int count = Integer.parseInt(args[0]);
        long seed = Long.parseLong(args[1]);
        Path dir = Path.of(args[2]);
        int bad;
        try (TestBed bed = new TestBed(dir)) {
            ImageFuzzer fuzzer = new ImageFuzzer(bed);
            List<Base> bases = fuzzer.dumpBases();
            long t0 = System.nanoTime();
            Summary s = fuzzer.run(bases, count, seed);
            System.out.println("seed " + seed + ", " + (System.nanoTime() - t0) / 1_000_000_000 + " s: " + s);
            bad = s.bad.size();
        }
        System.exit(bad == 0 ? 0 : 1);
    }
}
