/**
 * The {@code inotify} plugin: inotify instances with every watch under the same watch descriptor number (dump:
 * fdinfo, file handles resolved in the task; restore: inotify_add_watch inside the restored process, skipping
 * numbers with dummy watches). See {@link dev.cryo.plugin.inotify.InotifyHandler}.
 */
package dev.cryo.plugin.inotify;
