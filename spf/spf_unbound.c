/*
 * spf_unbound.c - struct spf_resolver on top of libunbound and libevent.
 *
 * CONTRACT
 *	See spf_unbound.h.  One libunbound context per resolver, in thread
 *	mode: libunbound resolves in a background thread and signals answers
 *	through the pipe behind ub_fd(); a persistent libevent read event on
 *	that fd calls ub_process(), which runs our answer callback on the
 *	caller's thread.  Each question also has a libevent timer: whichever
 *	of answer and timer comes first wins and the other is cancelled.
 *
 * WHY ub_resolve_async AND NOT ub_resolve_event
 *	ub_resolve_event() runs the resolver inside our event_base (no
 *	thread) but hands the callback the raw DNS reply in wire format plus
 *	a security status, and leaves "bogus but why?" to the caller; spf/
 *	would then need its own bounded DNS message unpacker.
 *	ub_resolve_async() gives a parsed struct ub_result: rcode, the rdata
 *	of the asked type already split into data[]/len[] (CNAMEs followed),
 *	secure/bogus flags and the validator's why_bogus text.  That is
 *	exactly struct spf_dns_answer, passed through without copying.  The
 *	price is one libunbound thread and a pipe, which is cheap.
 *
 * QUESTION IDS
 *	A uint64 id is (generation << 32) | (slot + 1) in a slot table that
 *	grows up to max_queries.  Releasing a slot bumps its generation, so a
 *	stale id (already answered, timed out or cancelled) matches nothing
 *	and cancel() on it is a no-op.
 *
 * CALLBACK SAFETY
 *	A user callback may ask new questions, cancel others or free the
 *	resolver.  Before a callback runs, its question is already removed
 *	from the table and freed, and nothing of the resolver is touched
 *	after the callback returns, except in the ub_process() dispatch,
 *	where a free is deferred (in_process/dying) until ub_process()
 *	returns.  ub_cancel() guarantees libunbound never calls back for a
 *	cancelled question, including answers already queued in the pipe.
 *
 * OUT OF MEMORY
 *	query() returns -1 (the engine turns that into a temperror);
 *	spf_unbound_new() returns NULL.  Nothing here aborts except on a
 *	broken invariant (a foreign resolver passed to spf_unbound_pending).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <unbound.h>

#include "spf/spf_unbound.h"

#define SPF_UNBOUND_SLOTS_INITIAL 64
#define SPF_UNBOUND_NO_SLOT UINT32_MAX
#define SPF_UNBOUND_NAME_MAX 1024	/* 253 octets, each up to "\DDD" */
#define SPF_UNBOUND_TA_FILE_MAX (1024 * 1024)
#define SPF_UNBOUND_RR_CLASS_IN 1
#define SPF_UNBOUND_RCODE_SERVFAIL 2
#define SPF_UNBOUND_RCODE_NXDOMAIN 3
#define SPF_UNBOUND_RCODE_REFUSED 5

struct spf_unbound;

/* One question in flight. */
struct spf_unbound_query {
	struct spf_unbound *owner;
	uint32_t slot;
	int ub_id;			/* libunbound's async id */
	struct event *timer;		/* our deadline */
	spf_dns_cb *cb;
	void *arg;
};

/* Slot of the id table; query is NULL when the slot is free. */
struct spf_unbound_slot {
	struct spf_unbound_query *query;
	uint32_t gen;
	uint32_t next_free;
};

struct spf_unbound {
	struct spf_resolver resolver;	/* first: the public face */
	struct event_base *base;
	struct ub_ctx *ctx;
	struct event *read_ev;		/* ub_fd() readable -> ub_process() */
	const struct timeval *deadline;	/* common timeout of base */
	struct timeval deadline_tv;	/* the plain value, as a fallback */
	int timeout_ms;
	struct spf_unbound_slot *slots;
	uint32_t nslots;		/* allocated */
	uint32_t max_slots;
	uint32_t free_head;		/* first free slot or NO_SLOT */
	unsigned pending;
	int in_process;			/* inside ub_process() */
	int dying;			/* free requested during ub_process() */
	int broken;			/* the libunbound pipe failed */
};

