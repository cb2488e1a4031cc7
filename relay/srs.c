/*
 * srs.c - SRS0/SRS1 rewriting and reversal, and the secrets file (see
 * srs.h for the contract, docs/srs.md for the format).
 *
 * Compatibility notes, checked against Mail::SRS 0.31 (Guarded, its
 * default) and PostSRSd (libsrs2's srs2.c):
 *   - The HMAC input is the plain concatenation of the fields, each
 *     ASCII-lower-cased (Perl's lc on byte strings, libsrs2's tolower in
 *     the C locale): SRS0 signs (timestamp, domain, user), SRS1 signs
 *     (first-hop domain, rest of the SRS0 local part after "SRS0").
 *   - The hash text is standard base64 without padding, cut to
 *     hash_length.  On reversal both implementations accept a hash in
 *     another case (PostSRSd always, Mail::SRS after an exact try); so do
 *     we, and also the URL-safe alphabet newer PostSRSd releases write.
 *     Mail::SRS verifies every character given when the hash is at least
 *     HashMin (= HashLength) long; PostSRSd compares only the first
 *     hash_length characters.  We take Mail::SRS's stricter rule.
 *   - Timestamps: both decode two base32 characters case-insensitively
 *     and accept (today - stamp) mod 1024 <= max age.  Same here.
 *   - Fields are split at the first '=' signs: the user, last, keeps any
 *     '=' of its own.  An address is split at its last '@'.
 *
 * Everything here is pure computation but srs_load_secrets(), which
 * reads one file.  Secret bytes are wiped (OPENSSL_cleanse) before their
 * memory is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "relay/srs.h"

#define SRS_DAY 86400		/* seconds per timestamp tick */
#define SRS_CYCLE 1024		/* timestamps repeat after 32 * 32 days */
#define SRS_DIGEST_LEN 20	/* HMAC-SHA1 */
#define SRS_B64_LEN 28		/* EVP_EncodeBlock of 20 bytes, one '=' */
#define SRS_READ_RETRIES 100	/* EINTRs tolerated while reading a file */

struct srs {
	char **secrets;		/* nsecrets NUL-terminated copies; [0] signs */
	int nsecrets;
	int hash_length;	/* SRS_HASH_MIN .. SRS_HASH_MAX */
	int max_age;		/* days, 1 .. SRS_MAX_AGE_MAX */
	char separator;		/* '=', '+' or '-' after SRS0/SRS1 */
};

/* A piece of a string: pointer and length, not NUL-terminated. */
struct srs_span {
	const char *p;
	size_t n;
};

enum srs_tag {
	SRS_TAG_NONE = 0,
	SRS_TAG_0,
	SRS_TAG_1
};

static const char srs_base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Writes a reason into why (a message: truncation is harmless there). */
static void __attribute__((format(printf, 3, 4)))
srs_say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* ASCII lower case, whatever the locale; other bytes unchanged. */
static char
srs_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* 1 if c may follow the SRS0/SRS1 tag. */
static int
srs_is_separator(char c)
{
	return c == '=' || c == '+' || c == '-';
}

/* 1 if span equals s, ASCII case-insensitively. */
static int
srs_span_eq_nocase(struct srs_span span, const char *s)
{
	size_t i;

	if (strlen(s) != span.n)
		return 0;
	for (i = 0; i < span.n; i++)
		if (srs_lower(span.p[i]) != srs_lower(s[i]))
			return 0;
	return 1;
}

/* Which SRS tag s starts with ("SRS0=", "srs1+", ...). */
static enum srs_tag
srs_tag_of(const char *s, size_t n)
{
	if (n < 5 || srs_lower(s[0]) != 's' || srs_lower(s[1]) != 'r' ||
	    srs_lower(s[2]) != 's' || !srs_is_separator(s[4]))
		return SRS_TAG_NONE;
	if (s[3] == '0')
		return SRS_TAG_0;
	if (s[3] == '1')
		return SRS_TAG_1;
	return SRS_TAG_NONE;
}

/* 1 if s starts with an SRS0/SRS1 tag and separator (srs.h). */
int
srs_is_srs(const char *s)
{
	return s != NULL && srs_tag_of(s, strnlen(s, 5)) != SRS_TAG_NONE;
}

