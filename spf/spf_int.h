/*
 * spf_int.h - internal interfaces shared by the spf/ sources.
 *
 * CONTRACT
 *	Nothing here is part of the public interface (spf/spf.h).  The pieces:
 *	  spf_record.c	RFC 7208 record parser: "v=spf1" detection and a
 *			single pass that checks the whole record (section 4.6)
 *			and yields its mechanisms and the redirect/exp
 *			modifiers as pointer+length into the caller's copy.
 *	  spf_macro.c	macro-string syntax (section 7.1) and expansion
 *			(7.3), plus the query-name check.
 *	  spf_rdata.c	bounded readers of DNS wire rdata (names, TXT).
 *	  spf_eval.c	the asynchronous check_host() evaluator.
 *	  spf_header.c	Received-SPF and Authentication-Results.
 *	All of them are pure libc, allocation-free (spf_eval.c excepted) and
 *	never read past the lengths they are given.
 *
 *	Also here: ASCII helpers (locale-independent, no allocation) and a
 *	bounded string builder used instead of snprintf where it matters
 *	for speed.
 */
#ifndef SPF_SPF_INT_H
#define SPF_SPF_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "spf/spf.h"

#define SPF_NAME_MAX	254	/* domain name text: 253 octets + NUL */
#define SPF_RECORD_MAX	8192	/* longest SPF record evaluated */
#define SPF_TERMS_MAX	512	/* most terms in one record */
#define SPF_VALUE_MAX	640	/* longest macro value (%{s}: 256 + 1 + 253) */
#define SPF_LOCAL_MAX	256	/* local-part kept for %{l} (truncated) */

/*
 * ASCII helpers
 */

/* Lower-cases one ASCII letter; other octets unchanged. */
static inline unsigned char
spf_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* 1 if c is an ASCII letter. */
static inline int
spf_is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* 1 if c is an ASCII digit. */
static inline int
spf_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Case-insensitive comparison of a (len octets) with NUL-free lit. */
static inline int
spf_ieq(const char *a, size_t len, const char *lit, size_t litlen)
{
	size_t i;

	if (len != litlen)
		return 0;
	for (i = 0; i < len; i++)
		if (spf_lower((unsigned char)a[i]) !=
		    spf_lower((unsigned char)lit[i]))
			return 0;
	return 1;
}

/*
 * Bounded string builder: appends never overflow, the buffer always stays
 * NUL-terminated, and truncation is remembered in "trunc".
 */
struct spf_sb {
	char	*buf;
	size_t	 cap;		/* size of buf, >= 1 */
	size_t	 len;
	int	 trunc;
};

/* Starts a builder over buf (cap >= 1). */
static inline void
spf_sb_init(struct spf_sb *sb, char *buf, size_t cap)
{
	sb->buf = buf;
	sb->cap = cap;
	sb->len = 0;
	sb->trunc = 0;
	buf[0] = '\0';
}

