/*
 * spf_zone.c - in-memory DNS zone and the resolver that answers from it.
 *
 * CONTRACT
 *	A struct spf_zone maps lower-cased domain names to records of the five
 *	types the SPF engine asks for (A, PTR, MX, TXT, AAAA), an optional
 *	CNAME, and failure pseudo-records (TIMEOUT, SERVFAIL, BOGUS).  Every
 *	record is kept in DNS wire format from the moment it is added, so the
 *	resolver answers a question with one hash lookup per name on the CNAME
 *	chain and no allocation: it is used by the RFC 7208 suite runner and
 *	the benchmark, which runs more than a million evaluations a second
 *	through it.
 *
 *	Names: case-insensitive (ASCII only; other octets compare exactly), a
 *	single trailing dot is ignored, "" or "." is the root.  A name must be
 *	encodable in DNS: labels of 1..63 octets, at most 253 octets in all.
 *	Any other octet (space, ':', '%', ...) is allowed in a label, as on
 *	the wire; there are no escapes.  A query for a name that cannot be
 *	encoded is refused with -1, as libunbound refuses it.
 *
 *	Answering (name, type), first rule that applies wins, per name on the
 *	CNAME chain:
 *	  1. a failure added for exactly this type -> that failure;
 *	  2. a CNAME -> restart at the target (at most ZONE_CNAME_MAX hops;
 *	     a loop or a longer chain -> SERVFAIL);
 *	  3. records of the type -> ANSWER, in the order they were added
 *	     (duplicates are kept: the suite's "multispf1" needs them);
 *	  4. a failure added for type 0 (any) -> that failure;
 *	  5. otherwise NODATA; a name never mentioned -> NXDOMAIN.
 *	The secure flag of the zone applies to ANSWER, NODATA and NXDOMAIN;
 *	failures are never secure.
 *
 *	A CNAME cannot share its name with records (RFC 1034 3.6.2): adding
 *	one to a name that has the other fails.  Failures may coexist.
 *
 * OWNERSHIP
 *	The zone owns copies of everything added to it.  The resolver borrows
 *	the zone, which must outlive it.  Answers point into the zone and are
 *	valid only during the callback.  Caution: do not add to the zone from
 *	inside a callback (arrays may move under the answer being read).
 *
 * THREADS
 *	None.  A zone may be queried from several resolvers of one thread.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf/spf.h"

#define ZONE_NTYPES	5		/* A, PTR, MX, TXT, AAAA */
#define ZONE_NAME_MAX	253		/* presentation octets, no final dot */
#define ZONE_WIRE_MAX	255		/* wire octets of a name */
#define ZONE_LABEL_MAX	63
#define ZONE_CNAME_MAX	8		/* CNAME hops followed per question */
#define ZONE_RDATA_MAX	65535		/* RDLENGTH is 16 bits */
#define ZONE_STRING_MAX	255		/* one TXT character-string */
#define ZONE_LINE_MAX	65536		/* zone file line, without newline */

/* Records of one type at one name, plus an optional failure for it. */
struct spf_zone_rrset {
	unsigned char	**rdata;	/* count wire-format records */
	int		 *rdlen;
	int		  count;
	int		  cap;
	enum spf_dns_status failure;	/* SPF_DNS_ANSWER: none */
};

/* One owner name. */
struct spf_zone_node {
	struct spf_zone_node *next;		/* hash chain */
	uint32_t	  hash;
	char		 *cname;	/* normalized target, or NULL */
	uint32_t	  cname_hash;
	size_t		  cname_len;
	enum spf_dns_status any_failure; /* type-0 failure; ANSWER: none */
	struct spf_zone_rrset rrsets[ZONE_NTYPES];
	size_t		  namelen;
	char		  name[];	/* normalized, NUL-terminated */
};

struct spf_zone {
	struct spf_zone_node **buckets;
	size_t		   nbuckets;	/* a power of two */
	size_t		   nnodes;
	int		   secure;
};

/* The resolver: the interface header, the borrowed zone and counters. */
struct spf_zone_resolver {
	struct spf_resolver base;	/* first: the engine casts to it */
	struct spf_zone	   *zone;
	unsigned long	    queries;
	uint64_t	    next_id;
};

/*
 * Names and wire data
 */

