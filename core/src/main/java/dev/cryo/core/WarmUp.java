package dev.cryo.core;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;

import java.util.List;

/**
 * Class initialisation a dump or a restore would otherwise pay on its critical path (issue 13: the start-up and the
 * frozen time of a small tree were mostly first use): the pipelines' own classes, the native library, and the
 * generated protobuf classes (message, builder and default instance) of core's records.
 *
 * <p>The CLI runs {@link #forCommand} on a daemon thread as the first thing {@code cryo dump}, {@code check} and
 * {@code restore} do, so that it overlaps the command line, config and plugin loading of the main thread on a second
 * core. The dumper calls {@link #dump} and {@link #messagesOf} again before the freeze (for the
 * plugins' records, and in case the background thread has not got there): what is already initialised costs
 * nothing, and a class the other thread is initialising is waited for by the JVM. Nothing here touches a target,
 * reads an image or runs plugin code; it only loads and initialises classes, best effort (a class that is not there
 * or fails to initialise is skipped: the pipeline then meets the same error where it always did).
 */
public final class WarmUp {
    /** The classes of a dump's freeze-to-release path, in the order it first uses them. */
    private static final List<String> DUMP = List.of(
            "dev.cryo.core.linux.ProcFs", "dev.cryo.core.dump.ProcessChecks", "dev.cryo.core.dump.FrozenTree",
            "dev.cryo.core.dump.FrozenProcess", "dev.cryo.core.linux.Tracee",
            "dev.cryo.core.linux.HealingTrampoline", "dev.cryo.core.dump.TreeLayout", "dev.cryo.core.dump.CloneSharing",
            "dev.cryo.core.dump.FileLockDump", "dev.cryo.core.dump.CoreCollector", "dev.cryo.core.dump.TaskAttributes",
            "dev.cryo.core.linux.PosixTimers", "dev.cryo.core.linux.RobustList", "dev.cryo.core.linux.Rlimits",
            "dev.cryo.core.linux.Regs", "dev.cryo.core.dump.BatchedPageSink", "dev.cryo.core.image.PagesWriter",
            "dev.cryo.core.image.EnvelopeSink", "dev.cryo.core.image.RecordWriter", "dev.cryo.core.dump.FdInfos",
            "dev.cryo.core.dump.SharedFiles", "dev.cryo.core.dump.FdOwners", "dev.cryo.core.dump.UnhandledFd",
            "java.util.zip.CRC32C");

    /** The classes every restore uses, in about the order it first uses them. */
    private static final List<String> RESTORE = List.of(
            "dev.cryo.core.image.ImageDir", "dev.cryo.core.image.RecordReader", "dev.cryo.core.image.EnvelopeSource",
            "dev.cryo.core.restore.Restorer", "dev.cryo.core.linux.ProcFs", "dev.cryo.core.restore.ChildTree",
            "dev.cryo.core.restore.ProcessCreator", "dev.cryo.core.restore.ProcessRebuilder",
            "dev.cryo.core.restore.AddressSpace", "dev.cryo.core.restore.PageLoader", "dev.cryo.core.image.PagesReader",
            "dev.cryo.core.linux.Tracee", "dev.cryo.core.linux.Spawner", "dev.cryo.core.linux.Regs",
            "dev.cryo.core.restore.CredentialsRestore", "dev.cryo.core.restore.TaskAttributesRestore",
            "dev.cryo.core.restore.InterruptedCalls", "dev.cryo.core.linux.Rlimits", "java.util.zip.CRC32C");

    private WarmUp() {
    }

    /** Runs the warm-up of {@code command} ({@code dump}, {@code check}, {@code restore}; any other: nothing). */
    public static void forCommand(String command) {
        switch (command) {
            case "dump", "check" -> dump();
            case "restore" -> restore();
            default -> { }
        }
    }

    /** Initialises the dump pipeline's classes, the native library and core's records. */
    public static void dump() {
        initialize(DUMP, WarmUp.class.getClassLoader());
        dev.cryo.core.linux.LibC.isAvailable();
        coreRecords();
    }

    /** Initialises the restore pipeline's classes, the native library and core's records. */
    public static void restore() {
        initialize(RESTORE, WarmUp.class.getClassLoader());
        dev.cryo.core.linux.LibC.isAvailable();
        coreRecords();
    }

    private static void coreRecords() {
        messagesOf(List.of(dev.cryo.core.image.proto.Core.getDescriptor(),
                dev.cryo.core.image.proto.Stats.getDescriptor()), WarmUp.class.getClassLoader());
    }

    /**
     * Initialises the generated classes of every message of {@code files} (nested ones too) and of their builders.
     *
     * @param loader the loader that holds the generated classes (a plugin's for its records)
     */
    public static void messagesOf(List<FileDescriptor> files, ClassLoader loader) {
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
                // best effort: the pipeline loads it when it needs it
            }
        }
    }
}
