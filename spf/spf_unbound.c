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
 *	exactly struct spf_dns_answer, passed through without copying (the
 *	answer cache copies what it keeps).  The price is one libunbound
 *	thread and a pipe, whose round trip the answer cache saves for
 *	repeated questions.
 *
 * QUESTION IDS
 *	A uint64 id is (generation << 32) | (slot + 1) in a slot table that
 *	grows up to max_queries.  Releasing a slot bumps its generation, so a
 *	stale id (already answered, timed out or cancelled) matches nothing
 *	and cancel() on it is a no-op.
 *
 * ANSWER CACHE
 *	A chained hash table (seeded hash, one bucket per entry rounded up to
 *	a power of two) indexes entries that also sit on an LRU list; the
 *	least recently used entry is evicted when the table is full, and an
 *	expired entry is dropped when a lookup finds it.  A hit becomes a
 *	question with a slot and an id like any other, holding a reference
 *	on its entry, queued on the hit list; one event (hit_ev) made active
 *	delivers the list from the loop.  The reference keeps an entry that
 *	is evicted or replaced meanwhile alive until its hits are delivered
 *	or cancelled.  A miss keeps its key so that libunbound's answer can
 *	be stored when it arrives.  Why this is safe for DNSSEC: see
 *	spf_unbound.h.
 *
 * CALLBACK SAFETY
 *	A user callback may ask new questions, cancel others or free the
 *	resolver.  Before a callback runs, its question is already removed
 *	from the table and freed, and nothing of the resolver is touched
 *	after the callback returns, except in the two dispatchers (the
 *	ub_process() read event and the hit event), where a free is deferred
 *	(in_dispatch/dying) until the dispatcher is done.  ub_cancel()
 *	guarantees libunbound never calls back for a cancelled question,
 *	including answers already queued in the pipe.
 *
 * OUT OF MEMORY
 *	query() returns -1 (the engine turns that into a temperror);
 *	spf_unbound_new() returns NULL; an answer that cannot be copied into
 *	the cache is delivered uncached.  Nothing here aborts except on a
 *	broken invariant (a foreign resolver passed to the test accessors, a
 *	failing CLOCK_MONOTONIC).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

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
#define SPF_UNBOUND_CHAIN_MAX 8		/* entries per hash bucket */

struct spf_unbound;

/*
 * One cached answer, allocated as one block: this header, the record
 * table (rdata pointers, then lengths), the name, then the rdata.
 */
struct spf_unbound_entry {
	struct spf_unbound_entry *hnext;	/* hash chain */
	struct spf_unbound_entry *newer, *older;	/* LRU list */
	uint64_t expires;		/* monotonic ms */
	uint32_t hash;
	int type;
	enum spf_dns_status status;	/* ANSWER, NODATA or NXDOMAIN */
	int secure;
	int count;
	unsigned refs;			/* queued hits pointing here */
	int linked;			/* in the table and on the LRU list */
	const unsigned char **rdata;
	int *rdlen;
	char *name;			/* key: lower-case presentation form */
};

/* The answer cache of one resolver; off when buckets is NULL. */
struct spf_unbound_cache {
	struct spf_unbound_entry **buckets;
	uint32_t mask;			/* bucket count - 1 */
	uint32_t count, max;
	uint64_t max_ttl_ms;
	uint64_t seed;			/* against chosen-collision floods */
	struct spf_unbound_entry *newest, *oldest;
	unsigned long hits, misses;
};

/*
 * One question: in flight at libunbound (a miss: timer and key set) or
 * answered from the cache and waiting for delivery (a hit: entry set).
 */