/* Maps an spf_rrtype to its slot in zone_node.rrsets, or -1. */
static int
spf_zone_type_index(int type)
{
	switch (type) {
	case SPF_RR_A:
		return 0;
	case SPF_RR_PTR:
		return 1;
	case SPF_RR_MX:
		return 2;
	case SPF_RR_TXT:
		return 3;
	case SPF_RR_AAAA:
		return 4;
	default:
		return -1;
	}
}

/* FNV-1a over a normalized name. */
static uint32_t
spf_zone_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	return h;
}

/*
 * Checks that text[0..len) is a sequence of 1..63-octet labels joined by
 * dots (or empty: the root).  len excludes any trailing dot.
 */
static int
spf_zone_labels_valid(const char *text, size_t len)
{
	size_t i, label = 0;

	if (len > ZONE_NAME_MAX)
		return -1;
	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (text[i] == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (++label > ZONE_LABEL_MAX)
			return -1;
	}
	return label == 0 ? -1 : 0;
}

/* Length of a name without its one optional trailing dot. */
static size_t
spf_zone_name_len(const char *name)
{
	size_t len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	return len;
}

/*
 * Writes the normalized form of name (lower case, no trailing dot) into
 * out, which has room for ZONE_NAME_MAX + 1 octets.  Returns its length,
 * or -1 if the name cannot be encoded in DNS.
 */
static int
spf_zone_name_normalize(const char *name, char *out)
{
	size_t i, len;

	if (name == NULL)
		return -1;
	len = spf_zone_name_len(name);
	if (spf_zone_labels_valid(name, len) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') :
		    (char)c;
	}
	out[len] = '\0';
	return (int)len;
}

/*
 * Encodes a presentation name (case kept, one trailing dot ignored) as an
 * uncompressed wire name into out (ZONE_WIRE_MAX octets).  Returns the
 * wire length or -1.
 */
static int
spf_zone_wire_name(const char *text, unsigned char *out)
{
	size_t len = spf_zone_name_len(text), i, start = 0, o = 0;

	if (spf_zone_labels_valid(text, len) == -1)
		return -1;
	for (i = 0; i <= len && len > 0; i++) {
		if (i == len || text[i] == '.') {
			out[o++] = (unsigned char)(i - start);
			memcpy(out + o, text + start, i - start);
			o += i - start;
			start = i + 1;
		}
	}
	out[o++] = 0;
	return (int)o;
}

/*
 * Appends text[0..len) to out as 255-octet character-strings (one empty
 * string when len is 0).  *used is the fill of out, cap its size.
 * Returns -1 if it does not fit.
 */
static int
spf_zone_txt_split(unsigned char *out, size_t cap, size_t *used,
    const char *text, size_t len)
{
	size_t off = 0, n;

	do {
		n = len - off > ZONE_STRING_MAX ? ZONE_STRING_MAX : len - off;
		if (cap - *used < n + 1)
			return -1;
		out[(*used)++] = (unsigned char)n;
		memcpy(out + *used, text + off, n);
		*used += n;
		off += n;
	} while (off < len);
	return 0;
}

/*
 * The table
 */

/* Finds the node of a normalized name, or NULL. */
static struct spf_zone_node *
spf_zone_lookup(const struct spf_zone *zone, const char *name, size_t len,
    uint32_t hash)
{
	struct spf_zone_node *node;

	node = zone->buckets[hash & (zone->nbuckets - 1)];
	for (; node != NULL; node = node->next)
		if (node->hash == hash && node->namelen == len &&
		    memcmp(node->name, name, len) == 0)
			return node;
	return NULL;
}

/* Doubles the bucket array; returns -1 on out of memory. */
static int
spf_zone_grow(struct spf_zone *zone)
{
	struct spf_zone_node **buckets, *node, *next;
	size_t n = zone->nbuckets * 2, i;

	buckets = calloc(n, sizeof(*buckets));
	if (buckets == NULL)
		return -1;
	for (i = 0; i < zone->nbuckets; i++) {
		for (node = zone->buckets[i]; node != NULL; node = next) {
			next = node->next;
			node->next = buckets[node->hash & (n - 1)];
			buckets[node->hash & (n - 1)] = node;
		}
	}
	free(zone->buckets);
	zone->buckets = buckets;
	zone->nbuckets = n;
	return 0;
}

