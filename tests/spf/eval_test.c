/*
 * eval_test.c - unit tests of the asynchronous evaluator (spf/spf_eval.c).
 *
 * Covers what the RFC 7208 suite does not: verdict fields and reasons,
 * the processing limits at and past their edges, configurable limits,
 * IPv4-mapped clients, DNSSEC bookkeeping, BOGUS and TIMEOUT answers,
 * asynchronous and out-of-order answers, parallel mx lookups decided in
 * record order, cancellation on free, free from inside done, a resolver
 * that refuses, the trampoline's flat stack, restarts, explanations, and
 * records large enough to need the arena's extra chunks.
 *
 * DNS data lives in an in-memory zone (spf/spf_zone.c) reached through
 * the fakedns wrapper (fakedns.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spf/spf.h"
#include "tests/check.h"
#include "fakedns.h"

static struct spf_zone *zone;
static struct spf_resolver *zres;

/* What the done callback saw. */
struct outcome {
	int			 calls;
	struct spf_verdict	 v;
	struct spf_eval		**free_me;	/* free the eval from done */
};

/* spf_done_cb: copies the verdict; optionally frees the eval. */
static void
done_cb(void *arg, const struct spf_verdict *v)
{
	struct outcome *o = arg;

	o->calls++;
	o->v = *v;
	if (o->free_me != NULL) {
		spf_eval_free(*o->free_me);
		*o->free_me = NULL;
	}
}

/* Starts over with an empty zone. */
static void
zone_reset(void)
{
	if (zres != NULL)
		zres->ops->free(zres);
	spf_zone_free(zone);
	zone = spf_zone_new();
	zres = spf_zone_resolver_new(zone);
	if (zone == NULL || zres == NULL)
		abort();
}

/* Adds an A/AAAA/MX/PTR record. */
static void
zadd(const char *name, int type, const char *text)
{
	if (spf_zone_add(zone, name, type, text) != 0) {
		fprintf(stderr, "zone: cannot add %s %d %s\n", name, type,
		    text);
		abort();
	}
}

/* Adds a TXT record, cut into 255-octet strings. */
static void
ztxt(const char *name, const char *text)
{
	const char *s[64];
	size_t len[64], n = strlen(text), off = 0;
	int k = 0;

	do {
		s[k] = text + off;
		len[k] = n - off > 255 ? 255 : n - off;
		off += len[k++];
	} while (off < n && k < 64);
	if (spf_zone_add_txt(zone, name, s, len, k) != 0)
		abort();
}

/* Adds a TXT record of several given strings. */
static void
ztxt2(const char *name, const char *a, const char *b)
{
	const char *s[2] = { a, b };
	size_t len[2] = { strlen(a), strlen(b) };

	if (spf_zone_add_txt(zone, name, s, len, 2) != 0)
		abort();
}

/* Fills a MAIL FROM request. */
static void
req_init(struct spf_request *r, const char *ip, const char *sender,
    const char *helo)
{
	memset(r, 0, sizeof(*r));
	if (inet_pton(AF_INET, ip, r->ip) == 1)
		r->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, r->ip) == 1)
		r->family = AF_INET6;
	else
		abort();
	r->identity = SPF_ID_MAILFROM;
	r->sender = sender;
	r->helo = helo;
	r->now = 1397001600;
}

/* Runs an evaluation on a resolver that answers synchronously. */
static int
run_on(struct spf_resolver *res, const struct spf_request *r,
    struct outcome *o)
{
	struct spf_eval *ev;

	memset(o, 0, sizeof(*o));
	o->v.result = -1;
	if ((ev = spf_eval_new(r, res, done_cb, o)) == NULL)
		return -2;
	spf_eval_start(ev);
	CHECK_INT(o->calls, 1);
	spf_eval_free(ev);
	return (int)o->v.result;
}

/* Runs on the plain zone resolver. */
static int
run(const struct spf_request *r, struct outcome *o)
{
	return run_on(zres, r, o);
}

/* Runs with answers delivered by fakedns_pump() in the given order. */
static int
run_async(const struct spf_request *r, enum fakedns_order order,
    struct outcome *o, int *max_live)
{
	struct fakedns *f = fakedns_new(zres, order);
	struct spf_eval *ev;
	int i, live;

	memset(o, 0, sizeof(*o));
	o->v.result = -1;
	if (max_live)
		*max_live = 0;
	ev = spf_eval_new(r, &f->base, done_cb, o);
	spf_eval_start(ev);
	for (i = 0; i < 1000 && o->calls == 0; i++) {
		live = fakedns_live(f);
		if (max_live && live > *max_live)
			*max_live = live;
		if (!fakedns_pump(f))
			break;
	}
	CHECK_INT(o->calls, 1);
	CHECK_INT(fakedns_live(f), 0);
	spf_eval_free(ev);
	fakedns_free(f);
	return (int)o->v.result;
}

