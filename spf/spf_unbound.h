/*
 * spf_unbound.h - the SPF engine's resolver interface bound to libunbound.
 *
 * CONTRACT
 *	spf_unbound_new() returns a struct spf_resolver (see spf/spf.h) that
 *	asks libunbound, validating DNSSEC unless told not to, and delivers
 *	answers from the caller's libevent loop: libunbound resolves in its
 *	own thread and wakes the loop through a pipe.  Callbacks run only from
 *	that loop (never from inside query()), so they never run on the
 *	libunbound thread.
 *
 *	Every question has a deadline of timeout_ms, enforced here and not by
 *	libunbound's retry schedule: on expiry the question is cancelled in
 *	libunbound and answered SPF_DNS_TIMEOUT.
 *
 *	Security: a trust anchor that cannot be loaded is a fatal error at
 *	creation, never a silent fallback to insecure answers.  Validation is
 *	off only when the caller sets no_dnssec (the --no-dnssec switch); then
 *	no trust anchor is loaded at all and every answer is insecure.
 *
 *	ANSWER CACHE.  In front of libunbound sits a small in-process cache
 *	of final answers, keyed by (name, type), the name compared without
 *	regard to ASCII case.  It saves the round trip through libunbound's
 *	thread that even an answer from libunbound's own cache costs
 *	(measured: about a dozen system calls -- pipe reads and writes,
 *	fcntl -- and two thread wake-ups per question).  A hit is delivered
 *	from the event loop, never inside query(): it is queued and one
 *	libevent event made active, with no system call.  Hits can be
 *	cancelled like any question and are counted by spf_unbound_pending().
 *	  Cached: ANSWER, NODATA and NXDOMAIN with the secure flag libunbound
 *	gave.  Never cached: BOGUS, SERVFAIL, TIMEOUT, and answers whose copy
 *	would exceed SPF_UNBOUND_CACHE_ENTRY_MAX octets (passed on uncached).
 *	  Lifetime (monotonic clock): the TTL libunbound reports (the lowest
 *	remaining TTL of the answer's RRsets, or the SOA-derived negative TTL
 *	of NXDOMAIN/NODATA), capped at cache_max_ttl_ms, and for NXDOMAIN and
 *	NODATA also at SPF_UNBOUND_CACHE_NEG_TTL_MAX.  A TTL of 0 is not
 *	cached.  So an entry never outlives the TTL of the data it copies:
 *	libunbound would serve the same data from its own cache for at least
 *	as long.
 *	  DNSSEC: the cache holds only what libunbound returned as secure or
 *	insecure, with the flag it gave, so a hit can neither turn bogus
 *	data into good data nor insecure into secure.  A bogus result is
 *	never stored, and removes any entry for the same question (the
 *	fresher evidence wins).  Entries for other questions, even in the
 *	same zone, live out their short life, as the same RRsets do in
 *	libunbound's cache, which does not purge them on a validation
 *	failure elsewhere either.
 *	  Memory: at most cache_max_entries entries of at most
 *	SPF_UNBOUND_CACHE_ENTRY_MAX octets each (one allocation holding the
 *	name, the record table and the rdata), plus a bucket table of one
 *	pointer per entry (rounded up to a power of two); least recently
 *	used entries are evicted first.  An entry evicted while a queued hit
 *	still refers to it lives until that hit is delivered or cancelled.
 *	With the default 4096 entries: at most 16 MiB + 32 KiB per resolver.
 *
 *	With forwarders (or stubs) configured, libunbound's built-in local
 *	zones for special-use names and special address ranges are removed
 *	(the list and the reasons are in spf_unbound.c), so those questions
 *	reach the configured server instead of being answered NXDOMAIN
 *	locally.
 *
 * OWNERSHIP
 *	The config and the strings it points to are read only during
 *	spf_unbound_new().  The resolver is released with resolver->ops->free,
 *	which cancels every outstanding question (their callbacks are not
 *	called) and deletes the libunbound context (joining its thread).  It
 *	may be called from inside an answer callback; the release then
 *	completes when the callback's dispatch returns.  The event_base must
 *	outlive the resolver.
 *
 *	Caution: libunbound starts its thread at the first question; create
 *	the resolver after any fork() (daemonizing), or at least ask nothing
 *	before it.  Only the thread that runs the event_base may use it.
 */
