/*
 * srs_cmd.c - `spfgate srs`: SRS rewriting by hand (relay/srs.c).
 *
 *	spfgate srs forward ADDRESS [options]
 *	spfgate srs reverse ADDRESS [options]
 *	options: [-c FILE] [--domain D] [--secrets FILE] [--hash-length N]
 *	         [--max-age DAYS] [--separator =|+|-] [--now UNIXTIME]
 *
 * Settings come from the [srs] section of the configuration given with
 * -c (domain, secrets_file, hash_length, max_age, separator); an option
 * given on the command line overrides the file.  [domain NAME] overrides
 * are not applied: give --domain / --hash-length for such a domain.
 * Without -c the defaults are those of [srs] (hash length 4, max age 21
 * days, separator =).  --now fixes the clock (seconds since the epoch),
 * for reproducing a case or testing.
 *
 * Prints the result on stdout.  Exit status: 0 done (a forward that
 * leaves the sender unchanged says why on stderr), 1 the address cannot
 * be rewritten or is not a valid SRS address (not SRS, malformed,
 * tampered, expired), 64 usage error, 78 configuration or secrets file
 * error.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "relay/commands.h"
#include "relay/srs.h"

#define SRS_CMD_MS_PER_DAY (86400 * (int64_t)1000)	/* conf durations */
#define SRS_CMD_WHY 512

/* The command line, and then the effective settings. */
struct srs_cmd_args {
	int forward;			/* 1 forward, 0 reverse */
	const char *address;
	const char *config;		/* -c FILE or NULL */
	char *domain;			/* owned; NULL = none */
	char *secrets;			/* owned; NULL = none */
	int hash_length;		/* -1 = not given */
	int max_age;			/* -1 = not given */
	int separator;			/* 0 = not given */
	time_t now;			/* -1 = the clock */
};

static const char srs_cmd_usage_text[] =
    "usage: spfgate srs forward|reverse ADDRESS [-c FILE] [--domain D]\n"
    "       [--secrets FILE] [--hash-length N] [--max-age DAYS]\n"
    "       [--separator =|+|-] [--now UNIXTIME]\n"
    "  forward  rewrite a sender into an SRS address at the SRS domain\n"
    "  reverse  undo one SRS step (SRS0 -> sender, SRS1 -> first hop)\n"
    "  -c FILE  take [srs] settings from the configuration; options win\n"
    "exit status: 0 done, 1 invalid/tampered/expired or not rewritable,\n"
    "             64 usage error, 78 configuration or secrets error\n";

/* Reports a bad argument, then the usage; returns 64. */
static int
srs_cmd_usage_error(const char *what, const char *value)
{
	return command_usage_error("srs", srs_cmd_usage_text, what, value);
}

/* Parses a decimal in lo..hi; -1 if it is not one. */
static long long
srs_cmd_number(const char *s, long long lo, long long hi)
{
	char *end;
	long long v;

	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	return v;
}

/* Replaces *slot with a copy of s; 0, or -1 out of memory. */
static int
srs_cmd_set(char **slot, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

/* Applies one option to args; 0, or an exit status. */
static int
srs_cmd_option(struct srs_cmd_args *args, int opt, const char *val)
{
	long long v;

	switch (opt) {
	case 'c':
		args->config = val;
		return 0;
	case 'd':
	case 's':
		if (srs_cmd_set(opt == 'd' ? &args->domain : &args->secrets,
		    val) < 0)
			return EXIT_SOFTWARE;
		return 0;
	case 'l':
		if ((v = srs_cmd_number(val, SRS_HASH_MIN, SRS_HASH_MAX)) < 0)
			return srs_cmd_usage_error("--hash-length must be 4..27",
			    val);
		args->hash_length = (int)v;
		return 0;
	case 'a':
		if ((v = srs_cmd_number(val, 1, SRS_MAX_AGE_MAX)) < 0)
			return srs_cmd_usage_error("--max-age must be 1..511 "
			    "days", val);
		args->max_age = (int)v;
		return 0;
	case 'p':
		if (strlen(val) != 1 || strchr("=+-", val[0]) == NULL)
			return srs_cmd_usage_error("--separator must be =, + "
			    "or -", val);
		args->separator = val[0];
		return 0;
	case 'n':
		if ((v = srs_cmd_number(val, 0, (long long)1 << 40)) < 0)
			return srs_cmd_usage_error("--now must be seconds since "
			    "the epoch", val);
		args->now = (time_t)v;
		return 0;
	}
	return srs_cmd_usage_error("unknown option", NULL);
}

/* Fills args from argv; returns 0, -1 after --help, or an exit status. */
static int
srs_cmd_parse(int argc, char **argv, struct srs_cmd_args *args)
{
	static const struct option options[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "secrets", required_argument, NULL, 's' },
		{ "hash-length", required_argument, NULL, 'l' },
		{ "max-age", required_argument, NULL, 'a' },
		{ "separator", required_argument, NULL, 'p' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(srs_cmd_usage_text, stdout);
			return -1;
		}
		if (opt == '?' || opt == ':')
			return srs_cmd_usage_error(opt == ':' ? "missing value"
			    : "unknown option", argv[optind - 1]);
		if ((rc = srs_cmd_option(args, opt, optarg)) != 0)
			return rc;
	}
	if (argc - optind != 2)
		return srs_cmd_usage_error("expected forward|reverse and one "
		    "address", NULL);
	if (strcmp(argv[optind], "forward") != 0 &&
	    strcmp(argv[optind], "reverse") != 0)
		return srs_cmd_usage_error("unknown action", argv[optind]);
	args->forward = strcmp(argv[optind], "forward") == 0;
	args->address = argv[optind + 1];
	return 0;
}

