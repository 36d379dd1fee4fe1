package dev.cryo.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares one option of a plugin, on any of its {@code @Extension} classes (repeatable). Core merges the
 * options of every plugin found in {@code plugins/} into the command line of the commands named by
 * {@link #commands()} ({@code cryo dump --help} lists them under the plugin's heading), into the config-file chain
 * (the same name without {@code --}) and into {@code cryo plugins --options}. Handlers read the values back from
 * {@link Config} under {@link #name()}.
 *
 * <p>Declarations are read from the class file without running any of the plugin's code (so that options of a
 * disabled plugin are known too): giving an option of a disabled plugin, on the command line or in a config file,
 * is an error naming the plugin and how to enable it.
 *
 * <p>Rules, checked when plugins are scanned (a violation is a {@code core/PLUGIN_OPTION} error naming the plugin):
 * names are lower-case words joined by {@code -} and do not start with {@code no-}; a name belongs to one plugin and
 * never to core; {@link #valuePattern()} is a valid regular expression.
 *
 * @since 1.1.0
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Repeatable(PluginOption.List.class)
public @interface PluginOption {
    /** The long option name without {@code --}, e.g. {@code ext-unix-sk}; also the config key. */
    String name();

    /** How the option takes a value. */
    Shape shape() default Shape.FLAG;

    /** Whether values accumulate across the config chain and the command line (else the last one wins). */
    boolean repeatable() default false;

    /** What a value looks like, for help and messages, e.g. {@code INO[,INO...]}; empty for a flag. */
    String valueHint() default "";

    /** A regular expression a value must match in full; empty: any value. */
    String valuePattern() default "";

    /** The built-in default value (the first link of the config chain); empty: none. */
    String defaultValue() default "";

    /** One or two sentences for {@code --help} and {@code cryo plugins --options}. */
    String help();

    /** The commands that take the option on their command line. */
    Command[] commands() default {Command.DUMP, Command.RESTORE};

    /** How an option takes a value. */
    enum Shape {
        /** A bare flag ({@code --tcp-established}); {@code no-<name>} in a config file turns it off again. */
        FLAG,
        /** Needs a value ({@code --ghost-limit 1M}). */
        VALUE,
        /** A bare flag or a value ({@code --ext-unix-sk} or {@code --ext-unix-sk=41234,41236}). */
        FLAG_OR_VALUE
    }

    /** The {@code cryo} subcommands an option can be given to. */
    enum Command {
        DUMP, RESTORE, CHECK
    }

    /** Container of repeated {@link PluginOption}s; written by the compiler. */
    @Documented
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.TYPE)
    @interface List {
        PluginOption[] value();
    }
}