#ifndef SPF_SPF_UNBOUND_H
#define SPF_SPF_UNBOUND_H

#include <stddef.h>

#include "spf/spf.h"

struct event_base;

#define SPF_UNBOUND_TRUST_ANCHOR_DEFAULT "/usr/share/dns/root.key"
#define SPF_UNBOUND_TIMEOUT_DEFAULT 5000	/* ms */
#define SPF_UNBOUND_MAX_QUERIES_DEFAULT 65536	/* outstanding at once */
#define SPF_UNBOUND_CACHE_ENTRIES_DEFAULT 4096
#define SPF_UNBOUND_CACHE_ENTRIES_MAX (1 << 20)
#define SPF_UNBOUND_CACHE_ENTRY_MAX 4096	/* octets, all included */
#define SPF_UNBOUND_CACHE_TTL_DEFAULT 60000	/* ms */
#define SPF_UNBOUND_CACHE_NEG_TTL_MAX 30000	/* ms, NXDOMAIN and NODATA */

/* A zone sent to one given server (tests; split-horizon setups). */
struct spf_unbound_stub {
	const char *zone;	/* "timeout.test" (trailing dot optional) */
	const char *addr;	/* "IP" or "IP@PORT" */
};

/*
 * All-zero means: validate with the Debian root trust anchor, recurse from
 * the root hints, 5000 ms per question, answer cache on (4096 entries,
 * answers kept at most 60 s).
 */
struct spf_unbound_config {
	/* DS or DNSKEY records; NULL -> SPF_UNBOUND_TRUST_ANCHOR_DEFAULT. */
	const char *trust_anchor_file;
	/*
	 * 0 (default): validate.  1: explicit --no-dnssec, no validator and
	 * no trust anchor; then trust_anchor_file must be NULL.  Inverted on
	 * purpose so that a zeroed config is the safe one.
	 */
	int no_dnssec;
	/* "IP" or "IP@PORT"; NULL/0 -> full recursion from root hints. */
	const char *const *forwarders;
	int nforwarders;
	const struct spf_unbound_stub *stubs;
	int nstubs;
	int timeout_ms;		/* per question; <= 0 -> default */
	int max_queries;	/* outstanding at once; <= 0 -> default */
	int outgoing_range;	/* UDP ports in use at once; <= 0 -> 1024 */
	/*
	 * Further libunbound built-in local zones to remove (e.g. private
	 * reverse zones a site's own resolver serves in full recursion);
	 * names without a trailing dot are fine; unknown names are ignored.
	 */
	const char *const *transparent_zones;
	int ntransparent;
	/*
	 * Answer cache.  0 -> the default; < 0 turns the cache off (either
	 * field).  cache_max_entries above SPF_UNBOUND_CACHE_ENTRIES_MAX is
	 * an error.  The 60 s default cap is short on purpose: a relay
	 * should see a changed SPF record within a minute, and an expired
	 * entry costs one trip to libunbound's cache, not a network query.
	 */
	int cache_max_entries;
	int cache_max_ttl_ms;
};

/*
 * Creates the resolver.  On failure returns NULL and writes a one-line
 * reason to err (truncated to errlen).
 */
struct spf_resolver *spf_unbound_new(struct event_base *base,
    const struct spf_unbound_config *config, char *err, size_t errlen);

/* Questions asked and not yet answered, timed out or cancelled (tests). */
unsigned spf_unbound_pending(const struct spf_resolver *resolver);

/*
 * Questions answered from the answer cache, and questions sent to
 * libunbound (every question that was not a hit, cache on or off), since
 * creation (tests, benchmarks).
 */
unsigned long spf_unbound_cache_hits(const struct spf_resolver *resolver);
unsigned long spf_unbound_cache_misses(const struct spf_resolver *resolver);

/*
 * Milliseconds the cached answer to (name, type) will still be served,
 * or -1 if none is cached (tests).  Does not count as a use.
 */
long spf_unbound_cache_ttl(const struct spf_resolver *resolver,
    const char *name, enum spf_rrtype type);

#endif /* SPF_SPF_UNBOUND_H */