/* Fills the settings not given on the command line from [srs] of -c. */
static int
srs_cmd_load_conf(struct srs_cmd_args *args)
{
	struct conf_errors errs;
	struct conf *conf;
	const struct conf_srs *s;
	int rc = 0;

	memset(&errs, 0, sizeof(errs));
	if ((conf = conf_load(args->config, &errs)) == NULL) {
		fprintf(stderr, "spfgate srs: configuration has errors:\n");
		conf_errors_print(&errs, stderr);
		return EXIT_CONFIG;
	}
	s = &conf->srs;
	if ((args->domain == NULL && s->domain[0] != '\0' &&
	    srs_cmd_set(&args->domain, s->domain) < 0) ||
	    (args->secrets == NULL && s->secrets_file[0] != '\0' &&
	    srs_cmd_set(&args->secrets, s->secrets_file) < 0))
		rc = EXIT_SOFTWARE;
	if (args->hash_length < 0)
		args->hash_length = s->hash_length;
	if (args->max_age < 0)
		args->max_age = (int)(s->max_age / SRS_CMD_MS_PER_DAY);
	if (args->separator == 0)
		args->separator = s->separator;
	conf_free(conf);
	return rc;
}

/* Builds the rewriter from the secrets file; NULL after a message. */
static struct srs *
srs_cmd_new(const struct srs_cmd_args *args)
{
	char why[SRS_CMD_WHY], **secrets = NULL;
	struct srs *srs;
	int n = 0;

	if (srs_load_secrets(args->secrets, &secrets, &n, why,
	    sizeof(why)) < 0) {
		fprintf(stderr, "spfgate srs: %s\n", why);
		return NULL;
	}
	srs = srs_new((const char *const *)secrets, n, args->hash_length,
	    args->max_age, (char)args->separator, why, sizeof(why));
	srs_free_secrets(secrets, n);
	if (srs == NULL)
		fprintf(stderr, "spfgate srs: %s\n", why);
	return srs;
}

/* Runs the forward or reverse and prints its outcome; the exit status. */
static int
srs_cmd_run(const struct srs *srs, const struct srs_cmd_args *args)
{
	char out[2 * SRS_ADDR_MAX], why[SRS_CMD_WHY] = "";
	time_t now = args->now >= 0 ? args->now : time(NULL);
	int rc;

	if (args->forward)
		rc = srs_forward(srs, args->address, args->domain, now, out,
		    sizeof(out), why, sizeof(why));
	else
		rc = srs_reverse(srs, args->address, now, out, sizeof(out),
		    why, sizeof(why));
	if (rc == SRS_OK || (rc == SRS_UNCHANGED && args->forward)) {
		if (rc == SRS_UNCHANGED)
			fprintf(stderr, "spfgate srs: not rewritten: %s\n",
			    out[0] == '\0' ? "null sender" :
			    "already in the SRS domain");
		printf("%s\n", out);
		return 0;
	}
	if (rc == SRS_NOT_SRS)
		fprintf(stderr, "spfgate srs: '%s' is not an SRS address\n",
		    args->address);
	else
		fprintf(stderr, "spfgate srs: %s '%s': %s\n", args->forward ?
		    "cannot rewrite" : "invalid SRS address", args->address,
		    why);
	return 1;
}

/* `spfgate srs forward|reverse ADDRESS ...`; the exit status. */
int
srs_main(int argc, char **argv)
{
	struct srs_cmd_args args = { .hash_length = -1, .max_age = -1,
	    .now = -1 };
	struct srs *srs = NULL;
	int rc;

	rc = srs_cmd_parse(argc, argv, &args);
	if (rc == 0 && args.config != NULL)
		rc = srs_cmd_load_conf(&args);
	if (rc != 0)
		goto done;
	if (args.forward && (args.domain == NULL || args.domain[0] == '\0')) {
		rc = srs_cmd_usage_error("no SRS domain: give --domain, or -c "
		    "with [srs] domain", NULL);
		goto done;
	}
	if (args.secrets == NULL) {
		rc = srs_cmd_usage_error("no secrets: give --secrets, or -c "
		    "with [srs] secrets_file", NULL);
		goto done;
	}
	args.hash_length = args.hash_length < 0 ? 4 : args.hash_length;
	args.max_age = args.max_age < 0 ? 21 : args.max_age;
	args.separator = args.separator == 0 ? '=' : args.separator;
	if ((srs = srs_cmd_new(&args)) == NULL)
		rc = EXIT_CONFIG;
	else
		rc = srs_cmd_run(srs, &args);
done:
	srs_free(srs);
	free(args.domain);
	free(args.secrets);
	return rc < 0 ? 0 : rc;
}
