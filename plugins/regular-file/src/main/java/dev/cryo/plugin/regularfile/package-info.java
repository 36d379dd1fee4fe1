/**
 * The {@code regular-file} plugin: fds on regular files, directories and well-known character devices
 * ({@code /dev/null}, {@code /dev/zero}, {@code /dev/full}, {@code /dev/random}, {@code /dev/urandom},
 * {@code /dev/tty*}, {@code /dev/pts/*}, {@code /dev/console}), reopened by path at restore.
 *
 * <p>Serves the dump stage (fd collection: {@link dev.cryo.plugin.regularfile.RegularFileHandler#collect}) and
 * the restore stage (fd installation: {@link dev.cryo.plugin.regularfile.RegularFileHandler#restore}). The pure
 * decisions live in {@link dev.cryo.plugin.regularfile.OpenFlags} and {@link dev.cryo.plugin.regularfile.FileCheck}.
 */
package dev.cryo.plugin.regularfile;