/*
 * libunbound's built-in local zones that we remove when every question
 * must reach the configured forwarders.  Checked against the zone names
 * compiled into libunbound 1.17 (services/localzone.c,
 * local_zone_enter_defaults(), and util/as112.c): that is every default
 * except the loopback ones, which RFC 6761 fixes and a forwarder cannot
 * improve on (localhost., 127.in-addr.arpa., the ::1 reverse name).
 */
static const char *const spf_unbound_special_zones[] = {
	/* RFC 6761 special-use names, RFC 7686 onion, RFC 8375 home.arpa */
	"test.", "invalid.", "onion.", "home.arpa.",
	/* RFC 1918 private ranges (172.16/12 is generated below) */
	"10.in-addr.arpa.", "168.192.in-addr.arpa.",
	/* RFC 1122 "this network", RFC 3927 link-local, broadcast */
	"0.in-addr.arpa.", "254.169.in-addr.arpa.",
	"255.255.255.255.in-addr.arpa.",
	/* RFC 5737 documentation ranges */
	"2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
	"113.0.203.in-addr.arpa.",
	/* IPv6: unspecified ::, RFC 4193 fd00::/8, RFC 4291 fe80::/10 */
	("0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "ip6.arpa."),
	"d.f.ip6.arpa.",
	"8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.",
	"b.e.f.ip6.arpa.",
	/* RFC 3849 documentation 2001:db8::/32 */
	"8.b.d.0.1.0.0.2.ip6.arpa.",
};
#define SPF_UNBOUND_NSPECIAL (int)(sizeof(spf_unbound_special_zones) / \
	sizeof(spf_unbound_special_zones[0]))

/* Generated families: 172.16/12 (RFC 1918) and 100.64/10 (RFC 6598). */
static const struct {
	const char *suffix;
	int first, last;
} spf_unbound_special_ranges[] = {
	{ "172.in-addr.arpa.", 16, 31 },
	{ "100.in-addr.arpa.", 64, 127 },
};
#define SPF_UNBOUND_NRANGES (int)(sizeof(spf_unbound_special_ranges) / \
	sizeof(spf_unbound_special_ranges[0]))

static int spf_unbound_query(struct spf_resolver *, const char *,
    enum spf_rrtype, spf_dns_cb *, void *, uint64_t *);
static void spf_unbound_cancel(struct spf_resolver *, uint64_t);
static void spf_unbound_free(struct spf_resolver *);

static const struct spf_resolver_ops spf_unbound_ops = {
	.query = spf_unbound_query,
	.cancel = spf_unbound_cancel,
	.free = spf_unbound_free,
};

/* Writes a formatted error; a truncated message is still a message. */
static void __attribute__((format(printf, 3, 4)))
spf_unbound_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Slot table
 */

/* Returns the query behind id, or NULL for a stale or invalid id. */
static struct spf_unbound_query *
spf_unbound_slot_find(const struct spf_unbound *r, uint64_t id)
{
	uint64_t index = (id & 0xffffffffu);
	uint32_t gen = (uint32_t)(id >> 32);

	if (index == 0 || index > r->nslots)
		return NULL;
	if (r->slots[index - 1].gen != gen)
		return NULL;
	return r->slots[index - 1].query;
}

/* Doubles the slot table (bounded by max_slots); -1 when full/no memory. */
static int
spf_unbound_slot_grow(struct spf_unbound *r)
{
	struct spf_unbound_slot *slots;
	uint32_t n, i;

	if (r->nslots >= r->max_slots)
		return -1;
	n = r->nslots == 0 ? SPF_UNBOUND_SLOTS_INITIAL : r->nslots * 2;
	if (n > r->max_slots)
		n = r->max_slots;
	slots = realloc(r->slots, (size_t)n * sizeof(*slots));
	if (slots == NULL)
		return -1;
	for (i = r->nslots; i < n; i++) {
		slots[i].query = NULL;
		slots[i].gen = 1;
		slots[i].next_free = i + 1 < n ? i + 1 : r->free_head;
	}
	r->free_head = r->nslots;
	r->slots = slots;
	r->nslots = n;
	return 0;
}

