/*
 * suite_test.c - tests of the suite loader (tests/suite/suite.c).
 *
 * Usage: suite_test RFC7208-TESTS.YML
 *
 * Loads the real RFC 7208 suite and checks the counts its README states
 * (made with python3-yaml), a few cases field by field, and the zone the
 * loader built for the conventions that matter (SPF copied to TXT, NONE,
 * TIMEOUT, NXDOMAIN vs NODATA, CNAME, odd octets).  Then feeds it
 * malformed files and checks the FILE:LINE: messages.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "tests/suite/suite.h"

/* What one zone answer looked like. */
struct seen {
	enum spf_dns_status status;
	int count;
	unsigned char rdata[8][512];
	int rdlen[8];
};

/* Callback copying an answer. */
static void
seen_cb(void *arg, const struct spf_dns_answer *ans)
{
	struct seen *s = arg;
	int i;

	s->status = ans->status;
	s->count = ans->count;
	for (i = 0; i < ans->count && i < 8; i++) {
		s->rdlen[i] = ans->rdlen[i];
		if (ans->rdlen[i] <= 512)
			memcpy(s->rdata[i], ans->rdata[i], (size_t)ans->rdlen[i]);
	}
}

/* Finds a scenario by description; NULL if absent (and a failed check). */
static const struct suite_scenario *
scenario(const struct suite *s, const char *description)
{
	int i;

	for (i = 0; i < s->nscenarios; i++)
		if (strcmp(s->scenarios[i].description, description) == 0)
			return &s->scenarios[i];
	fprintf(stderr, "no scenario \"%s\"\n", description);
	CHECK(0);
	return NULL;
}

/* Finds a case by name anywhere in the suite. */
static const struct suite_case *
find_case(const struct suite *s, const char *name)
{
	int i, j;

	for (i = 0; i < s->nscenarios; i++)
		for (j = 0; j < s->scenarios[i].ncases; j++)
			if (strcmp(s->scenarios[i].cases[j].name, name) == 0)
				return &s->scenarios[i].cases[j];
	fprintf(stderr, "no case \"%s\"\n", name);
	CHECK(0);
	return NULL;
}

/* Asks a scenario's zone; returns the answer in *out. */
static void
ask(const struct suite_scenario *sc, const char *name, int type,
    struct seen *out)
{
	struct spf_resolver *r = spf_zone_resolver_new(sc->zone);
	uint64_t id;

	memset(out, 0, sizeof(*out));
	out->status = (enum spf_dns_status)-1;
	CHECK_INT(r->ops->query(r, name, (enum spf_rrtype)type, seen_cb, out,
	    &id), 0);
	r->ops->free(r);
}

/* Checks the status of (name, type) in a scenario. */
static void
status_is(const struct suite_scenario *sc, const char *name, int type,
    enum spf_dns_status want, int line)
{
	struct seen s;

	if (sc == NULL)
		return;
	ask(sc, name, type, &s);
	if (!check_one(s.status == want, __FILE__, line, "zone status"))
		fprintf(stderr, "    %s/%d: got %d, want %d\n", name, type,
		    (int)s.status, (int)want);
}
#define STATUS(sc, n, t, w) status_is((sc), (n), (t), (w), __LINE__)

/* Counts in the suite README (python3-yaml), and per-case fields. */
static void
test_counts(const struct suite *s)
{
	int i, j, multi = 0, expl = 0, empty_from = 0, v6 = 0;
	const struct suite_case *c;

	CHECK_INT(s->nscenarios, 16);
	CHECK_INT(s->ncases, 203);
	for (i = 0; i < s->nscenarios; i++) {
		CHECK(s->scenarios[i].zone != NULL);
		for (j = 0; j < s->scenarios[i].ncases; j++) {
			c = &s->scenarios[i].cases[j];
			multi += c->nresults > 1;
			expl += c->explanation != NULL;
			empty_from += c->mailfrom[0] == '\0';
			v6 += c->family == AF_INET6;
		}
	}
	CHECK_INT(multi, 6);
	CHECK_INT(expl, 22);
	CHECK_INT(empty_from, 3);	/* grep 'mailfrom: ""' */
	CHECK(v6 > 0);
	CHECK_STR(s->scenarios[0].description, "Initial processing");
	CHECK_STR(s->scenarios[0].cases[0].name, "toolonglabel");
	CHECK_INT(s->scenarios[0].line, 33);
}

