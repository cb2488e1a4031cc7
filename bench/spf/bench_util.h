/*
 * bench_util.h - timing loop and case-list helpers shared by the SPF
 * benchmark harnesses (bench_spf.c, bench_libspf2.c).
 *
 * CONTRACT
 *	A harness describes its work as ncases evaluations, each run by one
 *	call of an eval function that returns a small result code (>= 0).
 *	bench_util_time() makes one untimed warm-up pass that records every
 *	result, then calls the eval function over all cases, pass after pass,
 *	until the time budget is spent (the clock is read once per pass), and
 *	counts results that differ from the warm-up pass.  Nothing here
 *	allocates inside the timed loop.
 *
 *	Output lines are the ones bench/spf/compare.py parses:
 *	"rate EVALS_PER_S evals N seconds S mismatches M".
 */
#ifndef BENCH_SPF_BENCH_UTIL_H
#define BENCH_SPF_BENCH_UTIL_H

#include <stddef.h>

/* Evaluates case i once; returns its result code, or -1 on failure. */
typedef int bench_util_eval_fn(void *arg, size_t i);

struct bench_util_rate {
	double rate;			/* evaluations per second */
	unsigned long evals;		/* evaluations timed */
	double seconds;			/* elapsed wall-clock time */
	unsigned long mismatches;	/* results unlike the warm-up pass */
};

/* Monotonic clock in seconds. */
double bench_util_now(void);

/*
 * Runs the warm-up pass and the timed loop for at least seconds.
 * Returns 0, or -1 if ncases is 0 or memory is short.
 */
int bench_util_time(size_t ncases, bench_util_eval_fn *fn, void *arg,
    double seconds, struct bench_util_rate *out);

/* Prints the "rate ..." line to stdout. */
void bench_util_print_rate(const struct bench_util_rate *rate);

/*
 * Reads a file of case ids, one per line (blank lines skipped).  On
 * success returns 0 with *ids (each string and the array malloc'ed) and
 * *nids; release with bench_util_free_ids().  Returns -1 on error.
 */
int bench_util_read_ids(const char *path, char ***ids, size_t *nids);

/* Frees what bench_util_read_ids() returned; NULL-safe. */
void bench_util_free_ids(char **ids, size_t nids);

#endif /* BENCH_SPF_BENCH_UTIL_H */
