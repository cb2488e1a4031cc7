/*
 * spf_record.c - RFC 7208 SPF record parser.
 *
 * CONTRACT
 *	spf_record_is_spf1() implements the record selection test of section
 *	4.5: "v=spf1" (case-insensitive) followed by a space or the end, so
 *	"v=spf10" is not a record.
 *
 *	spf_record_parse() walks the whole record once, before anything is
 *	evaluated, and refuses it on the first syntax error anywhere (section
 *	4.6): terms are separated by one or more SP and nothing else (a TAB,
 *	CR or LF inside a term is an invalid character); every mechanism,
 *	qualifier, dual CIDR length (a/24//64, mx//64; /0 legal, >32 or >128
 *	or leading zeros refused), ip4/ip6 network, domain-spec (including the
 *	domain-end rule and the c/r/t restriction), redirect= and exp= (each
 *	at most once, domain-spec required) and unknown modifier (name "="
 *	macro-string) is checked.  Names are case-insensitive.
 *
 *	Output points into the caller's text: no allocation, no copy.  The
 *	caller sizes the terms array with spf_record_count().
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "spf/spf_int.h"

/* Looks a mechanism name up (case-insensitive); -1 if unknown. */
static int
spf_record_mech_lookup(const char *s, size_t n)
{
	switch (n) {
	case 1:
		return spf_ieq(s, n, "a", 1) ? SPF_MECH_A : -1;
	case 2:
		return spf_ieq(s, n, "mx", 2) ? SPF_MECH_MX : -1;
	case 3:
		if (spf_ieq(s, n, "all", 3))
			return SPF_MECH_ALL;
		if (spf_ieq(s, n, "ptr", 3))
			return SPF_MECH_PTR;
		if (spf_ieq(s, n, "ip4", 3))
			return SPF_MECH_IP4;
		return spf_ieq(s, n, "ip6", 3) ? SPF_MECH_IP6 : -1;
	case 6:
		return spf_ieq(s, n, "exists", 6) ? SPF_MECH_EXISTS : -1;
	case 7:
		return spf_ieq(s, n, "include", 7) ? SPF_MECH_INCLUDE : -1;
	default:
		return -1;
	}
}

/* 1 if c may appear in a modifier name after its first letter. */
static int
spf_record_name_char(unsigned char c)
{
	return spf_is_alpha(c) || spf_is_digit(c) || c == '-' || c == '_' ||
	    c == '.';
}

/* 1 if text is an SPF version 1 record. */
int
spf_record_is_spf1(const char *text, size_t len)
{
	/* (c | 0x20) maps only 'V' and 'v' to 'v' (same for s, p, f). */
	if (len < 6 || (text[0] | 0x20) != 'v' || text[1] != '=' ||
	    (text[2] | 0x20) != 's' || (text[3] | 0x20) != 'p' ||
	    (text[4] | 0x20) != 'f' || text[5] != '1')
		return 0;
	return len == 6 || text[6] == ' ';
}

