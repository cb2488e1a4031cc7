/*
 * bench_spf.c - spfgate's SPF engine on the RFC 7208 suite, timed.
 *
 * CONTRACT
 *	Loads the suite with the spfsuite loader (tests/suite/suite.h): one
 *	in-memory zone per scenario, answered by spf_zone_resolver_new(), which
 *	calls back synchronously.  Each evaluation is what a real caller does:
 *	spf_eval_new() + spf_eval_start() (the done callback runs inside it)
 *	+ spf_eval_free().  The request of every case is filled once, before
 *	any timing, by suite_request().
 *
 *	--check SUITE     runs every case once and prints
 *	                  "check NAME ok|FAIL RESULT" per case: ok when the
 *	                  result is acceptable and, if the suite gives one,
 *	                  the explanation is equal.
 *	--time SECONDS --cases IDS SUITE
 *	                  times the cases listed in IDS (bench_util.h) and
 *	                  prints the "rate ..." line.
 *
 *	Static functions use the prefix bs_ (bench spfgate).
 *
 * OWNERSHIP
 *	main() owns the suite and one resolver per scenario and frees them
 *	in reverse order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spf.h"
#include "tests/suite/suite.h"

#include "bench_util.h"

#define BS_ERR_MAX 512

/* One timed or checked case. */
struct bs_item {
	const struct suite_case	*c;
	struct spf_resolver	*resolver;	/* of its scenario */
	struct spf_request	 req;
};

struct bs_bench {
	struct suite		 *suite;
	struct spf_resolver	**resolvers;	/* one per scenario */
	struct bs_item		 *items;	/* every case, suite order */
	size_t			  nitems;
	const struct bs_item	**sel;		/* the timed selection */
};

/* What the done callback reports back. */
struct bs_outcome {
	int	 done;
	int	 result;
	char	*exp;		/* where to copy the explanation, or NULL */
	size_t	 explen;
};

/* spf_done_cb: records the verdict. */
static void
bs_done_cb(void *arg, const struct spf_verdict *verdict)
{
	struct bs_outcome *o = arg;

	o->done++;
	o->result = (int)verdict->result;
	if (o->exp != NULL && snprintf(o->exp, o->explen, "%s",
	    verdict->explanation) >= (int)o->explen)
		o->exp[0] = '\0';	/* cannot happen: same bound as verdict */
}

/*
 * One evaluation as a caller runs it.  Returns the result, or -1 if the
 * evaluation could not be created or done was not called exactly once.
 */
static int
bs_eval(const struct bs_item *it, char *exp, size_t explen)
{
	struct bs_outcome o = { 0, -1, exp, explen };
	struct spf_eval *eval;

	if ((eval = spf_eval_new(&it->req, it->resolver, bs_done_cb, &o)) ==
	    NULL)
		return -1;
	spf_eval_start(eval);
	spf_eval_free(eval);
	return o.done == 1 ? o.result : -1;
}

/* bench_util_eval_fn over the selection. */
static int
bs_eval_selected(void *arg, size_t i)
{
	struct bs_bench *b = arg;

	return bs_eval(b->sel[i], NULL, 0);
}

/* Releases everything; NULL-safe. */
static void
bs_bench_free(struct bs_bench *b)
{
	int i;

	if (b == NULL)
		return;
	free(b->sel);
	free(b->items);
	if (b->resolvers != NULL && b->suite != NULL)
		for (i = b->suite->nscenarios - 1; i >= 0; i--)
			if (b->resolvers[i] != NULL)
				b->resolvers[i]->ops->free(b->resolvers[i]);
	free(b->resolvers);
	suite_free(b->suite);
	free(b);
}

/* Fills the items of one scenario; returns the next free index. */
static size_t
bs_fill_scenario(struct bs_bench *b, int s, size_t k)
{
	const struct suite_scenario *sc = &b->suite->scenarios[s];
	int i;

	for (i = 0; i < sc->ncases; i++, k++) {
		b->items[k].c = &sc->cases[i];
		b->items[k].resolver = b->resolvers[s];
		suite_request(&sc->cases[i], &b->items[k].req);
	}
	return k;
}

