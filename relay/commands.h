/*
 * commands.h - entry points of the spfgate subcommands.
 *
 * Each takes the argument vector starting at the subcommand's own name
 * and returns the process exit status.
 */
#ifndef RELAY_COMMANDS_H
#define RELAY_COMMANDS_H

#define EXIT_USAGE 64		/* sysexits.h EX_USAGE */
#define EXIT_CONFIG 78		/* sysexits.h EX_CONFIG */
#define EXIT_SOFTWARE 70	/* sysexits.h EX_SOFTWARE */

int serve_main(int argc, char **argv);
int configtest_main(int argc, char **argv);
int check_main(int argc, char **argv);
int srs_main(int argc, char **argv);

/*
 * Prints "spfgate CMD: WHAT[: 'VALUE']" on one line, then usage, to
 * stderr; returns EXIT_USAGE.
 */
int command_usage_error(const char *cmd, const char *usage,
    const char *what, const char *value);

#endif /* RELAY_COMMANDS_H */
