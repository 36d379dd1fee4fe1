package dev.cryo.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * {@code check_blockers.c} running with everything a dump refuses in place (a deleted file, a pipe to a helper outside
 * the tree, an established TCP connection to {@link #server}, a namespace fd in a child): the tree of {@code cryo
 * check -t} and {@code cryo graph -t}. The child and the helper are tracked (killed with the bed); closing this closes
 * the connection and the listening socket.
 *
 * @param accepted this test's end of the workload's connection (the workload sends a byte after each of its checks)
 */
record BlockedTree(Workload w, long child, long helper, ServerSocket server, Socket accepted) implements AutoCloseable {
    /** Starts the workload, waits until the connection is accepted and the workload has checked itself once. */
    static BlockedTree start(TestBed bed) {
        ServerSocket server = null;
        try {
            server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            Workload w = bed.workloads().start("check_blockers", Integer.toString(server.getLocalPort()));
            long child = Long.parseLong(w.ready("child"));
            long helper = Long.parseLong(w.ready("helper"));
            bed.workloads().trackForeignPid(child);
            bed.workloads().trackForeignPid(helper);
            Socket accepted = server.accept();
            BlockedTree t = new BlockedTree(w, child, helper, server, accepted);
            w.assertVerifyPass();
            return t;
        } catch (IOException e) {
            closeQuietly(server);
            throw new UncheckedIOException(e);
        }
    }

    /** @return the workload's pipe's inode, as in {@code pipe:[N]} */
    String pipe() {
        return w.ready("pipe");
    }

    /** @return the next byte the workload sent on the connection (it sends {@code v} after each check) */
    int nextByte() throws IOException {
        return accepted.getInputStream().read();
    }

    @Override
    public void close() throws IOException {
        try {
            accepted.close();
        } finally {
            server.close();
        }
    }

    private static void closeQuietly(ServerSocket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already failing
            }
        }
    }
}