/* Cuts the field before the next '=' off the front of rest; -1 if none. */
static int
srs_cut(struct srs_span *rest, struct srs_span *field)
{
	const char *eq = memchr(rest->p, '=', rest->n);

	if (eq == NULL)
		return -1;
	field->p = rest->p;
	field->n = (size_t)(eq - rest->p);
	rest->n -= field->n + 1;
	rest->p = eq + 1;
	return 0;
}

/* 1 if s[0..n) holds a space, a control character or DEL. */
static int
srs_has_control(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return 1;
	return 0;
}

/*
 * Splits addr (length n) at its last '@' into local and domain; -1 with a
 * reason if it has no '@' or an empty side.
 */
static int
srs_split(const char *addr, size_t n, struct srs_span *local,
    struct srs_span *domain, char *why, size_t whylen)
{
	const char *at = memrchr(addr, '@', n);

	if (at == NULL) {
		srs_say(why, whylen, "'%s' has no @", addr);
		return -1;
	}
	local->p = addr;
	local->n = (size_t)(at - addr);
	domain->p = at + 1;
	domain->n = n - local->n - 1;
	if (local->n == 0 || domain->n == 0) {
		srs_say(why, whylen, "'%s' has an empty %s", addr,
		    local->n == 0 ? "local part" : "domain");
		return -1;
	}
	return 0;
}

/* Checks an input address's size and bytes; its length, or -1. */
static long
srs_check_input(const char *addr, char *why, size_t whylen)
{
	size_t n = strnlen(addr, SRS_ADDR_MAX + 1);

	if (n > SRS_ADDR_MAX) {
		srs_say(why, whylen, "address longer than %d bytes",
		    SRS_ADDR_MAX);
		return -1;
	}
	if (srs_has_control(addr, n)) {
		srs_say(why, whylen, "address holds a space or a control "
		    "character");
		return -1;
	}
	return (long)n;
}

/* Formats the result into out; SRS_OK, or SRS_ERROR if it did not fit. */
static int __attribute__((format(printf, 5, 6)))
srs_print(char *out, size_t outlen, char *why, size_t whylen,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		srs_say(why, whylen, "result longer than %zu bytes",
		    outlen > 0 ? outlen - 1 : 0);
		return SRS_ERROR;
	}
	return SRS_OK;
}

/*
 * The whole base64 text (standard alphabet, SRS_HASH_MAX characters, no
 * padding) of secret i's HMAC-SHA1 over the lower-cased concatenation of
 * the fields.  0, or -1 if the fields are too long or OpenSSL fails.
 */
static int
srs_hash_text(const struct srs *srs, int i, const struct srs_span *f,
    int nf, char out[SRS_HASH_MAX + 1])
{
	unsigned char data[SRS_ADDR_MAX + 8], md[SRS_DIGEST_LEN];
	unsigned char b64[SRS_B64_LEN + 1];
	unsigned int mdlen = 0;
	size_t n = 0, j;
	int k;

	for (k = 0; k < nf; k++) {
		if (f[k].n > sizeof(data) - n)
			return -1;
		for (j = 0; j < f[k].n; j++)
			data[n++] = (unsigned char)srs_lower(f[k].p[j]);
	}
	if (HMAC(EVP_sha1(), srs->secrets[i], (int)strlen(srs->secrets[i]),
	    data, n, md, &mdlen) == NULL || mdlen != SRS_DIGEST_LEN)
		return -1;
	if (EVP_EncodeBlock(b64, md, SRS_DIGEST_LEN) != SRS_B64_LEN)
		return -1;
	memcpy(out, b64, SRS_HASH_MAX);
	out[SRS_HASH_MAX] = '\0';
	return 0;
}

/* The hash a new address carries: hash_length characters, first secret. */
static int
srs_sign(const struct srs *srs, const struct srs_span *f, int nf,
    char out[SRS_HASH_MAX + 1], char *why, size_t whylen)
{
	if (srs_hash_text(srs, 0, f, nf, out) < 0) {
		srs_say(why, whylen, "cannot compute the HMAC");
		return -1;
	}
	out[srs->hash_length] = '\0';
	return 0;
}

