/*
 * main.c - the spfgate command: dispatches to its subcommands.
 *
 *	spfgate serve -c FILE        run the relay (relay/serve.c)
 *	spfgate configtest -c FILE   check a configuration and exit
 *	spfgate check ...            evaluate SPF once (relay/check.c)
 *	spfgate srs ...              SRS rewriting by hand (relay/srs_cmd.c)
 *	spfgate version
 */
#include <stdio.h>
#include <string.h>

#include "relay/commands.h"

/* One subcommand: its name, its entry point and a line of help. */
struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static int version_main(int argc, char **argv);

static const struct command commands[] = {
	{ "serve", serve_main, "run the relay: serve -c FILE" },
	{ "configtest", configtest_main, "check a configuration: configtest -c FILE [-v]" },
	{ "check", check_main, "evaluate SPF once: check --ip IP --sender ADDR ..." },
	{ "srs", srs_main, "SRS by hand: srs forward|reverse ADDR ..." },
	{ "version", version_main, "print the version" },
};

/* Prints the version of spfgate. */
static int
version_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("spfgate %s\n", SPFGATE_VERSION);
	return 0;
}

int
command_usage_error(const char *cmd, const char *usage, const char *what,
    const char *value)
{
	if (value != NULL)
		fprintf(stderr, "spfgate %s: %s: '%s'\n", cmd, what, value);
	else
		fprintf(stderr, "spfgate %s: %s\n", cmd, what);
	fputs(usage, stderr);
	return EXIT_USAGE;
}

/* Prints the list of subcommands to f. */
static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: spfgate COMMAND [ARGS]\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].help);
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "spfgate: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