static void
test_basic(void)
{
	struct spf_request r;
	struct outcome o;

	zone_reset();
	ztxt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
	ztxt("example.com", "not an spf record");
	ztxt("nosp.example.com", "hello");
	ztxt("neutral.example.com", "v=spf1 ip4:192.0.2.1");

	req_init(&r, "192.0.2.10", "user@example.com", "mail.example.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_STR(o.v.mechanism, "ip4:192.0.2.0/24");
	CHECK_STR(o.v.domain, "example.com");
	CHECK_STR(o.v.identity_text, "user@example.com");
	CHECK_INT(o.v.identity, SPF_ID_MAILFROM);
	CHECK_STR(o.v.reason, "");
	CHECK_STR(o.v.explanation, "");
	CHECK_INT(o.v.dns_lookups, 0);
	CHECK_INT(o.v.void_lookups, 0);

	req_init(&r, "198.51.100.1", "user@example.com", "mail.example.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.mechanism, "-all");
	CHECK_STR(o.v.explanation, "");
	r.default_explanation = "Not allowed: %{i} for %{s} (%{c} %{r} %{t})";
	r.receiver = "mx.example.net";
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "Not allowed: 198.51.100.1 for "
	    "user@example.com (198.51.100.1 mx.example.net 1397001600)");
	r.default_explanation = "bad %{x} macro";
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "");

	req_init(&r, "198.51.100.1", "user@neutral.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_NEUTRAL);
	CHECK_STR(o.v.mechanism, "default");

	req_init(&r, "198.51.100.1", "user@nosp.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_NONE);
	CHECK_STR(o.v.reason, "no SPF record for nosp.example.com");
	CHECK_STR(o.v.mechanism, "");
	req_init(&r, "198.51.100.1", "user@nx.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_NONE);
	CHECK_STR(o.v.reason, "no SPF record for nx.example.com");

	/* Case-insensitive names, trailing dot on the domain. */
	zone_reset();
	ztxt("case.example.com", "V=SPF1 IP4:192.0.2.1 PTR:EXAMPLE.COM -ALL");
	req_init(&r, "192.0.2.1", "u@CASE.Example.COM.", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_STR(o.v.mechanism, "IP4:192.0.2.1");
	CHECK_STR(o.v.domain, "CASE.Example.COM");
}

static void
test_identity(void)
{
	struct spf_request r;
	struct outcome o;

	zone_reset();
	ztxt("mail.example.com", "v=spf1 exists:%{l}.%{o}.chk.example.com "
	    "-all");
	zadd("postmaster.mail.example.com.chk.example.com", SPF_RR_A,
	    "127.0.0.2");
	ztxt("example.net", "v=spf1 exists:%{l}.chk.example.com -all");
	zadd("postmaster.chk.example.com", SPF_RR_A, "127.0.0.2");

	/* HELO identity: <sender> is postmaster@<helo>. */
	req_init(&r, "192.0.2.1", "someone@other.example", "mail.example.com");
	r.identity = SPF_ID_HELO;
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_INT(o.v.identity, SPF_ID_HELO);
	CHECK_STR(o.v.identity_text, "mail.example.com");
	CHECK_STR(o.v.domain, "mail.example.com");

	/* Null reverse path: MAIL FROM identity is postmaster@<helo>. */
	req_init(&r, "192.0.2.1", "", "mail.example.com");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_STR(o.v.identity_text, "postmaster@mail.example.com");
	r.sender = NULL;
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);

	/* A missing local part is "postmaster". */
	req_init(&r, "192.0.2.1", "@example.net", "h.example.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_STR(o.v.identity_text, "postmaster@example.net");
}

static void
test_initial_domain(void)
{
	static const char *const bad[] = {
		"u@foo", "u@[192.0.2.1]", "u@a..example.com",
		"u@.example.com", "u@example com.org", "u@",
		"u@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaa.example.com",
	};
	struct spf_request r;
	struct outcome o;
	struct fakedns *f;
	char longname[300];
	size_t i;

	zone_reset();
	f = fakedns_new(zres, FAKEDNS_SYNC);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req_init(&r, "192.0.2.1", bad[i], "h.example.org");
		if (!CHECK(run_on(&f->base, &r, &o) == SPF_RESULT_NONE))
			fprintf(stderr, "    sender %s\n", bad[i]);
		CHECK(strstr(o.v.reason, "not a valid domain name") != NULL);
		CHECK_INT(o.v.dnssec_secure, 0);
	}
	/* 254 octets in all is too long. */
	memset(longname, 'a', sizeof(longname));
	for (i = 50; i < 254; i += 50)
		longname[i] = '.';
	memcpy(longname, "u@", 2);
	longname[256] = '\0';
	req_init(&r, "192.0.2.1", longname, "h.example.org");
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_NONE);
	/* Empty HELO with the null path. */
	req_init(&r, "192.0.2.1", "", NULL);
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_NONE);
	r.identity = SPF_ID_HELO;
	r.helo = "[192.0.2.1]";
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_NONE);
	CHECK_INT(f->nq, 0);	/* none of these asked anything */
	fakedns_free(f);

	/* Bad family. */
	req_init(&r, "192.0.2.1", "u@example.com", "h.org");
	r.family = 12345;
	CHECK(spf_eval_new(&r, zres, done_cb, &o) == NULL);
	r.family = AF_INET;
	CHECK(spf_eval_new(&r, NULL, done_cb, &o) == NULL);
	CHECK(spf_eval_new(&r, zres, NULL, &o) == NULL);
	spf_eval_free(NULL);
}