/*
 * Folds a hash character for comparison: case and alphabet (URL-safe '-'
 * and '_' are standard '+' and '/').  0 if c is no base64 character.
 */
static char
srs_hash_fold(char c)
{
	if (c >= 'A' && c <= 'Z')
		return srs_lower(c);
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	    c == '/')
		return c;
	if (c == '-')
		return '+';
	if (c == '_')
		return '/';
	return 0;
}

/*
 * Verifies hash over the fields with every secret; 0 if one matches, -1
 * with a reason.  Every character given is compared, in constant time,
 * and every secret is tried (no early exit).
 */
static int
srs_hash_check(const struct srs *srs, struct srs_span hash,
    const struct srs_span *f, int nf, char *why, size_t whylen)
{
	char given[SRS_HASH_MAX], want[SRS_HASH_MAX + 1];
	size_t j;
	int i, ok = 0;

	if (hash.n < (size_t)srs->hash_length || hash.n > SRS_HASH_MAX) {
		srs_say(why, whylen, "hash has %zu characters, expected %d to "
		    "%d", hash.n, srs->hash_length, SRS_HASH_MAX);
		return -1;
	}
	for (j = 0; j < hash.n; j++)
		if ((given[j] = srs_hash_fold(hash.p[j])) == 0) {
			srs_say(why, whylen, "hash holds a character outside "
			    "base64");
			return -1;
		}
	for (i = 0; i < srs->nsecrets; i++) {
		if (srs_hash_text(srs, i, f, nf, want) < 0) {
			srs_say(why, whylen, "cannot compute the HMAC");
			return -1;
		}
		for (j = 0; j < hash.n; j++)
			want[j] = srs_hash_fold(want[j]);
		ok |= CRYPTO_memcmp(given, want, hash.n) == 0;
	}
	OPENSSL_cleanse(want, sizeof(want));
	if (!ok) {
		srs_say(why, whylen, "hash does not verify (tampered address "
		    "or unknown secret)");
		return -1;
	}
	return 0;
}

/* Today's timestamp: the day number modulo 1024 as two base32 letters. */
static void
srs_stamp_make(time_t now, char out[3])
{
	long long day = (long long)(now / SRS_DAY);

	out[0] = srs_base32[(day >> 5) & 31];
	out[1] = srs_base32[day & 31];
	out[2] = '\0';
}

/* Value of a base32 timestamp character in either case; -1 if none. */
static int
srs_base32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/*
 * Checks a timestamp against now: its age, (today - stamp) modulo 1024,
 * must be at most max_age.  Since max_age < 512, an age of 512 or more
 * reads as a stamp from the future.  0, or -1 with a reason.
 */
static int
srs_stamp_check(const struct srs *srs, struct srs_span stamp, time_t now,
    char *why, size_t whylen)
{
	int hi, lo, then, today, age;

	hi = stamp.n == 2 ? srs_base32_value(stamp.p[0]) : -1;
	lo = stamp.n == 2 ? srs_base32_value(stamp.p[1]) : -1;
	if (hi < 0 || lo < 0) {
		srs_say(why, whylen, "timestamp is not two base32 characters");
		return -1;
	}
	then = hi * 32 + lo;
	today = (int)((long long)(now / SRS_DAY) % SRS_CYCLE);
	age = (today - then + SRS_CYCLE) % SRS_CYCLE;
	if (age <= srs->max_age)
		return 0;
	if (age > SRS_MAX_AGE_MAX)
		srs_say(why, whylen, "timestamp is %d day(s) in the future",
		    SRS_CYCLE - age);
	else
		srs_say(why, whylen, "address expired: %d days old, max age "
		    "%d", age, srs->max_age);
	return -1;
}

/* Wipes and frees an array of n secrets (NULL-safe). */
static void
srs_wipe(char **v, int n)
{
	int i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		if (v[i] != NULL) {
			OPENSSL_cleanse(v[i], strlen(v[i]));
			free(v[i]);
		}
	free(v);
}

