/*
 * dnssec_test.c - spf_unbound against real signed zones (run by run.sh).
 *
 * Usage: dnssec_test NSD_PORT BLACKHOLE_PORT TRUST_ANCHOR_FILE WORKDIR
 *
 * CONTRACT
 *	run.sh serves, on 127.0.0.1@NSD_PORT, a signed "test." (trust anchor:
 *	TRUST_ANCHOR_FILE) delegating to good.test (signed, DS), bogus.test
 *	(TXT changed after signing), expired.test (signatures expired) and
 *	insecure.test (unsigned, no DS), plus unsigned 2.0.192.in-addr.arpa,
 *	10.in-addr.arpa, 8.b.d.0.1.0.0.2.ip6.arpa and invalid.  Nothing
 *	answers on 127.0.0.1@BLACKHOLE_PORT.  WORKDIR is scratch space.
 *
 *	Resolver-level checks use the raw ops (status, secure flag, reason,
 *	rdata, cancel and free safety, deadlines); SPF-level checks go
 *	through spf_eval_new()/spf_eval_start() with libunbound underneath.
 *	Every wait is bounded by a guard timer.
 *
 *	Answer cache checks also use short.test (signed, TTLs and negative
 *	TTL of 2 s) and big.good.test (a TXT record over 4 KB).  The binary
 *	is linked with --wrap=ub_resolve_async, so ub_asked counts the
 *	questions that spf_unbound.c really hands to libunbound: a cache hit
 *	must leave it unchanged.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <unbound.h>

#include "spf/spf.h"
#include "spf/spf_unbound.h"
#include "tests/check.h"

#define WAIT_MAX_MS 8000
#define TEXT_MAX 512

/* What one DNS callback saw (copied: the answer dies with the call). */
struct got {
	int calls;
	enum spf_dns_status status;
	int secure;
	int count;
	char reason[TEXT_MAX];
	unsigned char rdata[TEXT_MAX];	/* first record */
	int rdlen;
	int rdlen0;			/* first record's length, uncut */
	double ms;			/* since the question was asked */
	struct spf_resolver *free_me;	/* freed from inside the callback */
	double t0;
	/* Optional actions of the callback on r_act (re-entrancy checks): */
	struct spf_resolver *r_act;
	uint64_t cancel_id;		/* cancel this question (if nonzero) */
	struct got *ask_g;		/* ask good.test TXT into this */
	int ask_calls_after;		/* ask_g->calls right after query() */
};

/* What one SPF evaluation concluded. */
struct verdict {
	int calls;
	enum spf_result result;
	int secure;
	char reason[SPF_REASON_MAX];
	char mechanism[SPF_TERM_MAX];
	double ms;
	double t0;
};

static struct event_base *base;
static const char *nsd_addr_arg, *hole_addr_arg, *ta_file, *workdir;
static char nsd_addr[64], hole_addr[64];
static unsigned long ub_asked;	/* ub_resolve_async calls */

int __real_ub_resolve_async(struct ub_ctx *, const char *, int, int, void *,
    ub_callback_type, int *);
int __wrap_ub_resolve_async(struct ub_ctx *, const char *, int, int, void *,
    ub_callback_type, int *);

/* The linker routes spf_unbound.c's ub_resolve_async here: count, pass. */
int
__wrap_ub_resolve_async(struct ub_ctx *ctx, const char *name, int type,
    int class, void *mydata, ub_callback_type cb, int *async_id)
{
	ub_asked++;
	return __real_ub_resolve_async(ctx, name, type, class, mydata, cb,
	    async_id);
}

/* Milliseconds on the monotonic clock. */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Guard timer callback: sets the flag it was given. */
static void
guard_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(int *)arg = 1;
}

