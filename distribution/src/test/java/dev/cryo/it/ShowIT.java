package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code cryo show}: the readable summary of an image of {@code with_pipe} (the tree row, a maps-like table whose
 * hex ranges are those of /proc/PID/maps at the dump, the fd table with the pipe), {@code --pid}, {@code --file},
 * {@code --json} (with its decoded forms: named registers, hex addresses, flag names, zero values shown), and the
 * positional directory kept for compatibility.
 */
class ShowIT extends WithTestBed {
    @Test
    void summaryShowsTheTreeTheMappingsAndTheFds() throws IOException {
        Workload w = bed.workloads().start("with_pipe");
        List<String> maps = Files.readAllLines(Path.of("/proc/" + w.pid() + "/maps"));
        Path image = bed.newImageDir();
        bed.cryo().dump(w.pid(), image, "-R").assertOk();

        CryoResult r = bed.cryo().run("show", "-D", image.toString()).assertOk();
        String out = r.stdout();
        assertTrue(out.startsWith("image " + image + ": root pid " + w.pid()), out);
        assertTrue(out.contains("dump: "), "the dump's statistics:\n" + out);
        String row = out.lines().filter(l -> l.startsWith(w.pid() + " ")).findFirst().orElseThrow(() ->
                new AssertionError("no tree row for " + w.pid() + ":\n" + out));
        List<String> cols = List.of(row.trim().split("\\s+"));
        assertEquals(List.of(Long.toString(w.pid()), "1", "running", "with_pipe"),
                List.of(cols.get(0), cols.get(4), cols.get(5), cols.get(6)), row);
        assertEquals(Long.toString(w.pid()), cols.get(3), "sid: started with setsid: " + row);

        // every mapping of /proc/PID/maps at the dump, with its hex range and permissions
        for (String m : maps) {
            String[] f = m.trim().split("\\s+");
            String[] range = f[0].split("-");
            String start = String.format("%016x", Long.parseUnsignedLong(range[0], 16));
            String end = String.format("%016x", Long.parseUnsignedLong(range[1], 16));
            String line = out.lines().filter(l -> l.trim().startsWith(start + "  " + end)).findFirst()
                    .orElseThrow(() -> new AssertionError("mapping " + m + " missing:\n" + out));
            if (!m.contains("[v")) {
                assertTrue(line.contains(" " + f[1] + " "), "permissions of " + m + ": " + line);
            }
        }
        String rfd = w.ready("rfd");
        assertTrue(out.lines().anyMatch(l -> l.trim().startsWith(rfd + " ") && l.contains("pipe")),
                "fd " + rfd + " is a pipe:\n" + out);
        assertTrue(out.lines().anyMatch(l -> l.trim().startsWith("1 ") && l.contains("with_pipe.log")),
                "fd 1 is the log file:\n" + out);

        // one process; one file; the full records; the positional directory
        assertTrue(bed.cryo().run("show", "-D", image.toString(), "--pid", Long.toString(w.pid())).assertOk()
                .stdout().contains("pid " + w.pid() + " \"with_pipe\""));
        String pstree = bed.cryo().run("show", "-D", image.toString(), "--file", "pstree.img").assertOk().stdout();
        assertTrue(pstree.startsWith("# pstree.img (PSTREE, 1 records)"), pstree);
        assertFalse(pstree.contains("# inventory.img"), pstree);
        ShowOutput full = bed.cryo().show(image);
        assertEquals(1, full.records("pstree.img").size());
        String positional = bed.cryo().run("show", image.toString()).assertOk().stdout();
        assertEquals(out.lines().skip(3).toList(), positional.lines().skip(3).toList(), "the same summary");

        // --json decodes what numbers mean, next to them: named registers, hex addresses, flags, zero values shown
        Struct core = full.core(w.pid());
        Struct thread = ShowOutput.list(core, "threads").get(0).getStructValue();
        Struct regs = thread.getFieldsOrThrow("regs").getStructValue();
        assertEquals(27, regs.getFieldsCount(), ShowOutput.json(regs));
        long rip = Long.parseUnsignedLong(ShowOutput.list(thread, "gpregs").get(16).getStringValue());
        assertEquals("0x" + Long.toHexString(rip), ShowOutput.str(regs, "rip"));
        assertTrue(ShowOutput.str(regs, "rsp").startsWith("0x7ff"), "rsp in the stack: " + ShowOutput.json(regs));
        Struct cpu = ShowOutput.list(core, "rlimits").get(0).getStructValue();
        assertTrue(ShowOutput.has(cpu, "resource"), "a zero value is shown: " + ShowOutput.json(cpu));
        assertEquals("RLIMIT_CPU", ShowOutput.str(cpu, "name"));
        assertEquals("unlimited", ShowOutput.str(cpu, "cur_text"), ShowOutput.json(cpu));
        assertTrue(ShowOutput.has(core.getFieldsOrThrow("creds").getStructValue(), "uid"), "root's uid 0 is shown");
        assertEquals("0" + Long.toOctalString(ShowOutput.num(core, "umask")), ShowOutput.str(core, "umask_octal"));
        Struct usr2 = full.sigaction(w.pid(), 12).orElseThrow(() -> new AssertionError("no SIGUSR2 handler"));
        assertTrue(ShowOutput.str(usr2, "flags_names").contains("SA_RESTART"), ShowOutput.json(usr2));
        assertTrue(ShowOutput.str(usr2, "handler_hex").startsWith("0x"), ShowOutput.json(usr2));
        Struct readEnd = ShowOutput.fdRecord(full.fd(w.pid(), Long.parseLong(rfd)));
        assertTrue(ShowOutput.str(readEnd, "flags_names").startsWith("O_RDONLY"), ShowOutput.json(readEnd));
        assertEquals("cryo.plugin.pipe.PipeFdEntry", ShowOutput.str(readEnd, "@type"));
        assertEquals("PIPE_ACCESS_READ", ShowOutput.str(readEnd, "access"), "enums by name");
        Struct stack = full.vmas(w.pid()).stream().filter(v -> ShowOutput.str(v, "name").equals("[stack]"))
                .findFirst().orElseThrow();
        assertEquals("PROT_READ|PROT_WRITE", ShowOutput.str(stack, "prot_names"), ShowOutput.json(stack));
        assertEquals("0x" + Long.toHexString(ShowOutput.vmaStart(stack)), ShowOutput.str(stack, "start_hex"));

        CryoResult missing = bed.cryo().run("show");
        missing.assertFailedWithFix(CryoResult.USAGE).assertStderrMentions("-D", "[cli/MISSING_OPTION]");
        w.kill();
    }
}