/* Appends n octets, truncating at the end of the buffer. */
static inline void
spf_sb_putn(struct spf_sb *sb, const char *s, size_t n)
{
	size_t room = sb->cap - 1 - sb->len;

	if (n > room) {
		n = room;
		sb->trunc = 1;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

/* Appends a NUL-terminated string. */
static inline void
spf_sb_puts(struct spf_sb *sb, const char *s)
{
	spf_sb_putn(sb, s, strlen(s));
}

/*
 * Length of the leading run of octets in 0x20..0x7e, eight at a time: a
 * byte's high bit in (x - 0x20..) & ~x flags a byte < 0x20, and in
 * (x + 0x01..) | x a byte > 0x7e (the usual "has less / has more" tests).
 */
static inline size_t
spf_printable_prefix(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t x;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		if ((((x - ones * 0x20) & ~x) | ((x + ones) | x)) & high)
			break;
	}
	while (i < n && (unsigned char)(s[i] - 0x20) < 0x5f)
		i++;
	return i;
}

/* Appends text with every octet outside 0x20..0x7e shown as '?'. */
static inline void
spf_sb_put_printable(struct spf_sb *sb, const char *s, size_t n)
{
	char *p = sb->buf + sb->len;
	size_t i, len;

	spf_sb_putn(sb, s, n);
	len = (size_t)(sb->buf + sb->len - p);
	for (i = spf_printable_prefix(p, len); i < len; i++)
		if ((unsigned char)(p[i] - 0x20) >= 0x5f)
			p[i] = '?';
}

/* Appends a non-negative decimal number. */
static inline void
spf_sb_put_uint(struct spf_sb *sb, unsigned long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	spf_sb_putn(sb, tmp + i, sizeof(tmp) - i);
}

/*
 * Records (spf_record.c)
 */

enum spf_mech {
	SPF_MECH_ALL = 0,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS
};

/* One mechanism, pointing into the record text. */
struct spf_term {
	const char	*text;		/* the term as written */
	const char	*spec;		/* domain-spec, or NULL if absent */
	uint16_t	 len;
	uint16_t	 spec_len;
	uint8_t		 mech;		/* enum spf_mech */
	uint8_t		 result;	/* qualifier as enum spf_result */
	uint8_t		 cidr4;		/* 0..32, default 32 */
	uint8_t		 cidr6;		/* 0..128, default 128 */
	uint8_t		 uses_p;	/* spec contains %{p} */
	unsigned char	 ip[16];	/* ip4 (4 octets) / ip6 network */
};

/* A parsed record.  Modifiers other than redirect and exp are dropped. */
struct spf_record {
	struct spf_term	*terms;
	int		 nterms;
	const char	*redirect;	/* domain-spec, or NULL */
	const char	*exp;		/* domain-spec, or NULL */
	uint16_t	 redirect_len;
	uint16_t	 exp_len;
	uint8_t		 redirect_p;	/* uses %{p} */
	uint8_t		 exp_p;
};

/* Where and why a record failed to parse. */
struct spf_syntax_error {
	const char	*term;		/* offending term (points into text) */
	size_t		 term_len;
	size_t		 at;		/* offset of the error in the term */
	const char	*what;		/* static description */
};

/* 1 if text is an SPF version 1 record: "v=spf1" then SP or the end. */
int spf_record_is_spf1(const char *text, size_t len);

/* Upper bound of the number of terms in text (for sizing the array). */
int spf_record_count(const char *text, size_t len);

/*
 * Checks and splits the whole record (text starts with "v=spf1").  terms
 * must hold maxterms entries.  Returns 0; -1 with *err filled for a syntax
 * error anywhere in the record (RFC 7208 4.6); -2 if the record has more
 * than maxterms mechanisms (the caller may retry with a larger array).
 */
int spf_record_parse(const char *text, size_t len, struct spf_term *terms,
    int maxterms, struct spf_record *rec, struct spf_syntax_error *err);

/* Parses a dotted-quad ip4-network (no leading zeros); 0 or -1. */
int spf_record_ip4(const char *s, size_t len, unsigned char out[4]);

/*
 * Macros (spf_macro.c)
 */

/* Contexts of macro-strings. */
#define SPF_MACRO_STRING 0x00	/* unknown-modifier value */
#define SPF_MACRO_DOMAIN 0x01	/* domain-spec: domain-end rule, no c r t */
#define SPF_MACRO_EXP	 0x02	/* explanation-string: SP and c r t allowed */

/* The values macros expand to.  Lengths exclude any NUL. */
struct spf_macro_env {
	const char	*l;	/* local-part of <sender> */
	const char	*o;	/* domain of <sender> */
	const char	*d;	/* current <domain> */
	const char	*h;	/* HELO/EHLO domain */
	const char	*r;	/* receiver */
	const char	*p;	/* validated name or "unknown"; NULL: unknown */
	size_t		 l_len, o_len, d_len, h_len, r_len, p_len;
	int		 family;	/* AF_INET or AF_INET6 */
	const unsigned char *ip;
	time_t		 now;		/* %{t}; 0 -> time(NULL) */
};

/*
 * Checks macro-string syntax in the given context.  Returns 0, or -1 with
 * *at = offset of the error and *what = a static description.
 */
int spf_macro_check(const char *s, size_t len, int context, size_t *at,
    const char **what);

/* 1 if s contains %{p} or %{P}. */
int spf_macro_uses_p(const char *s, size_t len);

/*
 * Expands s.  SPF_MACRO_DOMAIN: out must hold SPF_NAME_MAX octets; a final
 * dot is dropped and labels are removed from the left until the name fits
 * 253 octets (RFC 7208 7.3).  SPF_MACRO_EXP: the text is truncated to fit
 * out, and octets outside 0x20..0x7e coming from macro values become '?'.
 * Returns the length written (NUL-terminated), -1 on a syntax error or a
 * letter not allowed in the context, -2 if a domain cannot be shortened.
 */
int spf_macro_expand(const struct spf_macro_env *env, const char *s,
    size_t len, int context, char *out, size_t outlen);

/*
 * 1 if name (no final dot) can be asked in DNS: 1..253 octets, labels of
 * 1..63 octets.
 */
int spf_macro_name_ok(const char *name, size_t len);

/*
 * DNS wire rdata (spf_rdata.c)
 */

/*
 * Converts the uncompressed wire name at rd[off] to text without the final
 * dot ("" for the root).  Returns the text length, or -1 if the name is
 * malformed, runs past rdlen, does not fit outlen, or has a label holding
 * '.' or an octet outside 0x21..0x7e.
 */
int spf_rdata_name(const unsigned char *rd, size_t rdlen, size_t off,
    char *out, size_t outlen);

/* Total length of the TXT character-strings in rd, or -1 if malformed. */
long spf_rdata_txt_len(const unsigned char *rd, size_t rdlen);

/* Copies the first n octets of the concatenated strings; returns count. */
size_t spf_rdata_txt_copy(const unsigned char *rd, size_t rdlen, char *out,
    size_t n);

#endif /* SPF_SPF_INT_H */