/* Field-by-field checks of a few cases. */
static void
test_cases(const struct suite *s)
{
	static const unsigned char cafe[16] = { 0xca, 0xfe, 0xba, 0xbe, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	const struct suite_case *c;
	struct spf_request req;

	if ((c = find_case(s, "nolocalpart")) != NULL) {
		CHECK_STR(c->host, "1.2.3.4");
		CHECK_INT(c->family, AF_INET);
		CHECK(memcmp(c->ip, "\x01\x02\x03\x04", 4) == 0);
		CHECK_STR(c->mailfrom, "@example.net");
		CHECK_STR(c->helo, "mail.example.net");
		CHECK_INT(c->nresults, 1);
		CHECK_INT(c->results[0], SPF_RESULT_FAIL);
		CHECK_STR(c->explanation, "postmaster");
		CHECK_STR(c->spec, "4.3/2");
	}
	if ((c = find_case(s, "multispf1")) != NULL) {
		CHECK_INT(c->nresults, 2);
		CHECK_INT(c->results[0], SPF_RESULT_PERMERROR);
		CHECK_INT(c->results[1], SPF_RESULT_FAIL);
		CHECK(suite_accepts(c, SPF_RESULT_FAIL));
		CHECK(!suite_accepts(c, SPF_RESULT_PASS));
		CHECK(c->explanation == NULL);
		CHECK(strstr(c->description, "even when they are identical"));
	}
	if ((c = find_case(s, "v-macro-ip6")) != NULL) {
		CHECK_INT(c->family, AF_INET6);
		CHECK(memcmp(c->ip, cafe, 16) == 0);
		CHECK_STR(c->spec, "7.1/6");
	}
	if ((c = find_case(s, "macro-multiple-delimiters")) != NULL)
		CHECK_STR(c->spec, "7.1/15, 7.1/16");
	if ((c = find_case(s, "helo-not-fqdn")) != NULL) {
		CHECK_STR(c->mailfrom, "");
		suite_request(c, &req);
		CHECK_INT(req.identity, SPF_ID_MAILFROM);
		CHECK_STR(req.sender, "");
		CHECK_STR(req.helo, "A2345678");
		CHECK_INT(req.family, AF_INET);
		CHECK(memcmp(req.ip, "\x01\x02\x03\x05", 4) == 0);
		CHECK_STR(req.default_explanation, "DEFAULT");
		CHECK_STR(req.receiver, "unknown");
		CHECK(req.now != 0);
		CHECK_INT(req.limits.dns_terms, 0);
	}
}

/* The zone conventions, on the real scenarios. */
static void
test_zones(const struct suite *s)
{
	const struct suite_scenario *sc;
	struct seen a;

	/* Record lookup: the SPF/TXT copy rules and TIMEOUT. */
	if ((sc = scenario(s, "Record lookup")) != NULL) {
		ask(sc, "both.example.net", SPF_RR_TXT, &a);
		CHECK(a.status == SPF_DNS_ANSWER && a.count == 1);
		STATUS(sc, "txtonly.example.net", SPF_RR_TXT, SPF_DNS_ANSWER);
		STATUS(sc, "spfonly.example.net", SPF_RR_TXT, SPF_DNS_NODATA);
		STATUS(sc, "spfonly.example.net", SPF_RR_A, SPF_DNS_NODATA);
		STATUS(sc, "spftimeout.example.net", SPF_RR_TXT, SPF_DNS_ANSWER);
		STATUS(sc, "spftimeout.example.net", SPF_RR_A, SPF_DNS_TIMEOUT);
		STATUS(sc, "txttimeout.example.net", SPF_RR_TXT, SPF_DNS_TIMEOUT);
		STATUS(sc, "alltimeout.example.net", SPF_RR_TXT, SPF_DNS_TIMEOUT);
		STATUS(sc, "alltimeout.example.net", SPF_RR_MX, SPF_DNS_TIMEOUT);
		STATUS(sc, "nothere.example.net", SPF_RR_TXT, SPF_DNS_NXDOMAIN);
	}
	if ((sc = scenario(s, "Initial processing")) != NULL) {
		/* [ "v=spf1 ip4:", "192.0.2.5 -all" ] and [ ]. */
		ask(sc, "null.example.com", SPF_RR_TXT, &a);
		CHECK_INT(a.count, 2);
		CHECK_INT(a.rdlen[0], 27);
		CHECK(memcmp(a.rdata[0], "\x0bv=spf1 ip4:\x0e" "192.0.2.5 -all",
		    27) == 0);
		CHECK_INT(a.rdlen[1], 0);
		/* "\x96" is U+0096, UTF-8 encoded by libyaml. */
		ask(sc, "nothosed.example.com", SPF_RR_TXT, &a);
		CHECK_INT(a.count, 2);
		CHECK(a.rdlen[1] == 3 && memcmp(a.rdata[1], "\x02\xc2\x96", 3)
		    == 0);
		ask(sc, "ctrl.example.com", SPF_RR_TXT, &a);
		CHECK(a.count == 1 && memchr(a.rdata[0], '\r', 40) != NULL);
		STATUS(sc, "example.com", SPF_RR_TXT, SPF_DNS_TIMEOUT);
		STATUS(sc, "EXP.example.NET.", SPF_RR_TXT, SPF_DNS_ANSWER);
	}
	if ((sc = scenario(s, "A mechanism syntax")) != NULL) {
		/* "v=spf1 a:foo.example.com\0": the NUL is data. */
		ask(sc, "e3.example.com", SPF_RR_TXT, &a);
		CHECK(a.count == 1 && a.rdlen[0] == 26 &&
		    memcmp(a.rdata[0], "\x19v=spf1 a:foo.example.com\0", 26)
		    == 0);
	}
	if ((sc = scenario(s, "MX mechanism syntax")) != NULL) {
		ask(sc, "mail.example.com", SPF_RR_MX, &a);
		CHECK(a.count == 1 && a.rdlen[0] == 3 &&
		    memcmp(a.rdata[0], "\0\0\0", 3) == 0);
		ask(sc, "foo:bar/baz.example.com", SPF_RR_MX, &a);
		CHECK(a.count == 1 && a.rdlen[0] == 27 && memcmp(a.rdata[0],
		    "\0\0\x0b" "foo:bar/baz\x07" "example\x03" "com", 27) == 0);
	}
	if ((sc = scenario(s, "PTR mechanism syntax")) != NULL) {
		STATUS(sc, "loop4.example.com", SPF_RR_A, SPF_DNS_SERVFAIL);
		ask(sc, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0."
		    "1.0.0.2.ip6.arpa", SPF_RR_PTR, &a);
		CHECK(a.count == 1 && a.rdlen[0] == 18 &&
		    memcmp(a.rdata[0], "\x04mail\x07" "Example\x03" "com", 18)
		    == 0);
	}
	if ((sc = scenario(s, "Test cases from implementation bugs")) != NULL) {
		ask(sc, "b.example.org", SPF_RR_TXT, &a);
		CHECK(a.status == SPF_DNS_ANSWER && a.count == 4);
		/* Selecting records: identical SPF records stay two records. */
	}
	if ((sc = scenario(s, "Selecting records")) != NULL) {
		ask(sc, "example7.com", SPF_RR_TXT, &a);
		CHECK_INT(a.count, 2);
		ask(sc, "example8.com", SPF_RR_TXT, &a);
		CHECK(a.count == 1 && memcmp(a.rdata[0], "\x0bv=spf1 +all", 12)
		    == 0);
	}
}

static char tmpdir[64];

/* One malformed suite file and the start of its expected error. */
struct bad {
	const char *yaml;
	const char *want;	/* after "FILE" */
};

static const struct bad bads[] = {
	{ "---\ndescription: x\ntests: [\n", ":4: YAML: " },
	{ "# nothing\n", ":0: no scenario in file" },
	{ "---\n- a\n", ":2: a scenario must be a map" },
	{ "---\ndescription: d\nzonedata: {}\n", ":2: scenario lacks" },
	{ "---\ndescription: d\ntests:\n  t1:\n    host: 1.2.3.4\n"
	  "    helo: h\n    mailfrom: m\n", ":4: test t1 lacks" },
	{ "---\ndescription: d\ntests:\n  t1:\n    host: 1.2.3.4\n"
	  "    helo: h\n    mailfrom: m\n    result: passed\n",
	  ":8: unknown result \"passed\"" },
	{ "---\ndescription: d\ntests:\n  t1:\n    host: 1.2.3\n"
	  "    helo: h\n    mailfrom: m\n    result: pass\n",
	  ":5: bad host address \"1.2.3\"" },
	{ "---\ndescription: d\ntests:\n  t1:\n    host: 1.2.3.4\n"
	  "    helo: h\n    mailfrom: m\n    result: []\n",
	  ":8: empty result list" },
	{ "---\ndescription: d\ntests:\n  t1:\n    host: 1.2.3.4\n"
	  "    helo: h\n    mailfrom: m\n    result: pass\n"
	  "---\ndescription: e\ntests:\n  t1:\n    host: 1.2.3.4\n"
	  "    helo: h\n    mailfrom: m\n    result: pass\n",
	  ":12: duplicate test name t1" },
	{ "---\ndescription: d\ntests:\n  t1:\n    host: 1.2.3.4\n"
	  "    host: 1.2.3.5\n", ":6: duplicate key host" },
	{ "---\ndescription: d\ndescription: e\ntests: {}\n",
	  ":3: duplicate key description" },
	{ "---\ndescription: d\ntests: {}\nzonedata:\n  a.example:\n"
	  "    - WKS: x\n", ":6: unknown record type WKS" },
	{ "---\ndescription: d\ntests: {}\nzonedata:\n  a.example:\n"
	  "    - A: 1.2.3\n", ":6: bad A record \"1.2.3\"" },
	{ "---\ndescription: d\ntests: {}\nzonedata:\n  a.example:\n"
	  "    - MX: [10]\n", ":6: MX rdata must be [pref, name]" },
	{ "---\ndescription: d\ntests: {}\nzonedata:\n  a.example:\n"
	  "    - SERVFAIL\n", ":6: bad record entry" },
	{ "---\ndescription: d\ntests: {}\nzonedata:\n  a.example:\n"
	  "    - A: 1.2.3.4\n  A.example:\n    - A: 1.2.3.5\n",
	  ":7: duplicate name" },
	{ "---\ndescription: d\ntests: {}\nzonedata:\n  a..example:\n"
	  "    - A: 1.2.3.4\n", ":5: bad domain name" },
	{ "---\ndescription: d\ntests: {}\nzonedata:\n  a.example:\n"
	  "    - TXT: [x, [y]]\n", ":6: TXT strings must be scalars" },
	{ "---\ndescription: d\ntests: {}\nzonedata:\n  a.example:\n"
	  "    - A: \"1.2.3.4\\0\"\n", ":6: NUL octet in rdata" },
};

/* Malformed files fail with FILE:LINE: message and leak nothing. */
static void
test_bad(void)
{
	char path[128], err[512], want[256];
	struct suite *s;
	size_t i;
	FILE *fp;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		snprintf(path, sizeof(path), "%s/bad%zu.yml", tmpdir, i);
		if ((fp = fopen(path, "w")) == NULL) {
			CHECK(fp != NULL);
			continue;
		}
		fputs(bads[i].yaml, fp);
		fclose(fp);
		snprintf(want, sizeof(want), "%s%s", path, bads[i].want);
		s = suite_load(path, err, sizeof(err));
		CHECK(s == NULL);
		suite_free(s);
		if (!check_one(strncmp(err, want, strlen(want)) == 0,
		    __FILE__, __LINE__, "error text"))
			fprintf(stderr, "    got  \"%s\"\n    want \"%s...\"\n",
			    err, want);
	}
	snprintf(path, sizeof(path), "%s/missing.yml", tmpdir);
	CHECK(suite_load(path, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "missing.yml:0: cannot open: No such file") != NULL);
	CHECK(suite_load(NULL, err, sizeof(err)) == NULL);
	suite_free(NULL);
}