/* Checks srs_new()'s numbers; 0, or -1 with a reason. */
static int
srs_check_params(int nsecrets, int hash_length, int max_age_days,
    char separator, char *why, size_t whylen)
{
	if (nsecrets < 1 || nsecrets > SRS_SECRETS_MAX) {
		srs_say(why, whylen, "need 1 to %d secrets, got %d",
		    SRS_SECRETS_MAX, nsecrets);
		return -1;
	}
	if (hash_length < SRS_HASH_MIN || hash_length > SRS_HASH_MAX) {
		srs_say(why, whylen, "hash length %d is out of range (%d..%d)",
		    hash_length, SRS_HASH_MIN, SRS_HASH_MAX);
		return -1;
	}
	if (max_age_days < 1 || max_age_days > SRS_MAX_AGE_MAX) {
		srs_say(why, whylen, "max age %d days is out of range (1..%d)",
		    max_age_days, SRS_MAX_AGE_MAX);
		return -1;
	}
	if (!srs_is_separator(separator)) {
		srs_say(why, whylen, "separator must be =, + or -");
		return -1;
	}
	return 0;
}

/* Checks the parameters and copies the secrets (srs.h). */
struct srs *
srs_new(const char *const *secrets, int nsecrets, int hash_length,
    int max_age_days, char separator, char *why, size_t whylen)
{
	struct srs *srs = NULL;
	int i;

	if (secrets == NULL || srs_check_params(nsecrets, hash_length,
	    max_age_days, separator, why, whylen) < 0)
		goto fail;
	if ((srs = calloc(1, sizeof(*srs))) == NULL ||
	    (srs->secrets = calloc((size_t)nsecrets, sizeof(char *))) == NULL)
		goto oom;
	srs->nsecrets = nsecrets;
	for (i = 0; i < nsecrets; i++) {
		if (secrets[i] == NULL || secrets[i][0] == '\0' ||
		    strnlen(secrets[i], SRS_SECRET_LINE_MAX + 1) >
		    SRS_SECRET_LINE_MAX) {
			srs_say(why, whylen, "secret %d is empty or longer "
			    "than %d bytes", i + 1, SRS_SECRET_LINE_MAX);
			goto fail;
		}
		if ((srs->secrets[i] = strdup(secrets[i])) == NULL)
			goto oom;
	}
	srs->hash_length = hash_length;
	srs->max_age = max_age_days;
	srs->separator = separator;
	return srs;
oom:
	srs_say(why, whylen, "out of memory");
fail:
	srs_free(srs);
	return NULL;
}

/* Wipes the secrets, frees the rewriter (NULL-safe). */
void
srs_free(struct srs *srs)
{
	if (srs == NULL)
		return;
	srs_wipe(srs->secrets, srs->nsecrets);
	free(srs);
}

/* user@domain -> SRS0=HASH=TT=domain=user@bounce. */
static int
srs_forward_plain(const struct srs *srs, struct srs_span local,
    struct srs_span domain, const char *bounce, time_t now, char *out,
    size_t outlen, char *why, size_t whylen)
{
	char stamp[3], hash[SRS_HASH_MAX + 1];
	struct srs_span f[3];

	srs_stamp_make(now, stamp);
	f[0] = (struct srs_span){ stamp, 2 };
	f[1] = domain;
	f[2] = local;
	if (srs_sign(srs, f, 3, hash, why, whylen) < 0)
		return SRS_ERROR;
	return srs_print(out, outlen, why, whylen, "SRS0%c%s=%s=%.*s=%.*s@%s",
	    srs->separator, hash, stamp, (int)domain.n, domain.p,
	    (int)local.n, local.p, bounce);
}

/* Signs (host, user) into SRS1=HASH=host=user@bounce. */
static int
srs_forward_wrap(const struct srs *srs, struct srs_span host,
    struct srs_span user, const char *bounce, char *out, size_t outlen,
    char *why, size_t whylen)
{
	char hash[SRS_HASH_MAX + 1];
	struct srs_span f[2];

	f[0] = host;
	f[1] = user;
	if (srs_sign(srs, f, 2, hash, why, whylen) < 0)
		return SRS_ERROR;
	return srs_print(out, outlen, why, whylen, "SRS1%c%s=%.*s=%.*s@%s",
	    srs->separator, hash, (int)host.n, host.p, (int)user.n, user.p,
	    bounce);
}