struct spf_unbound_query {
	struct spf_unbound *owner;
	uint32_t slot;
	int ub_id;			/* libunbound's async id */
	struct event *timer;		/* our deadline (misses) */
	spf_dns_cb *cb;
	void *arg;
	struct spf_unbound_entry *entry;	/* hits: one reference */
	struct spf_unbound_query *next, *prev;	/* hits: delivery queue */
	uint32_t hash;			/* misses: where to store the answer */
	int type;
	char key[];			/* misses: the name, lower case */
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
	struct spf_unbound_cache cache;
	struct event *hit_ev;		/* delivers the hit queue */
	struct spf_unbound_query *hit_head, *hit_tail;
	unsigned nhits;			/* queued */
	int in_dispatch;		/* in ub_process() or hit delivery */
	int dying;			/* free requested during a dispatch */
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

/*
 * Answer cache
 */

/* Milliseconds on the monotonic clock (served by the vDSO, no syscall). */
static uint64_t
spf_unbound_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();	/* cannot fail for this clock: broken libc */
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * Seeded FNV-1a over the key.  Not a keyed PRF: chain lengths are capped
 * (SPF_UNBOUND_CHAIN_MAX) so that names chosen to collide cost evictions,
 * never long walks.
 */
static uint32_t
spf_unbound_hash(const struct spf_unbound_cache *c, const char *name,
    int type)
{
	uint64_t h = 0xcbf29ce484222325u ^ c->seed;
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3u;
	h = (h ^ (uint64_t)(unsigned)type) * 0x100000001b3u;
	return (uint32_t)(h ^ (h >> 32));
}

/* Octets an entry for this answer takes; 0 above the per-entry bound. */
static size_t
spf_unbound_entry_size(const char *name, const struct spf_dns_answer *a)
{
	size_t n = sizeof(struct spf_unbound_entry) + strlen(name) + 1;
	int i;

	if (a->count < 0 || a->count > SPF_UNBOUND_CACHE_ENTRY_MAX)
		return 0;
	n += (size_t)a->count * (sizeof(unsigned char *) + sizeof(int));
	for (i = 0; i < a->count && n <= SPF_UNBOUND_CACHE_ENTRY_MAX; i++) {
		if (a->rdlen[i] < 0)
			return 0;
		n += (size_t)a->rdlen[i];
	}
	return n <= SPF_UNBOUND_CACHE_ENTRY_MAX ? n : 0;
}

/*
 * Copies an answer into a new unlinked entry: header, rdata pointers,
 * lengths, name, rdata (the pointer table is aligned: it follows the
 * header, whose size is a multiple of its pointer alignment).  NULL when
 * too large or out of memory: the answer is then simply not cached.
 */
static struct spf_unbound_entry *
spf_unbound_entry_new(const char *name, uint32_t hash, int type,
    const struct spf_dns_answer *a, uint64_t expires)
{
	size_t size = spf_unbound_entry_size(name, a);
	size_t namelen = strlen(name) + 1;
	struct spf_unbound_entry *e;
	unsigned char *p;
	int i;

	if (size == 0 || (e = malloc(size)) == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	p = (unsigned char *)(e + 1);
	e->rdata = (const unsigned char **)(void *)p;
	p += (size_t)a->count * sizeof(*e->rdata);
	e->rdlen = (int *)(void *)p;
	p += (size_t)a->count * sizeof(*e->rdlen);
	e->name = (char *)p;
	memcpy(e->name, name, namelen);
	p += namelen;
	for (i = 0; i < a->count; i++) {
		if (a->rdlen[i] > 0)
			memcpy(p, a->rdata[i], (size_t)a->rdlen[i]);
		e->rdata[i] = p;
		e->rdlen[i] = a->rdlen[i];
		p += a->rdlen[i];
	}
	e->hash = hash;
	e->type = type;
	e->status = a->status;
	e->secure = a->secure != 0;
	e->count = a->count;
	e->expires = expires;
	return e;
}

/* Drops one reference; frees the entry once unlinked and unreferenced. */
static void
spf_unbound_entry_unref(struct spf_unbound_entry *e)
{
	if (--e->refs == 0 && !e->linked)
		free(e);
}

/* Takes e off the LRU list. */
static void
spf_unbound_lru_remove(struct spf_unbound_cache *c,
    struct spf_unbound_entry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	e->newer = e->older = NULL;
}

/* Puts e at the most recent end of the LRU list. */
static void
spf_unbound_lru_push(struct spf_unbound_cache *c, struct spf_unbound_entry *e)
{
	e->newer = NULL;
	e->older = c->newest;
	if (c->newest != NULL)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
}

/* Removes e from the cache; frees it unless a queued hit still holds it. */
static void
spf_unbound_cache_unlink(struct spf_unbound_cache *c,
    struct spf_unbound_entry *e)
{
	struct spf_unbound_entry **pp = &c->buckets[e->hash & c->mask];

	while (*pp != e)
		pp = &(*pp)->hnext;	/* e is on this chain: invariant */
	*pp = e->hnext;
	spf_unbound_lru_remove(c, e);
	c->count--;
	e->linked = 0;
	if (e->refs == 0)
		free(e);
}

/* The entry for (name, type), expired or not; NULL if none. */
static struct spf_unbound_entry *
spf_unbound_cache_get(const struct spf_unbound_cache *c, const char *name,
    uint32_t hash, int type)
{
	struct spf_unbound_entry *e;

	for (e = c->buckets[hash & c->mask]; e != NULL; e = e->hnext) {
		if (e->hash == hash && e->type == type &&
		    strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

/* A live entry for (name, type), now the most recent; NULL on a miss. */
static struct spf_unbound_entry *
spf_unbound_cache_find(struct spf_unbound_cache *c, const char *name,
    uint32_t hash, int type, uint64_t now)
{
	struct spf_unbound_entry *e = spf_unbound_cache_get(c, name, hash,
	    type);

	if (e == NULL)
		return NULL;
	if (now >= e->expires) {
		spf_unbound_cache_unlink(c, e);
		return NULL;
	}
	spf_unbound_lru_remove(c, e);
	spf_unbound_lru_push(c, e);
	return e;
}

/*
 * How long an answer may be served from the cache, in ms; 0 for never.
 * ttl is ub_result's: the lowest remaining TTL of the answer's RRsets, or
 * for NXDOMAIN/NODATA the negative TTL from the SOA (checked with
 * libunbound 1.17: min(SOA TTL, SOA minimum), as RFC 2308 says).
 */
static uint64_t
spf_unbound_cache_life(const struct spf_unbound_cache *c,
    enum spf_dns_status status, int ttl)
{
	uint64_t ms;

	if (ttl <= 0 || (status != SPF_DNS_ANSWER &&
	    status != SPF_DNS_NODATA && status != SPF_DNS_NXDOMAIN))
		return 0;
	ms = (uint64_t)ttl * 1000u;
	if (status != SPF_DNS_ANSWER && ms > SPF_UNBOUND_CACHE_NEG_TTL_MAX)
		ms = SPF_UNBOUND_CACHE_NEG_TTL_MAX;
	return ms < c->max_ttl_ms ? ms : c->max_ttl_ms;
}

/* Makes room in e's bucket and in the table, then links e in. */
static void
spf_unbound_cache_insert(struct spf_unbound_cache *c,
    struct spf_unbound_entry *e)
{
	struct spf_unbound_entry **bucket = &c->buckets[e->hash & c->mask];
	struct spf_unbound_entry *last = *bucket;
	int n = 0;

	while (last != NULL && last->hnext != NULL) {
		last = last->hnext;
		n++;
	}
	if (last != NULL && n + 1 >= SPF_UNBOUND_CHAIN_MAX)
		spf_unbound_cache_unlink(c, last);	/* chain's oldest */
	if (c->count >= c->max)
		spf_unbound_cache_unlink(c, c->oldest);
	e->hnext = *bucket;
	*bucket = e;
	spf_unbound_lru_push(c, e);
	e->linked = 1;
	c->count++;
}

/*
 * Stores libunbound's final answer to (name, type), replacing any older
 * one.  Only ANSWER, NODATA and NXDOMAIN with a TTL are kept; a BOGUS
 * result removes what was cached for the question (fresher evidence that
 * the data no longer validates); other failures leave it alone.
 */
static void
spf_unbound_cache_store(struct spf_unbound_cache *c, const char *name,
    uint32_t hash, int type, const struct spf_dns_answer *a, int ttl)
{
	struct spf_unbound_entry *e, *old;
	uint64_t life = spf_unbound_cache_life(c, a->status, ttl);

	if (a->status == SPF_DNS_BOGUS &&
	    (old = spf_unbound_cache_get(c, name, hash, type)) != NULL)
		spf_unbound_cache_unlink(c, old);
	if (life == 0 || (e = spf_unbound_entry_new(name, hash, type, a,
	    spf_unbound_now_ms() + life)) == NULL)
		return;
	if ((old = spf_unbound_cache_get(c, name, hash, type)) != NULL)
		spf_unbound_cache_unlink(c, old);
	spf_unbound_cache_insert(c, e);
}

/* Sets the cache up from the config (off when asked); -1 without memory. */
static int
spf_unbound_cache_init(struct spf_unbound_cache *c,
    const struct spf_unbound_config *cfg)
{
	uint32_t n = 1;

	if (cfg->cache_max_entries < 0 || cfg->cache_max_ttl_ms < 0)
		return 0;
	c->max = cfg->cache_max_entries > 0 ?
	    (uint32_t)cfg->cache_max_entries :
	    SPF_UNBOUND_CACHE_ENTRIES_DEFAULT;
	c->max_ttl_ms = cfg->cache_max_ttl_ms > 0 ?
	    (uint64_t)cfg->cache_max_ttl_ms : SPF_UNBOUND_CACHE_TTL_DEFAULT;
	while (n < c->max)
		n <<= 1;
	if ((c->buckets = calloc(n, sizeof(*c->buckets))) == NULL)
		return -1;
	c->mask = n - 1;
	if (getrandom(&c->seed, sizeof(c->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(c->seed))
		c->seed = spf_unbound_now_ms() ^ (uint64_t)(uintptr_t)c;
	return 0;
}

/* Frees every entry (none is referenced any more) and the buckets. */
static void
spf_unbound_cache_clear(struct spf_unbound_cache *c)
{
	while (c->oldest != NULL)
		spf_unbound_cache_unlink(c, c->oldest);
	free(c->buckets);
	c->buckets = NULL;
}

/* Takes a hit off the delivery queue. */
static void
spf_unbound_hit_unqueue(struct spf_unbound *r, struct spf_unbound_query *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		r->hit_head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		r->hit_tail = q->prev;
	q->next = q->prev = NULL;
	r->nhits--;
}

/* Takes q out of the table and frees it (the caller dealt with libunbound). */
static void
spf_unbound_query_drop(struct spf_unbound_query *q)
{
	struct spf_unbound *r = q->owner;

	spf_unbound_slot_release(r, q);
	if (q->entry != NULL) {
		spf_unbound_hit_unqueue(r, q);
		spf_unbound_entry_unref(q->entry);
	}
	if (q->timer != NULL)
		event_free(q->timer);
	free(q);
}

/* Forgets a question: at libunbound (ub_cancel) or in the hit queue. */
static void
spf_unbound_query_cancel(struct spf_unbound_query *q)
{
	if (q->entry == NULL)
		(void)ub_cancel(q->owner->ctx, q->ub_id);
	spf_unbound_query_drop(q);
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

/* libunbound's callback (from ub_process()): cache, deliver, then free. */
static void
spf_unbound_answer_cb(void *mydata, int err, struct ub_result *res)
{
	struct spf_unbound_query *q = mydata;
	struct spf_unbound_cache *c = &q->owner->cache;
	struct spf_dns_answer ans;
	spf_dns_cb *cb = q->cb;
	void *arg = q->arg;
	char buf[64];

	spf_unbound_map(err, res, &ans, buf, sizeof(buf));
	if (c->buckets != NULL)
		spf_unbound_cache_store(c, q->key, q->hash, q->type, &ans,
		    err == 0 && res != NULL ? res->ttl : 0);
	spf_unbound_query_drop(q);
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

/* Cancels and frees every question (in flight or queued hit); no callback. */
static void
spf_unbound_cancel_all(struct spf_unbound *r)
{
	uint32_t i;

	for (i = 0; i < r->nslots; i++) {
		struct spf_unbound_query *q = r->slots[i].query;

		if (q != NULL)
			spf_unbound_query_cancel(q);
	}
}

/* Releases everything; NULL-safe, used by free() and by new()'s unwind. */
static void
spf_unbound_destroy(struct spf_unbound *r)
{
	if (r == NULL)
		return;
	spf_unbound_cancel_all(r);	/* misses exist only with a ctx */
	if (r->hit_ev != NULL)
		event_free(r->hit_ev);
	if (r->read_ev != NULL)
		event_free(r->read_ev);
	if (r->ctx != NULL)
		ub_ctx_delete(r->ctx);
	spf_unbound_cache_clear(&r->cache);
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
	r->in_dispatch = 1;
	rc = ub_process(r->ctx);
	r->in_dispatch = 0;
	if (r->dying) {
		spf_unbound_destroy(r);
		return;
	}
	if (rc != 0) {
		/*
		 * The pipe to libunbound's thread failed; it will not
		 * recover.  Stop polling it (EOF would spin the loop);
		 * questions in flight end by their deadline and new ones
		 * that miss the cache are refused.
		 */
		r->broken = 1;
		event_del(r->read_ev);
	}
}

/* Delivers one queued hit; the question is gone before its callback. */
static void
spf_unbound_hit_deliver(struct spf_unbound_query *q)
{
	struct spf_unbound_entry *e = q->entry;
	struct spf_dns_answer ans;
	spf_dns_cb *cb = q->cb;
	void *arg = q->arg;

	e->refs++;		/* outlives the drop, until cb returns */
	spf_unbound_query_drop(q);
	memset(&ans, 0, sizeof(ans));
	ans.status = e->status;
	ans.secure = e->secure;
	ans.count = e->count;
	if (e->count > 0) {
		ans.rdata = (const unsigned char *const *)e->rdata;
		ans.rdlen = e->rdlen;
	}
	cb(arg, &ans);
	spf_unbound_entry_unref(e);
}

/*
 * hit_ev is active: delivers the hits queued until now.  Hits queued by
 * these callbacks make the event active again and wait for the next
 * round, so a callback that keeps asking cannot hold the loop here.
 */
static void
spf_unbound_hits_cb(evutil_socket_t fd, short what, void *arg)
{
	struct spf_unbound *r = arg;
	unsigned n = r->nhits;

	(void)fd;
	(void)what;
	r->in_dispatch = 1;
	while (n-- > 0 && r->hit_head != NULL && !r->dying)
		spf_unbound_hit_deliver(r->hit_head);
	r->in_dispatch = 0;
	if (r->dying) {
		spf_unbound_destroy(r);
		return;
	}
	if (r->hit_head != NULL)
		event_active(r->hit_ev, EV_TIMEOUT, 0);
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
 * which libunbound would otherwise read as escapes.  ASCII letters are
 * lowered (DNS names compare without regard to ASCII case), so the
 * result is also the cache key.  Rejects empty labels, labels over 63
 * octets and names over 253 octets.  -1 on error.
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
			w = snprintf(out + o, outlen - o, "%c",
			    c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		} else {
			w = snprintf(out + o, outlen - o, "\\%03u", c);
		}
		if (w < 0 || (size_t)w >= outlen - o)
			return -1;
		o += (size_t)w;
	}
	return label == 0 ? -1 : 0;
}

/*
 * Answers from the cache: queues the hit and makes hit_ev active, so the
 * callback runs from the loop (after the current callback returns) with
 * no system call.
 */
static int
spf_unbound_hit(struct spf_unbound *r, struct spf_unbound_entry *e,
    spf_dns_cb *cb, void *arg, uint64_t *query_id)
{
	struct spf_unbound_query *q;
	uint64_t id;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->owner = r;
	q->cb = cb;
	q->arg = arg;
	if ((id = spf_unbound_slot_take(r, q)) == 0) {
		free(q);
		return -1;
	}
	q->entry = e;
	e->refs++;
	q->prev = r->hit_tail;
	if (r->hit_tail != NULL)
		r->hit_tail->next = q;
	else
		r->hit_head = q;
	r->hit_tail = q;
	r->nhits++;
	event_active(r->hit_ev, EV_TIMEOUT, 0);	/* no-op if already */
	r->cache.hits++;
	*query_id = id;
	return 0;
}

/* Asks libunbound, keeping the key to cache the answer, and arms the
 * deadline. */
static int
spf_unbound_miss(struct spf_unbound *r, const char *key, uint32_t hash,
    enum spf_rrtype type, spf_dns_cb *cb, void *arg, uint64_t *query_id)
{
	size_t keylen = strlen(key) + 1;
	struct spf_unbound_query *q;
	uint64_t id;

	if (r->broken || (q = calloc(1, sizeof(*q) + keylen)) == NULL)
		return -1;
	q->owner = r;
	q->cb = cb;
	q->arg = arg;
	q->hash = hash;
	q->type = (int)type;
	memcpy(q->key, key, keylen);
	if ((id = spf_unbound_slot_take(r, q)) == 0) {
		free(q);
		return -1;
	}
	q->timer = evtimer_new(r->base, spf_unbound_timeout_cb, q);
	if (q->timer == NULL || evtimer_add(q->timer, r->deadline) != 0)
		goto fail;
	if (ub_resolve_async(r->ctx, key, (int)type, SPF_UNBOUND_RR_CLASS_IN,
	    q, spf_unbound_answer_cb, &q->ub_id) != 0)
		goto fail;
	r->cache.misses++;
	*query_id = id;
	return 0;
fail:
	spf_unbound_query_drop(q);
	return -1;
}

/* ops->query: answers from the cache, or asks libunbound. */
static int
spf_unbound_query(struct spf_resolver *resolver, const char *name,
    enum spf_rrtype type, spf_dns_cb *cb, void *arg, uint64_t *query_id)
{
	struct spf_unbound *r = (struct spf_unbound *)resolver;
	struct spf_unbound_entry *e;
	char key[SPF_UNBOUND_NAME_MAX];
	uint32_t hash = 0;

	if (r->dying || name == NULL || cb == NULL ||
	    spf_unbound_name(name, key, sizeof(key)) < 0)
		return -1;
	if (r->cache.buckets != NULL) {
		hash = spf_unbound_hash(&r->cache, key, (int)type);
		e = spf_unbound_cache_find(&r->cache, key, hash, (int)type,
		    spf_unbound_now_ms());
		if (e != NULL)
			return spf_unbound_hit(r, e, cb, arg, query_id);
	}
	return spf_unbound_miss(r, key, hash, type, cb, arg, query_id);
}

/* ops->cancel: forgets a question; stale ids are ignored. */
static void
spf_unbound_cancel(struct spf_resolver *resolver, uint64_t query_id)
{
	struct spf_unbound *r = (struct spf_unbound *)resolver;
	struct spf_unbound_query *q = spf_unbound_slot_find(r, query_id);

	if (q != NULL)
		spf_unbound_query_cancel(q);
}

/* ops->free: cancels everything; deferred while inside a dispatch. */
static void
spf_unbound_free(struct spf_resolver *resolver)
{
	struct spf_unbound *r = (struct spf_unbound *)resolver;

	if (r == NULL)
		return;
	if (r->in_dispatch) {
		spf_unbound_cancel_all(r);
		r->dying = 1;
		return;
	}
	spf_unbound_destroy(r);
}

/* Our resolver behind the interface; aborts on a foreign one. */
static const struct spf_unbound *
spf_unbound_of(const struct spf_resolver *resolver)
{
	if (resolver == NULL || resolver->ops != &spf_unbound_ops)
		abort();	/* not ours: a programming error */
	return (const struct spf_unbound *)resolver;
}

/* Questions in flight or queued (tests). */
unsigned
spf_unbound_pending(const struct spf_resolver *resolver)
{
	return spf_unbound_of(resolver)->pending;
}

/* Questions answered from the cache (tests, benchmarks). */
unsigned long
spf_unbound_cache_hits(const struct spf_resolver *resolver)
{
	return spf_unbound_of(resolver)->cache.hits;
}

/* Questions sent to libunbound (tests, benchmarks). */
unsigned long
spf_unbound_cache_misses(const struct spf_resolver *resolver)
{
	return spf_unbound_of(resolver)->cache.misses;
}

/* Remaining life of a cached answer in ms, -1 if none (tests). */
long
spf_unbound_cache_ttl(const struct spf_resolver *resolver, const char *name,
    enum spf_rrtype type)
{
	const struct spf_unbound_cache *c = &spf_unbound_of(resolver)->cache;
	const struct spf_unbound_entry *e;
	char key[SPF_UNBOUND_NAME_MAX];
	uint64_t now = spf_unbound_now_ms();

	if (c->buckets == NULL || spf_unbound_name(name, key, sizeof(key)) < 0)
		return -1;
	e = spf_unbound_cache_get(c, key, spf_unbound_hash(c, key, (int)type),
	    (int)type);
	return e != NULL && now < e->expires ? (long)(e->expires - now) : -1;
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
	char range[16];

	snprintf(range, sizeof(range), "%d", c->outgoing_range > 0 ?
	    c->outgoing_range : 1024);
	if (spf_unbound_option(ctx, "outgoing-range:", range, err, errlen) ||
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
	for (i = 0; i < c->ntransparent; i++)
		if ((rc = ub_ctx_zone_remove(ctx, c->transparent_zones[i])) != 0)
			goto fail;
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
	    c->nstubs < 0 || (c->nstubs > 0 && !c->stubs) ||
	    c->ntransparent < 0 || (c->ntransparent > 0 &&
	    !c->transparent_zones)) {
		spf_unbound_err(err, errlen, "bad forwarder or stub list");
		return -1;
	}
	if (c->cache_max_entries > SPF_UNBOUND_CACHE_ENTRIES_MAX) {
		spf_unbound_err(err, errlen, "cache_max_entries above %d",
		    SPF_UNBOUND_CACHE_ENTRIES_MAX);
		return -1;
	}
	return 0;
}

/* Builds the resolver: context, trust anchor, cache, events, deadlines. */
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
	if (spf_unbound_cache_init(&r->cache, c) < 0) {
		spf_unbound_err(err, errlen, "out of memory (answer cache)");
		goto fail;
	}
	r->hit_ev = event_new(base, -1, 0, spf_unbound_hits_cb, r);
	if (r->hit_ev == NULL) {
		spf_unbound_err(err, errlen, "out of memory (hit event)");
		goto fail;
	}
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