/* A long TXT string is split; unknown keys are ignored; [] mailfrom ok. */
static void
test_small(void)
{
	static const char yml[] =
	    "---\n"
	    "description: small\n"
	    "comment: ignored\n"
	    "tests:\n"
	    "  t:\n"
	    "    host: \"::ffff:1.2.3.4\"\n"
	    "    helo: h.example\n"
	    "    mailfrom: \"\"\n"
	    "    result: [pass, fail]\n"
	    "    strict: 2\n"
	    "    spec: [1, 2.3]\n"
	    "zonedata:\n"
	    "  long.example:\n"
	    "    - SPF: \"%s\"\n"
	    "    - SPF: NONE\n"
	    "  late.example:\n"
	    "    - SPF: v=spf1 -all\n"
	    "    - TIMEOUT\n"
	    "    - A: 1.2.3.4\n"
	    "  txt-timeout.example:\n"
	    "    - TXT: TIMEOUT\n"
	    "    - A: 1.2.3.4\n"
	    "  alias.example:\n"
	    "    - CNAME: long.example.\n";
	char path[128], err[512], big[600], *text;
	struct suite *s;
	struct seen a;
	FILE *fp;

	memset(big, 'q', 599);
	big[599] = '\0';
	snprintf(path, sizeof(path), "%s/small.yml", tmpdir);
	text = malloc(sizeof(yml) + sizeof(big));
	snprintf(text, sizeof(yml) + sizeof(big), yml, big);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
	free(text);
	s = suite_load(path, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_INT(s->ncases, 1);
	CHECK_INT(s->scenarios[0].cases[0].family, AF_INET6);
	CHECK_STR(s->scenarios[0].cases[0].spec, "1, 2.3");
	ask(&s->scenarios[0], "long.example", SPF_RR_TXT, &a);
	CHECK_INT(a.count, 1);
	CHECK_INT(a.rdlen[0], 602);	/* 255 + 255 + 89, plus 3 lengths */
	ask(&s->scenarios[0], "alias.example", SPF_RR_TXT, &a);
	CHECK_INT(a.count, 1);
	/* TIMEOUT ends the list: the SPF copy and the A are not reached. */
	STATUS(&s->scenarios[0], "late.example", SPF_RR_TXT, SPF_DNS_TIMEOUT);
	STATUS(&s->scenarios[0], "late.example", SPF_RR_A, SPF_DNS_TIMEOUT);
	STATUS(&s->scenarios[0], "txt-timeout.example", SPF_RR_TXT,
	    SPF_DNS_TIMEOUT);
	STATUS(&s->scenarios[0], "txt-timeout.example", SPF_RR_A,
	    SPF_DNS_ANSWER);
	STATUS(&s->scenarios[0], "txt-timeout.example", SPF_RR_MX,
	    SPF_DNS_NODATA);
	suite_free(s);
}

int
main(int argc, char **argv)
{
	struct suite *s;
	char err[512], cmd[128];

	if (argc != 2) {
		fprintf(stderr, "usage: suite_test RFC7208-TESTS.YML\n");
		return 2;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/suite_test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	s = suite_load(argv[1], err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		fprintf(stderr, "%s\n", err);
	else {
		test_counts(s);
		test_cases(s);
		test_zones(s);
		suite_free(s);
	}
	test_bad();
	test_small();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return check_report();
}
