/**
 * The {@code event-fd} plugin: three small anonymous-inode files an event loop holds — {@link
 * dev.cryo.plugin.eventfd.EventFdHandler eventfd}, {@link dev.cryo.plugin.eventfd.TimerFdHandler timerfd} and
 * {@link dev.cryo.plugin.eventfd.SignalFdHandler signalfd}. Dump: read their state from {@code /proc/PID/fdinfo}
 * (and {@code timerfd_gettime}); restore: create each inside the restored process with the injected call and move
 * it to its fd number.
 */
package dev.cryo.plugin.eventfd;
