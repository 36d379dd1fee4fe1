/**
 * The {@code action-script} plugin: CRIU's {@code --action-script PATH}, on the lifecycle SPI
 * ({@link dev.cryo.api.LifecycleListener}). It serves both pipelines: it runs the user's scripts at the points of a
 * dump and of a restore where CRIU runs them ({@link dev.cryo.plugin.actionscript.ActionScriptListener}).
 */
package dev.cryo.plugin.actionscript;
