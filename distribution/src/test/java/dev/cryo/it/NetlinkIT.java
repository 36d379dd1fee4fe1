package dev.cryo.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Netlink sockets (the {@code netlink} plugin, {@code netlink_sockets.c}): a bound NETLINK_ROUTE socket with groups
 * below and above 32 and options, an unbound NETLINK_GENERIC one and one connected to the kernel come back with the
 * same port ids, groups and options, and the restored process still hears of an address it adds. Unread messages are
 * refused, the process unharmed. dnsmasq ({@code PackagedServersIT}) is the real program.
 */
class NetlinkIT extends WithTestBed {

    @Test
    void netlinkSocketsComeBackWithTheirPortIdsGroupsAndOptions() {
        Workload w = bed.workloads().start("netlink_sockets");
        w.assertVerifyPass();
        assertTrue(bed.dumpRestoreAndVerify(w).contains("notifications"));
    }

    @Test
    void unreadNetlinkMessagesAreRefused() {
        Workload w = bed.workloads().start("netlink_sockets", "unread");
        CryoResult r = bed.cryo().dump(w.pid(), bed.newImageDir());
        r.assertFailedWithFix(CryoResult.UNSUPPORTED).assertStderrNamesPid(w.pid())
                .assertStderrMentions(w.comm(), "fd 3", "NETLINK_ROUTE", "not read", "netlink/UNREAD");
        w.assertLeftRunning();
        w.kill();
    }
}
