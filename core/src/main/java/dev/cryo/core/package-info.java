/**
 * Cryo's engine: {@link dev.cryo.core.Cryo} is the entry point the CLI drives; {@code dump} and {@code restore}
 * hold the pipelines, {@code image} the image format, {@code plugin} the PF4J host, {@code config} the option
 * chain, {@code linux} the native layer.
 */
package dev.cryo.core;