/* Finds or creates the node of a presentation name; NULL if invalid. */
static struct spf_zone_node *
spf_zone_node_get(struct spf_zone *zone, const char *name)
{
	char norm[ZONE_NAME_MAX + 1];
	struct spf_zone_node *node;
	uint32_t hash;
	size_t b;
	int len;

	if (zone == NULL || (len = spf_zone_name_normalize(name, norm)) == -1)
		return NULL;
	hash = spf_zone_hash(norm, (size_t)len);
	if ((node = spf_zone_lookup(zone, norm, (size_t)len, hash)) != NULL)
		return node;
	if (zone->nnodes >= zone->nbuckets && spf_zone_grow(zone) == -1)
		return NULL;
	if ((node = calloc(1, sizeof(*node) + (size_t)len + 1)) == NULL)
		return NULL;
	node->hash = hash;
	node->namelen = (size_t)len;
	memcpy(node->name, norm, (size_t)len + 1);
	b = hash & (zone->nbuckets - 1);
	node->next = zone->buckets[b];
	zone->buckets[b] = node;
	zone->nnodes++;
	return node;
}

/* Appends a copy of one wire-format record to an rrset. */
static int
spf_zone_rrset_push(struct spf_zone_rrset *rr, const unsigned char *data,
    size_t len)
{
	unsigned char **rdata, *copy;
	int *rdlen, cap;

	if (len > ZONE_RDATA_MAX)
		return -1;
	if (rr->count == rr->cap) {
		cap = rr->cap ? rr->cap * 2 : 2;
		rdata = realloc(rr->rdata, (size_t)cap * sizeof(*rdata));
		if (rdata == NULL)
			return -1;
		rr->rdata = rdata;
		rdlen = realloc(rr->rdlen, (size_t)cap * sizeof(*rdlen));
		if (rdlen == NULL)
			return -1;
		rr->rdlen = rdlen;
		rr->cap = cap;
	}
	if ((copy = malloc(len ? len : 1)) == NULL)
		return -1;
	if (len)
		memcpy(copy, data, len);
	rr->rdata[rr->count] = copy;
	rr->rdlen[rr->count] = (int)len;
	rr->count++;
	return 0;
}

/* Adds one wire-format record of a type to a name. */
static int
spf_zone_add_rdata(struct spf_zone *zone, const char *name, int type,
    const unsigned char *data, size_t len)
{
	struct spf_zone_node *node;
	int idx = spf_zone_type_index(type);

	if (idx == -1 || (node = spf_zone_node_get(zone, name)) == NULL)
		return -1;
	if (node->cname != NULL)
		return -1;	/* CNAME and other data */
	return spf_zone_rrset_push(&node->rrsets[idx], data, len);
}

/* Encodes "PREF EXCHANGE" as MX rdata into out (2 + ZONE_WIRE_MAX). */
static int
spf_zone_mx_rdata(const char *text, unsigned char *out)
{
	unsigned long pref;
	char *end;
	int n;

	if (!isdigit((unsigned char)*text))
		return -1;
	errno = 0;
	pref = strtoul(text, &end, 10);
	if (errno != 0 || pref > 65535 || (*end != ' ' && *end != '\t'))
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	if ((n = spf_zone_wire_name(end, out + 2)) == -1)
		return -1;
	out[0] = (unsigned char)(pref >> 8);
	out[1] = (unsigned char)(pref & 0xff);
	return n + 2;
}

/*
 * Public: building a zone
 */

/* Creates an empty zone. */
struct spf_zone *
spf_zone_new(void)
{
	struct spf_zone *zone;

	if ((zone = calloc(1, sizeof(*zone))) == NULL)
		goto fail;
	zone->nbuckets = 64;
	if ((zone->buckets = calloc(zone->nbuckets,
	    sizeof(*zone->buckets))) == NULL)
		goto fail;
	return zone;
fail:
	spf_zone_free(zone);
	return NULL;
}

/* Frees one node and everything it owns. */
static void
spf_zone_node_free(struct spf_zone_node *node)
{
	int t, i;

	for (t = 0; t < ZONE_NTYPES; t++) {
		for (i = 0; i < node->rrsets[t].count; i++)
			free(node->rrsets[t].rdata[i]);
		free(node->rrsets[t].rdata);
		free(node->rrsets[t].rdlen);
	}
	free(node->cname);
	free(node);
}