/* Binds q to a free slot and returns its id; 0 when the table is full. */
static uint64_t
spf_unbound_slot_take(struct spf_unbound *r, struct spf_unbound_query *q)
{
	struct spf_unbound_slot *s;
	uint32_t i;

	if (r->free_head == SPF_UNBOUND_NO_SLOT && spf_unbound_slot_grow(r) < 0)
		return 0;
	i = r->free_head;
	s = &r->slots[i];
	r->free_head = s->next_free;
	s->query = q;
	q->slot = i;
	r->pending++;
	return ((uint64_t)s->gen << 32) | (uint64_t)(i + 1);
}

/* Frees q's slot; its id becomes stale. */
static void
spf_unbound_slot_release(struct spf_unbound *r, struct spf_unbound_query *q)
{
	struct spf_unbound_slot *s = &r->slots[q->slot];

	s->query = NULL;
	s->gen++;
	if (s->gen == 0)
		s->gen = 1;
	s->next_free = r->free_head;
	r->free_head = q->slot;
	r->pending--;
}

/* Takes q out of the table and frees it (the caller dealt with libunbound). */
static void
spf_unbound_query_drop(struct spf_unbound_query *q)
{
	spf_unbound_slot_release(q->owner, q);
	if (q->timer != NULL)
		event_free(q->timer);
	free(q);
}

/*
 * Answers
 */

/* Text for an rcode libunbound returned without data. */
static const char *
spf_unbound_rcode_text(int rcode, char *buf, size_t len)
{
	switch (rcode) {
	case SPF_UNBOUND_RCODE_SERVFAIL:
		return "DNS server failure (SERVFAIL)";
	case SPF_UNBOUND_RCODE_REFUSED:
		return "DNS query refused (REFUSED)";
	default:
		(void)snprintf(buf, len, "DNS error (rcode %d)", rcode);
		return buf;
	}
}

/* Counts the records of a NULL-terminated ub_result data array. */
static int
spf_unbound_count(const struct ub_result *res)
{
	int n = 0;

	while (res->data != NULL && res->data[n] != NULL)
		n++;
	return n;
}

/*
 * Maps a libunbound result to an answer.  Bogus is checked first: a bogus
 * result keeps rcode NOERROR and the forged data.  The data/len arrays are
 * passed through: ub_result's char *data[] is read as unsigned octets.
 */
static void
spf_unbound_map(int err, const struct ub_result *res,
    struct spf_dns_answer *ans, char *buf, size_t len)
{
	int n = res != NULL && res->havedata ? spf_unbound_count(res) : 0;

	memset(ans, 0, sizeof(*ans));
	if (err != 0 || res == NULL) {
		ans->status = SPF_DNS_SERVFAIL;
		ans->reason = ub_strerror(err);
	} else if (res->bogus) {
		ans->status = SPF_DNS_BOGUS;
		ans->reason = res->why_bogus != NULL && res->why_bogus[0] ?
		    res->why_bogus : "DNSSEC validation failed";
	} else if (res->rcode == SPF_UNBOUND_RCODE_NXDOMAIN) {
		ans->status = SPF_DNS_NXDOMAIN;
		ans->secure = res->secure != 0;
	} else if (res->rcode != 0) {
		ans->status = SPF_DNS_SERVFAIL;
		ans->reason = spf_unbound_rcode_text(res->rcode, buf, len);
	} else if (n > 0) {
		ans->status = SPF_DNS_ANSWER;
		ans->secure = res->secure != 0;
		ans->count = n;
		ans->rdata = (const unsigned char *const *)res->data;
		ans->rdlen = res->len;
	} else {
		ans->status = SPF_DNS_NODATA;
		ans->secure = res->secure != 0;
	}
}