/*
 * SRS1=hash=host=user@fw2 -> SRS1=HASH=host=user@bounce (the first hop
 * stays; its hash is not ours to check).  A malformed one is wrapped in
 * SRS0 like a plain address.
 */
static int
srs_forward_srs1(const struct srs *srs, struct srs_span local,
    struct srs_span domain, const char *bounce, time_t now, char *out,
    size_t outlen, char *why, size_t whylen)
{
	struct srs_span rest = { local.p + 5, local.n - 5 }, hash, host;

	if (srs_cut(&rest, &hash) < 0 || srs_cut(&rest, &host) < 0 ||
	    host.n == 0 || rest.n == 0)
		return srs_forward_plain(srs, local, domain, bounce, now, out,
		    outlen, why, whylen);
	return srs_forward_wrap(srs, host, rest, bounce, out, outlen, why,
	    whylen);
}

/* Checks the bounce domain: non-empty, no '@', '=' or control bytes. */
static int
srs_check_bounce(const char *bounce, char *why, size_t whylen)
{
	size_t n = strnlen(bounce, SRS_ADDR_MAX + 1);

	if (n == 0 || n > SRS_ADDR_MAX || srs_has_control(bounce, n) ||
	    memchr(bounce, '@', n) != NULL || memchr(bounce, '=', n) != NULL) {
		srs_say(why, whylen, "invalid bounce domain '%.*s'",
		    (int)(n > 255 ? 255 : n), bounce);
		return -1;
	}
	return 0;
}

/*
 * Splits a non-empty sender into local part and domain; -1 with a reason
 * unless it is one local part, one @ and a domain without '='.
 */
static int
srs_parse_sender(const char *sender, size_t n, struct srs_span *local,
    struct srs_span *domain, char *why, size_t whylen)
{
	if (srs_split(sender, n, local, domain, why, whylen) < 0)
		return -1;
	if (memchr(local->p, '@', local->n) != NULL ||
	    memchr(domain->p, '=', domain->n) != NULL) {
		srs_say(why, whylen, "'%s' has more than one @ or an = in its "
		    "domain", sender);
		return -1;
	}
	return 0;
}

/* Rewrites a sender into SRS0/SRS1 at bounce_domain (srs.h). */
int
srs_forward(const struct srs *srs, const char *sender,
    const char *bounce_domain, time_t now, char *out, size_t outlen,
    char *why, size_t whylen)
{
	struct srs_span local, domain;
	long n;

	if (srs == NULL || sender == NULL || bounce_domain == NULL ||
	    out == NULL || outlen == 0 || now < 0) {
		srs_say(why, whylen, "bad argument");
		return SRS_ERROR;
	}
	if (srs_check_bounce(bounce_domain, why, whylen) < 0 ||
	    (n = srs_check_input(sender, why, whylen)) < 0 ||
	    (n > 0 && srs_parse_sender(sender, (size_t)n, &local, &domain,
	    why, whylen) < 0))
		return SRS_ERROR;
	if (n == 0 || srs_span_eq_nocase(domain, bounce_domain))
		return srs_print(out, outlen, why, whylen, "%s", sender) ==
		    SRS_OK ? SRS_UNCHANGED : SRS_ERROR;
	switch (srs_tag_of(local.p, local.n)) {
	case SRS_TAG_1:
		return srs_forward_srs1(srs, local, domain, bounce_domain, now,
		    out, outlen, why, whylen);
	case SRS_TAG_0:
		/* "SRS0" goes, its separator stays: SRS1=H=domain==hash=... */
		return srs_forward_wrap(srs, domain, (struct srs_span){
		    local.p + 4, local.n - 4 }, bounce_domain, out, outlen,
		    why, whylen);
	case SRS_TAG_NONE:
		break;
	}
	return srs_forward_plain(srs, local, domain, bounce_domain, now, out,
	    outlen, why, whylen);
}

