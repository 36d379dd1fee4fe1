package dev.cryo.core.image;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Adds what numbers mean to a record's JSON ({@code cryo show --json}), next to the numbers themselves, which stay
 * as protobuf's JSON mapping writes them (scripts read them): a thread's {@code gpregs} as {@code regs} named by
 * {@code struct user_regs_struct} ({@code "rip": "0x7f..."}); addresses as {@code <field>_hex}; bit sets as
 * {@code <field>_names} ({@code PROT_READ|PROT_WRITE}, {@code O_WRONLY|O_NONBLOCK}, {@code SA_RESTART|...},
 * signal masks as {@code SIGINT|SIGTERM}, capability sets as {@code CAP_...}); file modes and the umask as
 * {@code <field>_octal}; {@code RLIM_INFINITY} as {@code <field>_text: "unlimited"}; an {@code Any}'s
 * {@code @type} as the message's name without the {@code type.googleapis.com/} prefix. Enums are already names in
 * protobuf's JSON. Plugin records are decoded by field name, as {@link ImageSummary} reads them: {@code prot},
 * {@code mode}, and {@code flags} of an fd record (open flags). Used on the caller's thread.
 */
final class RecordDecoder {
    /** {@code struct user_regs_struct} of x86-64, in order. */
    static final List<String> X86_64_REGS = List.of("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",
            "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base",
            "gs_base", "ds", "es", "fs", "gs");
    private static final Set<String> ADDRESSES = Set.of("start", "end", "ptr", "handler", "restorer",
            "clear_child_tid", "robust_list", "altstack_sp", "start_code", "end_code", "start_data", "end_data",
            "start_brk", "brk", "start_stack", "arg_start", "arg_end", "env_start", "env_end", "address");
    private static final Set<String> SIGNAL_SETS = Set.of("sigmask", "mask", "blocked", "ignored", "caught");
    private static final Set<String> CAP_SETS = Set.of("inheritable", "permitted", "effective", "bounding", "ambient");
    private static final String[] SIGNALS = {"SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
        "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD",
        "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
        "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"};
    private static final String[] CAPS = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
        "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
        "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
        "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE"};
    private static final Object[][] OPEN_FLAGS = {{0100, "O_CREAT"}, {0200, "O_EXCL"}, {0400, "O_NOCTTY"},
        {01000, "O_TRUNC"}, {02000, "O_APPEND"}, {04000, "O_NONBLOCK"}, {010000, "O_DSYNC"}, {020000, "O_ASYNC"},
        {040000, "O_DIRECT"}, {0100000, "O_LARGEFILE"}, {0200000, "O_DIRECTORY"}, {0400000, "O_NOFOLLOW"},
        {01000000, "O_NOATIME"}, {02000000, "O_CLOEXEC"}, {04010000, "O_SYNC"}, {010000000, "O_PATH"},
        {020200000, "O_TMPFILE"}};
    private static final Object[][] SA_FLAGS = {{1L, "SA_NOCLDSTOP"}, {2L, "SA_NOCLDWAIT"}, {4L, "SA_SIGINFO"},
        {0x04000000L, "SA_RESTORER"}, {0x08000000L, "SA_ONSTACK"}, {0x10000000L, "SA_RESTART"},
        {0x40000000L, "SA_NODEFER"}, {0x80000000L, "SA_RESETHAND"}};
    private static final Object[][] SS_FLAGS = {{1L, "SS_ONSTACK"}, {2L, "SS_DISABLE"}, {0x80000000L, "SS_AUTODISARM"}};
    private static final Object[][] PROT = {{1L, "PROT_READ"}, {2L, "PROT_WRITE"}, {4L, "PROT_EXEC"}};

    private final JsonFormat.TypeRegistry registry;

    RecordDecoder(JsonFormat.TypeRegistry registry) {
        this.registry = registry;
    }

    /** Adds the decoded forms of {@code message}'s fields to {@code json}, its JSON, at any depth. */
    void decorate(Message message, JsonObject json, boolean fdRecord) {
        for (FieldDescriptor f : message.getDescriptorForType().getFields()) {
            JsonElement value = json.get(f.getName());
            if (value == null) {
                continue;
            }
            if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                boolean fd = f.getName().equals("record")
                        && message.getDescriptorForType().getFullName().equals("cryo.core.FdinfoEntry");
                if (f.isRepeated() && value.isJsonArray()) {
                    JsonArray array = value.getAsJsonArray();
                    for (int i = 0; i < message.getRepeatedFieldCount(f) && i < array.size(); i++) {
                        child((Message) message.getRepeatedField(f, i), array.get(i), fd);
                    }
                } else if (!f.isRepeated() && message.hasField(f)) {
                    child((Message) message.getField(f), value, fd);
                }
                continue;
            }
            if (f.getName().equals("gpregs") && f.isRepeated() && message.getRepeatedFieldCount(f) == X86_64_REGS.size()) {
                JsonObject regs = new JsonObject();
                for (int i = 0; i < X86_64_REGS.size(); i++) {
                    regs.addProperty(X86_64_REGS.get(i), hex((Long) message.getRepeatedField(f, i)));
                }
                json.add("regs", regs);
                continue;
            }
            if (f.isRepeated() || !(message.getField(f) instanceof Number n)) {
                continue;
            }
            scalar(message.getDescriptorForType(), f.getName(), n.longValue(), json, fdRecord);
        }
    }

    private void scalar(Descriptor type, String name, long v, JsonObject json, boolean fdRecord) {
        String message = type.getFullName();
        if (ADDRESSES.contains(name) && !(message.endsWith("RlimitEntry"))) {
            json.addProperty(name + "_hex", hex(v));
        } else if (SIGNAL_SETS.contains(name)) {
            json.addProperty(name + "_names", signals(v));
        } else if (CAP_SETS.contains(name) && message.equals("cryo.core.CapsEntry")) {
            json.addProperty(name + "_names", bits(v, CAPS, "CAP_"));
        } else if (name.equals("prot")) {
            json.addProperty(name + "_names", flags(v, PROT, "PROT_NONE"));
        } else if (name.equals("flags") && message.equals("cryo.core.SigactionEntry")) {
            json.addProperty(name + "_names", flags(v, SA_FLAGS, "0"));
        } else if (name.equals("altstack_flags")) {
            json.addProperty(name + "_names", flags(v, SS_FLAGS, "0"));
        } else if (name.equals("flags") && fdRecord) {
            json.addProperty(name + "_names", openFlags(v));
        } else if (name.equals("mode") || name.equals("ghost_mode") || name.equals("name_mode") || name.equals("umask")) {
            json.addProperty(name + "_octal", String.format("0%o", v));
        } else if ((name.equals("cur") || name.equals("max")) && message.endsWith("RlimitEntry") && v == -1L) {
            json.addProperty(name + "_text", "unlimited");
        }
    }

    private void child(Message m, JsonElement json, boolean fdRecord) {
        if (!json.isJsonObject()) {
            return;
        }
        JsonObject o = json.getAsJsonObject();
        if (!m.getDescriptorForType().getFullName().equals("google.protobuf.Any")) {
            decorate(m, o, fdRecord);
            return;
        }
        String url = (String) m.getField(m.getDescriptorForType().findFieldByName("type_url"));
        String typeName = url.substring(url.lastIndexOf('/') + 1);
        if (o.has("@type")) {
            o.addProperty("@type", typeName);
        }
        Descriptor inner = registry.find(typeName);
        if (inner == null) {
            return;
        }
        try {
            ByteString bytes = (ByteString) m.getField(m.getDescriptorForType().findFieldByName("value"));
            decorate(DynamicMessage.parseFrom(inner, bytes), o, fdRecord);
        } catch (InvalidProtocolBufferException e) {
            // shown as protobuf's JSON wrote it
        }
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    /** @return e.g. {@code O_WRONLY|O_NONBLOCK}: the access mode, then the other flags set */
    static String openFlags(long v) {
        List<String> names = new ArrayList<>();
        int access = (int) (v & 3);
        names.add(access == 0 ? "O_RDONLY" : access == 1 ? "O_WRONLY" : access == 2 ? "O_RDWR" : "O_ACCMODE");
        long rest = v & ~3L;
        for (Object[] f : OPEN_FLAGS) {
            long bit = ((Number) f[0]).longValue();
            if ((rest & bit) == bit) {
                names.add((String) f[1]);
                rest &= ~bit;
            }
        }
        if (rest != 0) {
            names.add("0" + Long.toOctalString(rest));
        }
        return String.join("|", names);
    }

    private static String flags(long v, Object[][] table, String none) {
        List<String> names = new ArrayList<>();
        long rest = v;
        for (Object[] f : table) {
            long bit = (Long) f[0];
            if ((rest & bit) == bit) {
                names.add((String) f[1]);
                rest &= ~bit;
            }
        }
        if (rest != 0) {
            names.add(hex(rest));
        }
        return names.isEmpty() ? none : String.join("|", names);
    }

    /** @return the signals of a mask (bit N-1 is signal N): {@code SIGINT|SIGRTMIN+2}, or empty */
    static String signals(long mask) {
        List<String> names = new ArrayList<>();
        for (int sig = 1; sig <= 64; sig++) {
            if ((mask & (1L << (sig - 1))) != 0) {
                names.add(sig <= SIGNALS.length ? SIGNALS[sig - 1] : sig >= 34 ? "SIGRTMIN+" + (sig - 34)
                        : "SIG" + sig);
            }
        }
        return String.join("|", names);
    }

    private static String bits(long v, String[] names, String prefix) {
        if (v == 0) {
            return "";
        }
        long all = names.length == 64 ? -1L : (1L << names.length) - 1;
        if ((v & all) == all) {
            return "all (" + names.length + ")" + ((v & ~all) != 0 ? "|" + hex(v & ~all) : "");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            if ((v & (1L << i)) != 0) {
                out.add(i < names.length ? names[i] : prefix + i);
            }
        }
        return String.join("|", out);
    }
}