/* Frees a zone; NULL-safe. */
void
spf_zone_free(struct spf_zone *zone)
{
	struct spf_zone_node *node, *next;
	size_t i;

	if (zone == NULL)
		return;
	for (i = 0; zone->buckets != NULL && i < zone->nbuckets; i++) {
		for (node = zone->buckets[i]; node != NULL; node = next) {
			next = node->next;
			spf_zone_node_free(node);
		}
	}
	free(zone->buckets);
	free(zone);
}

/*
 * Adds one record from presentation text.  Besides the types of spf.h,
 * TXT is accepted too: text becomes one record made of its 255-octet
 * pieces (a convenience; spf_zone_add_txt() gives full control).
 */
int
spf_zone_add(struct spf_zone *zone, const char *name, int type,
    const char *text)
{
	unsigned char buf[2 + ZONE_WIRE_MAX], *txt;
	size_t len, used = 0, cap;
	int n, rc;

	if (text == NULL)
		return -1;
	switch (type) {
	case SPF_RR_A:
		n = inet_pton(AF_INET, text, buf) == 1 ? 4 : -1;
		break;
	case SPF_RR_AAAA:
		n = inet_pton(AF_INET6, text, buf) == 1 ? 16 : -1;
		break;
	case SPF_RR_MX:
		n = spf_zone_mx_rdata(text, buf);
		break;
	case SPF_RR_PTR:
		n = spf_zone_wire_name(text, buf);
		break;
	case SPF_RR_TXT:
		len = strlen(text);
		cap = len + len / ZONE_STRING_MAX + 1;
		if (cap > ZONE_RDATA_MAX || (txt = malloc(cap)) == NULL)
			return -1;
		rc = spf_zone_txt_split(txt, cap, &used, text, len);
		if (rc == 0)
			rc = spf_zone_add_rdata(zone, name, type, txt, used);
		free(txt);
		return rc;
	default:
		return -1;
	}
	if (n == -1)
		return -1;
	return spf_zone_add_rdata(zone, name, type, buf, (size_t)n);
}

/* Adds a TXT record of nstrings character-strings (0 is allowed). */
int
spf_zone_add_txt(struct spf_zone *zone, const char *name,
    const char *const *strings, const size_t *lengths, int nstrings)
{
	unsigned char *rdata;
	size_t total = 0, off = 0, len;
	int i, rc;

	if (nstrings < 0 || (nstrings > 0 && strings == NULL))
		return -1;
	for (i = 0; i < nstrings; i++) {
		len = lengths ? lengths[i] : strlen(strings[i]);
		if (len > ZONE_STRING_MAX)
			return -1;
		total += len + 1;
	}
	if (total > ZONE_RDATA_MAX || (rdata = malloc(total + 1)) == NULL)
		return -1;
	for (i = 0; i < nstrings; i++) {
		len = lengths ? lengths[i] : strlen(strings[i]);
		rdata[off++] = (unsigned char)len;
		memcpy(rdata + off, strings[i], len);
		off += len;
	}
	rc = spf_zone_add_rdata(zone, name, SPF_RR_TXT, rdata, total);
	free(rdata);
	return rc;
}

/* Makes name an alias of target; fails if name already has records. */
int
spf_zone_add_cname(struct spf_zone *zone, const char *name,
    const char *target)
{
	char norm[ZONE_NAME_MAX + 1];
	struct spf_zone_node *node;
	int len, t;

	if ((len = spf_zone_name_normalize(target, norm)) == -1 ||
	    (node = spf_zone_node_get(zone, name)) == NULL ||
	    node->cname != NULL)
		return -1;
	for (t = 0; t < ZONE_NTYPES; t++)
		if (node->rrsets[t].count > 0)
			return -1;	/* CNAME and other data */
	if ((node->cname = malloc((size_t)len + 1)) == NULL)
		return -1;
	memcpy(node->cname, norm, (size_t)len + 1);
	node->cname_len = (size_t)len;
	node->cname_hash = spf_zone_hash(norm, (size_t)len);
	return 0;
}

/* Makes a name exist without records (NODATA instead of NXDOMAIN). */
int
spf_zone_add_name(struct spf_zone *zone, const char *name)
{
	return spf_zone_node_get(zone, name) == NULL ? -1 : 0;
}

/* Makes (name, type) fail; type 0 covers every type without records. */
int
spf_zone_add_failure(struct spf_zone *zone, const char *name, int type,
    enum spf_dns_status status)
{
	struct spf_zone_node *node;
	int idx = type == 0 ? 0 : spf_zone_type_index(type);

