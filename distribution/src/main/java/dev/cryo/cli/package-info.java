/**
 * The {@code cryo} command line: picocli commands that turn options into {@link dev.cryo.core.config.ConfigEntry}
 * entries (the top layer of the config chain), drive {@link dev.cryo.core.Cryo}, and map every failure to one exit
 * status ({@link dev.cryo.cli.ExitCodes}). Entry point: {@link dev.cryo.cli.CryoCli#main(String[])}, started by
 * {@code bin/cryo}.
 */
package dev.cryo.cli;
