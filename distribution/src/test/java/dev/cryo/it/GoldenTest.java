package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Golden#normalize}: what varies from run to run becomes a token, the rest (the format) stays as it was. */
class GoldenTest {
    @Test
    void rightAlignedNumbersKeepTheirColumnAndUnitsBecomeTokens() {
        assertEquals("  freeze                  N ms\n  pages written           N (N <unit>)\n",
                Golden.normalize("  freeze                0.4 ms\n  pages written       12345 (920 KiB)\n", List.of()));
    }

    @Test
    void pidsObjectsBarsClocksAndPathsBecomeTokens() {
        assertEquals("\"p<pid1>\" -> \"o:pipe:<ino1>\" [label=\"fd N (w)\"]; <pid2> pipe:[<ino1>]"
                + " o:regular-file:<ino2>", Golden.normalize("\"p4321\" -> \"o:pipe:777\" [label=\"fd 3 (w)\"]; 4322"
                + " pipe:[777] o:regular-file:3.99", List.of(4321L, 4322L)));
        assertEquals("dump N% [<bar>] N/N <unit> (H:MM:SS / H:MM:SS) N <unit>/s write",
                Golden.normalize("dump 42% [====>     ] 216/512 MiB (0:00:02 / 0:00:03) 108.5 MiB/s write", List.of()));
        assertEquals("restore N% [<bar>] N/N <unit> (H:MM:SS / H:MM:SS) N <unit>/s resume",
                Golden.normalize("restore 100% [=====] 256/256 MiB (0:00:00 / ?) ? MiB/s resume", List.of()));
        assertEquals("<testdir>/a .../work/x.log 0x<hex> v0.1.0 pid7",
                Golden.normalize("/tmp/j-1/a ...3690716820428/work/x.log 0x7ffd12 v0.1.0 pid7",
                        List.of(), Map.of("/tmp/j-1", "<testdir>")));
    }
}