/* SRS0=HASH=TT=host=user -> user@host, hash and timestamp checked. */
static int
srs_reverse0(const struct srs *srs, struct srs_span local, time_t now,
    char *out, size_t outlen, char *why, size_t whylen)
{
	struct srs_span rest = { local.p + 5, local.n - 5 }, f[3], hash;

	if (srs_cut(&rest, &hash) < 0 || srs_cut(&rest, &f[0]) < 0 ||
	    srs_cut(&rest, &f[1]) < 0 || hash.n == 0 || f[0].n == 0 ||
	    f[1].n == 0 || rest.n == 0) {
		srs_say(why, whylen, "malformed SRS0 address (expected "
		    "SRS0=HASH=TT=DOMAIN=USER)");
		return SRS_ERROR;
	}
	f[2] = rest;
	if (srs_hash_check(srs, hash, f, 3, why, whylen) < 0 ||
	    srs_stamp_check(srs, f[0], now, why, whylen) < 0)
		return SRS_ERROR;
	return srs_print(out, outlen, why, whylen, "%.*s@%.*s", (int)f[2].n,
	    f[2].p, (int)f[1].n, f[1].p);
}

/* SRS1=HASH=host=rest -> SRS0rest@host, hash checked. */
static int
srs_reverse1(const struct srs *srs, struct srs_span local, char *out,
    size_t outlen, char *why, size_t whylen)
{
	struct srs_span rest = { local.p + 5, local.n - 5 }, f[2], hash;

	if (srs_cut(&rest, &hash) < 0 || srs_cut(&rest, &f[0]) < 0 ||
	    hash.n == 0 || f[0].n == 0 || rest.n == 0) {
		srs_say(why, whylen, "malformed SRS1 address (expected "
		    "SRS1=HASH=DOMAIN=SRS0-PART)");
		return SRS_ERROR;
	}
	f[1] = rest;
	if (srs_hash_check(srs, hash, f, 2, why, whylen) < 0)
		return SRS_ERROR;
	return srs_print(out, outlen, why, whylen, "SRS0%.*s@%.*s",
	    (int)f[1].n, f[1].p, (int)f[0].n, f[0].p);
}

/* Undoes one SRS step after checking hash and timestamp (srs.h). */
int
srs_reverse(const struct srs *srs, const char *addr, time_t now,
    char *out, size_t outlen, char *why, size_t whylen)
{
	struct srs_span local, domain;
	long n;

	if (srs == NULL || addr == NULL || out == NULL || outlen == 0 ||
	    now < 0) {
		srs_say(why, whylen, "bad argument");
		return SRS_ERROR;
	}
	if (!srs_is_srs(addr))
		return SRS_NOT_SRS;
	if ((n = srs_check_input(addr, why, whylen)) < 0 ||
	    srs_split(addr, (size_t)n, &local, &domain, why, whylen) < 0)
		return SRS_ERROR;
	if (srs_tag_of(local.p, local.n) == SRS_TAG_0)
		return srs_reverse0(srs, local, now, out, outlen, why, whylen);
	return srs_reverse1(srs, local, out, outlen, why, whylen);
}

/*
 * Opens path for reading and checks it is a regular file that others can
 * neither read nor write, of at most SRS_SECRETS_FILE_MAX bytes.  The
 * descriptor, or -1 with a reason; *size gets the file's size.
 */
static int
srs_open_secrets(const char *path, size_t *size, char *why, size_t whylen)
{
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO must not hang us before fstat() tells. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		srs_say(why, whylen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		srs_say(why, whylen, "%s is not a regular file", path);
	else if (st.st_mode & (S_IROTH | S_IWOTH))
		srs_say(why, whylen, "%s is readable or writable by other "
		    "users (mode %04o): run chmod o-rw on it", path,
		    (unsigned)(st.st_mode & 07777));
	else if (st.st_size > SRS_SECRETS_FILE_MAX)
		srs_say(why, whylen, "%s is larger than %d bytes", path,
		    SRS_SECRETS_FILE_MAX);
	else {
		*size = (size_t)st.st_size;
		return fd;
	}
	close(fd);
	return -1;
}

/* Reads up to cap bytes from fd into buf; the count, or -1 (errno). */
static long
srs_read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t r;
	int tries = 0;

	while (got < cap) {
		r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR && ++tries < SRS_READ_RETRIES)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long)got;
}

