package dev.cryo.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import dev.cryo.api.CryoException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hand-written JSON writer, checked by a real parser (protobuf's JsonFormat into a Struct). */
class JsonTest {
    private static Struct parse(String json) throws InvalidProtocolBufferException {
        Struct.Builder b = Struct.newBuilder();
        JsonFormat.parser().merge(json, b);
        return b.build();
    }

    @Test
    void everyAwkwardCharacterSurvivesARealParser() throws InvalidProtocolBufferException {
        String nasty = "quote \" backslash \\ newline \n tab \t cr \r nul \u0000 bell \u0007 unit-sep \u001f "
                + "ünïcødé ☃ 😀 line-sep \u2028 /slash";
        Map<String, Object> m = Json.object();
        m.put("s", nasty);
        m.put("n", 1234567890123L);
        m.put("b", false);
        m.put("none", null);
        m.put("list", List.of(1, "two", Map.of("three", 3)));
        String json = Json.write(m);
        assertTrue(!json.contains("\n"), "one line: " + json);
        Struct s = parse(json);
        assertEquals(nasty, s.getFieldsOrThrow("s").getStringValue());
        assertEquals(1234567890123.0, s.getFieldsOrThrow("n").getNumberValue());
        assertEquals(false, s.getFieldsOrThrow("b").getBoolValue());
        assertTrue(s.getFieldsOrThrow("none").hasNullValue());
        assertEquals("two", s.getFieldsOrThrow("list").getListValue().getValues(1).getStringValue());
    }

    @Test
    void aFailureCarriesTheCodeCategoryMessageAndFix() throws InvalidProtocolBufferException {
        CryoException e = new CryoException(CryoException.Category.UNSUPPORTED, "core/UNSUPPORTED_FD",
                "dump refused: fd 5 of pid 812 \"nginx\" is an io_uring instance", "install a plugin");
        Struct s = parse(Json.write(JsonResult.failure("dump", e)));
        assertEquals("dump", s.getFieldsOrThrow("command").getStringValue());
        assertEquals(false, s.getFieldsOrThrow("ok").getBoolValue());
        assertEquals(3.0, s.getFieldsOrThrow("exitCode").getNumberValue());
        Struct error = s.getFieldsOrThrow("error").getStructValue();
        assertEquals("core/UNSUPPORTED_FD", error.getFieldsOrThrow("code").getStringValue());
        assertEquals("UNSUPPORTED", error.getFieldsOrThrow("category").getStringValue());
        assertEquals(e.getMessage(), error.getFieldsOrThrow("message").getStringValue());
        assertEquals("install a plugin", error.getFieldsOrThrow("fix").getStringValue());
    }
}
