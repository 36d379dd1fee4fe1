package dev.cryo.core.dump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cryo.core.image.proto.CredsEntry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TaskAttributesTest {
    /** struct sock_filter: u16 code, u8 jt, u8 jf, u32 k. */
    private static byte[] prog(int[][] insns) {
        ByteBuffer b = ByteBuffer.allocate(insns.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int[] i : insns) {
            b.putShort((short) i[0]).put((byte) 0).put((byte) 0).putInt(i[1]);
        }
        return b.array();
    }

    @Test
    void userNotifReturnIsFound() {
        int ld = 0x20;
        int ret = 0x06;
        assertFalse(TaskAttributes.returnsUserNotif(prog(new int[][]{{ld, 0}, {ret, 0x7fff0000}, {ret, 0x00050012}})));
        assertTrue(TaskAttributes.returnsUserNotif(prog(new int[][]{{ld, 0}, {ret, 0x7fc00000}, {ret, 0x7fff0000}})));
        // a load of that constant is no return
        assertFalse(TaskAttributes.returnsUserNotif(prog(new int[][]{{0x00, 0x7fc00000}, {ret, 0x7fff0000}})));
    }

    @Test
    void credsOfAStatusFile() {
        Map<String, String> status = Map.of("Uid", "1000\t1001\t1002\t1000", "Gid", "2000\t2001\t2002\t2000",
                "Groups", "4242 4343 ");
        CredsEntry c = TaskAttributes.creds(status);
        assertEquals(1000, c.getUid());
        assertEquals(1001, c.getEuid());
        assertEquals(1002, c.getSuid());
        assertEquals(1000, c.getFsuid());
        assertEquals(2002, c.getSgid());
        assertEquals(java.util.List.of(4242, 4343), c.getGroupsList());
        assertEquals(0, TaskAttributes.creds(Map.of("Uid", "0 0 0 0", "Gid", "0 0 0 0")).getGroupsCount());
    }

    @Test
    void ksmMergeAnyFromKsmStat() {
        String off = "ksm_rmap_items 0\nksm_zero_pages 0\nksm_merging_pages 0\nksm_process_profit 0\n"
                + "ksm_merge_any: no\nksm_mergeable: no\n";
        assertFalse(TaskAttributes.parseMergeAny(off));
        assertTrue(TaskAttributes.parseMergeAny(off.replace("ksm_merge_any: no", "ksm_merge_any: yes")));
        assertFalse(TaskAttributes.parseMergeAny("ksm_rmap_items 0\n"), "a kernel before 6.6 prints no such line");
    }
}
