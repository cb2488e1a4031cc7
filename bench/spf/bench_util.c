/*
 * bench_util.c - timing loop and case-list helpers for the SPF benchmark.
 *
 * CONTRACT
 *	See bench_util.h.  libc only; the clock is CLOCK_MONOTONIC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#define BENCH_UTIL_LINE_MAX 1024

/* Monotonic clock in seconds. */
double
bench_util_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();	/* cannot happen on Linux; a benchmark needs it */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass over every case; counts results unlike want[]. */
static unsigned long
bench_util_pass(size_t ncases, bench_util_eval_fn *fn, void *arg,
    const int *want)
{
	unsigned long mismatches = 0;
	size_t i;

	for (i = 0; i < ncases; i++)
		if (fn(arg, i) != want[i])
			mismatches++;
	return mismatches;
}

/* Warm-up pass, then passes until the time budget is spent. */
int
bench_util_time(size_t ncases, bench_util_eval_fn *fn, void *arg,
    double seconds, struct bench_util_rate *out)
{
	double start, now;
	int *want;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (ncases == 0 || (want = calloc(ncases, sizeof(*want))) == NULL)
		return -1;
	for (i = 0; i < ncases; i++)
		want[i] = fn(arg, i);
	start = bench_util_now();
	do {
		out->mismatches += bench_util_pass(ncases, fn, arg, want);
		out->evals += ncases;
		now = bench_util_now();
	} while (now - start < seconds);
	out->seconds = now - start;
	out->rate = (double)out->evals / out->seconds;
	free(want);
	return 0;
}

/* Prints the "rate ..." line that compare.py parses. */
void
bench_util_print_rate(const struct bench_util_rate *rate)
{
	printf("rate %.1f evals %lu seconds %.3f mismatches %lu\n",
	    rate->rate, rate->evals, rate->seconds, rate->mismatches);
}

/* Strips trailing CR/LF/blanks in place. */
static void
bench_util_chomp(char *line)
{
	size_t len = strlen(line);

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
	    line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';
}

/* Appends one id to a growing array; returns 0 or -1. */
static int
bench_util_push(char ***ids, size_t *nids, size_t *cap, const char *id)
{
	char **grown;

	if (*nids == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		if ((grown = realloc(*ids, *cap * sizeof(*grown))) == NULL)
			return -1;
		*ids = grown;
	}
	if (((*ids)[*nids] = strdup(id)) == NULL)
		return -1;
	(*nids)++;
	return 0;
}

/* Reads a file of case ids, one per line. */
int
bench_util_read_ids(const char *path, char ***ids, size_t *nids)
{
	char line[BENCH_UTIL_LINE_MAX];
	size_t cap = 0;
	FILE *fp;

	*ids = NULL;
	*nids = 0;
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strchr(line, '\n') == NULL && !feof(fp))
			goto fail;	/* an id longer than a line: refuse */
		bench_util_chomp(line);
		if (line[0] != '\0' && bench_util_push(ids, nids, &cap,
		    line) != 0)
			goto fail;
	}
	if (ferror(fp))
		goto fail;
	fclose(fp);
	return 0;
fail:
	fclose(fp);
	bench_util_free_ids(*ids, *nids);
	*ids = NULL;
	*nids = 0;
	return -1;
}

/* Frees an id array; NULL-safe. */
void
bench_util_free_ids(char **ids, size_t nids)
{
	size_t i;

	if (ids == NULL)
		return;
	for (i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
}
