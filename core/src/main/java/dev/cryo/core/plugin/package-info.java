/**
 * The PF4J plugin host: loads the plugin jars of the distribution's {@code plugins/} directory that the
 * configuration enables, each in a class loader that sees only the SPI and an allowlist of libraries, and hands
 * their extensions to the dump and restore pipelines. Serves every pipeline stage; used once per command.
 */
package dev.cryo.core.plugin;