/* Runs the loop until *flag or max_ms; returns 1 if the flag got set. */
static int
run_until(const int *flag, int max_ms)
{
	int expired = 0;
	struct timeval tv = { max_ms / 1000, (max_ms % 1000) * 1000 };
	struct event *guard = evtimer_new(base, guard_cb, &expired);

	if (guard == NULL || evtimer_add(guard, &tv) != 0)
		abort();
	while (!*flag && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(guard);
	return *flag != 0;
}

/* Runs the loop for max_ms whatever happens (to see that nothing does). */
static void
run_for(int max_ms)
{
	int never = 0;

	(void)run_until(&never, max_ms);
}

/* DNS callback: records the answer. */
static void
dns_cb(void *arg, const struct spf_dns_answer *a)
{
	struct got *g = arg;

	g->calls++;
	g->ms = now_ms() - g->t0;
	g->status = a->status;
	g->secure = a->secure;
	g->count = a->count;
	snprintf(g->reason, sizeof(g->reason), "%s", a->reason ? a->reason : "");
	g->rdlen = 0;
	g->rdlen0 = a->count > 0 ? a->rdlen[0] : -1;
	if (a->count > 0 && a->rdlen[0] <= (int)sizeof(g->rdata)) {
		memcpy(g->rdata, a->rdata[0], (size_t)a->rdlen[0]);
		g->rdlen = a->rdlen[0];
	}
	if (g->cancel_id != 0)
		g->r_act->ops->cancel(g->r_act, g->cancel_id);
	if (g->ask_g != NULL) {
		uint64_t id;

		CHECK_INT(g->r_act->ops->query(g->r_act, "good.test",
		    SPF_RR_TXT, dns_cb, g->ask_g, &id), 0);
		g->ask_calls_after = g->ask_g->calls;
	}
	if (g->free_me != NULL) {
		g->free_me->ops->free(g->free_me);
		g->free_me = NULL;
	}
}

/* Asks one question and waits for its answer; returns query()'s value. */
static int
ask(struct spf_resolver *r, const char *name, enum spf_rrtype type,
    struct got *g)
{
	uint64_t id;
	int rc;

	memset(g, 0, sizeof(*g));
	g->t0 = now_ms();
	rc = r->ops->query(r, name, type, dns_cb, g, &id);
	CHECK_INT(g->calls, 0);		/* never called inside query() */
	if (rc == 0)
		(void)run_until(&g->calls, WAIT_MAX_MS);
	return rc;
}

/* 1 when the first TXT record's first string equals text. */
static int
txt_is(const struct got *g, const char *text)
{
	size_t n = strlen(text);

	return g->rdlen >= 1 && g->rdata[0] == n && (size_t)g->rdlen >= n + 1 &&
	    memcmp(g->rdata + 1, text, n) == 0;
}

/* Makes a resolver for the NSD forwarder (or the black hole). */
static struct spf_resolver *
make_resolver(const char *fwd, int timeout_ms, int no_dnssec,
    const struct spf_unbound_stub *stubs, int nstubs)
{
	const char *fwds[1] = { fwd };
	struct spf_unbound_config c;
	char err[256] = "";
	struct spf_resolver *r;

	memset(&c, 0, sizeof(c));
	c.trust_anchor_file = no_dnssec ? NULL : ta_file;
	c.no_dnssec = no_dnssec;
	c.forwarders = fwds;
	c.nforwarders = 1;
	c.timeout_ms = timeout_ms;
	c.stubs = stubs;
	c.nstubs = nstubs;
	r = spf_unbound_new(base, &c, err, sizeof(err));
	if (r == NULL)
		fprintf(stderr, "spf_unbound_new: %s\n", err);
	return r;
}

/*
 * Resolver-level checks
 */

/* Secure, insecure and bogus answers through the validator. */
static void
test_validation(struct spf_resolver *r)
{
	struct got g;

	CHECK_INT(ask(r, "good.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.calls, 1);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK_INT(g.secure, 1);
	CHECK_INT(g.count, 1);
	CHECK(txt_is(&g, "v=spf1 ip4:192.0.2.10 -all"));

	CHECK_INT(ask(r, "mail.good.test", SPF_RR_A, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK_INT(g.secure, 1);
	CHECK(g.rdlen == 4 && memcmp(g.rdata, "\xc0\x00\x02\x0a", 4) == 0);

	CHECK_INT(ask(r, "nosuch.good.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_NXDOMAIN);
	CHECK_INT(g.secure, 1);

	CHECK_INT(ask(r, "mail.good.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_NODATA);
	CHECK_INT(g.secure, 1);

	CHECK_INT(ask(r, "insecure.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK_INT(g.secure, 0);
	CHECK(txt_is(&g, "v=spf1 ip4:192.0.2.10 -all"));

	/* The forged record must not come through, and say why. */
	CHECK_INT(ask(r, "bogus.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_BOGUS);
	CHECK_INT(g.secure, 0);
	CHECK_INT(g.count, 0);
	CHECK(strstr(g.reason, "validation failure") != NULL);
	CHECK(strstr(g.reason, "bogus.test") != NULL);
	fprintf(stderr, "bogus.test reason: %s\n", g.reason);

	CHECK_INT(ask(r, "expired.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_BOGUS);
	CHECK(strstr(g.reason, "expired") != NULL);
	fprintf(stderr, "expired.test reason: %s\n", g.reason);

	/* A name with an octet that must be escaped for libunbound. */
	CHECK_INT(ask(r, "sp ace.good.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK_INT(g.secure, 1);
	CHECK(txt_is(&g, "label with a space"));
	CHECK_INT(ask(r, "sp\\032ace.good.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_NXDOMAIN);	/* a literal backslash */
}

/* Names libunbound would answer locally must reach the forwarder. */
static void
test_local_zones(struct spf_resolver *r)
{
	struct got g;

	CHECK_INT(ask(r, "direct.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK_INT(g.secure, 1);
	CHECK(txt_is(&g, "v=spf1 -all"));

	CHECK_INT(ask(r, "10.2.0.192.in-addr.arpa", SPF_RR_PTR, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK_INT(g.secure, 0);
	CHECK(g.rdlen == 16 && memcmp(g.rdata, "\4mail\4good\4test", 16) == 0);

	CHECK_INT(ask(r, "1.0.0.10.in-addr.arpa", SPF_RR_PTR, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK(g.rdlen == 20 &&
	    memcmp(g.rdata, "\4host\10insecure\4test", 20) == 0);

	CHECK_INT(ask(r, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "8.b.d.0.1.0.0.2.ip6.arpa", SPF_RR_PTR, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);

	CHECK_INT(ask(r, "probe.invalid", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK(txt_is(&g, "reached the forwarder"));

	/* Kept on purpose: localhost is answered by libunbound itself
	 * (NSD does not serve it and would refuse). */
	CHECK_INT(ask(r, "localhost", SPF_RR_A, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK(g.rdlen == 4 && memcmp(g.rdata, "\x7f\x00\x00\x01", 4) == 0);
}

#define ZONES_MAX 200
#define RR_SOA 6

/*
 * Reads the names of libunbound's built-in local zones, as the installed
 * library prints them ("... info: static zone NAME TYPE0 IN"), into
 * names[]; returns how many.
 */
static int
builtin_zones(char names[][SPF_DOMAIN_MAX], int max)
{
	char path[512], line[1024];
	struct ub_ctx *ctx = ub_ctx_create();
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/local-zones.txt", workdir);
	if (ctx == NULL || (f = fopen(path, "w+")) == NULL)
		abort();
	ub_ctx_debugout(ctx, f);
	CHECK_INT(ub_ctx_print_local_zones(ctx), 0);
	ub_ctx_delete(ctx);
	rewind(f);
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		char *p = strstr(line, " zone ");

		if (p != NULL && sscanf(p, " zone %255s", names[n]) == 1)
			n++;
	}
	fclose(f);
	return n;
}

/* 1 for the loopback zones we keep local on purpose. */
static int
kept_local(const char *zone)
{
	return strcmp(zone, "localhost.") == 0 ||
	    strcmp(zone, "127.in-addr.arpa.") == 0 ||
	    strcmp(zone, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.ip6.arpa.") == 0;
}

/*
 * Every built-in local zone of the installed libunbound except loopback
 * must be removed when forwarding: its SOA then comes from the forwarder
 * (NSD's, or REFUSED for zones NSD does not serve) instead of libunbound's
 * made-up "localhost. nobody.invalid." SOA.  Catches a libunbound update
 * that adds default zones.
 */
static void
test_builtin_zones_removed(void)
{
	static char names[ZONES_MAX][SPF_DOMAIN_MAX];
	static struct got g[ZONES_MAX];
	struct spf_resolver *r = make_resolver(nsd_addr, 3000, 1, NULL, 0);
	int n = builtin_zones(names, ZONES_MAX), i, done = 0, wrong = 0;
	double t0 = now_ms();
	uint64_t id;

	fprintf(stderr, "libunbound has %d built-in local zones\n", n);
	CHECK(n >= 100 && n < ZONES_MAX);
	CHECK(r != NULL);
	if (r == NULL)
		return;
	memset(g, 0, sizeof(g));
	for (i = 0; i < n; i++)
		CHECK_INT(r->ops->query(r, names[i], (enum spf_rrtype)RR_SOA,
		    dns_cb, &g[i], &id), 0);
	while (done < n && now_ms() - t0 < WAIT_MAX_MS) {
		event_base_loop(base, EVLOOP_ONCE);
		for (done = 0, i = 0; i < n; i++)
			done += g[i].calls;
	}
	CHECK_INT(done, n);
	for (i = 0; i < n; i++) {
		int local = g[i].status == SPF_DNS_ANSWER && g[i].rdlen > 11 &&
		    memcmp(g[i].rdata, "\11localhost", 11) == 0;

		if (local != kept_local(names[i])) {
			fprintf(stderr, "zone %s: %s\n", names[i], local ?
			    "still answered by libunbound" :
			    "not answered locally");
			wrong++;
		}
	}
	CHECK_INT(wrong, 0);
	r->ops->free(r);
}

/* Names that cannot be asked are refused without a callback. */
static void
test_bad_names(struct spf_resolver *r)
{
	static const char *const bad[] = {
		"", ".", "a..b", ".a",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
	};
	char longname[300];
	struct got g;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(ask(r, bad[i], SPF_RR_TXT, &g), -1);
		CHECK_INT(g.calls, 0);
	}
	memset(longname, 'a', sizeof(longname));
	for (i = 10; i < sizeof(longname); i += 11)
		longname[i] = '.';
	longname[254] = '\0';
	CHECK_INT(ask(r, longname, SPF_RR_TXT, &g), -1);
	CHECK_INT(g.calls, 0);
	/* A trailing dot is tolerated. */
	CHECK_INT(ask(r, "good.test.", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
}

/* Cancel before the answer, cancel after it, and stale ids. */
static void
test_cancel(struct spf_resolver *r)
{
	struct got g1, g2;
	uint64_t id1, id2;

	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g1,
	    &id1), 0);
	CHECK_INT(r->ops->query(r, "insecure.test", SPF_RR_TXT, dns_cb, &g2,
	    &id2), 0);
	CHECK(id1 != id2);
	CHECK_INT(spf_unbound_pending(r), 2);
	r->ops->cancel(r, id1);
	CHECK_INT(spf_unbound_pending(r), 1);
	(void)run_until(&g2.calls, WAIT_MAX_MS);
	run_for(200);		/* time for a stray answer to show up */
	CHECK_INT(g1.calls, 0);
	CHECK_INT(g2.calls, 1);
	CHECK_INT(spf_unbound_pending(r), 0);
	r->ops->cancel(r, id2);	/* already answered: harmless */
	r->ops->cancel(r, id1);	/* already cancelled: harmless */
	r->ops->cancel(r, 0);
	r->ops->cancel(r, UINT64_MAX);

	/* A stale id must not cancel the question now in its slot. */
	memset(&g1, 0, sizeof(g1));
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g1,
	    &id2), 0);
	r->ops->cancel(r, id1);
	(void)run_until(&g1.calls, WAIT_MAX_MS);
	CHECK_INT(g1.calls, 1);
	CHECK_INT(g1.status, SPF_DNS_ANSWER);
}

#define MANY 300

/* Many questions at once: the id table grows and all are answered. */
static void
test_many(struct spf_resolver *r)
{
	static struct got g[MANY];
	static const char *const names[] = {
		"good.test", "insecure.test", "mail.good.test", "bogus.test",
		"nosuch.good.test", "10.2.0.192.in-addr.arpa",
	};
	static const enum spf_dns_status want[] = {
		SPF_DNS_ANSWER, SPF_DNS_ANSWER, SPF_DNS_NODATA, SPF_DNS_BOGUS,
		SPF_DNS_NXDOMAIN, SPF_DNS_NODATA,
	};
	int i, done = 0, ok = 0, asked = 0;
	uint64_t id;
	double t0 = now_ms();

	memset(g, 0, sizeof(g));
	for (i = 0; i < MANY; i++)
		if (r->ops->query(r, names[i % 6], SPF_RR_TXT, dns_cb, &g[i],
		    &id) == 0)
			asked++;
	CHECK_INT(asked, MANY);
	CHECK_INT(spf_unbound_pending(r), MANY);
	while (done < MANY && now_ms() - t0 < WAIT_MAX_MS) {
		event_base_loop(base, EVLOOP_ONCE);
		for (done = 0, i = 0; i < MANY; i++)
			done += g[i].calls;
	}
	for (i = 0; i < MANY; i++)
		ok += g[i].calls == 1 && g[i].status == want[i % 6];
	CHECK_INT(done, MANY);
	CHECK_INT(ok, MANY);
	CHECK_INT(spf_unbound_pending(r), 0);
}

/* A forwarder that never answers: our deadline, not libunbound's. */
static void
test_timeout(void)
{
	struct spf_resolver *r = make_resolver(hole_addr, 300, 0, NULL, 0);
	struct got g;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(ask(r, "good.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.calls, 1);
	CHECK_INT(g.status, SPF_DNS_TIMEOUT);
	CHECK(strstr(g.reason, "300 ms") != NULL);
	fprintf(stderr, "timeout after %.0f ms (deadline 300 ms)\n", g.ms);
	CHECK(g.ms >= 280 && g.ms < 800);
	CHECK_INT(spf_unbound_pending(r), 0);
	run_for(500);		/* the cancelled answer never arrives */
	CHECK_INT(g.calls, 1);
	r->ops->free(r);
}

/* A stub zone sends one zone to the black hole; the rest still works. */
static void
test_stub(void)
{
	const struct spf_unbound_stub stub = { "timeout.test", hole_addr };
	struct spf_resolver *r = make_resolver(nsd_addr, 1000, 0, &stub, 1);
	struct got g;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(ask(r, "spf.timeout.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.calls, 1);
	CHECK(g.status == SPF_DNS_TIMEOUT || g.status == SPF_DNS_SERVFAIL);
	fprintf(stderr, "stub timeout: status %d after %.0f ms\n", g.status,
	    g.ms);
	CHECK(g.ms < 1500);
	CHECK_INT(ask(r, "good.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK_INT(g.secure, 1);
	r->ops->free(r);
}

/* One dead forwarder out of two: libunbound fails over to the other. */
static void
test_failover(void)
{
	static const char *const names[] = {
		"good.test", "a.good.test", "mail.good.test", "direct.test",
	};
	const char *fwds[2] = { hole_addr, nsd_addr };
	struct spf_unbound_config c;
	char err[256] = "";
	struct spf_resolver *r;
	struct got g;
	int i, ok = 0;

	memset(&c, 0, sizeof(c));
	c.trust_anchor_file = ta_file;
	c.forwarders = fwds;
	c.nforwarders = 2;
	c.timeout_ms = 0;	/* the default, 5000 ms */
	r = spf_unbound_new(base, &c, err, sizeof(err));
	CHECK(r != NULL);
	if (r == NULL)
		return;
	for (i = 0; i < 4; i++) {
		CHECK_INT(ask(r, names[i], i == 2 ? SPF_RR_A : SPF_RR_TXT, &g),
		    0);
		ok += g.calls == 1 && g.status == SPF_DNS_ANSWER &&
		    g.secure == 1;
		fprintf(stderr, "failover %s: status %d after %.0f ms\n",
		    names[i], g.status, g.ms);
	}
	CHECK_INT(ok, 4);
	r->ops->free(r);
}

/* Free with questions in flight, and free from inside a callback. */
static void
test_free(void)
{
	struct spf_resolver *r = make_resolver(nsd_addr, 2000, 0, NULL, 0);
	struct got g1, g2, g3;
	uint64_t id;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g1,
	    &id), 0);
	CHECK_INT(r->ops->query(r, "insecure.test", SPF_RR_TXT, dns_cb, &g2,
	    &id), 0);
	r->ops->free(r);
	run_for(300);
	CHECK_INT(g1.calls + g2.calls, 0);

	/* The first answer frees the resolver; the others never come. */
	r = make_resolver(nsd_addr, 2000, 0, NULL, 0);
	CHECK(r != NULL);
	if (r == NULL)
		return;
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	memset(&g3, 0, sizeof(g3));
	g1.free_me = g2.free_me = g3.free_me = r;
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g1,
	    &id), 0);
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g2,
	    &id), 0);
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g3,
	    &id), 0);
	run_for(500);
	CHECK_INT(g1.calls + g2.calls + g3.calls, 1);
}

/* Explicit --no-dnssec: everything insecure, even forged data. */
static void
test_no_dnssec(void)
{
	struct spf_resolver *r = make_resolver(nsd_addr, 2000, 1, NULL, 0);
	struct got g;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(ask(r, "good.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK_INT(g.secure, 0);
	CHECK_INT(ask(r, "bogus.test", SPF_RR_TXT, &g), 0);
	CHECK_INT(g.status, SPF_DNS_ANSWER);
	CHECK_INT(g.secure, 0);
	CHECK(txt_is(&g, "v=spf1 ip4:192.0.2.99 -all"));
	r->ops->free(r);
}

/* Writes text to WORKDIR/name and returns the path (static buffer). */
static const char *
write_file(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	return path;
}

/* spf_unbound_new() must fail, with a message, for this config. */
static void
expect_new_fails(const struct spf_unbound_config *c, const char *needle)
{
	char err[256] = "";
	struct spf_resolver *r = spf_unbound_new(base, c, err, sizeof(err));

	CHECK(r == NULL);
	CHECK(err[0] != '\0');
	CHECK(strstr(err, needle) != NULL);
	fprintf(stderr, "expected failure: %s\n", err);
	if (r != NULL)
		r->ops->free(r);
}

/* Trust anchor problems are fatal; the default anchor loads. */
static void
test_trust_anchor_errors(void)
{
	const char *fwds[1] = { nsd_addr };
	struct spf_unbound_config c;
	char err[256] = "";
	struct spf_resolver *r;

	memset(&c, 0, sizeof(c));
	c.forwarders = fwds;
	c.nforwarders = 1;

	c.trust_anchor_file = "/nonexistent/spfgate/root.key";
	expect_new_fails(&c, "/nonexistent/spfgate/root.key");
	c.trust_anchor_file = write_file("empty.key", "");
	expect_new_fails(&c, "no DS or DNSKEY");
	c.trust_anchor_file = write_file("garbage.key",
	    "this is not a trust anchor\n\x01\x02\x03\n");
	expect_new_fails(&c, "no DS or DNSKEY");
	c.trust_anchor_file = write_file("broken.key",
	    "test. IN DS 12345 13 2 not-hex-at-all\n");
	expect_new_fails(&c, "trust anchor");
	c.trust_anchor_file = workdir;	/* a directory */
	expect_new_fails(&c, "trust anchor");

	/* A trust anchor with DNSSEC off is a contradiction. */
	c.trust_anchor_file = ta_file;
	c.no_dnssec = 1;
	expect_new_fails(&c, "disabled");
	c.no_dnssec = 2;
	expect_new_fails(&c, "no_dnssec");

	/* Bad forwarder syntax. */
	memset(&c, 0, sizeof(c));
	fwds[0] = "not an address";
	c.forwarders = fwds;
	c.nforwarders = 1;
	c.trust_anchor_file = ta_file;
	expect_new_fails(&c, "forwarder");

	/* All-zero config: Debian's root trust anchor, full recursion. */
	memset(&c, 0, sizeof(c));
	r = spf_unbound_new(base, &c, err, sizeof(err));
	CHECK(r != NULL);
	if (r == NULL)
		fprintf(stderr, "default config: %s\n", err);
	else
		r->ops->free(r);
	r = spf_unbound_new(base, NULL, err, sizeof(err));
	CHECK(r != NULL);
	if (r != NULL)
		r->ops->free(r);
}

/*
 * SPF-level checks (through the engine)
 */

/* Engine callback: records the verdict. */
static void
done_cb(void *arg, const struct spf_verdict *v)
{
	struct verdict *out = arg;

	out->calls++;
	out->ms = now_ms() - out->t0;
	out->result = v->result;
	out->secure = v->dnssec_secure;
	snprintf(out->reason, sizeof(out->reason), "%s", v->reason);
	snprintf(out->mechanism, sizeof(out->mechanism), "%s", v->mechanism);
}

/* Evaluates MAIL FROM postmaster@domain for an IPv4 client. */
static void
spf(struct spf_resolver *r, const char *domain, const char *ip,
    struct verdict *out)
{
	struct spf_request req;
	struct spf_eval *e;
	char sender[300];

	memset(out, 0, sizeof(*out));
	memset(&req, 0, sizeof(req));
	snprintf(sender, sizeof(sender), "postmaster@%s", domain);
	req.family = AF_INET;
	if (inet_pton(AF_INET, ip, req.ip) != 1)
		abort();
	req.identity = SPF_ID_MAILFROM;
	req.sender = sender;
	req.helo = "client.example";
	out->t0 = now_ms();
	e = spf_eval_new(&req, r, done_cb, out);
	CHECK(e != NULL);
	if (e == NULL)
		return;
	spf_eval_start(e);
	(void)run_until(&out->calls, WAIT_MAX_MS);
	CHECK_INT(out->calls, 1);
	spf_eval_free(e);
}

/* pass/fail with the right dnssec_secure, bogus -> temperror. */
static void
test_spf(struct spf_resolver *r)
{
	struct verdict v;

	spf(r, "good.test", "192.0.2.10", &v);
	CHECK_INT(v.result, SPF_RESULT_PASS);
	CHECK_INT(v.secure, 1);
	spf(r, "good.test", "192.0.2.99", &v);
	CHECK_INT(v.result, SPF_RESULT_FAIL);
	CHECK_INT(v.secure, 1);
	spf(r, "a.good.test", "192.0.2.10", &v);
	CHECK_INT(v.result, SPF_RESULT_PASS);
	CHECK_INT(v.secure, 1);

	spf(r, "insecure.test", "192.0.2.10", &v);
	CHECK_INT(v.result, SPF_RESULT_PASS);
	CHECK_INT(v.secure, 0);
	spf(r, "insecure.test", "192.0.2.99", &v);
	CHECK_INT(v.result, SPF_RESULT_FAIL);
	CHECK_INT(v.secure, 0);
	/* Secure record, but the match came from an insecure include. */
	spf(r, "mixed.good.test", "192.0.2.10", &v);
	CHECK_INT(v.result, SPF_RESULT_PASS);
	CHECK_INT(v.secure, 0);
	/* ptr: the client's reverse name is in 2.0.192.in-addr.arpa. */
	spf(r, "ptr.good.test", "192.0.2.10", &v);
	CHECK_INT(v.result, SPF_RESULT_PASS);
	CHECK_INT(v.secure, 0);

	/* Forged data would pass 192.0.2.99: it must be a temperror. */
	spf(r, "bogus.test", "192.0.2.99", &v);
	CHECK_INT(v.result, SPF_RESULT_TEMPERROR);
	CHECK_INT(v.secure, 0);
	CHECK(strstr(v.reason, "validation failure") != NULL);
	fprintf(stderr, "bogus.test verdict reason: %s\n", v.reason);
	spf(r, "expired.test", "192.0.2.10", &v);
	CHECK_INT(v.result, SPF_RESULT_TEMPERROR);
	CHECK(strstr(v.reason, "expired") != NULL);
}

/* A forwarder that never answers: temperror within the deadline. */
static void
test_spf_timeout(void)
{
	struct spf_resolver *r = make_resolver(hole_addr, 1000, 0, NULL, 0);
	struct verdict v;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	spf(r, "good.test", "192.0.2.10", &v);
	CHECK_INT(v.result, SPF_RESULT_TEMPERROR);
	CHECK(v.reason[0] != '\0');
	fprintf(stderr, "SPF timeout: temperror after %.0f ms (deadline "
	    "1000 ms): %s\n", v.ms, v.reason);
	CHECK(v.ms >= 950 && v.ms < 1500);
	r->ops->free(r);
}

/*
 * Answer cache checks
 */

/* Counters of one resolver, to compare before and after. */
struct counts {
	unsigned long hits, misses, asked;
};

/* Reads the cache counters and the libunbound question count. */
static struct counts
counts_of(const struct spf_resolver *r)
{
	struct counts c;

	c.hits = spf_unbound_cache_hits(r);
	c.misses = spf_unbound_cache_misses(r);
	c.asked = ub_asked;
	return c;
}

/* 1 when the counters moved by exactly (hits, misses); misses = asked. */
static int
moved(const struct spf_resolver *r, const struct counts *before,
    unsigned long hits, unsigned long misses)
{
	struct counts now = counts_of(r);
	int ok = now.hits == before->hits + hits &&
	    now.misses == before->misses + misses &&
	    now.asked == before->asked + misses;

	if (!ok)
		fprintf(stderr, "cache counters: hits +%lu misses +%lu asked "
		    "+%lu, expected +%lu +%lu +%lu\n", now.hits - before->hits,
		    now.misses - before->misses, now.asked - before->asked,
		    hits, misses, misses);
	return ok;
}

/* A validating resolver for NSD with the given cache settings. */
static struct spf_resolver *
make_cached(const char *fwd, int timeout_ms, int max_entries, int max_ttl_ms)
{
	const char *fwds[1] = { fwd };
	struct spf_unbound_config c;
	char err[256] = "";
	struct spf_resolver *r;

	memset(&c, 0, sizeof(c));
	c.trust_anchor_file = ta_file;
	c.forwarders = fwds;
	c.nforwarders = 1;
	c.timeout_ms = timeout_ms;
	c.cache_max_entries = max_entries;
	c.cache_max_ttl_ms = max_ttl_ms;
	r = spf_unbound_new(base, &c, err, sizeof(err));
	if (r == NULL)
		fprintf(stderr, "spf_unbound_new: %s\n", err);
	return r;
}

/* Asks twice; the second answer must equal the first and be a hit. */
static void
ask_twice(struct spf_resolver *r, const char *name, const char *again,
    enum spf_rrtype type, enum spf_dns_status want, int secure)
{
	struct counts c = counts_of(r);
	struct got g1, g2;

	CHECK_INT(ask(r, name, type, &g1), 0);
	CHECK_INT(g1.calls, 1);
	CHECK_INT(g1.status, want);
	CHECK_INT(g1.secure, secure);
	CHECK(moved(r, &c, 0, 1));
	c = counts_of(r);
	CHECK_INT(ask(r, again, type, &g2), 0);
	CHECK_INT(g2.calls, 1);
	CHECK_INT(g2.status, want);
	CHECK_INT(g2.secure, secure);
	CHECK_INT(g2.count, g1.count);
	CHECK_INT(g2.rdlen, g1.rdlen);
	CHECK(memcmp(g2.rdata, g1.rdata, (size_t)g1.rdlen) == 0);
	CHECK(moved(r, &c, 1, 0));
}

/* Repeated questions are hits: same data, same secure flag, no query. */
static void
test_cache_hits(void)
{
	struct spf_resolver *r = make_cached(nsd_addr, 3000, 0, 0);
	struct counts c;
	struct got g;
	uint64_t id;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	ask_twice(r, "good.test", "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 1);
	ask_twice(r, "insecure.test", "insecure.test", SPF_RR_TXT,
	    SPF_DNS_ANSWER, 0);
	ask_twice(r, "nosuch.good.test", "nosuch.good.test", SPF_RR_TXT,
	    SPF_DNS_NXDOMAIN, 1);
	ask_twice(r, "nosuch.insecure.test", "nosuch.insecure.test",
	    SPF_RR_TXT, SPF_DNS_NXDOMAIN, 0);
	ask_twice(r, "mail.good.test", "mail.good.test", SPF_RR_TXT,
	    SPF_DNS_NODATA, 1);
	ask_twice(r, "Mail.Good.Test", "MAIL.good.test.", SPF_RR_A,
	    SPF_DNS_ANSWER, 1);
	ask_twice(r, "10.2.0.192.in-addr.arpa", "10.2.0.192.IN-ADDR.ARPA",
	    SPF_RR_PTR, SPF_DNS_ANSWER, 0);

	/* The type is part of the key. */
	c = counts_of(r);
	CHECK_INT(ask(r, "good.test", SPF_RR_A, &g), 0);
	CHECK_INT(g.status, SPF_DNS_NODATA);
	CHECK(moved(r, &c, 0, 1));

	/* A hit needs one non-blocking loop pass: no I/O is involved. */
	memset(&g, 0, sizeof(g));
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g, &id),
	    0);
	CHECK_INT(g.calls, 0);
	CHECK_INT(spf_unbound_pending(r), 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK_INT(g.calls, 1);
	CHECK_INT(g.secure, 1);
	CHECK(txt_is(&g, "v=spf1 ip4:192.0.2.10 -all"));
	CHECK_INT(spf_unbound_pending(r), 0);
	r->ops->cancel(r, id);	/* delivered: harmless */
	r->ops->free(r);
}

/* BOGUS, expired signatures, timeouts and big answers are never stored. */
static void
test_cache_never(void)
{
	struct spf_resolver *r = make_cached(nsd_addr, 3000, 0, 0);
	struct spf_resolver *hole = make_cached(hole_addr, 300, 0, 0);
	struct counts c;
	struct got g;
	int i;

	CHECK(r != NULL && hole != NULL);
	if (r == NULL || hole == NULL)
		goto out;
	c = counts_of(r);
	for (i = 0; i < 2; i++) {
		CHECK_INT(ask(r, "bogus.test", SPF_RR_TXT, &g), 0);
		CHECK_INT(g.status, SPF_DNS_BOGUS);
		CHECK_INT(g.count, 0);
		CHECK(strstr(g.reason, "validation failure") != NULL);
		CHECK_INT(ask(r, "expired.test", SPF_RR_TXT, &g), 0);
		CHECK_INT(g.status, SPF_DNS_BOGUS);
		CHECK(strstr(g.reason, "expired") != NULL);
	}
	CHECK(moved(r, &c, 0, 4));

	/* Over SPF_UNBOUND_CACHE_ENTRY_MAX: passed on, not stored. */
	c = counts_of(r);
	for (i = 0; i < 2; i++) {
		CHECK_INT(ask(r, "big.good.test", SPF_RR_TXT, &g), 0);
		CHECK_INT(g.status, SPF_DNS_ANSWER);
		CHECK_INT(g.secure, 1);
		CHECK_INT(g.rdlen0, 18 * 251);
	}
	CHECK(moved(r, &c, 0, 2));

	c = counts_of(hole);
	for (i = 0; i < 2; i++) {
		CHECK_INT(ask(hole, "good.test", SPF_RR_TXT, &g), 0);
		CHECK_INT(g.status, SPF_DNS_TIMEOUT);
	}
	CHECK(moved(hole, &c, 0, 2));
out:
	if (r != NULL)
		r->ops->free(r);
	if (hole != NULL)
		hole->ops->free(hole);
}

/* 1 when the cached answer's remaining life is in (lo, hi] ms. */
static int
life_in(const struct spf_resolver *r, const char *name, enum spf_rrtype type,
    long lo, long hi)
{
	long ms = spf_unbound_cache_ttl(r, name, type);

	if (ms > lo && ms <= hi)
		return 1;
	fprintf(stderr, "cached %s type %d: %ld ms left, expected (%ld, %ld]\n",
	    name, (int)type, ms, lo, hi);
	return 0;
}

/*
 * The lifetime of each kind of entry: the TTL libunbound reports (300 s
 * in good.test, also the negative TTL; 2 s in short.test), capped at
 * 60 s (the default) for answers and 30 s for NXDOMAIN and NODATA, and
 * at cache_max_ttl_ms when it is lower.  Entries never cached: -1.
 */
static void
test_cache_life(void)
{
	struct spf_resolver *r = make_cached(nsd_addr, 3000, 0, 0);
	struct spf_resolver *capped = make_cached(nsd_addr, 3000, 0, 1000);
	struct got g;

	CHECK(r != NULL && capped != NULL);
	if (r == NULL || capped == NULL)
		goto out;
	CHECK_INT(spf_unbound_cache_ttl(r, "good.test", SPF_RR_TXT), -1);
	(void)ask(r, "good.test", SPF_RR_TXT, &g);
	CHECK(life_in(r, "good.test", SPF_RR_TXT, 59000, 60000));
	CHECK(life_in(r, "GOOD.test.", SPF_RR_TXT, 59000, 60000));
	CHECK_INT(spf_unbound_cache_ttl(r, "good.test", SPF_RR_A), -1);
	(void)ask(r, "nosuch.good.test", SPF_RR_TXT, &g);
	CHECK(life_in(r, "nosuch.good.test", SPF_RR_TXT, 29000, 30000));
	(void)ask(r, "mail.good.test", SPF_RR_TXT, &g);
	CHECK(life_in(r, "mail.good.test", SPF_RR_TXT, 29000, 30000));
	(void)ask(r, "short.test", SPF_RR_TXT, &g);
	CHECK(life_in(r, "short.test", SPF_RR_TXT, 0, 2000));
	(void)ask(r, "nosuch.short.test", SPF_RR_TXT, &g);
	CHECK(life_in(r, "nosuch.short.test", SPF_RR_TXT, 0, 2000));
	(void)ask(r, "bogus.test", SPF_RR_TXT, &g);
	CHECK_INT(spf_unbound_cache_ttl(r, "bogus.test", SPF_RR_TXT), -1);
	(void)ask(r, "big.good.test", SPF_RR_TXT, &g);
	CHECK_INT(spf_unbound_cache_ttl(r, "big.good.test", SPF_RR_TXT), -1);

	(void)ask(capped, "good.test", SPF_RR_TXT, &g);
	CHECK(life_in(capped, "good.test", SPF_RR_TXT, 0, 1000));
	(void)ask(capped, "nosuch.good.test", SPF_RR_TXT, &g);
	CHECK(life_in(capped, "nosuch.good.test", SPF_RR_TXT, 0, 1000));
out:
	if (r != NULL)
		r->ops->free(r);
	if (capped != NULL)
		capped->ops->free(capped);
}

/* Asks and checks that the answer was a hit (1) or a miss (0). */
static void
expect_hit(struct spf_resolver *r, const char *name, enum spf_rrtype type,
    enum spf_dns_status want, int hit)
{
	struct counts c = counts_of(r);
	struct got g;

	CHECK_INT(ask(r, name, type, &g), 0);
	CHECK_INT(g.status, want);
	if (!moved(r, &c, hit ? 1 : 0, hit ? 0 : 1)) {
		fprintf(stderr, "  (%s type %d: expected a %s)\n", name,
		    (int)type, hit ? "hit" : "miss");
		CHECK(0);
	}
}

/*
 * Entries expire: short.test's 2 s TTL (answer, NXDOMAIN and NODATA: the
 * SOA's negative TTL, not the 30 s cap) and a 1000 ms cache_max_ttl_ms
 * over good.test's 300 s TTL, for answers and NXDOMAIN alike.
 */
static void
test_cache_ttl(void)
{
	struct spf_resolver *r = make_cached(nsd_addr, 3000, 0, 0);
	struct spf_resolver *capped = make_cached(nsd_addr, 3000, 0, 1000);
	double t0;

	CHECK(r != NULL && capped != NULL);
	if (r == NULL || capped == NULL)
		goto out;
	t0 = now_ms();
	expect_hit(r, "short.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	expect_hit(r, "short.test", SPF_RR_TXT, SPF_DNS_ANSWER, 1);
	expect_hit(r, "nosuch.short.test", SPF_RR_TXT, SPF_DNS_NXDOMAIN, 0);
	expect_hit(r, "nosuch.short.test", SPF_RR_TXT, SPF_DNS_NXDOMAIN, 1);
	expect_hit(r, "short.test", SPF_RR_A, SPF_DNS_NODATA, 0);
	expect_hit(r, "short.test", SPF_RR_A, SPF_DNS_NODATA, 1);

	expect_hit(capped, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	expect_hit(capped, "nosuch.good.test", SPF_RR_TXT, SPF_DNS_NXDOMAIN,
	    0);
	run_for(400);
	expect_hit(capped, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 1);
	expect_hit(capped, "nosuch.good.test", SPF_RR_TXT, SPF_DNS_NXDOMAIN,
	    1);
	run_for(900);
	expect_hit(capped, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	expect_hit(capped, "nosuch.good.test", SPF_RR_TXT, SPF_DNS_NXDOMAIN,
	    0);
	expect_hit(capped, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 1);

	run_for((int)(t0 + 3100 - now_ms()));
	expect_hit(r, "short.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	expect_hit(r, "nosuch.short.test", SPF_RR_TXT, SPF_DNS_NXDOMAIN, 0);
	expect_hit(r, "short.test", SPF_RR_A, SPF_DNS_NODATA, 0);
	expect_hit(r, "short.test", SPF_RR_TXT, SPF_DNS_ANSWER, 1);
out:
	if (r != NULL)
		r->ops->free(r);
	if (capped != NULL)
		capped->ops->free(capped);
}

/* A full cache evicts the least recently used entry (not the oldest). */
static void
test_cache_lru(void)
{
	struct spf_resolver *r = make_cached(nsd_addr, 3000, 2, 0);
	struct spf_resolver *off1 = make_cached(nsd_addr, 3000, -1, 0);
	struct spf_resolver *off2 = make_cached(nsd_addr, 3000, 0, -1);

	CHECK(r != NULL && off1 != NULL && off2 != NULL);
	if (r == NULL || off1 == NULL || off2 == NULL)
		goto out;
	expect_hit(r, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);	/* A */
	expect_hit(r, "insecure.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0); /* B */
	expect_hit(r, "direct.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);	/* C */
	expect_hit(r, "direct.test", SPF_RR_TXT, SPF_DNS_ANSWER, 1);
	expect_hit(r, "insecure.test", SPF_RR_TXT, SPF_DNS_ANSWER, 1);
	/* A was evicted by C; A now evicts C, used less recently than B. */
	expect_hit(r, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	expect_hit(r, "insecure.test", SPF_RR_TXT, SPF_DNS_ANSWER, 1);
	expect_hit(r, "direct.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);

	/* Turned off by a negative value of either setting. */
	expect_hit(off1, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	expect_hit(off1, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	expect_hit(off2, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	expect_hit(off2, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
out:
	if (r != NULL)
		r->ops->free(r);
	if (off1 != NULL)
		off1->ops->free(off1);
	if (off2 != NULL)
		off2->ops->free(off2);
}

/* Queued hits can be cancelled, also from another hit's callback. */
static void
test_cache_cancel(void)
{
	struct spf_resolver *r = make_cached(nsd_addr, 3000, 0, 0);
	struct got g1, g2, g3;
	uint64_t id1, id2, id3;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	expect_hit(r, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g1,
	    &id1), 0);
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g2,
	    &id2), 0);
	CHECK_INT(spf_unbound_pending(r), 2);
	r->ops->cancel(r, id1);
	CHECK_INT(spf_unbound_pending(r), 1);
	(void)run_until(&g2.calls, WAIT_MAX_MS);
	run_for(100);
	CHECK_INT(g1.calls, 0);
	CHECK_INT(g2.calls, 1);
	CHECK_INT(spf_unbound_pending(r), 0);
	r->ops->cancel(r, id1);
	r->ops->cancel(r, id2);

	/* A stale id does not cancel the hit now in its slot. */
	memset(&g3, 0, sizeof(g3));
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g3,
	    &id3), 0);
	r->ops->cancel(r, id1);
	(void)run_until(&g3.calls, WAIT_MAX_MS);
	CHECK_INT(g3.calls, 1);

	/* The first hit's callback cancels the second, queued behind it. */
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g1,
	    &id1), 0);
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g2,
	    &id2), 0);
	g1.r_act = r;
	g1.cancel_id = id2;
	run_for(100);
	CHECK_INT(g1.calls, 1);
	CHECK_INT(g2.calls, 0);
	CHECK_INT(spf_unbound_pending(r), 0);

	/* A hit's callback asks again: that hit comes later, not inside. */
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g1,
	    &id1), 0);
	g1.r_act = r;
	g1.ask_g = &g2;
	(void)run_until(&g2.calls, WAIT_MAX_MS);
	CHECK_INT(g1.calls, 1);
	CHECK_INT(g1.ask_calls_after, 0);
	CHECK_INT(g2.calls, 1);
	CHECK(txt_is(&g2, "v=spf1 ip4:192.0.2.10 -all"));
	r->ops->free(r);
}

/* Spins without running the loop (nothing may be delivered meanwhile). */
static void
spin_ms(double ms)
{
	double end = now_ms() + ms;

	while (now_ms() < end)
		;
}

/*
 * Free with queued hits; free from a hit's callback; hits whose entry
 * expired (and was dropped from the cache) before delivery.  ASan checks
 * that nothing leaks and nothing is read after free.
 */
static void
test_cache_free(void)
{
	struct spf_resolver *r = make_cached(nsd_addr, 3000, 0, 200);
	struct got g1, g2, g3;
	uint64_t id;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	expect_hit(r, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	memset(&g3, 0, sizeof(g3));
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g1,
	    &id), 0);
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g2,
	    &id), 0);
	CHECK_INT(r->ops->query(r, "insecure.test", SPF_RR_TXT, dns_cb, &g3,
	    &id), 0);	/* a miss in flight too */
	CHECK_INT(spf_unbound_pending(r), 3);
	r->ops->free(r);
	run_for(300);
	CHECK_INT(g1.calls + g2.calls + g3.calls, 0);

	/* The entry expires while a hit on it is queued: the hit keeps it. */
	r = make_cached(nsd_addr, 3000, 0, 200);
	CHECK(r != NULL);
	if (r == NULL)
		return;
	expect_hit(r, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g1,
	    &id), 0);
	spin_ms(250);
	/* A miss: the expired entry leaves the cache, g1 still holds it. */
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g2,
	    &id), 0);
	CHECK_INT(spf_unbound_cache_hits(r), 1);
	CHECK_INT(spf_unbound_cache_misses(r), 2);
	(void)run_until(&g2.calls, WAIT_MAX_MS);
	CHECK_INT(g1.calls, 1);
	CHECK_INT(g1.status, SPF_DNS_ANSWER);
	CHECK_INT(g1.secure, 1);
	CHECK(txt_is(&g1, "v=spf1 ip4:192.0.2.10 -all"));
	CHECK_INT(g2.calls, 1);
	CHECK(txt_is(&g2, "v=spf1 ip4:192.0.2.10 -all"));

	/* Same, but the resolver is freed with that hit still queued. */
	memset(&g1, 0, sizeof(g1));
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g1,
	    &id), 0);
	spin_ms(250);
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g2,
	    &id), 0);
	r->ops->free(r);
	run_for(100);
	CHECK_INT(g1.calls, 0);

	/* The first hit frees the resolver; the others never come. */
	r = make_cached(nsd_addr, 3000, 0, 0);
	CHECK(r != NULL);
	if (r == NULL)
		return;
	expect_hit(r, "good.test", SPF_RR_TXT, SPF_DNS_ANSWER, 0);
	memset(&g1, 0, sizeof(g1));
	memset(&g2, 0, sizeof(g2));
	memset(&g3, 0, sizeof(g3));
	g1.free_me = g2.free_me = g3.free_me = r;
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g1,
	    &id), 0);
	CHECK_INT(r->ops->query(r, "good.test", SPF_RR_TXT, dns_cb, &g2,
	    &id), 0);
	CHECK_INT(r->ops->query(r, "direct.test", SPF_RR_TXT, dns_cb, &g3,
	    &id), 0);	/* a miss */
	run_for(300);
	CHECK_INT(g1.calls, 1);
	CHECK_INT(g2.calls + g3.calls, 0);
}

/* A second SPF evaluation is served from the cache, same verdict. */
static void
test_cache_spf(void)
{
	static const struct {
		const char *domain, *ip;
		enum spf_result result;
		int secure;
	} cases[] = {
		{ "good.test", "192.0.2.10", SPF_RESULT_PASS, 1 },
		{ "a.good.test", "192.0.2.10", SPF_RESULT_PASS, 1 },
		{ "mixed.good.test", "192.0.2.10", SPF_RESULT_PASS, 0 },
		{ "ptr.good.test", "192.0.2.10", SPF_RESULT_PASS, 0 },
		{ "bogus.test", "192.0.2.99", SPF_RESULT_TEMPERROR, 0 },
	};
	struct spf_resolver *r = make_cached(nsd_addr, 3000, 0, 0);
	struct counts c;
	struct verdict v;
	size_t i;
	int round;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	for (round = 0; round < 2; round++) {
		c = counts_of(r);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			spf(r, cases[i].domain, cases[i].ip, &v);
			CHECK_INT(v.result, cases[i].result);
			CHECK_INT(v.secure, cases[i].secure);
		}
		fprintf(stderr, "SPF round %d: %lu hits, %lu misses\n", round,
		    spf_unbound_cache_hits(r) - c.hits,
		    spf_unbound_cache_misses(r) - c.misses);
		if (round == 1) {
			/* Only bogus.test's TXT goes to libunbound again. */
			CHECK_INT(spf_unbound_cache_misses(r) - c.misses, 1);
			CHECK(spf_unbound_cache_hits(r) - c.hits >= 8);
		}
	}
	r->ops->free(r);
}

/* Too many entries is a config error. */
static void
test_cache_config(void)
{
	const char *fwds[1] = { nsd_addr };
	struct spf_unbound_config c;

	memset(&c, 0, sizeof(c));
	c.trust_anchor_file = ta_file;
	c.forwarders = fwds;
	c.nforwarders = 1;
	c.cache_max_entries = SPF_UNBOUND_CACHE_ENTRIES_MAX + 1;
	expect_new_fails(&c, "cache_max_entries");
}

#define BENCH_BATCH 100

/* Questions answered per second for good.test TXT, BENCH_BATCH at once. */
static double
bench_rate(struct spf_resolver *r, int total)
{
	static struct got g[BENCH_BATCH];
	double t0 = now_ms(), t1;
	int asked = 0, done = 0, i;
	uint64_t id;

	while (asked < total && now_ms() - t0 < WAIT_MAX_MS) {
		memset(g, 0, sizeof(g));
		for (i = 0; i < BENCH_BATCH; i++)
			asked += r->ops->query(r, "good.test", SPF_RR_TXT,
			    dns_cb, &g[i], &id) == 0;
		while (spf_unbound_pending(r) > 0 &&
		    now_ms() - t0 < WAIT_MAX_MS)
			event_base_loop(base, EVLOOP_ONCE);
		for (i = 0; i < BENCH_BATCH; i++)
			done += g[i].calls == 1 &&
			    g[i].status == SPF_DNS_ANSWER;
	}
	t1 = now_ms();
	CHECK_INT(done, total);
	return done / ((t1 - t0) / 1000.0);
}

/*
 * Micro-benchmark: a name in libunbound's cache, asked through the
 * thread and pipe (our cache off) and through our cache.  Informative;
 * the only assertion is a generous "the cache is faster".
 */
static void
bench_cache(void)
{
	struct spf_resolver *off = make_cached(nsd_addr, 3000, -1, 0);
	struct spf_resolver *on = make_cached(nsd_addr, 3000, 0, 0);
	double rate_off, rate_on;
	struct got g;

	CHECK(off != NULL && on != NULL);
	if (off == NULL || on == NULL)
		goto out;
	(void)ask(off, "good.test", SPF_RR_TXT, &g);	/* warm libunbound */
	(void)ask(on, "good.test", SPF_RR_TXT, &g);	/* fill our cache */
	rate_off = bench_rate(off, 10000);
	rate_on = bench_rate(on, 100000);
	fprintf(stderr, "bench: good.test TXT, %d in flight: libunbound's "
	    "cache %.0f q/s, answer cache %.0f q/s (x%.1f)\n", BENCH_BATCH,
	    rate_off, rate_on, rate_on / rate_off);
	CHECK(rate_on > 2 * rate_off);
out:
	if (off != NULL)
		off->ops->free(off);
	if (on != NULL)
		on->ops->free(on);
}

int
main(int argc, char **argv)
{
	struct spf_resolver *r;

	if (argc != 5) {
		fprintf(stderr, "usage: dnssec_test NSD_PORT BLACKHOLE_PORT "
		    "TRUST_ANCHOR_FILE WORKDIR\n");
		return 2;
	}
	nsd_addr_arg = argv[1];
	hole_addr_arg = argv[2];
	ta_file = argv[3];
	workdir = argv[4];
	snprintf(nsd_addr, sizeof(nsd_addr), "127.0.0.1@%s", nsd_addr_arg);
	snprintf(hole_addr, sizeof(hole_addr), "127.0.0.1@%s", hole_addr_arg);
	if ((base = event_base_new()) == NULL)
		return 2;

	r = make_resolver(nsd_addr, 3000, 0, NULL, 0);
	CHECK(r != NULL);
	if (r != NULL) {
		test_validation(r);
		test_local_zones(r);
		test_bad_names(r);
		test_cancel(r);
		test_many(r);
		test_spf(r);
		r->ops->free(r);
	}
	test_timeout();
	test_stub();
	test_failover();
	test_free();
	test_no_dnssec();
	test_trust_anchor_errors();
	test_builtin_zones_removed();
	test_spf_timeout();
	test_cache_hits();
	test_cache_never();
	test_cache_life();
	test_cache_ttl();
	test_cache_lru();
	test_cache_cancel();
	test_cache_free();
	test_cache_spf();
	test_cache_config();
	bench_cache();

	event_base_free(base);
	return check_report();
}