/*
 * Reads the whole of a secrets file (see srs_open_secrets()) into a new
 * NUL-terminated buffer; 0, or -1 with a reason.
 */
static int
srs_read_file(const char *path, char **buf, size_t *len, char *why,
    size_t whylen)
{
	size_t size = 0;
	long got = -1;
	int fd;

	*buf = NULL;
	if ((fd = srs_open_secrets(path, &size, why, whylen)) < 0)
		return -1;
	/* One byte more than fstat() said shows a file that grew. */
	if ((*buf = malloc(size + 2)) == NULL)
		srs_say(why, whylen, "out of memory");
	else if ((got = srs_read_all(fd, *buf, size + 1)) < 0)
		srs_say(why, whylen, "cannot read %s: %s", path,
		    strerror(errno));
	else if ((size_t)got > size)
		srs_say(why, whylen, "%s changed while being read", path);
	else {
		(*buf)[got] = '\0';
		*len = (size_t)got;
		close(fd);
		return 0;
	}
	if (*buf != NULL) {
		OPENSSL_cleanse(*buf, size + 2);
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return -1;
}

/* 1 if s[0..n) is only spaces and tabs. */
static int
srs_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* Checks one line of a secrets file; 0, or -1 with a reason. */
static int
srs_check_line(const char *path, int lineno, const char *s, size_t n,
    char *why, size_t whylen)
{
	const char *what = NULL;

	if (n > SRS_SECRET_LINE_MAX) {
		srs_say(why, whylen, "%s:%d: the line is longer than %d bytes",
		    path, lineno, SRS_SECRET_LINE_MAX);
		return -1;
	}
	if (memchr(s, '\0', n) != NULL)
		what = "a NUL byte";
	else if (memchr(s, '\r', n) != NULL)
		what = "a carriage return inside the line";
	else if (srs_blank(s, n))
		what = "only white space";
	if (what == NULL)
		return 0;
	srs_say(why, whylen, "%s:%d: the line holds %s", path, lineno, what);
	return -1;
}

/* Splits the file's text into secrets (see srs_load_secrets()). */
static int
srs_parse_secrets(const char *path, const char *buf, size_t len,
    char **v, int *n, char *why, size_t whylen)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t k;
	int lineno;

	for (lineno = 1; p < end; lineno++, p = nl != NULL ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		k = (size_t)((nl != NULL ? nl : end) - p);
		if (k > 0 && p[k - 1] == '\r')
			k--;
		if (k == 0)
			continue;
		if (srs_check_line(path, lineno, p, k, why, whylen) < 0)
			return -1;
		if (*n >= SRS_SECRETS_MAX) {
			srs_say(why, whylen, "%s holds more than %d secrets",
			    path, SRS_SECRETS_MAX);
			return -1;
		}
		if ((v[*n] = strndup(p, k)) == NULL) {
			srs_say(why, whylen, "out of memory");
			return -1;
		}
		(*n)++;
	}
	if (*n == 0) {
		srs_say(why, whylen, "%s holds no secret", path);
		return -1;
	}
	return 0;
}

/* Reads and checks a secrets file (srs.h). */
int
srs_load_secrets(const char *path, char ***secrets, int *nsecrets,
    char *why, size_t whylen)
{
	char *buf = NULL, **v = NULL;
	size_t len = 0;
	int n = 0;

	*secrets = NULL;
	*nsecrets = 0;
	if (srs_read_file(path, &buf, &len, why, whylen) < 0)
		goto fail;
	if ((v = calloc(SRS_SECRETS_MAX + 1, sizeof(char *))) == NULL) {
		srs_say(why, whylen, "out of memory");
		goto fail;
	}
	if (srs_parse_secrets(path, buf, len, v, &n, why, whylen) < 0)
		goto fail;
	OPENSSL_cleanse(buf, len);
	free(buf);
	*secrets = v;
	*nsecrets = n;
	return 0;
fail:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	srs_wipe(v, n);
	return -1;
}

/* Wipes and frees srs_load_secrets()'s array (NULL-safe). */
void
srs_free_secrets(char **secrets, int nsecrets)
{
	srs_wipe(secrets, nsecrets);
}