	if (idx == -1 || (status != SPF_DNS_TIMEOUT &&
	    status != SPF_DNS_SERVFAIL && status != SPF_DNS_BOGUS))
		return -1;
	if ((node = spf_zone_node_get(zone, name)) == NULL)
		return -1;
	if (type == 0)
		node->any_failure = status;
	else
		node->rrsets[idx].failure = status;
	return 0;
}

/* Sets whether answers claim DNSSEC validation. */
void
spf_zone_set_secure(struct spf_zone *zone, int secure)
{
	if (zone != NULL)
		zone->secure = secure != 0;
}

/*
 * Answering
 */

/* Fills a failure answer with a reason. */
static void
spf_zone_answer_fail(struct spf_dns_answer *ans, enum spf_dns_status status,
    const char *reason)
{
	memset(ans, 0, sizeof(*ans));
	ans->status = status;
	ans->reason = reason;
}

/* Reason text of a failure pseudo-record. */
static const char *
spf_zone_failure_reason(enum spf_dns_status status)
{
	switch (status) {
	case SPF_DNS_TIMEOUT:
		return "zone: TIMEOUT pseudo-record";
	case SPF_DNS_BOGUS:
		return "zone: BOGUS pseudo-record";
	default:
		return "zone: SERVFAIL pseudo-record";
	}
}

/*
 * Answers (name, type) from the zone into ans, following CNAMEs.
 * Returns -1 if name cannot be encoded in DNS.
 */
static int
spf_zone_answer(const struct spf_zone *zone, const char *name, int idx,
    struct spf_dns_answer *ans)
{
	const struct spf_zone_node *seen[ZONE_CNAME_MAX + 1];
	const struct spf_zone_node *node;
	const struct spf_zone_rrset *rr = NULL;
	char norm[ZONE_NAME_MAX + 1];
	int len, hops, i;

	if ((len = spf_zone_name_normalize(name, norm)) == -1)
		return -1;
	node = spf_zone_lookup(zone, norm, (size_t)len,
	    spf_zone_hash(norm, (size_t)len));
	memset(ans, 0, sizeof(*ans));
	ans->secure = zone->secure;
	for (hops = 0; node != NULL; hops++) {
		rr = &node->rrsets[idx];
		if (rr->failure != SPF_DNS_ANSWER) {
			spf_zone_answer_fail(ans, rr->failure,
			    spf_zone_failure_reason(rr->failure));
			return 0;
		}
		if (node->cname == NULL)
			break;
		seen[hops] = node;
		if (hops == ZONE_CNAME_MAX) {
			spf_zone_answer_fail(ans, SPF_DNS_SERVFAIL,
			    "zone: CNAME chain too long");
			return 0;
		}
		node = spf_zone_lookup(zone, node->cname, node->cname_len,
		    node->cname_hash);
		for (i = 0; node != NULL && i <= hops; i++) {
			if (seen[i] == node) {
				spf_zone_answer_fail(ans, SPF_DNS_SERVFAIL,
				    "zone: CNAME loop");
				return 0;
			}
		}
	}
	if (node == NULL) {
		ans->status = SPF_DNS_NXDOMAIN;
	} else if (rr->count > 0) {
		ans->status = SPF_DNS_ANSWER;
		ans->count = rr->count;
		ans->rdata = (const unsigned char *const *)rr->rdata;
		ans->rdlen = rr->rdlen;
	} else if (node->any_failure != SPF_DNS_ANSWER) {
		spf_zone_answer_fail(ans, node->any_failure,
		    spf_zone_failure_reason(node->any_failure));
	} else {
		ans->status = SPF_DNS_NODATA;
	}
	return 0;
}

/* spf_resolver_ops.query: answers synchronously, before returning. */
static int
spf_zone_resolver_query(struct spf_resolver *resolver, const char *name,
    enum spf_rrtype type, spf_dns_cb *cb, void *arg, uint64_t *query_id)
{
	struct spf_zone_resolver *zr = (struct spf_zone_resolver *)resolver;
	struct spf_dns_answer ans;
	int idx = spf_zone_type_index((int)type);