/* Upper bound of the number of terms in text. */
int
spf_record_count(const char *text, size_t len)
{
	size_t i;
	int n = 0, in = 0;

	for (i = 0; i < len; i++) {
		if (text[i] == ' ')
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

/* Records a syntax error; always returns -1. */
static int
spf_record_error(struct spf_syntax_error *err, const char *term, size_t len,
    size_t at, const char *what)
{
	err->term = term;
	err->term_len = len;
	err->at = at;
	err->what = what;
	return -1;
}

/* Parses a CIDR length "0" / [1-9] *DIGIT up to max; -1 if invalid. */
static int
spf_record_cidr(const char *s, size_t len, int max)
{
	size_t i;
	int v = 0;

	if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
		return -1;
	for (i = 0; i < len; i++) {
		if (!spf_is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Parses a dotted-quad ip4-network (no leading zeros); 0 or -1. */
int
spf_record_ip4(const char *s, size_t len, unsigned char out[4])
{
	size_t i = 0, start;
	int part, v;

	for (part = 0; part < 4; part++) {
		if (part) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		start = i;
		v = 0;
		while (i < len && spf_is_digit((unsigned char)s[i]) &&
		    i - start < 3)
			v = v * 10 + (s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return -1;
		out[part] = (unsigned char)v;
	}
	return i == len ? 0 : -1;
}

/* Parses an ip6-network with inet_pton(); 0 or -1. */
static int
spf_record_ip6(const char *s, size_t len, unsigned char out[16])
{
	char buf[48];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

/* Checks a domain-spec of a term; 0 or -1 with *err. */
static int
spf_record_spec(const char *term, size_t tlen, const char *spec, size_t len,
    struct spf_syntax_error *err)
{
	const char *what;
	size_t at;

	if (spf_macro_check(spec, len, SPF_MACRO_DOMAIN, &at, &what) < 0)
		return spf_record_error(err, term, tlen,
		    (size_t)(spec - term) + at, what);
	return 0;
}

/*
 * Splits a trailing dual-cidr-length off a/mx arguments: "//N" then "/N"
 * from the end.  Returns the remaining length, or -1 on a bad CIDR.
 */
static long
spf_record_dual_cidr_suffix(const char *s, size_t len, struct spf_term *t)
{
	size_t i;
	int v;

	for (i = len; i > 0 && spf_is_digit((unsigned char)s[i - 1]); i--)
		;
	if (i < len && i >= 2 && s[i - 1] == '/' && s[i - 2] == '/') {
		if ((v = spf_record_cidr(s + i, len - i, 128)) < 0)
			return -1;
		t->cidr6 = (uint8_t)v;
		len = i - 2;
	}
	for (i = len; i > 0 && spf_is_digit((unsigned char)s[i - 1]); i--)
		;
	if (i < len && i >= 1 && s[i - 1] == '/') {
		if ((v = spf_record_cidr(s + i, len - i, 32)) < 0)
			return -1;
		t->cidr4 = (uint8_t)v;
		len = i - 1;
	}
	return (long)len;
}

/* Parses what follows "a" or "mx": [":" domain-spec] [dual-cidr-length]. */
static int
spf_record_a_mx(const char *term, size_t tlen, const char *rest, size_t len,
    struct spf_term *t, struct spf_syntax_error *err)
{
	long n;
	size_t off;
	int has_spec = len > 0 && rest[0] == ':';

	off = (size_t)(rest - term);
	if (has_spec) {
		rest++;
		len--;
		off++;
	}
	n = spf_record_dual_cidr_suffix(rest, len, t);
	if (n < 0)
		return spf_record_error(err, term, tlen, off,
		    "invalid CIDR length");
	if (!has_spec) {
		if (n != 0)
			return spf_record_error(err, term, tlen, off,
			    "invalid CIDR length");
		return 0;
	}
	t->spec = rest;
	t->spec_len = (uint16_t)n;
	return spf_record_spec(term, tlen, rest, (size_t)n, err);
}

/* Parses "ip4:" / "ip6:" network [ "/" cidr ]. */
static int
spf_record_ip(const char *term, size_t tlen, const char *rest, size_t len,
    struct spf_term *t, struct spf_syntax_error *err)
{
	const char *slash;
	size_t nlen, off = (size_t)(rest - term) + 1;
	int v, six = t->mech == SPF_MECH_IP6;

	if (len < 2 || rest[0] != ':')
		return spf_record_error(err, term, tlen, off - 1,
		    six ? "ip6 needs ':' and a network" :
		    "ip4 needs ':' and a network");
	rest++;
	len--;
	slash = memchr(rest, '/', len);
	nlen = slash ? (size_t)(slash - rest) : len;
	if (six ? spf_record_ip6(rest, nlen, t->ip) :
	    spf_record_ip4(rest, nlen, t->ip))
		return spf_record_error(err, term, tlen, off,
		    six ? "invalid ip6-network" : "invalid ip4-network");
	if (slash == NULL)
		return 0;
	v = spf_record_cidr(slash + 1, len - nlen - 1, six ? 128 : 32);
	if (v < 0)
		return spf_record_error(err, term, tlen, off + nlen,
		    "invalid CIDR length");
	if (six)
		t->cidr6 = (uint8_t)v;
	else
		t->cidr4 = (uint8_t)v;
	return 0;
}

/* Parses the argument of a mechanism according to its kind. */
static int
spf_record_mech_arg(const char *term, size_t tlen, const char *rest,
    size_t len, struct spf_term *t, struct spf_syntax_error *err)
{
	size_t off = (size_t)(rest - term);

	switch (t->mech) {
	case SPF_MECH_ALL:
		if (len != 0)
			return spf_record_error(err, term, tlen, off,
			    "'all' takes no argument");
		return 0;
	case SPF_MECH_A:
	case SPF_MECH_MX:
		return spf_record_a_mx(term, tlen, rest, len, t, err);
	case SPF_MECH_IP4:
	case SPF_MECH_IP6:
		return spf_record_ip(term, tlen, rest, len, t, err);
	case SPF_MECH_PTR:
		if (len == 0)
			return 0;
		/* FALLTHROUGH */
	default:		/* include, exists, ptr: ":" domain-spec */
		if (len == 0 || rest[0] != ':')
			return spf_record_error(err, term, tlen, off,
			    "expected ':' and a domain-spec");
		t->spec = rest + 1;
		t->spec_len = (uint16_t)(len - 1);
		return spf_record_spec(term, tlen, rest + 1, len - 1, err);
	}
}

/*
 * Parses one directive: [qualifier] mechanism.  q is 1 if term starts with
 * a qualifier, n the end of the name characters scanned after it.
 */
static int
spf_record_directive(const char *term, size_t len, size_t q, size_t n,
    struct spf_term *t, struct spf_syntax_error *err)
{
	int mech;

	t->text = term;
	t->len = (uint16_t)len;
	t->spec = NULL;
	t->spec_len = 0;
	t->cidr4 = 32;
	t->cidr6 = 128;
	switch (term[0]) {
	case '-': t->result = SPF_RESULT_FAIL; break;
	case '~': t->result = SPF_RESULT_SOFTFAIL; break;
	case '?': t->result = SPF_RESULT_NEUTRAL; break;
	default: t->result = SPF_RESULT_PASS; break;
	}
	/* A known name is followed by ':', '/' or the end. */
	if ((n < len && term[n] != ':' && term[n] != '/') ||
	    (mech = spf_record_mech_lookup(term + q, n - q)) < 0)
		return spf_record_error(err, term, len, q, "unknown mechanism");
	t->mech = (uint8_t)mech;
	if (spf_record_mech_arg(term, len, term + n, len - n, t, err) < 0)
		return -1;
	t->uses_p = t->spec && spf_macro_uses_p(t->spec, t->spec_len);
	return 0;
}

/* Parses one modifier (name "=" value) into rec. */
static int
spf_record_modifier(const char *term, size_t len, size_t nlen,
    struct spf_record *rec, struct spf_syntax_error *err)
{
	const char *val = term + nlen + 1, *what;
	size_t vlen = len - nlen - 1, at;
	int redirect = spf_ieq(term, nlen, "redirect", 8);

	if (!redirect && !spf_ieq(term, nlen, "exp", 3)) {
		if (spf_macro_check(val, vlen, SPF_MACRO_STRING, &at,
		    &what) < 0)
			return spf_record_error(err, term, len, nlen + 1 + at,
			    what);
		return 0;
	}
	if (redirect ? rec->redirect != NULL : rec->exp != NULL)
		return spf_record_error(err, term, len, 0, redirect ?
		    "redirect= appears twice" : "exp= appears twice");
	if (spf_record_spec(term, len, val, vlen, err) < 0)
		return -1;
	if (redirect) {
		rec->redirect = val;
		rec->redirect_len = (uint16_t)vlen;
		rec->redirect_p = (uint8_t)spf_macro_uses_p(val, vlen);
	} else {
		rec->exp = val;
		rec->exp_len = (uint16_t)vlen;
		rec->exp_p = (uint8_t)spf_macro_uses_p(val, vlen);
	}
	return 0;
}

/* Parses one term into rec (a modifier) or terms (a directive). */
static int
spf_record_term(const char *term, size_t len, struct spf_term *terms,
    int maxterms, struct spf_record *rec, struct spf_syntax_error *err)
{
	size_t q, n;

	q = term[0] == '+' || term[0] == '-' || term[0] == '~' ||
	    term[0] == '?';
	for (n = q; n < len &&
	    spf_record_name_char((unsigned char)term[n]); n++)
		;
	if (!q && n < len && term[n] == '=' &&
	    spf_is_alpha((unsigned char)term[0]))
		return spf_record_modifier(term, len, n, rec, err);
	if (rec->nterms >= maxterms) {
		(void)spf_record_error(err, term, len, 0, "too many terms");
		return -2;
	}
	if (spf_record_directive(term, len, q, n, &terms[rec->nterms], err) < 0)
		return -1;
	rec->nterms++;
	return 0;
}

/* Checks and splits a whole record (see spf_int.h). */
int
spf_record_parse(const char *text, size_t len, struct spf_term *terms,
    int maxterms, struct spf_record *rec, struct spf_syntax_error *err)
{
	const char *p, *end = text + len, *sp;
	int rc;

	memset(rec, 0, sizeof(*rec));
	rec->terms = terms;
	if (!spf_record_is_spf1(text, len) || len > UINT16_MAX)
		return spf_record_error(err, text, len < 6 ? len : 6, 0,
		    "not an SPF version 1 record");
	for (p = text + 6; p < end; p = sp) {
		if (*p == ' ') {
			sp = p + 1;
			continue;
		}
		if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL)
			sp = end;
		if ((rc = spf_record_term(p, (size_t)(sp - p), terms, maxterms,
		    rec,
		    err)) < 0)
			return rc;
	}
	return 0;
}
