/*
 * spf.h - public interface of the spfgate SPF engine (RFC 7208).
 *
 * CONTRACT
 *	The engine evaluates check_host() asynchronously.  It never blocks and
 *	never performs I/O itself: every DNS question goes through a struct
 *	spf_resolver supplied by the caller (libunbound in the daemon, an
 *	in-memory zone in tests).  Many evaluations may run at once in one
 *	thread; nothing in the engine is global or thread-shared.
 *
 *	This header and everything under spf/ (except spf_unbound.[ch]) use
 *	libc only.
 *
 * OWNERSHIP
 *	struct spf_eval is created by spf_eval_new() and released by
 *	spf_eval_free().  The done callback is called exactly once per
 *	spf_eval_start(), possibly before spf_eval_start() returns (when the
 *	resolver answers synchronously).  spf_eval_free() may be called from
 *	inside the done callback, or at any time before it to cancel: it
 *	cancels every outstanding DNS query.
 */
#ifndef SPF_SPF_H
#define SPF_SPF_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* RFC 7208 section 2.6 results. */
enum spf_result {
	SPF_RESULT_NONE = 0,
	SPF_RESULT_NEUTRAL,
	SPF_RESULT_PASS,
	SPF_RESULT_FAIL,
	SPF_RESULT_SOFTFAIL,
	SPF_RESULT_TEMPERROR,
	SPF_RESULT_PERMERROR
};
#define SPF_RESULT_COUNT 7

/* Lower-case RFC name of a result ("pass", "temperror", ...). */
const char *spf_result_name(enum spf_result result);

/* Parses a result name (case-insensitive); returns -1 if unknown. */
int spf_result_parse(const char *name);

/*
 * DNS interface
 */

/* Record types the engine asks for (their IANA numbers). */
enum spf_rrtype {
	SPF_RR_A = 1,
	SPF_RR_PTR = 12,
	SPF_RR_MX = 15,
	SPF_RR_TXT = 16,
	SPF_RR_AAAA = 28
};

/* Outcome of one DNS question. */
enum spf_dns_status {
	SPF_DNS_ANSWER = 0,	/* rcode NOERROR with >= 1 record of the type */
	SPF_DNS_NODATA,		/* NOERROR, no record of that type */
	SPF_DNS_NXDOMAIN,	/* the name does not exist */
	SPF_DNS_TIMEOUT,	/* no answer within the resolver's deadline */
	SPF_DNS_SERVFAIL,	/* any other failure (SERVFAIL, REFUSED, ...) */
	SPF_DNS_BOGUS		/* DNSSEC validation failed; data must not be used */
};

/*
 * One answer.  rdata[i]/rdlen[i] hold record i in DNS wire format as
 * libunbound's struct ub_result gives it: A = 4 octets, AAAA = 16, MX = 2
 * octets preference + uncompressed wire name, PTR = uncompressed wire name,
 * TXT = one or more <length octet><text> character-strings.  The engine
 * reads rdata through a bounds-checked cursor; malformed rdata is ignored.
 * Everything in the answer is valid only during the callback.
 */
struct spf_dns_answer {
	enum spf_dns_status status;
	int secure;			/* 1: DNSSEC-validated (RFC 4035 secure) */
	int count;			/* number of records; 0 unless ANSWER */
	const unsigned char *const *rdata;
	const int *rdlen;
	const char *reason;		/* why_bogus / error text, or NULL */
};

/* Called once per question unless the question was cancelled first. */
typedef void spf_dns_cb(void *arg, const struct spf_dns_answer *answer);

struct spf_resolver;

struct spf_resolver_ops {
	/*
	 * Asks for (name, type).  name is a domain without the trailing dot,
	 * at most 253 octets.  On success returns 0 and stores a handle in
	 * *query_id that cancel() accepts; cb may run before query() returns
	 * (then *query_id is still stored, and cancel() on it is harmless).
	 * Returns -1 if the question could not even be asked; cb is then not
	 * called.
	 */
	int (*query)(struct spf_resolver *resolver, const char *name,
	    enum spf_rrtype type, spf_dns_cb *cb, void *arg,
	    uint64_t *query_id);
	/* Forgets a question: its callback will not be called. */
	void (*cancel)(struct spf_resolver *resolver, uint64_t query_id);
	/* Releases the resolver (NULL-safe at the caller's side). */
	void (*free)(struct spf_resolver *resolver);
};

/* Implementations embed this as their first member. */
struct spf_resolver {
	const struct spf_resolver_ops *ops;
};

/*
 * Evaluation
 */

/* RFC 7208 section 4.6.4 limits; spf_limits_default() gives the RFC values. */
struct spf_limits {
	int dns_terms;		/* DNS-querying terms: 10 */
	int void_lookups;	/* NXDOMAIN/NODATA answers: 2 */
	int mx_names;		/* MX names looked at per mx term: 10 */
	int ptr_names;		/* PTR names looked at per ptr term/macro: 10 */
};
void spf_limits_default(struct spf_limits *limits);

/* Which identity is checked (RFC 7208 section 2.3 / 2.4). */
enum spf_identity {
	SPF_ID_MAILFROM = 0,
	SPF_ID_HELO
};

struct spf_request {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char ip[16];		/* 4 or 16 octets, network order */
	enum spf_identity identity;
	/* MAIL FROM address without <>; "" or NULL for the null path. */
	const char *sender;
	const char *helo;		/* HELO/EHLO argument; may be NULL */
	const char *receiver;		/* %{r}; NULL -> "unknown" */
	/* Macro-string used when exp= is absent or fails; NULL -> none. */
	const char *default_explanation;
	time_t now;			/* %{t}; 0 -> time(NULL) */
	struct spf_limits limits;	/* zeroes -> RFC defaults */
};