/* A record of n "a:hK.example.com" terms, each name with a non-matching A. */
static void
make_a_chain(const char *name, int n, int base)
{
	char rec[2048], host[64];
	size_t len;
	int i;

	len = (size_t)snprintf(rec, sizeof(rec), "v=spf1");
	for (i = 0; i < n; i++) {
		snprintf(host, sizeof(host), "h%d.example.com", base + i);
		zadd(host, SPF_RR_A, "198.51.100.99");
		len += (size_t)snprintf(rec + len, sizeof(rec) - len, " a:%s",
		    host);
	}
	snprintf(rec + len, sizeof(rec) - len, " -all");
	ztxt(name, rec);
}

static void
test_limits(void)
{
	struct spf_request r;
	struct outcome o;
	char host[64];
	int i;

	zone_reset();
	make_a_chain("ten.example.com", 10, 0);
	make_a_chain("eleven.example.com", 11, 100);
	req_init(&r, "192.0.2.1", "u@ten.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_INT(o.v.dns_lookups, 10);
	req_init(&r, "192.0.2.1", "u@eleven.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "more than 10 DNS lookups");
	CHECK_INT(o.v.dns_lookups, 11);
	CHECK_STR(o.v.mechanism, "");
	/* Configurable. */
	req_init(&r, "192.0.2.1", "u@ten.example.com", "h.org");
	r.limits.dns_terms = 3;
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "more than 3 DNS lookups");

	/* Void lookups: NXDOMAIN and NODATA count, two are fine. */
	ztxt("void2.example.com", "v=spf1 a:nx1.example.com "
	    "mx:nodata.example.com ?all");
	ztxt("void3.example.com", "v=spf1 a:nx1.example.com "
	    "exists:nx2.example.com a:nodata.example.com ?all");
	spf_zone_add_name(zone, "nodata.example.com");
	req_init(&r, "192.0.2.1", "u@void2.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_NEUTRAL);
	CHECK_INT(o.v.void_lookups, 2);
	CHECK_STR(o.v.mechanism, "?all");
	req_init(&r, "192.0.2.1", "u@void3.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "more than 2 void DNS lookups");
	r.limits.void_lookups = 3;
	CHECK_INT(run(&r, &o), SPF_RESULT_NEUTRAL);

	/* MX: 10 names are fine, 11 are a permerror. */
	ztxt("mx10.example.com", "v=spf1 mx -all");
	ztxt("mx11.example.com", "v=spf1 mx -all");
	for (i = 0; i < 11; i++) {
		snprintf(host, sizeof(host), "%d mxh%d.example.com", i, i);
		if (i < 10)
			zadd("mx10.example.com", SPF_RR_MX, host);
		zadd("mx11.example.com", SPF_RR_MX, host);
		snprintf(host, sizeof(host), "mxh%d.example.com", i);
		zadd(host, SPF_RR_A, "198.51.100.1");
	}
	req_init(&r, "192.0.2.1", "u@mx10.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	req_init(&r, "192.0.2.1", "u@mx11.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "more than 10 MX records for mx11.example.com");
	r.limits.mx_names = 11;
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);

	/* Null MX: nothing to look up, no match, no error. */
	ztxt("nullmx.example.com", "v=spf1 mx ~all");
	zadd("nullmx.example.com", SPF_RR_MX, "0 .");
	req_init(&r, "192.0.2.1", "u@nullmx.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_SOFTFAIL);

	/* Include and redirect loops end at the DNS-term limit. */
	ztxt("loop1.example.com", "v=spf1 include:loop2.example.com -all");
	ztxt("loop2.example.com", "v=spf1 include:loop1.example.com -all");
	ztxt("rloop.example.com", "v=spf1 redirect=rloop.example.com");
	req_init(&r, "192.0.2.1", "u@loop1.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "more than 10 DNS lookups");
	req_init(&r, "192.0.2.1", "u@rloop.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "more than 10 DNS lookups");
	/* A higher limit meets the frame stack's own bound, not a crash. */
	r.limits.dns_terms = 100;
	req_init(&r, "192.0.2.1", "u@loop1.example.com", "h.org");
	r.limits.dns_terms = 100;
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK(strstr(o.v.reason, "nested too deeply") != NULL);
}

static void
test_ptr_limit(void)
{
	struct spf_request r;
	struct outcome o;
	char host[64];
	int i;

	/* 12 PTR names; only the 11th validates and is in the domain. */
	zone_reset();
	ztxt("ptr.example.com", "v=spf1 ptr -all");
	ztxt("ptr2.example.com", "v=spf1 ptr:good.example.com -all");
	for (i = 1; i <= 12; i++) {
		snprintf(host, sizeof(host), "n%d.%s", i, i == 11 ?
		    "ptr.example.com" : "other.example.org");
		zadd("1.2.0.192.in-addr.arpa", SPF_RR_PTR, host);
		zadd(host, SPF_RR_A, i == 11 || i == 10 ? "192.0.2.1" :
		    "198.51.100.1");
	}
	req_init(&r, "192.0.2.1", "u@ptr.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	r.limits.ptr_names = 11;
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_STR(o.v.mechanism, "ptr");
	CHECK_INT(o.v.dns_lookups, 1);

	/* A PTR failure is no match, never an error (RFC 7208 5.5). */
	spf_zone_add_failure(zone, "2.2.0.192.in-addr.arpa", SPF_RR_PTR,
	    SPF_DNS_TIMEOUT);
	req_init(&r, "192.0.2.2", "u@ptr2.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	/* A failing A lookup skips that name only. */
	zadd("3.2.0.192.in-addr.arpa", SPF_RR_PTR, "broken.good.example.com");
	zadd("3.2.0.192.in-addr.arpa", SPF_RR_PTR, "ok.good.example.com");
	spf_zone_add_failure(zone, "broken.good.example.com", SPF_RR_A,
	    SPF_DNS_SERVFAIL);
	zadd("ok.good.example.com", SPF_RR_A, "192.0.2.3");
	req_init(&r, "192.0.2.3", "u@ptr2.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_INT(run_async(&r, FAKEDNS_LIFO, &o, NULL), SPF_RESULT_PASS);
}

static void
test_mapped(void)
{
	struct spf_request r;
	struct outcome o;

	zone_reset();
	ztxt("m6.example.com", "v=spf1 ip6:::ffff:192.0.2.1 ip6:::/0 -all");
	ztxt("m4.example.com", "v=spf1 ip4:192.0.2.1 -all");
	ztxt("mx.example.com", "v=spf1 exists:%{i}.%{v}.chk.example.com "
	    "a:a.example.com -all");
	zadd("192.0.2.9.in-addr.chk.example.com", SPF_RR_A, "127.0.0.2");
	zadd("a.example.com", SPF_RR_A, "192.0.2.1");
	zadd("a.example.com", SPF_RR_AAAA, "::ffff:192.0.2.2");

	req_init(&r, "::ffff:192.0.2.1", "u@m6.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	req_init(&r, "::ffff:192.0.2.1", "u@m4.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	req_init(&r, "::ffff:192.0.2.9", "u@mx.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_STR(o.v.mechanism, "exists:%{i}.%{v}.chk.example.com");
	/* "a" asks A (not AAAA) for a mapped client. */
	req_init(&r, "::ffff:192.0.2.1", "u@mx.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	req_init(&r, "::ffff:192.0.2.2", "u@mx.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	/* A real IPv6 client does match ip6:::/0. */
	req_init(&r, "2001:db8::1", "u@m6.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_STR(o.v.mechanism, "ip6:::/0");
}

static void
test_dnssec(void)
{
	struct spf_request r;
	struct outcome o;
	struct fakedns *f;

	zone_reset();
	ztxt("sec.example.com", "v=spf1 include:inc.example.com -all");
	ztxt("inc.example.com", "v=spf1 a:host.example.com");
	zadd("host.example.com", SPF_RR_A, "192.0.2.1");
	ztxt("bogus-a.example.com", "v=spf1 a:bogus.example.com -all");
	spf_zone_add_failure(zone, "bogus.example.com", 0, SPF_DNS_BOGUS);
	spf_zone_add_failure(zone, "to.example.com", SPF_RR_TXT,
	    SPF_DNS_TIMEOUT);
	spf_zone_add_failure(zone, "sf.example.com", SPF_RR_TXT,
	    SPF_DNS_SERVFAIL);

	f = fakedns_new(zres, FAKEDNS_SYNC);
	req_init(&r, "192.0.2.1", "u@sec.example.com", "h.org");
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_PASS);
	CHECK_INT(o.v.dnssec_secure, 1);
	CHECK_STR(o.v.mechanism, "include:inc.example.com");
	CHECK_INT(o.v.dns_lookups, 2);
	fakedns_insecure(f, "host.example.com");
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_PASS);
	CHECK_INT(o.v.dnssec_secure, 0);
	/* The plain zone is insecure by default... */
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_INT(o.v.dnssec_secure, 0);
	/* ...and secure when told so. */
	spf_zone_set_secure(zone, 1);
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_INT(o.v.dnssec_secure, 1);
	/* An NXDOMAIN answer counts too (none here). */
	req_init(&r, "192.0.2.1", "u@nx.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_NONE);
	CHECK_INT(o.v.dnssec_secure, 1);

	/* BOGUS: temperror carrying the validator's text; data unused. */
	req_init(&r, "192.0.2.1", "u@bogus.example.com", "h.org");
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_TEMPERROR);
	CHECK_STR(o.v.reason, "DNSSEC validation failed for TXT "
	    "bogus.example.com: zone: BOGUS pseudo-record");
	CHECK_INT(o.v.dnssec_secure, 0);
	req_init(&r, "192.0.2.1", "u@bogus-a.example.com", "h.org");
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_TEMPERROR);
	CHECK_STR(o.v.reason, "DNSSEC validation failed for A "
	    "bogus.example.com: zone: BOGUS pseudo-record");
	req_init(&r, "2001:db8::1", "u@bogus-a.example.com", "h.org");
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_TEMPERROR);
	CHECK(strncmp(o.v.reason, "DNSSEC validation failed for AAAA ", 34) ==
	    0);

	req_init(&r, "192.0.2.1", "u@to.example.com", "h.org");
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_TEMPERROR);
	CHECK_STR(o.v.reason, "DNS timeout looking up TXT to.example.com: "
	    "zone: TIMEOUT pseudo-record");
	req_init(&r, "192.0.2.1", "u@sf.example.com", "h.org");
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_TEMPERROR);
	CHECK_STR(o.v.reason, "DNS failure looking up TXT sf.example.com: "
	    "zone: SERVFAIL pseudo-record");

	/* A resolver that cannot even ask: temperror. */
	fakedns_refuse(f, "sec.example.com");
	req_init(&r, "192.0.2.1", "u@sec.example.com", "h.org");
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_TEMPERROR);
	CHECK_STR(o.v.reason, "DNS failure looking up TXT sec.example.com: "
	    "the resolver refused the question");
	fakedns_free(f);
}

static void
zone_parallel(void)
{
	zone_reset();
	ztxt("par.example.com", "v=spf1 mx -all");
	zadd("par.example.com", SPF_RR_MX, "10 mx1.example.com");
	zadd("par.example.com", SPF_RR_MX, "20 mx2.example.com");
	zadd("par.example.com", SPF_RR_MX, "30 mx3.example.com");
	zadd("mx1.example.com", SPF_RR_A, "198.51.100.1");
	zadd("mx2.example.com", SPF_RR_A, "192.0.2.1");
	zadd("mx3.example.com", SPF_RR_A, "198.51.100.3");
	/* First exchange times out, second matches: temperror (in order). */
	ztxt("err1.example.com", "v=spf1 mx -all");
	zadd("err1.example.com", SPF_RR_MX, "10 to1.example.com");
	zadd("err1.example.com", SPF_RR_MX, "20 mx2.example.com");
	spf_zone_add_failure(zone, "to1.example.com", 0, SPF_DNS_TIMEOUT);
	/* First exchange matches, second times out: pass. */
	ztxt("err2.example.com", "v=spf1 mx -all");
	zadd("err2.example.com", SPF_RR_MX, "10 mx2.example.com");
	zadd("err2.example.com", SPF_RR_MX, "20 to1.example.com");
}

static void
test_parallel(void)
{
	static const enum fakedns_order orders[] = {
		FAKEDNS_SYNC, FAKEDNS_FIFO, FAKEDNS_LIFO, FAKEDNS_RANDOM
	};
	struct spf_request r;
	struct outcome o;
	int maxlive;
	size_t i;

	zone_parallel();
	for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		req_init(&r, "192.0.2.1", "u@par.example.com", "h.org");
		CHECK_INT(run_async(&r, orders[i], &o, &maxlive),
		    SPF_RESULT_PASS);
		CHECK_STR(o.v.mechanism, "mx");
		if (orders[i] != FAKEDNS_SYNC)
			CHECK_INT(maxlive, 3);	/* asked all at once */
		req_init(&r, "192.0.2.1", "u@err1.example.com", "h.org");
		CHECK_INT(run_async(&r, orders[i], &o, NULL),
		    SPF_RESULT_TEMPERROR);
		CHECK_STR(o.v.reason, "DNS timeout looking up A "
		    "to1.example.com: zone: TIMEOUT pseudo-record");
		req_init(&r, "192.0.2.1", "u@err2.example.com", "h.org");
		CHECK_INT(run_async(&r, orders[i], &o, NULL),
		    SPF_RESULT_PASS);
	}
}

static void
test_cancel(void)
{
	struct spf_request r;
	struct outcome o;
	struct fakedns *f;
	struct spf_eval *ev;

	zone_parallel();
	/* Free with one question outstanding: it is cancelled. */
	f = fakedns_new(zres, FAKEDNS_FIFO);
	req_init(&r, "192.0.2.1", "u@par.example.com", "h.org");
	memset(&o, 0, sizeof(o));
	ev = spf_eval_new(&r, &f->base, done_cb, &o);
	spf_eval_start(ev);
	CHECK_INT(o.calls, 0);		/* nothing answered yet */
	CHECK_INT(fakedns_live(f), 1);
	spf_eval_free(ev);
	CHECK_INT(f->ncancel, 1);
	CHECK(f->ncancel == 1 && f->cancelled[0] == f->q[0].id);
	CHECK_INT(fakedns_live(f), 0);
	CHECK_INT(o.calls, 0);
	fakedns_free(f);

	/* Free with the three exchange lookups outstanding. */
	f = fakedns_new(zres, FAKEDNS_FIFO);
	ev = spf_eval_new(&r, &f->base, done_cb, &o);
	spf_eval_start(ev);
	CHECK(fakedns_pump(f));		/* TXT */
	CHECK(fakedns_pump(f));		/* MX */
	CHECK_INT(fakedns_live(f), 3);
	CHECK(fakedns_pump(f));		/* mx1: no match, still waiting */
	CHECK_INT(o.calls, 0);
	spf_eval_free(ev);
	CHECK_INT(f->ncancel, 2);
	CHECK_INT(fakedns_live(f), 0);
	CHECK(!fakedns_pump(f));
	CHECK_INT(o.calls, 0);
	fakedns_free(f);

	/* Free from inside done, synchronous... */
	memset(&o, 0, sizeof(o));
	ev = spf_eval_new(&r, zres, done_cb, &o);
	o.free_me = &ev;
	spf_eval_start(ev);
	CHECK_INT(o.calls, 1);
	CHECK(ev == NULL);
	CHECK_INT(o.v.result, SPF_RESULT_PASS);

	/* ...and asynchronous. */
	f = fakedns_new(zres, FAKEDNS_LIFO);
	memset(&o, 0, sizeof(o));
	ev = spf_eval_new(&r, &f->base, done_cb, &o);
	o.free_me = &ev;
	spf_eval_start(ev);
	while (o.calls == 0 && fakedns_pump(f))
		;
	CHECK_INT(o.calls, 1);
	CHECK(ev == NULL);
	CHECK_INT(o.v.result, SPF_RESULT_PASS);
	fakedns_free(f);

	/* A second start while answers are outstanding is ignored. */
	f = fakedns_new(zres, FAKEDNS_FIFO);
	memset(&o, 0, sizeof(o));
	ev = spf_eval_new(&r, &f->base, done_cb, &o);
	spf_eval_start(ev);
	spf_eval_start(ev);
	CHECK_INT(fakedns_live(f), 1);
	CHECK_INT(f->ncancel, 0);
	while (o.calls == 0 && fakedns_pump(f))
		;
	CHECK_INT(o.calls, 1);
	CHECK_INT(o.v.result, SPF_RESULT_PASS);
	spf_eval_start(ev);	/* after done: a new evaluation */
	while (o.calls == 1 && fakedns_pump(f))
		;
	CHECK_INT(o.calls, 2);
	CHECK_INT(o.v.result, SPF_RESULT_PASS);
	spf_eval_free(ev);
	fakedns_free(f);

	/* Free before start, and start twice: done once per start. */
	ev = spf_eval_new(&r, zres, done_cb, &o);
	spf_eval_free(ev);
	memset(&o, 0, sizeof(o));
	ev = spf_eval_new(&r, zres, done_cb, &o);
	spf_eval_start(ev);
	spf_eval_start(ev);
	CHECK_INT(o.calls, 2);
	CHECK_INT(o.v.result, SPF_RESULT_PASS);
	CHECK_INT(o.v.dns_lookups, 1);
	spf_eval_free(ev);
}

static void
test_stack(void)
{
	struct spf_request r;
	struct outcome o;
	struct fakedns *f;
	char name[64], rec[128];
	int i;

	/* Ten nested includes, each with an a term: 21 synchronous answers. */
	zone_reset();
	for (i = 0; i < 9; i++) {
		snprintf(name, sizeof(name), "n%d.example.com", i);
		snprintf(rec, sizeof(rec), "v=spf1 a:x.example.com "
		    "include:n%d.example.com", i + 1);
		ztxt(name, rec);
	}
	ztxt("n9.example.com", "v=spf1 a:y.example.com");
	zadd("x.example.com", SPF_RR_A, "198.51.100.1");
	zadd("y.example.com", SPF_RR_A, "192.0.2.1");
	f = fakedns_new(zres, FAKEDNS_SYNC);
	req_init(&r, "192.0.2.1", "u@n0.example.com", "h.org");
	r.limits.dns_terms = 30;
	CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_PASS);
	CHECK_INT(f->nq, 20);
	/*
	 * With the trampoline every query() runs at about the same depth; a
	 * recursive evaluator would go deeper with each of the 20 answers.
	 */
	CHECK(f->stack_hi - f->stack_lo < 1024);
	fprintf(stderr, "    stack spread over 20 sync answers: %lu bytes\n",
	    (unsigned long)(f->stack_hi - f->stack_lo));
	fakedns_free(f);
}

static void
test_explanation(void)
{
	struct spf_request r;
	struct outcome o;
	char big[1400];

	zone_reset();
	ztxt("e.example.com", "v=spf1 -all exp=why.%{d}");
	ztxt("why.e.example.com", "Mail from %{i}  rejected;  see %{d} ");
	ztxt("split.example.com", "v=spf1 -all exp=why.split.example.com");
	ztxt2("why.split.example.com", "one ", "two");
	ztxt("two.example.com", "v=spf1 -all exp=why.two.example.com");
	ztxt("why.two.example.com", "one");
	ztxt("why.two.example.com", "two");
	ztxt("na.example.com", "v=spf1 -all exp=why.na.example.com");
	ztxt("why.na.example.com", "caf\xc3\xa9");
	ztxt("nx.example.com", "v=spf1 -all exp=nowhere.example.com");
	ztxt("p.example.com", "v=spf1 -all exp=%{p}.exp.example.com");
	ztxt("mx.example.org.exp.example.com", "hello %{p} %{ir}");
	zadd("9.2.0.192.in-addr.arpa", SPF_RR_PTR, "mx.example.org");
	zadd("mx.example.org", SPF_RR_A, "192.0.2.9");
	ztxt("inc.example.com", "v=spf1 include:inner.example.com -all "
	    "exp=top.example.com");
	ztxt("inner.example.com", "v=spf1 -all exp=inner-exp.example.com");
	ztxt("top.example.com", "from the top");
	ztxt("inner-exp.example.com", "from inside");
	ztxt("red.example.com", "v=spf1 exp=top.example.com "
	    "redirect=target.example.com");
	ztxt("target.example.com", "v=spf1 -all exp=t-exp.example.com");
	ztxt("t-exp.example.com", "redirected %{d}");
	ztxt("pass.example.com", "v=spf1 +all exp=top.example.com");
	ztxt("v6.example.com", "v=spf1 -all exp=v6exp.example.com");
	ztxt("v6exp.example.com", "%{c} is %{ir}.%{v}.arpa");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ztxt("long.example.com", "v=spf1 -all exp=longexp.example.com");
	ztxt("longexp.example.com", "%{l}%{l}%{l}%{l}%{l}");

	req_init(&r, "192.0.2.9", "u@e.example.com", "h.org");
	r.default_explanation = "DEFAULT";
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "Mail from 192.0.2.9  rejected;  see "
	    "e.example.com ");
	r.sender = "u@split.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "one two");
	r.sender = "u@two.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "DEFAULT");
	r.sender = "u@na.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "DEFAULT");
	r.sender = "u@nx.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "DEFAULT");
	CHECK_INT(o.v.void_lookups, 0);
	r.sender = "u@p.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "hello mx.example.org 9.2.0.192");
	CHECK_INT(o.v.dns_lookups, 1);	/* the %{p} PTR lookup */
	CHECK_INT(run_async(&r, FAKEDNS_RANDOM, &o, NULL), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "hello mx.example.org 9.2.0.192");
	{
		/* Explanation lookups do not decide dnssec_secure. */
		struct fakedns *f = fakedns_new(zres, FAKEDNS_SYNC);

		fakedns_insecure(f, "mx.example.org");
		fakedns_insecure(f, "9.2.0.192.in-addr.arpa");
		CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_FAIL);
		CHECK_STR(o.v.explanation, "hello mx.example.org 9.2.0.192");
		CHECK_INT(o.v.dnssec_secure, 1);
		fakedns_free(f);
	}
	r.sender = "u@inc.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "from the top");
	CHECK_STR(o.v.mechanism, "-all");
	r.sender = "u@red.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "redirected target.example.com");
	r.sender = "u@pass.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_STR(o.v.explanation, "");
	req_init(&r, "2001:db8::cb01", "u@v6.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "2001:db8::cb01 is 1.0.B.C.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa");
	/* Long explanations are cut at SPF_EXPLANATION_MAX - 1. */
	big[250] = '\0';
	req_init(&r, "192.0.2.9", big, "h.org");
	memcpy(big + 250, "@long.example.com", 18);
	r.sender = big;
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_INT(strlen(o.v.explanation), SPF_EXPLANATION_MAX - 1);
	CHECK(o.v.explanation[0] == 'x');
}

static void
test_reasons(void)
{
	struct spf_request r;
	struct outcome o;

	zone_reset();
	ztxt("se.example.com", "v=spf1 a ip4:1.2.3 -all");
	ztxt("multi.example.com", "v=spf1 -all");
	ztxt("multi.example.com", "V=SPF1 +all");
	ztxt("inone.example.com", "v=spf1 include:nothing.example.com -all");
	ztxt("rnone.example.com", "v=spf1 redirect=nothing.example.com");
	ztxt("ctl.example.com", "v=spf1 a:x.example.com\rptr -all");
	ztxt("itemp.example.com", "v=spf1 include:to.example.com -all");
	spf_zone_add_failure(zone, "to.example.com", 0, SPF_DNS_TIMEOUT);
	ztxt("ibad.example.com", "v=spf1 include:%{l}.example.com -all");

	req_init(&r, "192.0.2.1", "u@se.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "syntax error in 'ip4:1.2.3' at 4: invalid "
	    "ip4-network (SPF record of se.example.com)");
	CHECK_INT(o.v.dns_lookups, 0);	/* found before evaluating "a" */
	r.sender = "u@multi.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "more than one SPF record for multi.example.com");
	r.sender = "u@inone.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "no SPF record for included domain "
	    "nothing.example.com");
	r.sender = "u@rnone.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "no SPF record for redirect domain "
	    "nothing.example.com");
	r.sender = "u@ctl.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "syntax error in 'a:x.example.com?ptr' at 15: "
	    "control character (SPF record of ctl.example.com)");
	r.sender = "u@itemp.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_TEMPERROR);
	CHECK_STR(o.v.reason, "DNS timeout looking up TXT to.example.com: "
	    "zone: TIMEOUT pseudo-record");
	/* An include target that is not a name: include of nothing. */
	r.sender = "a..b@ibad.example.com";
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "invalid include target in the SPF record of "
	    "ibad.example.com");
}