	if (zr == NULL || cb == NULL || idx == -1 ||
	    spf_zone_answer(zr->zone, name, idx, &ans) == -1)
		return -1;
	if (query_id != NULL)
		*query_id = ++zr->next_id;
	zr->queries++;
	/* Caution: cb may free anything but the resolver; touch nothing
	 * after it. */
	cb(arg, &ans);
	return 0;
}

/* spf_resolver_ops.cancel: answers are synchronous, nothing is pending. */
static void
spf_zone_resolver_cancel(struct spf_resolver *resolver, uint64_t query_id)
{
	(void)resolver;
	(void)query_id;
}

/* spf_resolver_ops.free: releases the resolver, not the zone. */
static void
spf_zone_resolver_free(struct spf_resolver *resolver)
{
	free(resolver);
}

static const struct spf_resolver_ops spf_zone_resolver_ops = {
	spf_zone_resolver_query,
	spf_zone_resolver_cancel,
	spf_zone_resolver_free
};

/* Creates a resolver answering from zone (borrowed). */
struct spf_resolver *
spf_zone_resolver_new(struct spf_zone *zone)
{
	struct spf_zone_resolver *zr;

	if (zone == NULL || (zr = calloc(1, sizeof(*zr))) == NULL)
		return NULL;
	zr->base.ops = &spf_zone_resolver_ops;
	zr->zone = zone;
	return &zr->base;
}

/* Number of questions answered so far. */
unsigned long
spf_zone_resolver_queries(const struct spf_resolver *resolver)
{
	const struct spf_zone_resolver *zr;

	if (resolver == NULL || resolver->ops != &spf_zone_resolver_ops)
		return 0;
	zr = (const struct spf_zone_resolver *)resolver;
	return zr->queries;
}

/*
 * Zone files
 *
 *	# comment
 *	name  TYPE  value
 *
 * name and TYPE are whitespace-free tokens; TYPE is case-insensitive.
 * Values: A/AAAA an address, PTR/CNAME a name, MX "PREF NAME", TXT one or
 * more double-quoted strings (\" \\ \DDD and \X escapes; a string longer
 * than 255 octets is split into 255-octet character-strings, as the suite
 * convention does), TIMEOUT/SERVFAIL/BOGUS a type name or ANY.  '#' starts
 * a comment outside quotes.  Lines are at most ZONE_LINE_MAX octets and
 * may not hold NUL (use \000).
 */

/* State of one zone file load. */
struct spf_zone_loader {
	struct spf_zone *zone;
	const char	*path;
	unsigned long	 line;
	char		*err;
	size_t		 errlen;
	char		*buf;		/* ZONE_LINE_MAX + 1 */
	unsigned char	*rdata;		/* ZONE_RDATA_MAX */
};

/* Writes "FILE:LINE: message" to the caller's error buffer; returns -1. */
static int __attribute__((format(printf, 2, 3)))
spf_zone_load_error(struct spf_zone_loader *ld, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	/* A cut message is still a useful message: truncation is accepted. */
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ld->err != NULL && ld->errlen > 0)
		(void)snprintf(ld->err, ld->errlen, "%s:%lu: %s", ld->path,
		    ld->line, msg);
	return -1;
}

/*
 * Reads one line (without its LF, and without a CR before it) into
 * ld->buf.  Returns 1 for a line, 0 at end of file, -1 on error (message
 * written).
 */
static int
spf_zone_read_line(struct spf_zone_loader *ld, FILE *fp, size_t *lenp)
{
	size_t len = 0;
	int c;

	ld->line++;
	while ((c = getc(fp)) != EOF && c != '\n') {
		if (c == '\0')
			return spf_zone_load_error(ld, "NUL byte in line");
		if (len == ZONE_LINE_MAX)
			return spf_zone_load_error(ld,
			    "line longer than %d octets", ZONE_LINE_MAX);
		ld->buf[len++] = (char)c;
	}
	if (ferror(fp))
		return spf_zone_load_error(ld, "read error: %s",
		    strerror(errno));
	if (c == EOF && len == 0)
		return 0;
	if (len > 0 && ld->buf[len - 1] == '\r')
		len--;
	ld->buf[len] = '\0';
	*lenp = len;
	return 1;
}

/* Skips blanks; returns 1 if something other than a comment follows. */
static int
spf_zone_skip(char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
	return **p != '\0' && **p != '#';
}

