package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Golden files for what a person sees: the expected text lives in {@code src/test/resources/golden/NAME}; the actual
 * text is first normalized (what changes from run to run replaced by stable tokens) and must then equal it byte for
 * byte, so a test fails when the format changes. {@code -Dgolden.update=true} writes the normalized actual text into
 * the source tree instead (run from the {@code distribution} module, as failsafe does), to be reviewed in the diff.
 *
 * <p>Normalizing, in this order: the strings the test names (its temporary directory); the cut first component of a
 * path shortened to its tail ({@code ...123/work/x} becomes {@code .../work/x}); the pids the test names, in order
 * ({@code <pid1>}, ...; also inside graph node names like {@code p1234}); kernel object ids in {@code pipe:[N]}, {@code
 * socket:[N]} and graph object nodes ({@code o:pipe:N}, {@code o:regular-file:DEV.INO}), numbered by first appearance
 * ({@code <ino1>}, ...); a progress bar {@code [===>  ]}, whose width follows the terminal's ({@code [<bar>]}); hex
 * addresses ({@code 0x<hex>}); durations {@code H:MM:SS}; every other number ({@code N}), a right-aligned number
 * keeping its end column (the padding before it grows by what it lost); and size units ({@code B}/{@code KiB}/{@code
 * MiB}/{@code GiB}, which follow a size's magnitude) as {@code <unit>}. A progress line's rate or ETA not known yet
 * ({@code ?}) counts as a number.
 */
final class Golden {
    private static final Pattern OBJECT = Pattern.compile("((?:pipe|socket):\\[|o:[a-z-]+:)(\\d+(?:\\.\\d+)?)");
    private static final Pattern TRUNCATED = Pattern.compile("\\.\\.\\.[^/\\s\"\\\\]*/");
    private static final Pattern BAR = Pattern.compile("\\[[=> ]+\\]");
    private static final Pattern HEX = Pattern.compile("0x[0-9a-f]+");
    private static final Pattern CLOCK = Pattern.compile("\\b\\d+:\\d\\d:\\d\\d\\b");
    private static final Pattern NUMBER = Pattern.compile("( *)(?<![\\w.])(\\d+(?:\\.\\d+)?)(?![\\w.])");
    private static final Pattern UNKNOWN_RATE = Pattern.compile("\\?(?= [KMG]?i?B/s)");
    private static final Pattern UNKNOWN_ETA = Pattern.compile("(?<=/ )\\?(?=\\))");
    private static final Pattern UNIT = Pattern.compile("(?<=N )(B|KiB|MiB|GiB)\\b");

    private Golden() {
    }

    /** @return {@code text} with the run-dependent parts replaced (see the class comment); {@code pids} in order */
    static String normalize(String text, List<Long> pids) {
        return normalize(text, pids, Map.of());
    }

    /**
     * @param literals run-dependent strings (a test's temporary directory) and what to write instead, replaced first
     * @return {@code text} with the run-dependent parts replaced (see the class comment); {@code pids} in order
     */
    static String normalize(String text, List<Long> pids, Map<String, String> literals) {
        String s = text.replace("\r\n", "\n");
        for (Map.Entry<String, String> e : literals.entrySet()) {
            s = s.replace(e.getKey(), e.getValue());
        }
        s = TRUNCATED.matcher(s).replaceAll(".../");
        for (int i = 0; i < pids.size(); i++) {
            s = s.replaceAll("(?<!\\d)" + pids.get(i) + "(?!\\d)", "<pid" + (i + 1) + ">");
        }
        Map<String, String> objects = new LinkedHashMap<>();
        Matcher o = OBJECT.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (o.find()) {
            String id = objects.computeIfAbsent(o.group(2), k -> "<ino" + (objects.size() + 1) + ">");
            o.appendReplacement(sb, Matcher.quoteReplacement(o.group(1) + id));
        }
        o.appendTail(sb);
        s = BAR.matcher(sb.toString()).replaceAll("[<bar>]");
        s = HEX.matcher(s).replaceAll("0x<hex>");
        s = CLOCK.matcher(s).replaceAll("H:MM:SS");
        s = NUMBER.matcher(s).replaceAll(m -> {
            // a number after padding (two spaces or more) is right-aligned: keep the column where it ends
            int pad = m.group(1).length();
            return " ".repeat(pad >= 2 ? pad + m.group(2).length() - 1 : pad) + "N";
        });
        s = UNKNOWN_RATE.matcher(s).replaceAll("N");
        s = UNKNOWN_ETA.matcher(s).replaceAll("H:MM:SS");
        return UNIT.matcher(s).replaceAll("<unit>");
    }

    /** Asserts that {@code normalized} equals the golden file {@code name}, or writes it with -Dgolden.update=true. */
    static void assertMatches(String name, String normalized) {
        if (Boolean.getBoolean("golden.update")) {
            Path file = Path.of("src/test/resources/golden", name);
            try {
                Files.createDirectories(file.getParent());
                Files.writeString(file, normalized, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return;
        }
        String expected;
        try (InputStream in = Golden.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) {
                throw new AssertionError("no golden file golden/" + name + " (write it with -Dgolden.update=true)."
                        + " The normalized output:\n" + normalized);
            }
            expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertEquals(expected, normalized, "golden/" + name + " differs from what cryo printed (normalized); if the"
                + " change is intended, rewrite it with -Dgolden.update=true and review the diff");
    }
}
