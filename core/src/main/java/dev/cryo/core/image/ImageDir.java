package dev.cryo.core.image;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.cryo.api.CryoException;
import dev.cryo.api.CryoException.Category;
import dev.cryo.core.image.proto.ImageFileEntry;
import dev.cryo.core.image.proto.InventoryEntry;
import dev.cryo.core.image.proto.StatsEntry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * An image directory: the one place that creates, lists, opens and removes image files.
 *
 * <p>Dump: {@link #create} (directory 0700, files 0600 from their creation), one {@link #writer} or
 * {@link #pagesWriter} per file, close them, then {@link #writeInventory} last — it lists every file with its
 * size, record count and crc32c (of a whole record file; of a pages file's checksum table), so an image with an
 * inventory is complete, and a record file whose records were swapped, duplicated or dropped is refused by
 * {@link #reader} (an older cryo's image has no counts and crc32c: not checked). On any failure before that, {@link #discard()} removes what
 * this instance created: a partial image must never pass for a complete one. With {@code fsync} every file and
 * the directory are fsync'd as they are closed (the inventory last); without it (the default, as CRIU) the data
 * is left to the page cache: a power loss soon after a dump can leave an image whose files are short, which
 * restore refuses by the sizes the inventory recorded. After the inventory, {@link #writeStats} may add the
 * dump's statistics ({@code stats-*.img}, outside the inventory).
 *
 * <p>Restore and {@code cryo show}: {@link #open} refuses a missing, empty or incomplete directory, another
 * format version, and any file the inventory lists that is missing or has another size; then {@link #reader} /
 * {@link #pagesReader} per file.
 *
 * <p>Threading: the bookkeeping methods are synchronized, so writers may be created and closed on different
 * threads; each writer itself is used by one thread (see {@link RecordWriter}, {@link PagesWriter}).
 */
public final class ImageDir {
    /** The file written last; its presence marks a complete image. */
    public static final String INVENTORY_FILE = "inventory.img";

    private static final FileAttribute<Set<PosixFilePermission>> DIR_MODE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    private static final FileAttribute<Set<PosixFilePermission>> FILE_MODE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    private static final String OVERWRITE_FIX = "use an empty directory or pass --overwrite-images";

    private final Path dir;
    private final boolean writable;
    /** fsync every file as it is closed, and the directory with the inventory. */
    private final boolean sync;
    /** Directories {@link #create} made, deepest first. */
    private final List<Path> createdDirs;
    /** Files this instance created, in creation order, with their writer (null once known closed). */
    private final Map<String, Object> created = new LinkedHashMap<>();
    private final Map<String, FileType> createdTypes = new HashMap<>();
    /** Sizes known to be right: recorded by the inventory (open) or by our own closed writers (create). */
    private final Map<String, Long> knownSizes = new HashMap<>();
    /** Record counts of record files, known like the sizes (absent in images of older cryos). */
    private final Map<String, Integer> knownRecords = new HashMap<>();
    /** crc32c of a whole record file, or of a pages file's checksum table; known like the sizes. */
    private final Map<String, Integer> knownCrcs = new HashMap<>();
    /** Record files whose whole-file crc32c checked out already (each is read through once). */
    private final Set<String> crcChecked = new java.util.HashSet<>();
    private InventoryEntry inventory;
    private boolean discarded;
    /** Files {@link #prepare} creates or has created that no writer has taken yet, by name, in creation order. */
    private final Map<String, Future<FileChannel>> prepared = new LinkedHashMap<>();
    /** The thread that creates the prepared files; started by the first {@link #prepare}. */
    private ExecutorService preparer;
    /*
     * What a writer calls when closed, as classes rather than this::closed: writers are made while a tree is frozen,
     * and the first run of a method reference's call site links it (a bootstrap method call; issue 13).
     */
    private static final java.util.function.Consumer<RecordWriter> NOT_TOLD = new java.util.function.Consumer<>() {
        @Override
        public void accept(RecordWriter w) {
            // a statistics file is not listed in the inventory
        }
    };
    private final java.util.function.Consumer<RecordWriter> recordClosed = new java.util.function.Consumer<>() {
        @Override
        public void accept(RecordWriter w) {
            closed(w);
        }
    };
    private final java.util.function.Consumer<PagesWriter> pagesClosed = new java.util.function.Consumer<>() {
        @Override
        public void accept(PagesWriter w) {
            closed(w);
        }
    };

    private ImageDir(Path dir, boolean writable, List<Path> createdDirs, boolean sync) {
        this.dir = dir;
        this.writable = writable;
        this.sync = sync;
        this.createdDirs = createdDirs;
    }

    /**
     * Creates an image directory for a dump: the directory and its missing parents with mode 0700. An existing
     * directory is used as it is (its mode untouched) when empty.
     *
     * @param allowNonEmpty accept a non-empty directory after deleting the Cryo image files ({@code *.img}) in
     *                      it (nothing else); the CLI's {@code --overwrite-images}
     * @throws CryoException USAGE {@code core/IMAGE_DIR_NOT_EMPTY} for a non-empty directory without
     *                       {@code allowNonEmpty}, {@code core/IMAGE_DIR_NOT_DIRECTORY} when the path is something
     *                       else, {@code core/IMAGE_DIR_CREATE} when it cannot be created or cleared
     */
    public static ImageDir create(Path dir, boolean allowNonEmpty) throws CryoException {
        return create(dir, allowNonEmpty, false);
    }

    /**
     * Like {@link #create(Path, boolean)}.
     *
     * @param fsync fsync every file when it is closed and the directory with the inventory (the {@code fsync}
     *              option); without it nothing is synced
     */
    public static ImageDir create(Path dir, boolean allowNonEmpty, boolean fsync) throws CryoException {
        Path abs = dir.toAbsolutePath().normalize();
        List<Path> createdDirs = new ArrayList<>();
        if (Files.exists(abs)) {
            if (!Files.isDirectory(abs)) {
                throw new CryoException(Category.USAGE, "core/IMAGE_DIR_NOT_DIRECTORY",
                        "image directory " + abs + " exists and is not a directory", "choose another path for -D");
            }
            List<Path> entries = list(abs, Category.USAGE);
            if (!entries.isEmpty()) {
                if (!allowNonEmpty) {
                    throw new CryoException(Category.USAGE, "core/IMAGE_DIR_NOT_EMPTY", "image directory " + abs
                            + " is not empty (" + entries.size() + " entries, e.g. "
                            + entries.get(0).getFileName() + ")", OVERWRITE_FIX);
                }
                removeOldImageFiles(abs, entries);
            }
        } else {
            for (Path p = abs; p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
                createdDirs.add(p);
            }
            try {
                Files.createDirectories(abs, DIR_MODE);
            } catch (IOException e) {
                throw new CryoException(Category.USAGE, "core/IMAGE_DIR_CREATE", "mkdir(" + abs + ") failed: "
                        + ImageErrors.describe(e), "choose a directory you can write for -D", e);
            }
        }
        return new ImageDir(abs, true, createdDirs, fsync);
    }

    /**
     * Opens a complete image for restore or {@code cryo show}: reads and checks the inventory and that every file
     * it lists exists with the size it recorded.
     *
     * @throws CryoException IMAGE: {@code core/IMAGE_DIR_MISSING}, {@code core/IMAGE_DIR_EMPTY},
     *                       {@code core/IMAGE_INCOMPLETE} (no inventory, or a listed file missing),
     *                       {@code core/IMAGE_VERSION}, {@code core/IMAGE_TRUNCATED}, {@code core/IMAGE_CORRUPT}
     */
    public static ImageDir open(Path dir) throws CryoException {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.exists(abs)) {
            throw new CryoException(Category.IMAGE, "core/IMAGE_DIR_MISSING", "image directory " + abs
                    + " does not exist", "pass the directory a dump wrote with -D");
        }
        if (!Files.isDirectory(abs)) {
            throw new CryoException(Category.IMAGE, "core/IMAGE_DIR_NOT_DIRECTORY", "image directory " + abs
                    + " is not a directory", "pass the directory a dump wrote with -D");
        }
        if (list(abs, Category.IMAGE).isEmpty()) {
            throw new CryoException(Category.IMAGE, "core/IMAGE_DIR_EMPTY", "image directory " + abs
                    + " is empty", "pass the directory a dump wrote with -D");
        }
        Path inventoryPath = abs.resolve(INVENTORY_FILE);
        if (!Files.exists(inventoryPath)) {
            throw new CryoException(Category.IMAGE, ImageErrors.INCOMPLETE, "incomplete image " + abs + ": "
                    + INVENTORY_FILE + " missing — the dump did not finish",
                    "dump the tree again; an image without " + INVENTORY_FILE + " cannot be restored");
        }
        ImageDir image = new ImageDir(abs, false, List.of(), false);
        List<InventoryEntry> entries;
        try (RecordReader reader = RecordReader.open(inventoryPath, FileType.INVENTORY, false)) {
            entries = reader.readAll(InventoryEntry.parser());
        }
        if (entries.size() != 1) {
            throw ImageErrors.corrupt(inventoryPath, "holds " + entries.size() + " records, expected exactly 1");
        }
        InventoryEntry inv = entries.get(0);
        if (inv.getFormatVersion() != ImageFormat.FORMAT_VERSION) {
            throw ImageErrors.version(inventoryPath, inv.getFormatVersion());
        }
        for (ImageFileEntry f : inv.getFileDetailsList()) {
            if (image.knownSizes.put(f.getName(), f.getSize()) != null) {
                throw ImageErrors.corrupt(inventoryPath, "records the details of " + f.getName() + " twice");
            }
            if (f.hasRecords()) {
                image.knownRecords.put(f.getName(), f.getRecords());
            }
            if (f.hasCrc32C()) {
                image.knownCrcs.put(f.getName(), f.getCrc32C());
            }
        }
        Set<String> listed = new java.util.HashSet<>();
        for (String name : inv.getFilesList()) {
            if (!ImageFormat.isImageFileName(name) || name.equals(INVENTORY_FILE)) {
                throw ImageErrors.corrupt(inventoryPath, "lists an invalid file name \"" + name + "\"");
            }
            if (!listed.add(name)) {
                // every reader of the image walks this list: a name repeated thousands of times would make each
                // read, rendering or check of that file happen thousands of times
                throw ImageErrors.corrupt(inventoryPath, "lists " + name + " twice");
            }
            if (!Files.isRegularFile(abs.resolve(name))) {
                throw new CryoException(Category.IMAGE, ImageErrors.INCOMPLETE, "incomplete image " + abs
                        + ": the inventory lists " + name + " but it is missing",
                        "the image was copied or cleaned up partially; copy it again or dump the tree again");
            }
            image.checkSize(name);
        }
        image.inventory = inv;
        return image;
    }

    /** @return the directory, absolute */
    public Path path() {
        return dir;
    }

    /**
     * Creates a record file (0600) and writes its header.
     *
     * @param fileName a plain name ending in {@code .img}, e.g. {@code core-1234.img}
     * @param type     any record type but {@link FileType#INVENTORY} (see {@link #writeInventory})
     * @throws CryoException INTERNAL for a bad name, a name already created or a call after the inventory;
     *                       IMAGE {@code core/IMAGE_IO} when the file cannot be created (e.g. it exists)
     */
    public synchronized RecordWriter writer(String fileName, FileType type) throws CryoException {
        if (!type.hasRecords() || type == FileType.INVENTORY) {
            throw ImageErrors.internal("core/IMAGE_FILE_TYPE", "ImageDir.writer(" + fileName + ", " + type
                    + "): use " + (type == FileType.INVENTORY ? "writeInventory" : "pagesWriter"));
        }
        FileChannel channel = newFile(fileName, type);
        try {
            RecordWriter writer = new RecordWriter(dir.resolve(fileName), type, channel, recordClosed, sync);
            created.put(fileName, writer);
            return writer;
        } catch (CryoException e) {
            abandonNewFile(fileName, channel, e);
            throw e;
        }
    }

    /**
     * Creates a pages file (0600) and writes its header; the caller appends page data and closes it.
     *
     * @param fileName e.g. {@code pages-1234.img}
     * @throws CryoException as {@link #writer}
     */
    public synchronized PagesWriter pagesWriter(String fileName) throws CryoException {
        FileChannel channel = newFile(fileName, FileType.PAGES);
        try {
            PagesWriter writer = new PagesWriter(dir.resolve(fileName), channel, pagesClosed, sync);
            created.put(fileName, writer);
            return writer;
        } catch (CryoException e) {
            abandonNewFile(fileName, channel, e);
            throw e;
        }
    }

    /**
     * Opens a record file and checks its header; the caller closes the reader.
     *
     * @param expected the type the caller needs; another type in the header is {@code core/IMAGE_CORRUPT}
     * @throws CryoException IMAGE {@code core/IMAGE_INCOMPLETE} for a file the inventory of an opened image does
     *                       not list; the reader's errors
     */
    public synchronized RecordReader reader(String fileName, FileType expected) throws CryoException {
        checkReadable(fileName);
        boolean sizeVerified = checkSize(fileName);
        Integer crc = knownCrcs.get(fileName);
        if (sizeVerified && crc != null && !crcChecked.contains(fileName)
                && knownSizes.get(fileName) <= WHOLE_READ_BYTES) {
            // a small file (a process's core, mm or fdinfo records): read once, checked and parsed from memory
            Path file = dir.resolve(fileName);
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (java.nio.file.NoSuchFileException e) {
                throw ImageFiles.missing(file, e);
            } catch (IOException e) {
                throw ImageErrors.io("read", file, e);
            }
            if (bytes.length == knownSizes.get(fileName) && RecordReader.crc32c(bytes) == crc) {
                crcChecked.add(fileName);
                return RecordReader.fromBytes(file, expected, true, bytes);
            }
            // changed since the size check, or damaged: the streaming check below says how
        }
        checkWholeFile(fileName, expected, sizeVerified);
        return RecordReader.open(dir.resolve(fileName), expected, sizeVerified);
    }

    /** Record files up to this size are read whole, once (see {@link #reader}); larger ones are streamed. */
    private static final long WHOLE_READ_BYTES = 256 << 10;

    /** Reads every record of a file: {@link #reader} + {@link RecordReader#readAll} + close. */
    public <T extends Message> List<T> readAll(String fileName, FileType expected, Parser<T> parser)
            throws CryoException {
        try (RecordReader reader = reader(fileName, expected)) {
            return reader.readAll(parser);
        }
    }

    /** Opens a pages file and checks its header and size; the caller closes the reader. */
    public synchronized PagesReader pagesReader(String fileName) throws CryoException {
        checkReadable(fileName);
        checkSize(fileName);
        return PagesReader.open(dir.resolve(fileName), knownCrcs.get(fileName));
    }

    /** @return the type a file's header states, checking magic and version */
    public FileType fileType(String fileName) throws CryoException {
        checkReadable(fileName);
        Path file = dir.resolve(fileName);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(ImageFormat.RECORD_HEADER_BYTES);
            while (header.hasRemaining()) {
                if (channel.read(header) < 0) {
                    throw ImageErrors.truncated(file, "the file is " + channel.size() + " bytes, shorter than the "
                            + ImageFormat.RECORD_HEADER_BYTES + "-byte header");
                }
            }
            return ImageFormat.checkHeader(file, header, null);
        } catch (IOException e) {
            throw ImageErrors.io("read", file, e);
        }
    }

    /**
     * @return for an opened image, whether the inventory lists the file (its presence was checked by
     *         {@link #open}); for a created one, whether the directory holds it. False for a name that is not an
     *         image file name.
     */
    public synchronized boolean exists(String fileName) {
        if (!ImageFormat.isImageFileName(fileName)) {
            return false;
        }
        if (isStatsFile(fileName)) {
            return Files.isRegularFile(dir.resolve(fileName));
        }
        if (!writable) {
            return fileName.equals(INVENTORY_FILE) || inventory.getFilesList().contains(fileName);
        }
        return Files.exists(dir.resolve(fileName));
    }

    /**
     * @return the files of the image: {@value #INVENTORY_FILE} first (once written), then the others by name.
     *         For an opened image these are the files the inventory lists; for a created one, the files created
     *         so far; then the statistics files present ({@code stats-dump.img}, {@code stats-restore.img}). Other
     *         files in the directory are not part of the image.
     */
    public synchronized List<String> files() {
        List<String> names = new ArrayList<>();
        if (inventory != null) {
            names.add(INVENTORY_FILE);
        }
        names.addAll(writable ? otherCreatedFiles() : inventory.getFilesList());
        for (String stats : List.of(ImageFileNames.STATS_DUMP, ImageFileNames.STATS_RESTORE)) {
            if (inventory != null && Files.isRegularFile(dir.resolve(stats))) {
                names.add(stats);
            }
        }
        return Collections.unmodifiableList(names);
    }

    /** @return the size on disk of the {@link #files()} of the image (statistics files included), in bytes */
    public synchronized long bytes() {
        long total = 0;
        for (String name : files()) {
            try {
                total += Files.size(dir.resolve(name));
            } catch (IOException e) {
                // a file removed under us: the figure is diagnostics only
            }
        }
        return total;
    }

    /**
     * Starts creating the empty files {@code fileNames} (0600), in this order, on a thread of this image's own, so that
     * the {@link #writer} or {@link #pagesWriter} that asks for one later finds it made: a dump creates four files per
     * process while the tree is frozen, and creating a file costs from tens of microseconds to a millisecond on ext4
     * after many deletes (issue 13). A writer waits for its file if the thread has not got to it yet, and a failure to
     * create it is that writer's failure, as if it had created the file itself. A prepared file no writer took is
     * removed by {@link #writeInventory} (before it lists the files) and by {@link #discard}. Names that are not image
     * file names, or are already created or prepared, are skipped (their writers meet them as before); nothing is
     * prepared once the image is complete or discarded.
     */
    public synchronized void prepare(List<String> fileNames) {
        if (!writable || inventory != null || discarded) {
            return;
        }
        for (String name : fileNames) {
            if (!ImageFormat.isImageFileName(name) || name.equals(INVENTORY_FILE) || created.containsKey(name)
                    || prepared.containsKey(name)) {
                continue;
            }
            if (preparer == null) {
                preparer = Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "cryo-image-files");
                    t.setDaemon(true);
                    return t;
                });
            }
            Path file = dir.resolve(name);
            prepared.put(name, preparer.submit(() -> createFile(file)));
        }
    }

    /** Creates {@code file} (0600; it must not exist) for writing. */
    private static FileChannel createFile(Path file) throws IOException {
        return FileChannel.open(file, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), FILE_MODE);
    }

    /** @return the channel a prepared file's creation made, waiting for it; its failure as thrown there */
    private static FileChannel take(Future<FileChannel> file) throws IOException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return file.get();
                } catch (InterruptedException e) {
                    interrupted = true; // a creation takes a millisecond at most: finish it, keep the interrupt
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    throw new IOException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Removes the prepared files no writer took (waiting for those being created; one whose creation failed was not
     * made by this instance and stays) and stops the thread.
     *
     * @return what could not be removed, for the caller's error
     */
    private List<String> dropPrepared() {
        List<String> failures = new ArrayList<>();
        for (Map.Entry<String, Future<FileChannel>> e : prepared.entrySet()) {
            Path file = dir.resolve(e.getKey());
            try {
                take(e.getValue()).close();
            } catch (IOException | RuntimeException notMade) {
                continue;
            }
            try {
                Files.deleteIfExists(file);
            } catch (IOException ex) {
                failures.add("unlink(" + file + "): " + ImageErrors.describe(ex));
            }
        }
        prepared.clear();
        if (preparer != null) {
            preparer.shutdown();
            preparer = null;
        }
        return failures;
    }

    /**
     * Writes {@value #INVENTORY_FILE}, the last file of a dump: {@code entry} with {@code format_version},
     * {@code files} and {@code file_details} set from the files this instance created; then fsyncs the file and
     * the directory. From here on the image is complete.
     *
     * @throws CryoException INTERNAL {@code core/IMAGE_WRITER_OPEN} when a writer is still open (close it first),
     *                       {@code core/IMAGE_SEALED} when called twice; IMAGE on an I/O failure
     */
    public synchronized void writeInventory(InventoryEntry entry) throws CryoException {
        checkWritable("writeInventory");
        List<String> leftover = dropPrepared();
        if (!leftover.isEmpty()) {
            throw new CryoException(Category.IMAGE, ImageErrors.IO, "could not remove unused files of the image"
                    + " in " + dir + ": " + String.join("; ", leftover), "check the file system of " + dir);
        }
        List<String> open = new ArrayList<>();
        for (Map.Entry<String, Object> e : created.entrySet()) {
            if (!isClosed(e.getValue())) {
                open.add(e.getKey());
            }
        }
        if (!open.isEmpty()) {
            throw ImageErrors.internal("core/IMAGE_WRITER_OPEN", "cannot write the inventory of " + dir
                    + ": still open for writing: " + String.join(", ", open));
        }
        List<String> names = otherCreatedFiles();
        InventoryEntry.Builder b = entry.toBuilder().setFormatVersion(ImageFormat.FORMAT_VERSION)
                .clearFiles().addAllFiles(names).clearFileDetails();
        for (String name : names) {
            ImageFileEntry.Builder d = ImageFileEntry.newBuilder().setName(name).setType(createdTypes.get(name).code())
                    .setSize(knownSizes.get(name));
            if (knownRecords.containsKey(name)) {
                d.setRecords(knownRecords.get(name));
            }
            if (knownCrcs.containsKey(name)) {
                d.setCrc32C(knownCrcs.get(name));
            }
            b.addFileDetails(d);
        }
        InventoryEntry full = b.build();
        FileChannel channel = newFile(INVENTORY_FILE, FileType.INVENTORY);
        RecordWriter writer;
        try {
            writer = new RecordWriter(dir.resolve(INVENTORY_FILE), FileType.INVENTORY, channel, recordClosed, sync);
        } catch (CryoException e) {
            abandonNewFile(INVENTORY_FILE, channel, e);
            throw e;
        }
        created.put(INVENTORY_FILE, writer);
        writer.write(full);
        writer.close();
        if (sync) {
            fsyncDir();
        }
        inventory = full;
    }

    /**
     * Writes (or replaces) a statistics file, {@code stats-dump.img} or {@code stats-restore.img}: one
     * {@link FileType#STATS} record, mode 0600, never synced, not listed in the inventory. Works on a created image
     * after {@link #writeInventory} and on an opened one (a restore records its own statistics).
     *
     * @throws CryoException IMAGE {@code core/IMAGE_IO} when the file cannot be written (e.g. a read-only image)
     */
    public synchronized void writeStats(String fileName, StatsEntry stats) throws CryoException {
        if (!isStatsFile(fileName)) {
            throw ImageErrors.internal("core/IMAGE_FILE_NAME", fileName + " is not a statistics file name");
        }
        Path file = dir.resolve(fileName);
        Path tmp = dir.resolve(fileName + ".tmp");
        try {
            Files.deleteIfExists(tmp);
            FileChannel channel = createFile(tmp);
            RecordWriter w = new RecordWriter(tmp, FileType.STATS, channel, NOT_TOLD, false);
            w.write(stats);
            w.close();
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw ImageErrors.io("write", file, e);
        }
    }

    /** @return the statistics in {@code fileName} ({@code stats-dump.img}...), empty when the image has none */
    public synchronized Optional<StatsEntry> stats(String fileName) throws CryoException {
        if (!isStatsFile(fileName) || !Files.isRegularFile(dir.resolve(fileName))) {
            return Optional.empty();
        }
        try (RecordReader r = RecordReader.open(dir.resolve(fileName), FileType.STATS, false)) {
            List<StatsEntry> all = r.readAll(StatsEntry.parser());
            return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
        }
    }

    private static boolean isStatsFile(String fileName) {
        return fileName.equals(ImageFileNames.STATS_DUMP) || fileName.equals(ImageFileNames.STATS_RESTORE);
    }

    /**
     * @return the inventory: as read by {@link #open}, or as written by {@link #writeInventory}
     * @throws IllegalStateException on a created image before {@link #writeInventory}
     */
    public synchronized InventoryEntry inventory() {
        if (inventory == null) {
            throw new IllegalStateException("the inventory of " + dir + " is not written yet");
        }
        return inventory;
    }

    /**
     * Removes every file this instance created ({@value #INVENTORY_FILE} first, so an interrupted discard never
     * leaves a complete-looking image), closing writers still open, then the directories {@link #create} made
     * if nothing else was put in them. Called when a dump fails. Idempotent.
     *
     * @throws CryoException IMAGE {@code core/IMAGE_DISCARD} naming what could not be removed, after trying
     *                       everything; callers add it as suppressed to the failure that caused the discard
     */
    public synchronized void discard() throws CryoException {
        if (discarded) {
            return;
        }
        checkWritable("discard");
        discarded = true;
        List<String> failures = dropPrepared();
        for (Object writer : created.values()) {
            if (writer instanceof RecordWriter w) {
                w.abandon();
            } else if (writer instanceof PagesWriter w) {
                w.abandon();
            }
        }
        List<String> order = new ArrayList<>(created.keySet());
        Collections.reverse(order);
        if (order.remove(INVENTORY_FILE)) {
            order.add(0, INVENTORY_FILE);
        }
        for (String name : order) {
            try {
                Files.deleteIfExists(dir.resolve(name));
            } catch (IOException e) {
                failures.add("unlink(" + dir.resolve(name) + "): " + ImageErrors.describe(e));
            }
        }
        created.clear();
        for (Path d : createdDirs) {
            try {
                Files.deleteIfExists(d);
            } catch (DirectoryNotEmptyException e) {
                break; // someone else's files: leave them and the directories above
            } catch (IOException e) {
                failures.add("rmdir(" + d + "): " + ImageErrors.describe(e));
                break;
            }
        }
        if (!failures.isEmpty()) {
            throw new CryoException(Category.IMAGE, "core/IMAGE_DISCARD", "could not remove the partial image in "
                    + dir + ": " + String.join("; ", failures),
                    "remove " + dir + " by hand" + (failures.get(0).contains(INVENTORY_FILE) ? ""
                            : " (it is incomplete; restore refuses it)"));
        }
    }

    @Override
    public String toString() {
        return "ImageDir[" + dir + "]";
    }

    private void closed(Object writer) {
        synchronized (this) {
            if (writer instanceof RecordWriter w) {
                knownSizes.put(w.fileName(), w.size());
                knownRecords.put(w.fileName(), w.records());
                knownCrcs.put(w.fileName(), w.fileCrc());
                crcChecked.add(w.fileName());
            } else if (writer instanceof PagesWriter w) {
                knownSizes.put(w.fileName(), w.size());
                knownCrcs.put(w.fileName(), w.tableCrc());
            }
        }
    }

    private List<String> otherCreatedFiles() {
        List<String> names = new ArrayList<>(created.keySet());
        names.remove(INVENTORY_FILE);
        Collections.sort(names);
        return names;
    }

    private static boolean isClosed(Object writer) {
        if (writer instanceof RecordWriter w) {
            return w.isClosed();
        }
        return ((PagesWriter) writer).isClosed();
    }

    private FileChannel newFile(String fileName, FileType type) throws CryoException {
        checkWritable("create " + fileName + " in");
        if (!ImageFormat.isImageFileName(fileName)) {
            throw ImageErrors.internal("core/IMAGE_FILE_NAME", "invalid image file name \"" + fileName
                    + "\" for " + dir + ": a plain name ending in .img");
        }
        if (inventory != null) {
            throw ImageErrors.internal("core/IMAGE_SEALED", "cannot create " + fileName + " in " + dir
                    + ": the inventory is written, the image is complete");
        }
        if (created.containsKey(fileName)) {
            throw ImageErrors.internal("core/IMAGE_FILE_TWICE", fileName + " in " + dir + " is created twice");
        }
        Path file = dir.resolve(fileName);
        Future<FileChannel> ready = prepared.remove(fileName);
        try {
            FileChannel channel = ready != null ? take(ready) : createFile(file);
            createdTypes.put(fileName, type);
            return channel;
        } catch (IOException e) {
            throw ImageErrors.io("open", file, e);
        }
    }

    /** Undoes {@link #newFile} when its header could not be written. */
    private void abandonNewFile(String fileName, FileChannel channel, CryoException failure) {
        try {
            channel.close();
            Files.deleteIfExists(dir.resolve(fileName));
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
        createdTypes.remove(fileName);
    }

    private void checkWritable(String what) throws CryoException {
        if (!writable) {
            throw ImageErrors.internal("core/IMAGE_READ_ONLY", what + " " + dir + ": opened for reading");
        }
        if (discarded) {
            throw ImageErrors.internal("core/IMAGE_DISCARDED", what + " " + dir + ": already discarded");
        }
    }

    private void checkReadable(String fileName) throws CryoException {
        if (!ImageFormat.isImageFileName(fileName)) {
            throw new CryoException(Category.IMAGE, "core/IMAGE_FILE_NAME", "invalid image file name \""
                    + fileName + "\" in " + dir, "the image is damaged; dump the tree again");
        }
        if (!writable && inventory != null && !exists(fileName)) {
            throw new CryoException(Category.IMAGE, ImageErrors.INCOMPLETE, "image " + dir + " has no file "
                    + fileName + ": the inventory does not list it", "the image is incomplete or from another "
                    + "cryo version; dump the tree again");
        }
        Object writer = created.get(fileName);
        if (writer != null && !isClosed(writer)) {
            throw ImageErrors.internal("core/IMAGE_WRITER_OPEN", "reading " + fileName + " in " + dir
                    + " while it is still open for writing");
        }
    }

    /**
     * Compares the size on disk with the known size, if any.
     *
     * @return whether the size is known and matches (so a frame running past the end is corruption)
     */
    private boolean checkSize(String fileName) throws CryoException {
        Long expected = knownSizes.get(fileName);
        if (expected == null) {
            return false;
        }
        Path file = dir.resolve(fileName);
        long actual;
        try {
            actual = Files.size(file);
        } catch (IOException e) {
            throw ImageErrors.io("stat", file, e);
        }
        if (actual < expected) {
            throw ImageErrors.truncated(file, "the file is " + actual + " bytes, the inventory recorded "
                    + expected);
        }
        if (actual > expected) {
            throw ImageErrors.corrupt(file, "the file is " + actual + " bytes, the inventory recorded " + expected);
        }
        return true;
    }

    /**
     * For an image whose inventory recorded the file's record count and crc32c: checks the crc32c of the whole file
     * once (one sequential read; the file is read through before any of its records is used), so that records
     * swapped, duplicated or dropped with every frame checksum right are refused. Nothing is checked for an image of
     * an older cryo (no such fields).
     */
    private void checkWholeFile(String fileName, FileType expected, boolean sizeVerified) throws CryoException {
        Integer crc = knownCrcs.get(fileName);
        if (crc == null || crcChecked.contains(fileName)) {
            return;
        }
        RecordReader.checkWholeFile(dir.resolve(fileName), expected, sizeVerified, knownRecords.get(fileName), crc);
        crcChecked.add(fileName);
    }

    /**
     * @return whether the inventory recorded the file's whole-file checksum (record files) or its page checksum
     *         table's (pages files), which every read of it checks; false for images of older cryos
     */
    public synchronized boolean wholeFileChecksummed(String fileName) {
        return knownCrcs.containsKey(fileName);
    }

    private void fsyncDir() throws CryoException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            throw ImageErrors.io("fsync", dir, e);
        }
    }

    private static List<Path> list(Path dir, Category category) throws CryoException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            stream.forEach(entries::add);
        } catch (IOException e) {
            throw new CryoException(category, "core/IMAGE_DIR_READ", "opendir(" + dir + ") failed: "
                    + ImageErrors.describe(e), "check the permissions of " + dir, e);
        }
        entries.sort(null);
        return entries;
    }

    /** Deletes {@code *.img} (inventory first, so a half-cleared directory never looks like an image). */
    private static void removeOldImageFiles(Path dir, List<Path> entries) throws CryoException {
        List<Path> images = new ArrayList<>();
        for (Path p : entries) {
            if (p.getFileName().toString().endsWith(".img")) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    throw new CryoException(Category.USAGE, "core/IMAGE_DIR_NOT_EMPTY", "image directory " + dir
                            + " holds a directory " + p.getFileName() + " that is not a Cryo image file",
                            "remove it by hand or choose another directory for -D");
                }
                images.add(p);
            }
        }
        images.sort((a, b) -> Boolean.compare(!a.getFileName().toString().equals(INVENTORY_FILE),
                !b.getFileName().toString().equals(INVENTORY_FILE)));
        for (Path p : images) {
            try {
                Files.delete(p);
            } catch (IOException e) {
                throw new CryoException(Category.USAGE, "core/IMAGE_DIR_CREATE", "unlink(" + p + ") failed: "
                        + ImageErrors.describe(e), "remove the old image in " + dir + " by hand", e);
            }
        }
    }
}