static void
test_big_records(void)
{
	struct spf_request r;
	struct outcome o;
	char rec[9000], name[64];
	size_t len;
	int i, k;

	/* 400 ip4 terms (~5.6 KB): the term array needs an extra chunk. */
	zone_reset();
	len = (size_t)snprintf(rec, sizeof(rec), "v=spf1");
	for (i = 0; i < 400; i++)
		len += (size_t)snprintf(rec + len, sizeof(rec) - len,
		    " ip4:10.%d.%d.1", i / 200, i % 200);
	snprintf(rec + len, sizeof(rec) - len, " -all");
	ztxt("big.example.com", rec);
	req_init(&r, "10.1.199.1", "u@big.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_STR(o.v.mechanism, "ip4:10.1.199.1");
	req_init(&r, "10.9.9.9", "u@big.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);

	/* Nested includes of big records: fine up to a bound, then refused. */
	for (k = 0; k < 12; k++) {
		snprintf(name, sizeof(name), "big%d.example.com", k);
		len = (size_t)snprintf(rec, sizeof(rec),
		    "v=spf1 include:big%d.example.com", k + 1);
		for (i = 0; i < 400; i++)
			len += (size_t)snprintf(rec + len, sizeof(rec) - len,
			    " ip4:10.%d.%d.2", i / 200, i % 200);
		ztxt(name, rec);
	}
	ztxt("big12.example.com", "v=spf1 ip4:192.0.2.1");
	req_init(&r, "192.0.2.1", "u@big9.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	req_init(&r, "192.0.2.1", "u@big0.example.com", "h.org");
	r.limits.dns_terms = 20;
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "SPF records too large, at big8.example.com");

	/* Longer than SPF_RECORD_MAX (8192): refused. */
	len = (size_t)snprintf(rec, sizeof(rec), "v=spf1");
	while (len < 8200)
		len += (size_t)snprintf(rec + len, sizeof(rec) - len,
		    " ip4:10.0.0.1");
	ztxt("huge.example.com", rec);
	req_init(&r, "192.0.2.1", "u@huge.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PERMERROR);
	CHECK_STR(o.v.reason, "SPF record too long for huge.example.com");

	/* A record made of several strings, split inside a term. */
	ztxt2("two.example.com", "v=spf1 ip4:", "192.0.2.1 -all");
	req_init(&r, "192.0.2.1", "u@two.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
}

static void
test_p_macro(void)
{
	struct spf_request r;
	struct outcome o;

	zone_reset();
	ztxt("p.example.com", "v=spf1 exists:%{p}.ok.example.com -all");
	zadd("5.2.0.192.in-addr.arpa", SPF_RR_PTR, "host.p.example.com");
	zadd("5.2.0.192.in-addr.arpa", SPF_RR_PTR, "other.example.org");
	zadd("host.p.example.com", SPF_RR_A, "192.0.2.5");
	zadd("other.example.org", SPF_RR_A, "192.0.2.5");
	zadd("host.p.example.com.ok.example.com", SPF_RR_A, "127.0.0.2");
	zadd("unknown.ok.example.com", SPF_RR_A, "127.0.0.2");
	spf_zone_add_failure(zone, "6.2.0.192.in-addr.arpa", 0,
	    SPF_DNS_SERVFAIL);

	req_init(&r, "192.0.2.5", "u@p.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_INT(o.v.dns_lookups, 2);	/* exists, and %{p}'s PTR lookup */
	/* A failing PTR lookup gives "unknown", not an error. */
	req_init(&r, "192.0.2.6", "u@p.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	/* No PTR at all: "unknown" as well. */
	req_init(&r, "192.0.2.7", "u@p.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_INT(o.v.void_lookups, 0);

	/*
	 * The ptr mechanism is one DNS term; %{p} after it reuses its
	 * validated names and costs nothing more.
	 */
	ztxt("pp.example.com", "v=spf1 ptr:nowhere.example.com "
	    "exists:%{p}.ok.example.com -all");
	req_init(&r, "192.0.2.5", "u@pp.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_INT(o.v.dns_lookups, 2);

	/*
	 * With the ten lookups spent, %{p} is "unknown" without a lookup and
	 * without an error (the PTR here would validate host.p.example.com).
	 */
	make_a_chain("full.example.com", 9, 300);
	{
		char rec[1024];
		size_t n;
		int i;

		n = (size_t)snprintf(rec, sizeof(rec), "v=spf1");
		for (i = 0; i < 9; i++)
			n += (size_t)snprintf(rec + n, sizeof(rec) - n,
			    " a:h%d.example.com", 300 + i);
		snprintf(rec + n, sizeof(rec) - n, " exists:%%{p}.ok2.%%{d} "
		    "-all");
		ztxt("full2.example.com", rec);
	}
	zadd("unknown.ok2.full2.example.com", SPF_RR_A, "127.0.0.2");
	zadd("host.p.example.com.ok2.full2.example.com", SPF_RR_A,
	    "127.0.0.3");
	req_init(&r, "192.0.2.5", "u@full2.example.com", "h.org");
	{
		struct fakedns *f = fakedns_new(zres, FAKEDNS_SYNC);

		CHECK_INT(run_on(&f->base, &r, &o), SPF_RESULT_PASS);
		CHECK_INT(o.v.dns_lookups, 10);
		CHECK(!fakedns_asked(f, "5.2.0.192.in-addr.arpa"));
		CHECK(fakedns_asked(f, "unknown.ok2.full2.example.com"));
		fakedns_free(f);
	}
	/* With a budget of 11, %{p} gets the eleventh lookup and validates. */
	r.limits.dns_terms = 11;
	CHECK_INT(run(&r, &o), SPF_RESULT_PASS);
	CHECK_INT(o.v.dns_lookups, 11);
	/* In an explanation, the same rule: no budget left, "unknown". */
	ztxt("fullexp.example.com", "v=spf1 a:h300.example.com "
	    "-all exp=%{p}.exp2.example.com");
	ztxt("unknown.exp2.example.com", "no budget");
	ztxt("host.p.example.com.exp2.example.com", "budget");
	req_init(&r, "192.0.2.5", "u@fullexp.example.com", "h.org");
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "budget");
	r.limits.dns_terms = 1;
	CHECK_INT(run(&r, &o), SPF_RESULT_FAIL);
	CHECK_STR(o.v.explanation, "no budget");
}

int
main(void)
{
	test_basic();
	test_identity();
	test_initial_domain();
	test_limits();
	test_ptr_limit();
	test_mapped();
	test_dnssec();
	test_parallel();
	test_cancel();
	test_stack();
	test_explanation();
	test_reasons();
	test_big_records();
	test_p_macro();
	zres->ops->free(zres);
	spf_zone_free(zone);
	return check_report();
}
