package dev.cryo.core.dump;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;

import java.util.List;

/**
 * Class initialisation a dump would otherwise pay inside its frozen window (issue 13: the frozen time of a small
 * tree was mostly first use): the pipeline's own classes, and the generated protobuf classes (message, builder and
 * default instance) of every record written while the tree is stopped. Nothing here touches the target or runs a
 * plugin action; it only loads and initialises classes, best effort (a class that is not there is skipped: the
 * dump then loads it when needed, as before).
 */
final class WarmUp {
    /** The classes of the freeze-to-release path, in the order it first uses them. */
    private static final List<String> PIPELINE = List.of(
            "dev.cryo.core.dump.FrozenTree", "dev.cryo.core.dump.FrozenProcess", "dev.cryo.core.linux.Tracee",
            "dev.cryo.core.linux.HealingTrampoline", "dev.cryo.core.dump.TreeLayout", "dev.cryo.core.dump.CloneSharing",
            "dev.cryo.core.dump.FileLockDump", "dev.cryo.core.dump.CoreCollector", "dev.cryo.core.dump.TaskAttributes",
            "dev.cryo.core.linux.PosixTimers", "dev.cryo.core.linux.RobustList", "dev.cryo.core.linux.Rlimits",
            "dev.cryo.core.linux.Regs", "dev.cryo.core.dump.BatchedPageSink", "dev.cryo.core.image.PagesWriter",
            "dev.cryo.core.image.EnvelopeSink", "dev.cryo.core.image.RecordWriter", "dev.cryo.core.dump.FdInfos",
            "dev.cryo.core.dump.SharedFiles", "dev.cryo.core.dump.FdOwners", "dev.cryo.core.dump.UnhandledFd",
            "java.util.zip.CRC32C");

    private WarmUp() {
    }

    /** Initialises the pipeline's classes (see {@link #PIPELINE}). */
    static void pipeline() {
        initialize(PIPELINE, WarmUp.class.getClassLoader());
    }

    /**
     * Initialises the generated classes of every message of {@code files} (nested ones too) and of their builders.
     *
     * @param loader the loader that holds the generated classes (a plugin's for its records)
     */
    static void messagesOf(List<FileDescriptor> files, ClassLoader loader) {
        for (FileDescriptor f : files) {
            if (!f.getOptions().getJavaMultipleFiles()) {
                continue;   // classes nested in an outer class: not used by cryo's and its plugins' protos
            }
            for (Descriptor d : f.getMessageTypes()) {
                message(f.getOptions().getJavaPackage() + "." + d.getName(), d, loader);
            }
        }
    }

    private static void message(String className, Descriptor d, ClassLoader loader) {
        initialize(List.of(className, className + "$Builder"), loader);
        for (Descriptor nested : d.getNestedTypes()) {
            message(className + "$" + nested.getName(), nested, loader);
        }
    }

    private static void initialize(List<String> classNames, ClassLoader loader) {
        for (String name : classNames) {
            try {
                Class.forName(name, true, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                // best effort: the dump loads it when it needs it
            }
        }
    }
}
