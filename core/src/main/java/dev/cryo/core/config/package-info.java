/**
 * The option chain, CRIU style: built-in defaults, {@code conf/cryo.conf}, {@code /etc/cryo/cryo.conf},
 * {@code $CRYO_CONFIG}, {@code --config FILE}, the command line. Read once per command, before plugins load.
 */
package dev.cryo.core.config;