/* libunbound's callback (from ub_process()): deliver, then free. */
static void
spf_unbound_answer_cb(void *mydata, int err, struct ub_result *res)
{
	struct spf_unbound_query *q = mydata;
	struct spf_dns_answer ans;
	spf_dns_cb *cb = q->cb;
	void *arg = q->arg;
	char buf[64];

	spf_unbound_query_drop(q);
	spf_unbound_map(err, res, &ans, buf, sizeof(buf));
	cb(arg, &ans);
	/* Caution: the resolver may be gone (deferred free) from here on. */
	ub_resolve_free(res);
}

/* Our deadline fired first: cancel in libunbound, answer TIMEOUT. */
static void
spf_unbound_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct spf_unbound_query *q = arg;
	struct spf_unbound *r = q->owner;
	struct spf_dns_answer ans;
	spf_dns_cb *cb = q->cb;
	void *cbarg = q->arg;
	char reason[64];

	(void)fd;
	(void)what;
	(void)ub_cancel(r->ctx, q->ub_id);
	(void)snprintf(reason, sizeof(reason), "no DNS answer within %d ms",
	    r->timeout_ms);
	spf_unbound_query_drop(q);
	memset(&ans, 0, sizeof(ans));
	ans.status = SPF_DNS_TIMEOUT;
	ans.reason = reason;
	cb(cbarg, &ans);
	/* Caution: the resolver may be freed by cb; do not touch r. */
}

/* Cancels and frees every question in flight; no callback runs. */
static void
spf_unbound_cancel_all(struct spf_unbound *r)
{
	uint32_t i;

	for (i = 0; i < r->nslots; i++) {
		struct spf_unbound_query *q = r->slots[i].query;

		if (q == NULL)
			continue;
		(void)ub_cancel(r->ctx, q->ub_id);
		spf_unbound_query_drop(q);
	}
}

/* Releases everything; NULL-safe, used by free() and by new()'s unwind. */
static void
spf_unbound_destroy(struct spf_unbound *r)
{
	if (r == NULL)
		return;
	if (r->ctx != NULL)
		spf_unbound_cancel_all(r);
	if (r->read_ev != NULL)
		event_free(r->read_ev);
	if (r->ctx != NULL)
		ub_ctx_delete(r->ctx);
	free(r->slots);
	free(r);
}

/* ub_fd() is readable: let libunbound run our callbacks. */
static void
spf_unbound_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct spf_unbound *r = arg;
	int rc;

	(void)fd;
	(void)what;
	r->in_process = 1;
	rc = ub_process(r->ctx);
	r->in_process = 0;
	if (r->dying) {
		spf_unbound_destroy(r);
		return;
	}
	if (rc != 0) {
		/*
		 * The pipe to libunbound's thread failed; it will not
		 * recover.  Stop polling it (EOF would spin the loop);
		 * questions in flight end by their deadline and new ones are
		 * refused.
		 */
		r->broken = 1;
		event_del(r->read_ev);
	}
}

/*
 * Questions
 */

/* 1 for octets that need no escaping in a presentation-form label. */
static int
spf_unbound_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Writes name in the presentation form libunbound parses, escaping every
 * other octet as \DDD: a macro-expanded SPF name may hold '\' or spaces,
 * which libunbound would otherwise read as escapes.  Rejects empty labels,
 * labels over 63 octets and names over 253 octets.  -1 on error.
 */
static int
spf_unbound_name(const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name), i, o = 0, label = 0;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		int w;

		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
			w = snprintf(out + o, outlen - o, ".");
		} else if (++label > 63) {
			return -1;
		} else if (spf_unbound_plain(c)) {
			w = snprintf(out + o, outlen - o, "%c", c);
		} else {
			w = snprintf(out + o, outlen - o, "\\%03u", c);
		}
		if (w < 0 || (size_t)w >= outlen - o)
			return -1;
		o += (size_t)w;
	}
	return label == 0 ? -1 : 0;
}

