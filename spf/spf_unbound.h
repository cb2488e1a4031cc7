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

/* A zone sent to one given server (tests; split-horizon setups). */
struct spf_unbound_stub {
	const char *zone;	/* "timeout.test" (trailing dot optional) */
	const char *addr;	/* "IP" or "IP@PORT" */
};

/*
 * All-zero means: validate with the Debian root trust anchor, recurse from
 * the root hints, 5000 ms per question.
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
};

/*
 * Creates the resolver.  On failure returns NULL and writes a one-line
 * reason to err (truncated to errlen).
 */
struct spf_resolver *spf_unbound_new(struct event_base *base,
    const struct spf_unbound_config *config, char *err, size_t errlen);

/* Questions asked and not yet answered, timed out or cancelled (tests). */
unsigned spf_unbound_pending(const struct spf_resolver *resolver);

#endif /* SPF_SPF_UNBOUND_H */
