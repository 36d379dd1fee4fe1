/**
 * The image format and its I/O, used by every pipeline stage that touches the image directory: the dump's
 * "write" and "finish" stages, the restore's "read + validate" stage, and {@code cryo show}.
 *
 * <p>{@link dev.cryo.core.image.ImageDir} is the entry point: it creates (0700) or opens an image directory and
 * hands out {@link dev.cryo.core.image.RecordWriter}/{@link dev.cryo.core.image.RecordReader} for protobuf record
 * files and {@link dev.cryo.core.image.PagesWriter}/{@link dev.cryo.core.image.PagesReader} for raw page data.
 * The byte layout is described in {@link dev.cryo.core.image.ImageFormat}. Plugin-owned records travel in an
 * {@link dev.cryo.core.image.proto.Envelope} ({@link dev.cryo.core.image.Envelopes});
 * {@link dev.cryo.core.image.ImageRenderer} prints an image as JSON.
 *
 * <p>Every failure is a {@link dev.cryo.api.CryoException}: category IMAGE for anything wrong with an image on
 * disk (codes {@code core/IMAGE_CORRUPT}, {@code core/IMAGE_TRUNCATED}, {@code core/IMAGE_VERSION},
 * {@code core/IMAGE_INCOMPLETE}, ...), USAGE for a directory the user chose badly, INTERNAL for a caller bug.
 */
package dev.cryo.core.image;