/* ops->query: asks libunbound and arms the deadline. */
static int
spf_unbound_query(struct spf_resolver *resolver, const char *name,
    enum spf_rrtype type, spf_dns_cb *cb, void *arg, uint64_t *query_id)
{
	struct spf_unbound *r = (struct spf_unbound *)resolver;
	struct spf_unbound_query *q;
	char wire[SPF_UNBOUND_NAME_MAX];
	uint64_t id;

	if (r->broken || r->dying || name == NULL || cb == NULL ||
	    spf_unbound_name(name, wire, sizeof(wire)) < 0)
		return -1;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->owner = r;
	q->cb = cb;
	q->arg = arg;
	if ((id = spf_unbound_slot_take(r, q)) == 0) {
		free(q);
		return -1;
	}
	q->timer = evtimer_new(r->base, spf_unbound_timeout_cb, q);
	if (q->timer == NULL || evtimer_add(q->timer, r->deadline) != 0)
		goto fail;
	if (ub_resolve_async(r->ctx, wire, (int)type, SPF_UNBOUND_RR_CLASS_IN,
	    q, spf_unbound_answer_cb, &q->ub_id) != 0)
		goto fail;
	*query_id = id;
	return 0;
fail:
	spf_unbound_query_drop(q);
	return -1;
}

/* ops->cancel: forgets a question; stale ids are ignored. */
static void
spf_unbound_cancel(struct spf_resolver *resolver, uint64_t query_id)
{
	struct spf_unbound *r = (struct spf_unbound *)resolver;
	struct spf_unbound_query *q = spf_unbound_slot_find(r, query_id);

	if (q == NULL)
		return;
	(void)ub_cancel(r->ctx, q->ub_id);
	spf_unbound_query_drop(q);
}

/* ops->free: cancels everything; deferred while inside ub_process(). */
static void
spf_unbound_free(struct spf_resolver *resolver)
{
	struct spf_unbound *r = (struct spf_unbound *)resolver;

	if (r == NULL)
		return;
	if (r->in_process) {
		spf_unbound_cancel_all(r);
		r->dying = 1;
		return;
	}
	spf_unbound_destroy(r);
}

/* Questions in flight (tests); aborts on a resolver that is not ours. */
unsigned
spf_unbound_pending(const struct spf_resolver *resolver)
{
	if (resolver == NULL || resolver->ops != &spf_unbound_ops)
		abort();	/* not ours: a programming error */
	return ((const struct spf_unbound *)resolver)->pending;
}

/*
 * Construction
 */

