package dev.cryo.core.image;

import com.google.protobuf.Any;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import dev.cryo.core.image.proto.FdinfoEntry;
import dev.cryo.core.image.proto.InventoryEntry;
import dev.cryo.core.image.proto.PstreeEntry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageRendererTest {
    @TempDir
    Path tmp;

    /** A plugin's record type the renderer has never heard of unless told: acme.GpuEntry { string device = 1; } */
    static Descriptor gpuEntry;

    @BeforeAll
    static void buildPluginSchema() throws Exception {
        FileDescriptorProto file = FileDescriptorProto.newBuilder().setName("acme/gpu.proto").setPackage("acme")
                .setSyntax("proto3")
                .addMessageType(DescriptorProto.newBuilder().setName("GpuEntry")
                        .addField(FieldDescriptorProto.newBuilder().setName("device").setNumber(1)
                                .setType(FieldDescriptorProto.Type.TYPE_STRING)))
                .build();
        gpuEntry = FileDescriptor.buildFrom(file, new FileDescriptor[0]).findMessageTypeByName("GpuEntry");
    }

    Path image() throws Exception {
        ImageDir image = ImageDir.create(tmp.resolve("img"), false);
        try (RecordWriter w = image.writer("pstree.img", FileType.PSTREE)) {
            w.write(PstreeEntry.newBuilder().setPid(42).setPpid(1).addThreads(42).build());
        }
        DynamicMessage gpu = DynamicMessage.newBuilder(gpuEntry)
                .setField(gpuEntry.findFieldByName("device"), "/dev/dri/card0").build();
        try (RecordWriter w = image.writer("fdinfo-42.img", FileType.FDINFO)) {
            w.write(FdinfoEntry.newBuilder().setFd(5).setKind("acme/gpu-fd").setRecord(Any.pack(gpu)).build());
        }
        try (RecordWriter w = image.writer("gpus.img", FileType.OBJECTS)) {
            w.write(Envelopes.wrap("acme/gpu-fd", gpu));
        }
        try (PagesWriter p = image.pagesWriter("pages-42.img")) {
            p.append(ByteBuffer.allocateDirect(3 * 4096));
        }
        image.writeInventory(InventoryEntry.newBuilder().setRootPid(42).setCryoVersion("0.1.0").build());
        return image.path();
    }

    @Test
    void unknownAnyIsShownAsTypeUrlAndSize() throws Exception {
        StringBuilder out = new StringBuilder();
        ImageRenderer.render(ImageDir.open(image()), List.of(), out);
        String text = out.toString();
        assertTrue(text.startsWith("# inventory.img (INVENTORY, 1 records)\n"), text);
        assertTrue(text.contains("# fdinfo-42.img (FDINFO, 1 records)"), text);
        assertTrue(text.contains("# gpus.img (OBJECTS, 1 records)"), text);
        assertTrue(text.contains("# pages-42.img (PAGES, 12288 bytes, 3 pages)"), text);
        assertTrue(text.contains("# pstree.img (PSTREE, 1 records)"), text);
        assertTrue(text.contains("\"root_pid\": 42"), text);
        assertTrue(text.contains("\"type_url\": \"type.googleapis.com/acme.GpuEntry\""), text);
        assertTrue(text.contains("cryo.core.UndecodedAny"), text);
        assertTrue(text.contains("\"size\": 16"), text); // tag + length + 14 bytes of "/dev/dri/card0"
        assertFalse(text.contains("/dev/dri/card0"), text);
        assertTrue(text.indexOf("# fdinfo-42.img") < text.indexOf("# gpus.img"), text);
        assertTrue(text.indexOf("# pages-42.img") < text.indexOf("# pstree.img"), text);
    }

    @Test
    void pluginTypesAreDecoded() throws Exception {
        StringBuilder out = new StringBuilder();
        ImageRenderer.render(ImageDir.open(image()), List.of(gpuEntry), out);
        String text = out.toString();
        assertTrue(text.contains("\"@type\": \"acme.GpuEntry\""), text); // shown without the type.googleapis.com/ prefix
        assertEquals(2, text.split("\"device\": \"/dev/dri/card0\"", -1).length - 1, text);
        assertFalse(text.contains("UndecodedAny"), text);
    }

    @Test
    void aRecordWhoseJsonWouldNotFitTheHeapIsRefusedCleanly() throws Exception {
        ImageDir dir = ImageDir.open(image());
        PstreeEntry big = PstreeEntry.newBuilder().setPid(42).setComm("x".repeat(1 << 20)).build();
        ImageRenderer.checkHeap(dir, "pstree.img", 0, big, 1L << 30); // 1 MiB in a 1 GiB heap: fine
        dev.cryo.api.CryoException e = org.junit.jupiter.api.Assertions.assertThrows(dev.cryo.api.CryoException.class,
                () -> ImageRenderer.checkHeap(dir, "pstree.img", 3, big, 16L << 20));
        assertEquals("core/RECORD_TOO_LARGE", e.code());
        assertEquals(dev.cryo.api.CryoException.Category.IMAGE, e.category());
        assertTrue(e.getMessage().contains("record 3 of ") && e.getMessage().contains("pstree.img"), e.getMessage());
        assertTrue(e.fix().contains("CRYO_JAVA_OPTS=-Xmx"), e.fix());
    }

    /**
     * Many small values weigh more than their bytes: a core record of 100,000 mappings (2.8 MB) passed the byte
     * estimate in a 96 MiB heap and ran out of it; 20,000 render within it (measured with {@code cryo show --json}).
     */
    @Test
    void aRecordOfManySmallValuesIsWeighedByItsValues() throws Exception {
        ImageDir dir = ImageDir.open(image());
        long heap = 92L << 20; // what -Xmx96m gives
        ImageRenderer.checkHeap(dir, "core-1.img", 0, withMappings(20_000), heap);
        dev.cryo.api.CryoException e = org.junit.jupiter.api.Assertions.assertThrows(dev.cryo.api.CryoException.class,
                () -> ImageRenderer.checkHeap(dir, "core-1.img", 0, withMappings(100_000), heap));
        assertEquals("core/RECORD_TOO_LARGE", e.code());
    }

    private static dev.cryo.core.image.proto.CoreEntry withMappings(int n) {
        dev.cryo.core.image.proto.MmEntry.Builder mm = dev.cryo.core.image.proto.MmEntry.newBuilder();
        for (int i = 0; i < n; i++) {
            mm.addLayout(dev.cryo.core.image.proto.SpecialVmaEntry.newBuilder().setStart(0x100000000L + i * 4096L)
                    .setEnd(0x100000000L + i * 4096L + 4096).setName("[m" + i + "]"));
        }
        return dev.cryo.core.image.proto.CoreEntry.newBuilder().setPid(1).setMm(mm).build();
    }
}
