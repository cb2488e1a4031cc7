/*
 * srs_batch.c - drives relay/srs.c line by line for the Mail::SRS
 * compatibility test (mailsrs_compat.pl).
 *
 *	srs_batch --secrets FILE --hash-length N --max-age DAYS --separator C
 *
 * Reads requests on stdin, one per line, fields separated by tabs:
 *	F NOW SENDER DOMAIN	srs_forward(SENDER, DOMAIN) at time NOW
 *	R NOW ADDRESS		srs_reverse(ADDRESS) at time NOW
 * NOW is seconds since the epoch, or "-" for the real clock.  Writes one
 * line per request: "OK\tRESULT", "SAME\tRESULT" (forward left the
 * sender alone), "NOTSRS" (reverse: not an SRS address) or "ERR\tWHY".
 * Exits 2 on a usage or setup error, 0 otherwise.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/srs.h"

#define BATCH_LINE_MAX 4096

/* Parses NOW ("-" = the clock); -1 if invalid. */
static time_t
batch_now(const char *s)
{
	char *end;
	long long v;

	if (strcmp(s, "-") == 0)
		return time(NULL);
	v = strtoll(s, &end, 10);
	return end == s || *end != '\0' || v < 0 ? (time_t)-1 : (time_t)v;
}

/* Prints the outcome of one srs_forward() or srs_reverse() call. */
static void
batch_print(int rc, int forward, const char *out, const char *why)
{
	if (rc == SRS_OK)
		printf("OK\t%s\n", out);
	else if (rc == SRS_UNCHANGED && forward)
		printf("SAME\t%s\n", out);
	else if (rc == SRS_NOT_SRS)
		printf("NOTSRS\n");
	else
		printf("ERR\t%s\n", why);
}

/* Runs one request line (tabs replaced in place). */
static void
batch_line(const struct srs *srs, char *line)
{
	char out[BATCH_LINE_MAX], why[256] = "";
	char *f[4] = { NULL, NULL, NULL, NULL }, *save = NULL;
	int n = 0, rc;
	time_t now;

	for (char *t = strtok_r(line, "\t", &save); t != NULL && n < 4;
	    t = strtok_r(NULL, "\t", &save))
		f[n++] = t;
	if (n < 3 || (now = batch_now(f[1])) < 0) {
		printf("ERR\tbad request\n");
		return;
	}
	if (strcmp(f[0], "F") == 0 && n == 4) {
		rc = srs_forward(srs, f[2], f[3], now, out, sizeof(out), why,
		    sizeof(why));
		batch_print(rc, 1, out, why);
	} else if (strcmp(f[0], "R") == 0 && n == 3) {
		rc = srs_reverse(srs, f[2], now, out, sizeof(out), why,
		    sizeof(why));
		batch_print(rc, 0, out, why);
	} else
		printf("ERR\tbad request\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "secrets", required_argument, NULL, 's' },
		{ "hash-length", required_argument, NULL, 'h' },
		{ "max-age", required_argument, NULL, 'a' },
		{ "separator", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL;
	char line[BATCH_LINE_MAX], why[256], **secrets = NULL;
	int c, hash = 4, age = 21, nsecrets = 0;
	char sep = '=';
	struct srs *srs;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'h': hash = atoi(optarg); break;
		case 'a': age = atoi(optarg); break;
		case 'p': sep = optarg[0]; break;
		default: return 2;
		}
	}
	if (path == NULL || srs_load_secrets(path, &secrets, &nsecrets, why,
	    sizeof(why)) < 0) {
		fprintf(stderr, "srs_batch: %s\n", path ? why : "no --secrets");
		return 2;
	}
	srs = srs_new((const char *const *)secrets, nsecrets, hash, age, sep,
	    why, sizeof(why));
	srs_free_secrets(secrets, nsecrets);
	if (srs == NULL) {
		fprintf(stderr, "srs_batch: %s\n", why);
		return 2;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		batch_line(srs, line);
	}
	srs_free(srs);
	return 0;
}