/* Cuts the next whitespace-delimited token out of *p; NULL if none. */
static char *
spf_zone_token(char **p)
{
	char *tok;

	if (!spf_zone_skip(p))
		return NULL;
	tok = *p;
	while (**p != '\0' && **p != ' ' && **p != '\t')
		(*p)++;
	if (**p != '\0')
		*(*p)++ = '\0';
	return tok;
}

/* Decodes one backslash escape at *p (after the backslash) into *out. */
static int
spf_zone_unescape(struct spf_zone_loader *ld, char **p, char *out)
{
	int v, i;

	if (isdigit((unsigned char)**p)) {
		for (v = 0, i = 0; i < 3; i++) {
			if (!isdigit((unsigned char)(*p)[i]))
				return spf_zone_load_error(ld,
				    "\\DDD escape needs three digits");
			v = v * 10 + ((*p)[i] - '0');
		}
		if (v > 255)
			return spf_zone_load_error(ld,
			    "\\%.3s escape above 255", *p);
		*out = (char)v;
		*p += 3;
		return 0;
	}
	if (**p == '\0')
		return spf_zone_load_error(ld, "backslash at end of line");
	*out = *(*p)++;
	return 0;
}

/*
 * Parses one double-quoted string at *p, unescaping it in place (the
 * result is never longer than the source).  Returns its length or -1.
 */
static long
spf_zone_quoted(struct spf_zone_loader *ld, char **p, char **start)
{
	char *out;

	if (**p != '"')
		return spf_zone_load_error(ld,
		    "TXT value must be quoted strings");
	*start = out = ++(*p);
	while (**p != '"') {
		if (**p == '\0')
			return spf_zone_load_error(ld, "unterminated string");
		if (**p == '\\') {
			(*p)++;
			if (spf_zone_unescape(ld, p, out++) == -1)
				return -1;
		} else
			*out++ = *(*p)++;
	}
	(*p)++;
	if (**p != '\0' && **p != ' ' && **p != '\t')
		return spf_zone_load_error(ld, "junk after closing quote");
	return (long)(out - *start);
}

/* Parses the TXT value at p and adds it as one record. */
static int
spf_zone_load_txt(struct spf_zone_loader *ld, const char *name, char *p)
{
	size_t used = 0;
	char *s = NULL;
	long n;

	if (!spf_zone_skip(&p))
		return spf_zone_load_error(ld, "TXT needs at least one string");
	while (spf_zone_skip(&p)) {
		if ((n = spf_zone_quoted(ld, &p, &s)) == -1)
			return -1;
		if (spf_zone_txt_split(ld->rdata, ZONE_RDATA_MAX, &used, s,
		    (size_t)n) == -1)
			return spf_zone_load_error(ld,
			    "TXT record above %d octets", ZONE_RDATA_MAX);
	}
	if (spf_zone_add_rdata(ld->zone, name, SPF_RR_TXT, ld->rdata,
	    used) == -1)
		return spf_zone_load_error(ld, "cannot add TXT to \"%s\"",
		    name);
	return 0;
}

