package dev.cryo.core.plugin;

import dev.cryo.api.PluginOption;
import org.pf4j.Extension;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.lang.annotation.Annotation;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the class-level annotations cryo needs of a plugin class — its {@link PluginOption}s and its PF4J
 * {@link Extension#ordinal()} — straight from its class file: the {@code RuntimeVisibleAnnotations} attribute, nothing
 * else. No class is defined, verified or initialised and no annotation proxy is made: the JDK's first annotation read
 * of a process builds its annotation parser and a proxy class per annotation type, which cost a command tens of
 * milliseconds of start-up (issue 13). Stateless; safe from any thread.
 */
final class ClassFileAnnotations {
    private static final String OPTION = "L" + PluginOption.class.getName().replace('.', '/') + ";";
    private static final String LIST = "L" + PluginOption.List.class.getName().replace('.', '/') + ";";
    private static final String EXTENSION = "L" + Extension.class.getName().replace('.', '/') + ";";

    private ClassFileAnnotations() {
    }

    /** Handles one class-level annotation, its type's index read; {@code false}: not consumed, the caller skips it. */
    private interface Visitor {
        boolean visit(String type, DataInputStream in, Object[] pool) throws IOException;
    }

    /**
     * @param classFile the bytes of one {@code .class} file
     * @return its {@link PluginOption}s in declaration order (a repeated annotation's container unpacked), with the
     *     annotation's defaults for the elements it leaves out
     * @throws IOException when the bytes are not a class file this reader understands
     */
    static List<PluginOption> pluginOptions(byte[] classFile) throws IOException {
        List<PluginOption> out = new ArrayList<>();
        visit(classFile, (type, in, pool) -> {
            if (type.equals(OPTION)) {
                out.add(option(in, pool));
                return true;
            }
            if (!type.equals(LIST)) {
                return false;
            }
            for (int pairs = in.readUnsignedShort(); pairs > 0; pairs--) {
                String element = utf8(pool, in.readUnsignedShort());
                if (element.equals("value") && in.readUnsignedByte() == '[') {
                    for (int k = in.readUnsignedShort(); k > 0; k--) {
                        if (in.readUnsignedByte() != '@' || !utf8(pool, in.readUnsignedShort()).equals(OPTION)) {
                            throw new IOException("PluginOption.List holds something else than PluginOptions");
                        }
                        out.add(option(in, pool));
                    }
                } else {
                    throw new IOException("malformed PluginOption.List");
                }
            }
            return true;
        });
        return out;
    }

    /**
     * @param classFile the bytes of one {@code .class} file
     * @return the {@code ordinal} of the {@code @Extension} the class itself carries (0, the annotation's default,
     *     when it gives none); empty when the class carries none of its own ({@code @Extension} is
     *     {@code @Inherited}: a superclass's then counts, which only reflection sees)
     * @throws IOException when the bytes are not a class file this reader understands
     */
    static java.util.OptionalInt extensionOrdinal(byte[] classFile) throws IOException {
        int[] ordinal = {0};
        boolean[] found = {false};
        visit(classFile, (type, in, pool) -> {
            if (!type.equals(EXTENSION)) {
                return false;
            }
            found[0] = true;
            for (int pairs = in.readUnsignedShort(); pairs > 0; pairs--) {
                String element = utf8(pool, in.readUnsignedShort());
                int tag = in.readUnsignedByte();
                if (element.equals("ordinal")) {
                    expect(tag, 'I');
                    int index = in.readUnsignedShort();
                    if (index <= 0 || index >= pool.length || !(pool[index] instanceof Integer i)) {
                        throw new IOException("constant pool entry " + index + " is not an Integer");
                    }
                    ordinal[0] = i;
                } else {
                    skipValue(in, tag);
                }
            }
            return true;
        });
        return found[0] ? java.util.OptionalInt.of(ordinal[0]) : java.util.OptionalInt.empty();
    }

    /** Walks the class-level {@code RuntimeVisibleAnnotations} of {@code classFile} through {@code visitor}. */
    private static void visit(byte[] classFile, Visitor visitor) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile));
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file (bad magic)");
        }
        in.readUnsignedShort();   // minor
        in.readUnsignedShort();   // major
        Object[] pool = readPool(in);
        in.readUnsignedShort();   // access
        in.readUnsignedShort();   // this
        in.readUnsignedShort();   // super
        skip(in, 2 * in.readUnsignedShort());   // interfaces
        skipMembers(in);   // fields
        skipMembers(in);   // methods
        for (int n = in.readUnsignedShort(); n > 0; n--) {
            String name = utf8(pool, in.readUnsignedShort());
            int length = in.readInt();
            if (!name.equals("RuntimeVisibleAnnotations")) {
                skip(in, length);
                continue;
            }
            for (int a = in.readUnsignedShort(); a > 0; a--) {
                if (!visitor.visit(utf8(pool, in.readUnsignedShort()), in, pool)) {
                    skipPairs(in);
                }
            }
        }
    }

    /** Reads the element-value pairs of one {@code @PluginOption} (its type index already read). */
    private static PluginOption option(DataInputStream in, Object[] pool) throws IOException {
        String name = null;
        String help = null;
        PluginOption.Shape shape = PluginOption.Shape.FLAG;
        boolean repeatable = false;
        String valueHint = "";
        String valuePattern = "";
        String defaultValue = "";
        PluginOption.Command[] commands = {PluginOption.Command.DUMP, PluginOption.Command.RESTORE};
        for (int pairs = in.readUnsignedShort(); pairs > 0; pairs--) {
            String element = utf8(pool, in.readUnsignedShort());
            int tag = in.readUnsignedByte();
            switch (element) {
                case "name" -> name = string(in, pool, tag);
                case "help" -> help = string(in, pool, tag);
                case "valueHint" -> valueHint = string(in, pool, tag);
                case "valuePattern" -> valuePattern = string(in, pool, tag);
                case "defaultValue" -> defaultValue = string(in, pool, tag);
                case "repeatable" -> {
                    expect(tag, 'Z');
                    repeatable = ((Integer) pool[in.readUnsignedShort()]) != 0;
                }
                case "shape" -> shape = PluginOption.Shape.valueOf(enumConstant(in, pool, tag));
                case "commands" -> {
                    expect(tag, '[');
                    commands = new PluginOption.Command[in.readUnsignedShort()];
                    for (int i = 0; i < commands.length; i++) {
                        commands[i] = PluginOption.Command.valueOf(enumConstant(in, pool, in.readUnsignedByte()));
                    }
                }
                default -> skipValue(in, tag);
            }
        }
        if (name == null || help == null) {
            throw new IOException("@PluginOption without name or help");
        }
        return new Declared(name, shape, repeatable, valueHint, valuePattern, defaultValue, help, commands);
    }

    /** A {@link PluginOption} read from a class file. */
    private record Declared(String name, PluginOption.Shape shape, boolean repeatable, String valueHint,
                            String valuePattern, String defaultValue, String help, PluginOption.Command[] commands)
            implements PluginOption {
        @Override
        public PluginOption.Command[] commands() {
            return commands.clone();
        }

        @Override
        public Class<? extends Annotation> annotationType() {
            return PluginOption.class;
        }
    }

    private static String string(DataInputStream in, Object[] pool, int tag) throws IOException {
        expect(tag, 's');
        return utf8(pool, in.readUnsignedShort());
    }

    private static String enumConstant(DataInputStream in, Object[] pool, int tag) throws IOException {
        expect(tag, 'e');
        in.readUnsignedShort();   // the enum's type
        return utf8(pool, in.readUnsignedShort());
    }

    private static void expect(int tag, char wanted) throws IOException {
        if (tag != wanted) {
            throw new IOException("unexpected element value tag '" + (char) tag + "', wanted '" + wanted + "'");
        }
    }

    private static void skipPairs(DataInputStream in) throws IOException {
        for (int pairs = in.readUnsignedShort(); pairs > 0; pairs--) {
            in.readUnsignedShort();
            skipValue(in, in.readUnsignedByte());
        }
    }

    private static void skipValue(DataInputStream in, int tag) throws IOException {
        switch (tag) {
            case 'B', 'C', 'D', 'F', 'I', 'J', 'S', 'Z', 's', 'c' -> in.readUnsignedShort();
            case 'e' -> skip(in, 4);
            case '@' -> {
                in.readUnsignedShort();
                skipPairs(in);
            }
            case '[' -> {
                for (int n = in.readUnsignedShort(); n > 0; n--) {
                    skipValue(in, in.readUnsignedByte());
                }
            }
            default -> throw new IOException("unknown element value tag " + tag);
        }
    }

    private static void skipMembers(DataInputStream in) throws IOException {
        for (int n = in.readUnsignedShort(); n > 0; n--) {
            skip(in, 6);   // access, name, descriptor
            for (int a = in.readUnsignedShort(); a > 0; a--) {
                in.readUnsignedShort();
                skip(in, in.readInt());
            }
        }
    }

    /** @return the constant pool: Utf8 entries as {@link String}, Integer entries as {@link Integer}, others null */
    private static Object[] readPool(DataInputStream in) throws IOException {
        Object[] pool = new Object[in.readUnsignedShort()];
        for (int i = 1; i < pool.length; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> pool[i] = in.readUTF();
                case 3 -> pool[i] = in.readInt();
                case 4 -> skip(in, 4);
                case 5, 6 -> {
                    skip(in, 8);
                    i++;   // takes two slots
                }
                case 7, 8, 16, 19, 20 -> skip(in, 2);
                case 9, 10, 11, 12, 17, 18 -> skip(in, 4);
                case 15 -> skip(in, 3);
                default -> throw new IOException("unknown constant pool tag " + tag + " at entry " + i);
            }
        }
        return pool;
    }

    private static String utf8(Object[] pool, int index) throws IOException {
        if (index <= 0 || index >= pool.length || !(pool[index] instanceof String s)) {
            throw new IOException("constant pool entry " + index + " is not a Utf8");
        }
        return s;
    }

    private static void skip(DataInputStream in, int n) throws IOException {
        if (in.skipBytes(n) != n) {
            throw new IOException("truncated class file");
        }
    }
}