#define SPF_TERM_MAX 512		/* matched term text, truncated */
#define SPF_EXPLANATION_MAX 1024	/* explanation text, truncated */
#define SPF_REASON_MAX 512		/* error reason text, truncated */
#define SPF_DOMAIN_MAX 256

/* What an evaluation concluded.  All strings are NUL-terminated ASCII. */
struct spf_verdict {
	enum spf_result result;
	enum spf_identity identity;
	/* The identity checked: "user@domain" (postmaster@helo if null path
	 * for MAIL FROM) or the HELO name. */
	char identity_text[SPF_DOMAIN_MAX + 65];
	char domain[SPF_DOMAIN_MAX];	/* <domain> of the top-level check */
	/* The term that matched as written ("-all", "include:x", ...);
	 * "default" when no term matched; "" for none/errors. */
	char mechanism[SPF_TERM_MAX];
	char explanation[SPF_EXPLANATION_MAX]; /* fail only; may be "" */
	char reason[SPF_REASON_MAX];	/* why, for none/temperror/permerror */
	/* 1 when every DNS answer the verdict depended on was DNSSEC-secure. */
	int dnssec_secure;
	int dns_lookups;		/* DNS-querying terms used */
	int void_lookups;		/* void lookups seen */
};

/* Called exactly once; verdict is valid only during the call. */
typedef void spf_done_cb(void *arg, const struct spf_verdict *verdict);

struct spf_eval;

/*
 * Creates an evaluation.  The request is copied.  Returns NULL on bad
 * arguments (unparsable family) or out of memory.
 */
struct spf_eval *spf_eval_new(const struct spf_request *request,
    struct spf_resolver *resolver, spf_done_cb *done, void *arg);

/* Starts it; done is called exactly once, maybe before this returns. */
void spf_eval_start(struct spf_eval *eval);

/* Cancels outstanding queries and frees; NULL-safe; callable from done. */
void spf_eval_free(struct spf_eval *eval);

/*
 * Result headers
 */

struct spf_header_info {
	const char *receiver;		/* host name of this MTA (Received-SPF) */
	const char *authserv_id;	/* RFC 8601 authserv-id */
	const char *client_ip;		/* text form of the client address */
	const char *helo;		/* may be NULL */
};

/*
 * Formats "Received-SPF: ..." (RFC 7208 section 9.1) without the final
 * CRLF, folded at 78 columns with CRLF + tab.  Returns the length, or -1
 * if out is too small (out is then "").
 */
int spf_header_received_spf(char *out, size_t outlen,
    const struct spf_verdict *verdict, const struct spf_header_info *info);

/* Formats "Authentication-Results: ..." (RFC 8601) with the spf method. */
int spf_header_authres(char *out, size_t outlen,
    const struct spf_verdict *verdict, const struct spf_header_info *info);

/*
 * In-memory zone resolver (tests, `spfgate check --zone`).  Answers
 * synchronously from inside query().
 */
struct spf_zone;

struct spf_zone *spf_zone_new(void);
void spf_zone_free(struct spf_zone *zone);

/*
 * Adds one record.  type is an spf_rrtype; text is presentation form:
 * A "192.0.2.1", AAAA "2001:db8::1", MX "10 mx.example.com", PTR
 * "host.example.com", TXT: the character-strings given as an array via
 * spf_zone_add_txt() instead.  Names are case-insensitive; a trailing dot
 * is ignored.  Returns 0, or -1 on a malformed value.
 */
int spf_zone_add(struct spf_zone *zone, const char *name, int type,
    const char *text);
/* Adds a TXT record made of nstrings character-strings (each < 256). */
int spf_zone_add_txt(struct spf_zone *zone, const char *name,
    const char *const *strings, const size_t *lengths, int nstrings);
/* Adds a CNAME: queries for name of any type follow it (bounded). */
int spf_zone_add_cname(struct spf_zone *zone, const char *name,
    const char *target);
/* Makes name exist (NODATA for every type) even with no records. */
int spf_zone_add_name(struct spf_zone *zone, const char *name);
/*
 * Makes queries for (name, type) fail with status (TIMEOUT, SERVFAIL or
 * BOGUS); type 0 means every type not otherwise answered.
 */
int spf_zone_add_failure(struct spf_zone *zone, const char *name, int type,
    enum spf_dns_status status);
/* Marks every answer of the zone as DNSSEC-secure (default insecure). */
void spf_zone_set_secure(struct spf_zone *zone, int secure);

/*
 * Loads a zone file: one record per line, "name TYPE value", '#' comments.
 * TYPE is A, AAAA, MX, PTR, TXT, CNAME, or one of the pseudo-types
 * TIMEOUT, SERVFAIL, BOGUS (value: the type they apply to, or ANY).
 * TXT values are one or more double-quoted strings with \" and \\ and
 * \DDD escapes.  On error returns -1 and writes "FILE:LINE: message" to
 * err.
 */
int spf_zone_load(struct spf_zone *zone, const char *path, char *err,
    size_t errlen);

/* A resolver answering from the zone.  The zone must outlive it. */
struct spf_resolver *spf_zone_resolver_new(struct spf_zone *zone);

/* Counts queries the zone resolver answered (for tests). */
unsigned long spf_zone_resolver_queries(const struct spf_resolver *resolver);

#endif /* SPF_SPF_H */