/* Maps a type name (A, AAAA, MX, PTR, TXT; ANY if any_ok) to its number. */
static int
spf_zone_type_parse(const char *s, int any_ok)
{
	static const struct {
		const char *name;
		int type;
	} types[] = {
		{ "A", SPF_RR_A }, { "AAAA", SPF_RR_AAAA }, { "MX", SPF_RR_MX },
		{ "PTR", SPF_RR_PTR }, { "TXT", SPF_RR_TXT }, { "ANY", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0 &&
		    (types[i].type != 0 || any_ok))
			return types[i].type;
	return -1;
}

/* Maps a pseudo-type name to its failure status, or SPF_DNS_ANSWER. */
static enum spf_dns_status
spf_zone_pseudo_parse(const char *s)
{
	if (strcasecmp(s, "TIMEOUT") == 0)
		return SPF_DNS_TIMEOUT;
	if (strcasecmp(s, "SERVFAIL") == 0)
		return SPF_DNS_SERVFAIL;
	if (strcasecmp(s, "BOGUS") == 0)
		return SPF_DNS_BOGUS;
	return SPF_DNS_ANSWER;
}

/* Parses a pseudo-record value (a type or ANY) and adds the failure. */
static int
spf_zone_load_failure(struct spf_zone_loader *ld, const char *name,
    enum spf_dns_status status, char *p)
{
	char *value = spf_zone_token(&p);
	int type;

	if (value == NULL)
		return spf_zone_load_error(ld,
		    "missing type (A, AAAA, MX, PTR, TXT or ANY)");
	if ((type = spf_zone_type_parse(value, 1)) == -1)
		return spf_zone_load_error(ld, "unknown type \"%s\"", value);
	if (spf_zone_skip(&p))
		return spf_zone_load_error(ld, "junk after value");
	if (spf_zone_add_failure(ld->zone, name, type, status) == -1)
		return spf_zone_load_error(ld, "bad name \"%s\"", name);
	return 0;
}

/* Parses a one-value record (A, AAAA, PTR, CNAME, MX) and adds it. */
static int
spf_zone_load_simple(struct spf_zone_loader *ld, const char *name,
    const char *typestr, char *p)
{
	char *value = spf_zone_token(&p), *exch, mx[ZONE_NAME_MAX + 16];
	int rc, type;

	if (value == NULL)
		return spf_zone_load_error(ld, "missing value");
	if (strcasecmp(typestr, "MX") == 0) {
		if ((exch = spf_zone_token(&p)) == NULL)
			return spf_zone_load_error(ld, "MX needs PREF NAME");
		rc = snprintf(mx, sizeof(mx), "%s %s", value, exch);
		if (rc < 0 || (size_t)rc >= sizeof(mx))
			return spf_zone_load_error(ld, "MX value too long");
		value = mx;
	}
	if (spf_zone_skip(&p))
		return spf_zone_load_error(ld, "junk after value");
	if (strcasecmp(typestr, "CNAME") == 0) {
		if (spf_zone_add_cname(ld->zone, name, value) == -1)
			return spf_zone_load_error(ld, "bad CNAME (invalid "
			    "name, or CNAME and other data at \"%s\")", name);
		return 0;
	}
	type = spf_zone_type_parse(typestr, 0);
	if (type == -1 || type == SPF_RR_TXT)
		return spf_zone_load_error(ld, "unknown type \"%s\"", typestr);
	if (spf_zone_add(ld->zone, name, type, value) == -1)
		return spf_zone_load_error(ld,
		    "bad %s record \"%s\" for \"%s\"", typestr, value, name);
	return 0;
}

/* Parses one line of a zone file. */
static int
spf_zone_load_line(struct spf_zone_loader *ld)
{
	char *p = ld->buf, *name, *type;
	enum spf_dns_status status;

	if ((name = spf_zone_token(&p)) == NULL)
		return 0;	/* blank or comment */
	if ((type = spf_zone_token(&p)) == NULL)
		return spf_zone_load_error(ld, "missing type");
	if (spf_zone_node_get(ld->zone, name) == NULL)
		return spf_zone_load_error(ld, "bad name \"%s\"", name);
	if (strcasecmp(type, "TXT") == 0)
		return spf_zone_load_txt(ld, name, p);
	if ((status = spf_zone_pseudo_parse(type)) != SPF_DNS_ANSWER)
		return spf_zone_load_failure(ld, name, status, p);
	return spf_zone_load_simple(ld, name, type, p);
}

/* Loads a zone file into zone; on error writes "FILE:LINE: message". */
int
spf_zone_load(struct spf_zone *zone, const char *path, char *err,
    size_t errlen)
{
	struct spf_zone_loader ld;
	FILE *fp = NULL;
	size_t len;
	int rc = -1, r;

	memset(&ld, 0, sizeof(ld));
	ld.zone = zone;
	ld.path = path ? path : "(null)";
	ld.err = err;
	ld.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (zone == NULL || path == NULL) {
		spf_zone_load_error(&ld, "no zone or no path");
		goto fail;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		spf_zone_load_error(&ld, "cannot open: %s", strerror(errno));
		goto fail;
	}
	ld.buf = malloc(ZONE_LINE_MAX + 1);
	ld.rdata = malloc(ZONE_RDATA_MAX);
	if (ld.buf == NULL || ld.rdata == NULL) {
		spf_zone_load_error(&ld, "out of memory");
		goto fail;
	}
	while ((r = spf_zone_read_line(&ld, fp, &len)) == 1)
		if (spf_zone_load_line(&ld) == -1)
			goto fail;
	if (r == 0)
		rc = 0;
fail:
	free(ld.buf);
	free(ld.rdata);
	if (fp != NULL)
		fclose(fp);
	return rc;
}
