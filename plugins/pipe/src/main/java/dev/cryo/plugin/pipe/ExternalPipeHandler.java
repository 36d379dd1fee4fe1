package dev.cryo.plugin.pipe;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import dev.cryo.api.Config;
import dev.cryo.api.CryoException;
import dev.cryo.api.ExternalPeerHandler;
import dev.cryo.api.ExternalReference;
import dev.cryo.api.FdHolder;
import dev.cryo.api.HostKernel;
import dev.cryo.api.PluginOption;
import dev.cryo.plugin.pipe.proto.ExternalPipeEntry;
import org.pf4j.Extension;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code pipe} external-peer handler: decides about an anonymous pipe end of the tree whose other end no
 * process of the tree holds (references of kinds {@code pipe-read}/{@code pipe-write}; every other reference is
 * declined with {@link Optional#empty()} so the next handler sees it).
 *
 * <p>It asks the host view ({@link HostKernel#holders}) for processes holding the other end, then:
 * <ul>
 *   <li>nobody holds it (the writer exited, the reader closed) → accepted as {@code closed}: restore recreates the
 *       pipe with its data and leaves the other end closed, so the reader sees the data, then EOF;</li>
 *   <li>{@code external pipe:[INO]} is configured ({@code --external pipe:[INO]}) → accepted as {@code external};</li>
 *   <li>{@code stdio-inherit} is set and the tree's end is on fd 0, 1 or 2 → accepted as {@code stdio-inherit};</li>
 *   <li>else the dump is refused with {@code pipe/EXTERNAL_PIPE} naming the inode, our end (pid, name, fd), the
 *       outside holders and the fixes.</li>
 * </ul>
 *
 * <p>Called on the tracer thread once per unresolved reference; stateless.
 */
@Extension(ordinal = 1)
@PluginOption(name = ExternalPipeHandler.STDIO_INHERIT, help = "Dump: accept pipes to outside the tree held on fds 0,"
        + " 1 and 2 (e.g. a program whose output goes to `| cat`); restore: give the tree cryo's own fds 0, 1 and 2"
        + " in their place (only fds 0-2; other external pipes need --external and --inherit-fd).")
public final class ExternalPipeHandler implements ExternalPeerHandler {
    /** Kind of the records in {@code external.img}; the plugin id. */
    public static final String KIND = "pipe";
    /** Config key (repeatable) that accepts an external pipe: value {@code pipe:[INO]}. */
    public static final String EXTERNAL = "external";
    /** Config key (flag): pipes on fds 0-2 leading outside the tree become cryo's own stdio on restore. */
    public static final String STDIO_INHERIT = "stdio-inherit";


    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public Optional<Message> accept(ExternalReference ref, Config config, HostKernel kernel) throws CryoException {
        Optional<PipeEnd> to = PipeEnd.of(ref.to());
        if (to.isEmpty()) {
            return Optional.empty();
        }
        long ino = ref.to().id();
        PipeEnd ours = to.get().other();
        String resource = resource(ino);
        List<FdHolder> outside = PipeHolders.find(kernel, resource, to.get(), Set.of(ref.holder().value()));
        String reason;
        if (outside.isEmpty()) {
            reason = "closed";
        } else if (externalConfigured(config, ino)) {
            reason = "external";
        } else if (config.isSet(STDIO_INHERIT) && ref.fd().value() <= 2) {
            reason = "stdio-inherit";
        } else {
            throw refusal(ref, ours, outside);
        }
        return Optional.of(ExternalPipeEntry.newBuilder()
                .setInode(ino)
                .setOurEnd(ours.access)
                .setHolderPid(ref.holder().value())
                .setHolderComm(ref.holderComm())
                .setFd(ref.fd().value())
                .setReason(reason)
                .setOutsideHolders(PipeHolders.describe(outside))
                .build());
    }

    static String resource(long ino) {
        return "pipe:[" + ino + "]";
    }

    static boolean externalConfigured(Config config, long ino) {
        String want = resource(ino);
        for (String v : config.values(EXTERNAL)) {
            if (v.strip().equals(want)) {
                return true;
            }
        }
        return false;
    }

    private static CryoException refusal(ExternalReference ref, PipeEnd ours, List<FdHolder> outside) {
        long ino = ref.to().id();
        String res = resource(ino);
        int fd = ref.fd().value();
        String msg = "dump refused: " + res + " " + ours.label + " (pid " + ref.holder() + " \"" + ref.holderComm()
                + "\", fd " + fd + ") is connected to its " + ours.other().label + " held outside the dumped tree by "
                + PipeHolders.describe(outside);
        String fix = "dump the tree of pid " + outside.get(0).pid() + " too, or accept the pipe with --external "
                + res + " on dump and give the restored process a pipe end of your own with --inherit-fd fd[N]:"
                + res + " on restore (N: an fd open in the shell that runs cryo restore)";
        if (fd <= 2) {
            fix += "; or pass --stdio-inherit on dump and restore so fd " + fd + " becomes cryo's own "
                    + (fd == 0 ? "stdin" : fd == 1 ? "stdout" : "stderr");
        }
        return new CryoException(CryoException.Category.UNSUPPORTED, "pipe/EXTERNAL_PIPE", msg, fix);
    }

    @Override
    public List<Descriptors.Descriptor> recordTypes() {
        return List.of(ExternalPipeEntry.getDescriptor());
    }
}
