/*
 * rfc7208_suite.c - runs the OpenSPF RFC 7208 conformance suite against
 * the SPF engine, with each scenario's DNS served by the in-memory zone.
 *
 * Usage: rfc7208_suite FILE [-v] [TEST...]
 *
 * For every scenario prints "scenario: <description>: P passed, F failed",
 * preceded by the details of each failed case (expected and got results,
 * the engine's reason and matched term, an explanation mismatch); ends
 * with "N passed, N failed" and exits non-zero if anything failed.  TEST
 * names restrict the run to those cases; -v also lists passing cases.
 *
 * The zone resolver answers synchronously, so every evaluation must have
 * delivered its verdict, exactly once, before spf_eval_start() returns;
 * anything else counts as a failure of the case.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/suite/suite.h"

/* What the done callback saw. */
struct outcome {
	int calls;
	struct spf_verdict verdict;
};

/* Run-wide options and totals. */
struct run {
	int verbose;
	char **only;		/* test names to run, or NULL for all */
	int nonly;
	int *only_seen;
	int passed, failed;
};

/* spf_done_cb: keeps a copy of the verdict. */
static void
suite_done(void *arg, const struct spf_verdict *verdict)
{
	struct outcome *o = arg;

	if (o->calls++ == 0)
		o->verdict = *verdict;
}

/* Prints s with non-printable octets as \xNN, quoted. */
static void
print_quoted(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (isprint((unsigned char)*s) && *s != '"' && *s != '\\')
			putchar(*s);
		else
			printf("\\x%02x", (unsigned char)*s);
	}
	putchar('"');
}

/* Prints the acceptable results of a case as "a|b". */
static void
print_expected(const struct suite_case *c)
{
	int i;

	for (i = 0; i < c->nresults; i++)
		printf("%s%s", i ? "|" : "", spf_result_name(c->results[i]));
}

/* 1 if the case is selected by the command line. */
static int
selected(struct run *run, const struct suite_case *c)
{
	int i;

	if (run->nonly == 0)
		return 1;
	for (i = 0; i < run->nonly; i++) {
		if (strcmp(run->only[i], c->name) == 0) {
			run->only_seen[i] = 1;
			return 1;
		}
	}
	return 0;
}

/* Prints why a case failed. */
static void
report_failure(const struct suite_case *c, const struct outcome *o,
    const char *problem)
{
	const struct spf_verdict *v = &o->verdict;

	printf("  FAIL %s (spec %s, line %d): expected ", c->name,
	    c->spec ? c->spec : "?", c->line);
	print_expected(c);
	if (problem != NULL) {
		printf(", %s\n", problem);
		return;
	}
	printf(", got %s\n", spf_result_name(v->result));
	printf("       host=%s mailfrom=", c->host);
	print_quoted(c->mailfrom);
	printf(" helo=");
	print_quoted(c->helo);
	printf("\n       mechanism=");
	print_quoted(v->mechanism);
	printf(" reason=");
	print_quoted(v->reason);
	printf("\n");
	if (c->explanation != NULL && strcmp(c->explanation,
	    v->explanation) != 0) {
		printf("       explanation: expected ");
		print_quoted(c->explanation);
		printf(", got ");
		print_quoted(v->explanation);
		printf("\n");
	}
}

/* Evaluates one case; returns 1 if it passed. */
static int
run_case(struct run *run, struct spf_resolver *res, const struct suite_case *c)
{
	struct spf_request req;
	struct spf_eval *eval;
	struct outcome o;
	int ok;

	memset(&o, 0, sizeof(o));
	suite_request(c, &req);
	if ((eval = spf_eval_new(&req, res, suite_done, &o)) == NULL) {
		report_failure(c, &o, "spf_eval_new() failed");
		return 0;
	}
	spf_eval_start(eval);
	spf_eval_free(eval);
	if (o.calls != 1) {
		report_failure(c, &o, o.calls == 0 ?
		    "no verdict before spf_eval_start() returned" :
		    "done callback called more than once");
		return 0;
	}
	ok = suite_accepts(c, o.verdict.result) && (c->explanation == NULL ||
	    strcmp(c->explanation, o.verdict.explanation) == 0);
	if (!ok)
		report_failure(c, &o, NULL);
	else if (run->verbose || o.verdict.result != c->results[0]) {
		printf("  %s %s: %s", o.verdict.result != c->results[0] ?
		    "note" : "ok", c->name, spf_result_name(o.verdict.result));
		if (o.verdict.result != c->results[0])
			printf(" (acceptable; %s preferred)",
			    spf_result_name(c->results[0]));
		printf("\n");
	}
	return ok;
}

/* Runs the selected cases of one scenario and prints its summary. */
static int
run_scenario(struct run *run, const struct suite_scenario *sc)
{
	struct spf_resolver *res;
	int i, passed = 0, failed = 0, any = 0;

	if ((res = spf_zone_resolver_new(sc->zone)) == NULL) {
		fprintf(stderr, "out of memory\n");
		return -1;
	}
	for (i = 0; i < sc->ncases; i++) {
		if (!selected(run, &sc->cases[i]))
			continue;
		any = 1;
		if (run_case(run, res, &sc->cases[i]))
			passed++;
		else
			failed++;
	}
	res->ops->free(res);
	if (any)
		printf("scenario: %s: %d passed, %d failed\n", sc->description,
		    passed, failed);
	run->passed += passed;
	run->failed += failed;
	return 0;
}

int
main(int argc, char **argv)
{
	struct run run;
	struct suite *suite;
	char err[512];
	int i, rc = 0;

	memset(&run, 0, sizeof(run));
	if (argc < 2) {
		fprintf(stderr, "usage: rfc7208_suite FILE [-v] [TEST...]\n");
		return 2;
	}
	run.only = calloc((size_t)argc, sizeof(*run.only));
	run.only_seen = calloc((size_t)argc, sizeof(*run.only_seen));
	if (run.only == NULL || run.only_seen == NULL)
		return 2;
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			run.verbose = 1;
		else
			run.only[run.nonly++] = argv[i];
	}
	if ((suite = suite_load(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		rc = 2;
		goto done;
	}
	for (i = 0; i < suite->nscenarios && rc == 0; i++)
		if (run_scenario(&run, &suite->scenarios[i]) == -1)
			rc = 2;
	for (i = 0; i < run.nonly; i++) {
		if (!run.only_seen[i]) {
			fprintf(stderr, "no test named %s\n", run.only[i]);
			rc = 2;
		}
	}
	printf("%d passed, %d failed\n", run.passed, run.failed);
	if (rc == 0 && (run.failed > 0 || run.passed == 0))
		rc = 1;
done:
	suite_free(suite);
	free(run.only);
	free(run.only_seen);
	return rc;
}
