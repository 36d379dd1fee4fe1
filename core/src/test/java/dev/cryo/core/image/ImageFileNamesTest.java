package dev.cryo.core.image;

import dev.cryo.api.Pid;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageFileNamesTest {
    @Test
    void namesAreValidImageFileNames() {
        Pid pid = Pid.of(1234);
        List<String> names = List.of(ImageFileNames.INVENTORY, ImageFileNames.PSTREE, ImageFileNames.EXTERNAL,
                ImageFileNames.core(pid), ImageFileNames.mm(pid), ImageFileNames.fdinfo(pid),
                ImageFileNames.pages(pid), ImageFileNames.objects("unix-socket"),
                ImageFileNames.objects("acme/gpu-fd"));
        assertEquals(List.of("inventory.img", "pstree.img", "external.img", "core-1234.img", "mm-1234.img",
                "fdinfo-1234.img", "pages-1234.img", "unix-socket.img", "acme.gpu-fd.img"), names);
        for (String n : names) {
            assertTrue(ImageFormat.isImageFileName(n), n);
        }
        for (String bad : List.of("", "../x", "a/b/c", "/x", "a b", ".x")) {
            assertThrows(IllegalArgumentException.class, () -> ImageFileNames.objects(bad), bad);
        }
    }
}