/* Loads the suite and builds resolvers and requests (all untimed). */
static struct bs_bench *
bs_bench_new(const char *path)
{
	char err[BS_ERR_MAX];
	struct bs_bench *b;
	size_t k = 0;
	int s;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->suite = suite_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		goto fail;
	}
	b->resolvers = calloc((size_t)b->suite->nscenarios,
	    sizeof(*b->resolvers));
	b->items = calloc((size_t)b->suite->ncases, sizeof(*b->items));
	if (b->resolvers == NULL || b->items == NULL)
		goto fail;
	for (s = 0; s < b->suite->nscenarios; s++) {
		b->resolvers[s] = spf_zone_resolver_new(
		    b->suite->scenarios[s].zone);
		if (b->resolvers[s] == NULL)
			goto fail;
		k = bs_fill_scenario(b, s, k);
	}
	b->nitems = k;
	return b;
fail:
	bs_bench_free(b);
	return NULL;
}

/* --check: every case once. */
static int
bs_check(struct bs_bench *b)
{
	char exp[SPF_EXPLANATION_MAX];
	const struct suite_case *c;
	size_t i, passed = 0;
	int result, ok;

	for (i = 0; i < b->nitems; i++) {
		c = b->items[i].c;
		exp[0] = '\0';
		result = bs_eval(&b->items[i], exp, sizeof(exp));
		ok = result >= 0 && suite_accepts(c, (enum spf_result)result) &&
		    (c->explanation == NULL || strcmp(c->explanation, exp) == 0);
		passed += (size_t)ok;
		printf("check %s %s %s\n", c->name, ok ? "ok" : "FAIL",
		    result >= 0 ? spf_result_name((enum spf_result)result) :
		    "(error)");
	}
	printf("summary spfgate %zu/%zu\n", passed, b->nitems);
	return 0;
}

/* Finds the item of a case name, or NULL. */
static const struct bs_item *
bs_find(const struct bs_bench *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->nitems; i++)
		if (strcmp(b->items[i].c->name, name) == 0)
			return &b->items[i];
	return NULL;
}

/* --time: the listed cases in a loop for seconds. */
static int
bs_time(struct bs_bench *b, const char *ids_path, double seconds)
{
	struct bench_util_rate rate;
	char **ids = NULL;
	size_t nids = 0, i;
	int rc = -1;

	if (bench_util_read_ids(ids_path, &ids, &nids) != 0 || nids == 0) {
		fprintf(stderr, "%s: no case ids\n", ids_path);
		goto done;
	}
	if ((b->sel = calloc(nids, sizeof(*b->sel))) == NULL)
		goto done;
	for (i = 0; i < nids; i++)
		if ((b->sel[i] = bs_find(b, ids[i])) == NULL) {
			fprintf(stderr, "unknown case id %s\n", ids[i]);
			goto done;
		}
	if (bench_util_time(nids, bs_eval_selected, b, seconds, &rate) == 0) {
		bench_util_print_rate(&rate);
		rc = 0;
	}
done:
	bench_util_free_ids(ids, nids);
	return rc;
}

/* Prints usage and returns the exit status 2. */
static int
bs_usage(void)
{
	fprintf(stderr, "usage: bench_spf --check SUITE\n"
	    "       bench_spf --time SECONDS --cases IDS SUITE\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct bs_bench *b;
	double seconds = 0;
	int check, rc;

	check = argc == 3 && strcmp(argv[1], "--check") == 0;
	if (argc == 6 && strcmp(argv[1], "--time") == 0 &&
	    strcmp(argv[3], "--cases") == 0)
		seconds = strtod(argv[2], NULL);
	if (!check && !(seconds > 0 && seconds < 3600))
		return bs_usage();
	if ((b = bs_bench_new(argv[argc - 1])) == NULL)
		return 1;
	if (check)
		rc = bs_check(b);
	else
		rc = bs_time(b, argv[4], seconds);
	bs_bench_free(b);
	return rc == 0 ? 0 : 1;
}