/* Sets one libunbound option ("name:" form), reporting failures. */
static int
spf_unbound_option(struct ub_ctx *ctx, const char *opt, const char *val,
    char *err, size_t errlen)
{
	int rc = ub_ctx_set_option(ctx, opt, val);

	if (rc != 0) {
		spf_unbound_err(err, errlen, "libunbound option %s %s: %s",
		    opt, val, ub_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * Library defaults that matter for a mail gateway.  libunbound's defaults
 * suit a desktop: 16 outgoing UDP ports and 2 TCP buffers starve under
 * load (large TXT answers with RRSIGs fall back to TCP).
 * outbound-msg-retry bounds the resends of a question after timeouts or
 * throwaway replies: measured here with a forwarder that never answers,
 * the default 5 ends in SERVFAIL after ~17 s, 2 after ~2.3 s (1 after
 * ~0.8 s, but then a forwarder that needs over ~1 s to recurse for a
 * cold name fails the question).  Failover from a dead to a live
 * forwarder, with validation, measured ~0.8 s, ~2.3 s in one run out of
 * six.  Our own deadline bounds the rest.  infra-keep-probing lets a server marked down come
 * back without waiting out infra-host-ttl.  infra-cache-max-rtt is
 * deliberately NOT set: it is a process-wide global in libunbound (the
 * last finalized context wins), and the per-question deadline makes it
 * unnecessary.  val-permissive-mode stays off (its default): it would
 * make forged data look insecure.
 */
static int
spf_unbound_tune(struct ub_ctx *ctx, const struct spf_unbound_config *c,
    char *err, size_t errlen)
{
	int upstream = c->nforwarders > 0 || c->nstubs > 0;

	if (spf_unbound_option(ctx, "outgoing-range:", "1024", err, errlen) ||
	    spf_unbound_option(ctx, "outgoing-num-tcp:", "64", err, errlen) ||
	    spf_unbound_option(ctx, "outbound-msg-retry:", "2", err, errlen) ||
	    spf_unbound_option(ctx, "infra-keep-probing:", "yes", err,
	    errlen))
		return -1;
	/*
	 * Full recursion must not follow delegations to loopback servers;
	 * configured forwarders and stubs often are on loopback.
	 */
	if (spf_unbound_option(ctx, "do-not-query-localhost:",
	    upstream ? "no" : "yes", err, errlen))
		return -1;
	if (c->no_dnssec &&
	    spf_unbound_option(ctx, "module-config:", "iterator", err, errlen))
		return -1;
	return 0;
}

/* Points the context at the configured forwarders and stubs. */
static int
spf_unbound_upstreams(struct ub_ctx *ctx, const struct spf_unbound_config *c,
    char *err, size_t errlen)
{
	int i, rc;

	for (i = 0; i < c->nforwarders; i++) {
		const char *addr = c->forwarders[i];

		if (addr == NULL || (rc = ub_ctx_set_fwd(ctx, addr)) != 0) {
			spf_unbound_err(err, errlen, "forwarder \"%s\": %s",
			    addr ? addr : "(null)",
			    addr ? ub_strerror(rc) : "missing");
			return -1;
		}
	}
	for (i = 0; i < c->nstubs; i++) {
		const struct spf_unbound_stub *s = &c->stubs[i];

		if (s->zone == NULL || s->addr == NULL ||
		    (rc = ub_ctx_set_stub(ctx, s->zone, s->addr, 0)) != 0) {
			spf_unbound_err(err, errlen, "stub zone \"%s\" at "
			    "\"%s\": %s", s->zone ? s->zone : "(null)",
			    s->addr ? s->addr : "(null)",
			    s->zone && s->addr ? ub_strerror(rc) : "missing");
			return -1;
		}
	}
	return 0;
}

/* 1 when line holds a DS or DNSKEY token before any ';' comment. */
static int
spf_unbound_ta_line(char *line)
{
	char *save = NULL, *tok;
	char *semi = strchr(line, ';');

	if (semi != NULL)
		*semi = '\0';
	for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (strcasecmp(tok, "DS") == 0 || strcasecmp(tok, "DNSKEY") == 0)
			return 1;
	}
	return 0;
}

/*
 * Checks that the trust anchor file is a readable regular file with at
 * least one DS or DNSKEY record.  libunbound accepts an empty file as "no
 * anchors" and would then answer everything insecure: exactly the silent
 * downgrade we must refuse.  The records themselves are parsed (and a
 * malformed one rejected) by libunbound when the context is finalized.
 */
static int
spf_unbound_ta_check(const char *path, char *err, size_t errlen)
{
	FILE *f;
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if ((f = fopen(path, "r")) == NULL) {
		spf_unbound_err(err, errlen, "trust anchor file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > SPF_UNBOUND_TA_FILE_MAX) {
		spf_unbound_err(err, errlen, "trust anchor file %s: not a "
		    "regular file of at most %d octets", path,
		    SPF_UNBOUND_TA_FILE_MAX);
		fclose(f);
		return -1;
	}
	while (!found && getline(&line, &cap, f) > 0)
		found = spf_unbound_ta_line(line);
	free(line);
	fclose(f);
	if (!found) {
		spf_unbound_err(err, errlen, "trust anchor file %s: no DS or "
		    "DNSKEY record", path);
		return -1;
	}
	return 0;
}

/* Loads the trust anchor (or checks that none is asked for). */
static int
spf_unbound_trust(struct ub_ctx *ctx, const struct spf_unbound_config *c,
    char *err, size_t errlen)
{
	const char *path = c->trust_anchor_file;
	int rc;

	if (c->no_dnssec) {
		if (path != NULL) {
			spf_unbound_err(err, errlen, "a trust anchor file was "
			    "given but DNSSEC validation is disabled");
			return -1;
		}
		return 0;
	}
	if (path == NULL)
		path = SPF_UNBOUND_TRUST_ANCHOR_DEFAULT;
	if (spf_unbound_ta_check(path, err, errlen) < 0)
		return -1;
	if ((rc = ub_ctx_add_ta_file(ctx, path)) != 0) {
		spf_unbound_err(err, errlen, "trust anchor file %s: %s", path,
		    ub_strerror(rc));
		return -1;
	}
	return 0;
}

/* 1 when zone a equals b or lies under it (both absolute, any case). */
static int
spf_unbound_under(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (lb == 1 && b[0] == '.')
		return 1;
	if (la < lb || strcasecmp(a + la - lb, b) != 0)
		return 0;
	return la == lb || a[la - lb - 1] == '.';
}

/* Writes special zone number i to buf; NULL past the end of the list. */
static const char *
spf_unbound_special(int i, char *buf, size_t len)
{
	int k;

	if (i < SPF_UNBOUND_NSPECIAL)
		return spf_unbound_special_zones[i];
	i -= SPF_UNBOUND_NSPECIAL;
	for (k = 0; k < SPF_UNBOUND_NRANGES; k++) {
		int n = spf_unbound_special_ranges[k].last -
		    spf_unbound_special_ranges[k].first + 1;

		if (i < n) {
			int w = snprintf(buf, len, "%d.%s",
			    spf_unbound_special_ranges[k].first + i,
			    spf_unbound_special_ranges[k].suffix);

			return w > 0 && (size_t)w < len ? buf : NULL;
		}
		i -= n;
	}
	return NULL;
}

/* 1 when a stub zone overlaps the special zone (either under the other). */
static int
spf_unbound_stubbed(const struct spf_unbound_config *c, const char *zone)
{
	char abs[SPF_DOMAIN_MAX + 2];
	int i, w;

	for (i = 0; i < c->nstubs; i++) {
		const char *s = c->stubs[i].zone;
		size_t n = strlen(s);

		w = snprintf(abs, sizeof(abs), "%s%s", s,
		    n > 0 && s[n - 1] == '.' ? "" : ".");
		if (w < 0 || (size_t)w >= sizeof(abs))
			continue;	/* ub_ctx_set_stub rejected it already */
		if (spf_unbound_under(abs, zone) || spf_unbound_under(zone, abs))
			return 1;
	}
	return 0;
}

/*
 * Removes libunbound's special-use local zones: all of them when
 * forwarders are set (every question goes to them), else those that
 * overlap a stub zone.  The first ub_ctx_zone_remove() finalizes the
 * context, so this runs after every other setting; when nothing is to be
 * removed, removing a name that is never a zone finalizes it all the same,
 * so that a bad trust anchor fails here and not at the first question.
 */
static int
spf_unbound_local_zones(struct ub_ctx *ctx,
    const struct spf_unbound_config *c, char *err, size_t errlen)
{
	const char *zone;
	char buf[64];
	int i, rc;

	if ((rc = ub_ctx_zone_remove(ctx, "spfgate-finalize.invalid.")) != 0)
		goto fail;
	for (i = 0; (zone = spf_unbound_special(i, buf, sizeof(buf))); i++) {
		if (c->nforwarders == 0 && !spf_unbound_stubbed(c, zone))
			continue;
		if ((rc = ub_ctx_zone_remove(ctx, zone)) != 0)
			goto fail;
	}
	return 0;
fail:
	if (c->no_dnssec)
		spf_unbound_err(err, errlen, "libunbound setup: %s",
		    ub_strerror(rc));
	else
		spf_unbound_err(err, errlen, "libunbound setup (trust anchor "
		    "file %s rejected?): %s", c->trust_anchor_file ?
		    c->trust_anchor_file : SPF_UNBOUND_TRUST_ANCHOR_DEFAULT,
		    ub_strerror(rc));
	return -1;
}

/* Creates and fully configures the libunbound context (not finalized). */
static struct ub_ctx *
spf_unbound_ctx_new(const struct spf_unbound_config *c, char *err,
    size_t errlen)
{
	struct ub_ctx *ctx;
	int rc;

	if ((ctx = ub_ctx_create()) == NULL) {
		spf_unbound_err(err, errlen, "ub_ctx_create failed");
		return NULL;
	}
	if (spf_unbound_tune(ctx, c, err, errlen) < 0 ||
	    spf_unbound_upstreams(ctx, c, err, errlen) < 0 ||
	    spf_unbound_trust(ctx, c, err, errlen) < 0)
		goto fail;
	if ((rc = ub_ctx_async(ctx, 1)) != 0) {
		spf_unbound_err(err, errlen, "ub_ctx_async: %s",
		    ub_strerror(rc));
		goto fail;
	}
	if (spf_unbound_local_zones(ctx, c, err, errlen) < 0)
		goto fail;
	return ctx;
fail:
	ub_ctx_delete(ctx);
	return NULL;
}

/* Checks the plain numbers of the config. */
static int
spf_unbound_config_check(const struct spf_unbound_config *c, char *err,
    size_t errlen)
{
	if (c->no_dnssec != 0 && c->no_dnssec != 1) {
		spf_unbound_err(err, errlen, "no_dnssec must be 0 or 1");
		return -1;
	}
	if (c->nforwarders < 0 || (c->nforwarders > 0 && !c->forwarders) ||
	    c->nstubs < 0 || (c->nstubs > 0 && !c->stubs)) {
		spf_unbound_err(err, errlen, "bad forwarder or stub list");
		return -1;
	}
	return 0;
}

/* Builds the resolver: context, trust anchor, pipe event, deadline queue. */
struct spf_resolver *
spf_unbound_new(struct event_base *base,
    const struct spf_unbound_config *config, char *err, size_t errlen)
{
	static const struct spf_unbound_config defaults;
	const struct spf_unbound_config *c = config ? config : &defaults;
	struct spf_unbound *r = NULL;

	if (base == NULL || spf_unbound_config_check(c, err, errlen) < 0) {
		if (base == NULL)
			spf_unbound_err(err, errlen, "no event base");
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		spf_unbound_err(err, errlen, "out of memory");
		return NULL;
	}
	r->resolver.ops = &spf_unbound_ops;
	r->base = base;
	r->free_head = SPF_UNBOUND_NO_SLOT;
	r->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms :
	    SPF_UNBOUND_TIMEOUT_DEFAULT;
	r->max_slots = c->max_queries > 0 ? (uint32_t)c->max_queries :
	    SPF_UNBOUND_MAX_QUERIES_DEFAULT;
	if ((r->ctx = spf_unbound_ctx_new(c, err, errlen)) == NULL)
		goto fail;
	r->deadline_tv.tv_sec = r->timeout_ms / 1000;
	r->deadline_tv.tv_usec = (r->timeout_ms % 1000) * 1000;
	/* Every question has the same deadline: one O(1) timeout queue. */
	r->deadline = event_base_init_common_timeout(base, &r->deadline_tv);
	if (r->deadline == NULL)
		r->deadline = &r->deadline_tv;	/* plain min-heap timer */
	r->read_ev = event_new(base, ub_fd(r->ctx), EV_READ | EV_PERSIST,
	    spf_unbound_read_cb, r);
	if (r->read_ev == NULL || event_add(r->read_ev, NULL) != 0) {
		spf_unbound_err(err, errlen, "cannot watch the libunbound "
		    "pipe");
		goto fail;
	}
	return &r->resolver;
fail:
	spf_unbound_destroy(r);
	return NULL;
}
