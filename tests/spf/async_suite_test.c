/*
 * async_suite_test.c - the RFC 7208 conformance suite, asynchronously.
 *
 * Every case of the suite (tests/rfc7208/rfc7208-tests.yml, loaded with
 * tests/suite) is evaluated four times through the fakedns wrapper: with
 * synchronous answers, and with answers queued and delivered first-in-
 * first-out, last-in-first-out and in a seeded random order.  Each run
 * must give an acceptable result and, where the suite names one, the
 * exact explanation; done must be called exactly once and never before
 * the answers it depends on were delivered, and nothing may be left
 * outstanding.  This checks that the trampoline, the parallel mx/ptr
 * lookups decided in record order and the frame stack give the same
 * verdicts whatever the timing.  Half of the runs free the evaluation
 * from inside the done callback.
 *
 * usage: spf_async_suite_test SUITE.yml
 */
#include <stdio.h>
#include <string.h>

#include "spf/spf.h"
#include "tests/check.h"
#include "tests/suite/suite.h"
#include "fakedns.h"

struct outcome {
	int			 calls;
	enum spf_result		 result;
	char			 exp[SPF_EXPLANATION_MAX];
	struct spf_eval		**free_me;
};

/* spf_done_cb */
static void
done_cb(void *arg, const struct spf_verdict *v)
{
	struct outcome *o = arg;

	o->calls++;
	o->result = v->result;
	snprintf(o->exp, sizeof(o->exp), "%s", v->explanation);
	if (o->free_me != NULL) {
		spf_eval_free(*o->free_me);
		*o->free_me = NULL;
	}
}

/* Runs one case in one order; 1 if the verdict is acceptable. */
static int
run_case(const struct suite_scenario *sc, const struct suite_case *c,
    enum fakedns_order order, int free_in_done)
{
	struct spf_resolver *zr = spf_zone_resolver_new(sc->zone);
	struct fakedns *f = fakedns_new(zr, order);
	struct spf_request req;
	struct outcome o;
	struct spf_eval *ev;
	int i, ok;

	memset(&o, 0, sizeof(o));
	suite_request(c, &req);
	ev = spf_eval_new(&req, &f->base, done_cb, &o);
	if (free_in_done)
		o.free_me = &ev;
	spf_eval_start(ev);
	if (order != FAKEDNS_SYNC && f->nq > 0)
		CHECK_INT(o.calls, 0);	/* nothing answered yet */
	for (i = 0; i < 1000 && o.calls == 0; i++)
		if (!fakedns_pump(f))
			break;
	ok = o.calls == 1 && suite_accepts(c, o.result) &&
	    (c->explanation == NULL || strcmp(c->explanation, o.exp) == 0);
	CHECK_INT(fakedns_live(f), 0);
	spf_eval_free(ev);
	fakedns_free(f);
	zr->ops->free(zr);
	if (!CHECK(ok))
		fprintf(stderr, "    case %s order %d: calls %d result %s "
		    "exp \"%s\"\n", c->name, (int)order, o.calls,
		    spf_result_name(o.result), o.exp);
	return ok;
}

int
main(int argc, char **argv)
{
	static const enum fakedns_order orders[] = {
		FAKEDNS_SYNC, FAKEDNS_FIFO, FAKEDNS_LIFO, FAKEDNS_RANDOM
	};
	char err[512];
	struct suite *s;
	int i, j, runs = 0, good = 0;
	size_t k;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SUITE.yml\n", argv[0]);
		return 2;
	}
	if ((s = suite_load(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	CHECK_INT(s->ncases, 203);
	for (i = 0; i < s->nscenarios; i++) {
		for (j = 0; j < s->scenarios[i].ncases; j++) {
			for (k = 0; k < sizeof(orders) / sizeof(orders[0]);
			    k++) {
				good += run_case(&s->scenarios[i],
				    &s->scenarios[i].cases[j], orders[k],
				    (int)((j + k) & 1));
				runs++;
			}
		}
	}
	printf("%d of %d asynchronous runs acceptable\n", good, runs);
	suite_free(s);
	return check_report();
}
