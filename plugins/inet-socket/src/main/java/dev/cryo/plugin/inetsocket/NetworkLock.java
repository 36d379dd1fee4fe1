package dev.cryo.plugin.inetsocket;

import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The network lock of established TCP connections (CRIU's nftables lock): one nftables table of family
 * {@code inet}, named {@code cryo_lock_<root pid>_<time>}, with two base chains (hooks {@code input} and
 * {@code output}, priority -300, before conntrack) that drop every packet of the locked connections, both directions.
 * While it is in place the kernel neither answers the peer with a RST for a socket that is gone (between the kill
 * after dump and the restore) nor sends anything from a socket under repair; the peer retransmits and waits.
 *
 * <p>Taken at dump, before the first connection is put in repair mode; lifted by a dump that leaves the tree running
 * or stopped, by a failed dump, by the restore (after the connections are rebuilt) and by a failed restore. The table
 * carries a comment naming the dump and the command that removes it, so that a lock left by a crash of cryo can be
 * found ({@code nft list tables}) and lifted by hand: {@code nft delete table inet NAME}.
 *
 * <p>Runs the {@code nft} program ({@code nft -f -}, one atomic transaction per call).
 */
final class NetworkLock {
    /** A connection to lock: both addresses (IPv4-mapped addresses are locked as IPv4). */
    record Tuple(InetAddr local, InetAddr peer) {
    }

    private NetworkLock() {
    }

    /** @return a table name for a dump of {@code rootPid}, unique over time */
    static String tableName(int rootPid, long millis) {
        return "cryo_lock_" + rootPid + "_" + Long.toString(millis, 36);
    }

    /** @return the command a person runs to lift the locks by hand */
    static String removeCommand(List<String> tables) {
        StringBuilder sb = new StringBuilder();
        for (String t : tables) {
            sb.append(sb.length() == 0 ? "" : "; ").append("nft delete table inet ").append(t);
        }
        return sb.toString();
    }

    /** The nft script creating {@code table} and dropping every packet of {@code tuples}. */
    static String lockScript(String table, String comment, List<Tuple> tuples) {
        StringBuilder s = new StringBuilder();
        String c = comment.replace("\"", "'");
        c = c.length() > 128 ? c.substring(0, 128) : c; // nft's limit
        s.append("add table inet ").append(table).append(" { comment \"").append(c)
                .append("\" ; }\n");
        for (String hook : List.of("input", "output")) {
            s.append("add chain inet ").append(table).append(' ').append(hook).append(" { type filter hook ")
                    .append(hook).append(" priority -300 ; policy accept ; }\n");
        }
        Set<String> rules = new LinkedHashSet<>();
        for (Tuple t : tuples) {
            InetAddr a = t.local().unmapped(), b = t.peer().unmapped();
            rules.add(match(a, b));
            rules.add(match(b, a));
        }
        for (String hook : List.of("input", "output")) {
            for (String r : rules) {
                s.append("add rule inet ").append(table).append(' ').append(hook).append(' ').append(r)
                        .append(" drop\n");
            }
        }
        return s.toString();
    }

    /** {@code ip saddr A ip daddr B tcp sport P tcp dport Q}; IPv6 with {@code ip6}. */
    static String match(InetAddr from, InetAddr to) {
        String ip = from.family() == InetAddr.AF_INET ? "ip" : "ip6";
        return ip + " saddr " + from.host().replaceFirst("%.*$", "") + " " + ip + " daddr "
                + to.host().replaceFirst("%.*$", "") + " tcp sport " + from.port() + " tcp dport " + to.port();
    }

    /** Creates the table with its rules (one transaction). */
    static void lock(String table, String comment, List<Tuple> tuples) throws CryoException {
        run(lockScript(table, comment, tuples), "take the network lock (nftables table inet " + table + ")");
    }

    /** Deletes the table; a table already gone is fine. */
    static void unlock(String table) throws CryoException {
        try {
            run("delete table inet " + table + "\n", "lift the network lock (nftables table inet " + table + ")");
        } catch (CryoException e) {
            if (!e.getMessage().contains("No such file or directory")) {
                throw e;
            }
        }
    }

    /** @return whether the table exists now */
    static boolean exists(String table) {
        try {
            run("list table inet " + table + "\n", "list table " + table);
            return true;
        } catch (CryoException e) {
            return false;
        }
    }

    static String nft() throws CryoException {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nft"))) {
                return Path.of(dir, "nft").toString();
            }
        }
        throw new CryoException(Category.PLUGIN_CONFIG, "inet-socket/NO_NFT", "the nft program (nftables) is not"
                + " installed; --tcp-established needs it for the network lock",
                "install nftables (Debian: apt-get install nftables)");
    }

    private static void run(String script, String what) throws CryoException {
        List<String> cmd = new ArrayList<>(List.of(nft(), "-f", "-"));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "inet-socket/NFT", "cannot run nft to " + what + ": "
                    + e.getMessage());
        }
        try (OutputStream in = p.getOutputStream()) {
            in.write(script.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            p.destroyForcibly();
            throw new CryoException(Category.KERNEL, "inet-socket/NFT", "cannot write to nft to " + what + ": "
                    + e.getMessage());
        }
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new CryoException(Category.KERNEL, "inet-socket/NFT", "nft did not finish within 30 s trying to "
                        + what);
            }
        } catch (IOException e) {
            throw new CryoException(Category.KERNEL, "inet-socket/NFT", "cannot read nft's answer trying to " + what
                    + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new CryoException(Category.KERNEL, "inet-socket/NFT", "interrupted trying to " + what);
        }
        if (p.exitValue() != 0) {
            throw new CryoException(Category.KERNEL, "inet-socket/NFT", "nft failed to " + what + " (exit "
                    + p.exitValue() + "): " + out.replace('\n', ' '));
        }
    }
}
