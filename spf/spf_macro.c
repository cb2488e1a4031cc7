/*
 * spf_macro.c - SPF macro-strings: syntax (RFC 7208 7.1) and expansion
 * (7.3).
 *
 * CONTRACT
 *	spf_macro_check() validates a macro-string in one of three contexts:
 *	an unknown modifier's value (macro-string), a domain-spec (also the
 *	domain-end rule: the text must end in a macro-expand or in "."
 *	toplabel ["."]), or an explanation-string (SP allowed).  The letters
 *	c, r and t are accepted only in explanation-strings (7.1/8), "%{d0}"
 *	is refused (a DIGIT transformer must be nonzero), and any octet that
 *	is not a macro-literal is an error, so control characters and
 *	non-ASCII never pass.
 *
 *	spf_macro_expand() never writes past the buffer it is given.  Values
 *	are split on the delimiters (default "."), optionally reversed, cut to
 *	the right-most N parts and re-joined with "."; upper-case letters are
 *	URL-escaped (unreserved set ALPHA DIGIT - . _ ~ kept).  For a domain,
 *	the expansion is first measured, then only its last 1 KB is kept, a
 *	final dot is dropped and whole labels are removed from the left until
 *	253 octets remain, so an expansion of any size costs bounded memory.
 *
 *	%{i} of an IPv6 client is written in lower-case nibbles except in
 *	explanations, where it is upper-case as the RFC 7208 test suite
 *	(pyspf) expects.  %{c} of an IPv6 client is RFC 5952 text.
 *
 *	Nothing here allocates or keeps state; everything is reentrant.
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>

#include "spf/spf_int.h"

#define MACRO_SCRATCH	1024	/* window kept of a domain expansion */
#define MACRO_DIGITS_MAX 1000	/* larger transformers mean "all parts" */

/* A parsed "%{...}" macro-expand. */
struct spf_macro_tok {
	unsigned char	 letter;	/* lower-case macro-letter */
	int		 upper;		/* written in upper case: URL-escape */
	unsigned	 digits;	/* 0: keep all parts */
	int		 reverse;
	const char	*delims;
	size_t		 ndelims;
};

/* Output that counts everything but stores only a window of it. */
struct spf_macro_sink {
	char	*buf;
	size_t	 cap;		/* octets storable in buf */
	size_t	 pos;		/* octets produced so far */
	size_t	 skip;		/* octets dropped before the window */
};

/* 1 if c is a macro delimiter. */
static int
spf_macro_is_delim(unsigned char c)
{
	return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' ||
	    c == '_' || c == '=';
}

/* 1 if the macro-letter c may appear in the context. */
static int
spf_macro_letter_ok(unsigned char c, int context)
{
	switch (spf_lower(c)) {
	case 's': case 'l': case 'o': case 'd':
	case 'i': case 'p': case 'h': case 'v':
		return 1;
	case 'c': case 'r': case 't':
		return (context & SPF_MACRO_EXP) != 0;
	default:
		return 0;
	}
}

/* 1 if c is a literal allowed in the context (macro-literal, SP in exp). */
static int
spf_macro_literal_ok(unsigned char c, int context)
{
	if (c == ' ')
		return (context & SPF_MACRO_EXP) != 0;
	return c >= 0x21 && c <= 0x7e && c != '%';
}

/* Describes why the octet c is not a literal. */
static const char *
spf_macro_literal_why(unsigned char c)
{
	if (c >= 0x80)
		return "non-ASCII character";
	if (c < 0x20 || c == 0x7f)
		return "control character";
	if (c == ' ')
		return "space";
	return "invalid character";
}

/*
 * Parses the macro-expand "%{...}" starting at s[i] (s[i] is '%' and
 * s[i + 1] is '{').  Returns the offset just past '}', or -1 with *at and
 * *what set.
 */
static long
spf_macro_parse_expand(const char *s, size_t len, size_t i, int context,
    struct spf_macro_tok *t, size_t *at, const char **what)
{
	size_t j = i + 2;
	int had_digits = 0;
	unsigned char c;

	if (j >= len || !spf_macro_letter_ok((unsigned char)s[j], context)) {
		*at = j;
		*what = (j < len && spf_macro_letter_ok((unsigned char)s[j],
		    SPF_MACRO_EXP)) ? "macro letter allowed only in exp text"
		    : "invalid macro letter";
		return -1;
	}
	c = (unsigned char)s[j++];
	t->letter = spf_lower(c);
	t->upper = c != t->letter;
	t->digits = 0;
	while (j < len && spf_is_digit((unsigned char)s[j])) {
		had_digits = 1;
		if (t->digits < MACRO_DIGITS_MAX)
			t->digits = t->digits * 10 + (unsigned)(s[j] - '0');
		j++;
	}
	if (had_digits && t->digits == 0) {
		*at = j - 1;
		*what = "macro transformer 0";
		return -1;
	}
	t->reverse = j < len && (s[j] == 'r' || s[j] == 'R');
	if (t->reverse)
		j++;
	t->delims = s + j;
	while (j < len && spf_macro_is_delim((unsigned char)s[j]))
		j++;
	t->ndelims = (size_t)(s + j - t->delims);
	if (j >= len || s[j] != '}') {
		*at = j;
		*what = "malformed macro";
		return -1;
	}
	return (long)j + 1;
}

/* 1 if s is a toplabel (RFC 7208 7.1). */
static int
spf_macro_toplabel_ok(const char *s, size_t len)
{
	size_t i;
	int dash = 0, alpha = 0;
	unsigned char c;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '-')
			dash = 1;
		else if (spf_is_alpha(c))
			alpha = 1;
		else if (!spf_is_digit(c))
			return 0;
	}
	if (s[0] == '-' || s[len - 1] == '-')
		return 0;
	return dash || alpha;
}

/*
 * Checks the domain-end rule: "." toplabel ["."] or a final macro-expand.
 * lit is where the trailing run of literals starts.
 */
static int
spf_macro_domain_end(const char *s, size_t len, size_t lit, size_t *at,
    const char **what)
{
	size_t e = len, k;

	if (len == 0) {
		*at = 0;
		*what = "empty domain-spec";
		return -1;
	}
	if (lit == len)
		return 0;		/* ends with a macro-expand */
	if (s[e - 1] == '.')
		e--;
	for (k = e; k > lit; k--)
		if (s[k - 1] == '.')
			break;
	if (k == lit || !spf_macro_toplabel_ok(s + k, e - k)) {
		*at = k;
		*what = "domain-spec does not end in a valid top-level label";
		return -1;
	}
	return 0;
}

/* Checks macro-string syntax in a context; 0 or -1 with *at, *what. */
int
spf_macro_check(const char *s, size_t len, int context, size_t *at,
    const char **what)
{
	struct spf_macro_tok t;
	size_t i = 0, lit = 0;
	long end;
	unsigned char c, n;

	while (i < len) {
		c = (unsigned char)s[i];
		if (c != '%') {
			if (!spf_macro_literal_ok(c, context)) {
				*at = i;
				*what = spf_macro_literal_why(c);
				return -1;
			}
			i++;
			continue;
		}
		n = i + 1 < len ? (unsigned char)s[i + 1] : 0;
		if (n == '%' || n == '_' || n == '-') {
			i += 2;
		} else if (n == '{') {
			end = spf_macro_parse_expand(s, len, i, context, &t, at,
			    what);
			if (end < 0)
				return -1;
			i = (size_t)end;
		} else {
			*at = i;
			*what = "'%' not followed by '{', '%', '_' or '-'";
			return -1;
		}
		lit = i;
	}
	if (context & SPF_MACRO_DOMAIN)
		return spf_macro_domain_end(s, len, lit, at, what);
	return 0;
}

/* 1 if s contains %{p} or %{P}. */
int
spf_macro_uses_p(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 2 < len; i++) {
		if (s[i] != '%')
			continue;
		if (s[i + 1] == '{' && (s[i + 2] == 'p' || s[i + 2] == 'P'))
			return 1;
		i++;		/* skip the escaped octet of %%, %_, %- */
	}
	return 0;
}

/* Appends n octets to the sink's window. */
static void
spf_macro_sink_put(struct spf_macro_sink *k, const char *s, size_t n)
{
	size_t off, m;

	if (k->pos < k->skip) {
		m = k->skip - k->pos;
		if (m >= n) {
			k->pos += n;
			return;
		}
		s += m;
		n -= m;
		k->pos += m;
	}
	off = k->pos - k->skip;
	if (off < k->cap) {
		m = n < k->cap - off ? n : k->cap - off;
		memcpy(k->buf + off, s, m);
	}
	k->pos += n;
}

/* Appends a macro value, URL-escaped and/or made printable as asked. */
static void
spf_macro_sink_value(struct spf_macro_sink *k, const char *s, size_t n,
    int upper, int printable)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];
	size_t i, run;
	unsigned char c;

	if (!upper && !printable) {
		spf_macro_sink_put(k, s, n);
		return;
	}
	for (i = 0; i < n; i += run) {
		for (run = 0; i + run < n; run++) {
			c = (unsigned char)s[i + run];
			if (upper ? !(spf_is_alpha(c) || spf_is_digit(c) ||
			    c == '-' || c == '.' || c == '_' || c == '~') :
			    (c < 0x20 || c > 0x7e))
				break;
		}
		spf_macro_sink_put(k, s + i, run);
		if (i + run == n)
			break;
		c = (unsigned char)s[i + run];
		if (upper) {
			esc[0] = '%';
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 15];
			spf_macro_sink_put(k, esc, 3);
		} else {
			spf_macro_sink_put(k, "?", 1);
		}
		run++;
	}
}

/* Writes the dotted-quad of ip into buf; returns the length. */
static size_t
spf_macro_ip4_text(const unsigned char *ip, char *buf)
{
	size_t n = 0;
	int i;
	unsigned v;

	for (i = 0; i < 4; i++) {
		v = ip[i];
		if (i)
			buf[n++] = '.';
		if (v >= 100)
			buf[n++] = (char)('0' + v / 100);
		if (v >= 10)
			buf[n++] = (char)('0' + v / 10 % 10);
		buf[n++] = (char)('0' + v % 10);
	}
	return n;
}

/* Writes the 32 dot-separated nibbles of an IPv6 address. */
static size_t
spf_macro_ip6_nibbles(const unsigned char *ip, char *buf, int upper)
{
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t n = 0;
	int i;

	for (i = 0; i < 16; i++) {
		if (i)
			buf[n++] = '.';
		buf[n++] = hex[ip[i] >> 4];
		buf[n++] = '.';
		buf[n++] = hex[ip[i] & 15];
	}
	return n;
}

/* Writes a decimal time stamp; returns the length. */
static size_t
spf_macro_time_text(time_t now, char *buf)
{
	char tmp[24];
	size_t i = sizeof(tmp), n;
	unsigned long long v;

	if (now == 0)
		now = time(NULL);
	v = now < 0 ? 0 : (unsigned long long)now;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	n = sizeof(tmp) - i;
	memcpy(buf, tmp + i, n);
	return n;
}

/* Fills *v and *vlen with the value of a macro letter (vbuf may be used). */
static void
spf_macro_value(const struct spf_macro_env *env, unsigned char letter,
    int context, char *vbuf, const char **v, size_t *vlen)
{
	size_t n;

	*v = vbuf;
	switch (letter) {
	case 's':
		n = env->l_len < SPF_LOCAL_MAX ? env->l_len : SPF_LOCAL_MAX;
		memcpy(vbuf, env->l, n);
		vbuf[n++] = '@';
		memcpy(vbuf + n, env->o, env->o_len < SPF_NAME_MAX ?
		    env->o_len : SPF_NAME_MAX);
		n += env->o_len < SPF_NAME_MAX ? env->o_len : SPF_NAME_MAX;
		*vlen = n;
		return;
	case 'l': *v = env->l; *vlen = env->l_len; return;
	case 'o': *v = env->o; *vlen = env->o_len; return;
	case 'd': *v = env->d; *vlen = env->d_len; return;
	case 'h': *v = env->h; *vlen = env->h_len; return;
	case 'r': *v = env->r; *vlen = env->r_len; return;
	case 'p':
		*v = env->p ? env->p : "unknown";
		*vlen = env->p ? env->p_len : 7;
		return;
	case 'v':
		*v = env->family == AF_INET6 ? "ip6" : "in-addr";
		*vlen = strlen(*v);
		return;
	case 't':
		*vlen = spf_macro_time_text(env->now, vbuf);
		return;
	case 'c':
		if (env->family == AF_INET6) {
			if (inet_ntop(AF_INET6, env->ip, vbuf, 64) == NULL)
				vbuf[0] = '\0';
			*vlen = strlen(vbuf);
			return;
		}
		/* FALLTHROUGH */
	default:		/* 'i' */
		if (env->family == AF_INET6 && letter == 'i')
			*vlen = spf_macro_ip6_nibbles(env->ip, vbuf,
			    (context & SPF_MACRO_EXP) != 0);
		else
			*vlen = spf_macro_ip4_text(env->ip, vbuf);
		return;
	}
}

/* 1 if c is one of the token's delimiters (default "."). */
static int
spf_macro_split_at(const struct spf_macro_tok *t, unsigned char c)
{
	if (t->ndelims == 0)
		return c == '.';
	return memchr(t->delims, c, t->ndelims) != NULL;
}

/* Emits one macro-expand with its transformers. */
static void
spf_macro_emit(const struct spf_macro_env *env, const struct spf_macro_tok *t,
    int context, struct spf_macro_sink *k)
{
	char vbuf[SPF_VALUE_MAX];
	uint16_t st[SPF_VALUE_MAX + 1], en[SPF_VALUE_MAX + 1];
	const char *v;
	size_t vlen, n = 0, i, first, keep, idx;
	int printable = (context & SPF_MACRO_EXP) != 0;

	spf_macro_value(env, t->letter, context, vbuf, &v, &vlen);
	if (vlen > SPF_VALUE_MAX)
		vlen = SPF_VALUE_MAX;
	if (t->digits == 0 && !t->reverse && t->ndelims == 0) {
		spf_macro_sink_value(k, v, vlen, t->upper, printable);
		return;
	}
	st[0] = 0;
	for (i = 0; i < vlen; i++) {
		if (spf_macro_split_at(t, (unsigned char)v[i])) {
			en[n++] = (uint16_t)i;
			st[n] = (uint16_t)(i + 1);
		}
	}
	en[n++] = (uint16_t)vlen;
	keep = (t->digits == 0 || t->digits > n) ? n : t->digits;
	first = n - keep;
	for (i = 0; i < keep; i++) {
		idx = t->reverse ? keep - 1 - i : first + i;
		if (i)
			spf_macro_sink_value(k, ".", 1, t->upper, 0);
		spf_macro_sink_value(k, v + st[idx], en[idx] - st[idx],
		    t->upper,
		    printable);
	}
}

/* Expands s into the sink; 0, or -1 on a syntax error. */
static int
spf_macro_run(const struct spf_macro_env *env, const char *s, size_t len,
    int context, struct spf_macro_sink *k)
{
	struct spf_macro_tok t;
	size_t i = 0, j, at;
	const char *what;
	long end;
	unsigned char n;

	while (i < len) {
		for (j = i; j < len && s[j] != '%'; j++)
			if (!spf_macro_literal_ok((unsigned char)s[j], context))
				return -1;
		spf_macro_sink_put(k, s + i, j - i);
		if (j == len)
			break;
		n = j + 1 < len ? (unsigned char)s[j + 1] : 0;
		if (n == '%') {
			spf_macro_sink_put(k, "%", 1);
			i = j + 2;
		} else if (n == '_') {
			spf_macro_sink_put(k, " ", 1);
			i = j + 2;
		} else if (n == '-') {
			spf_macro_sink_put(k, "%20", 3);
			i = j + 2;
		} else if (n == '{') {
			end = spf_macro_parse_expand(s, len, j, context, &t,
			    &at,
			    &what);
			if (end < 0)
				return -1;
			spf_macro_emit(env, &t, context, k);
			i = (size_t)end;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Fits an expanded domain into out: drop a final dot, then left labels. */
static int
spf_macro_domain_fit(const char *s, size_t n, char *out, size_t outlen)
{
	const char *dot;

	if (n > 0 && s[n - 1] == '.')
		n--;
	while (n > SPF_NAME_MAX - 1) {
		dot = memchr(s, '.', n);
		if (dot == NULL)
			return -2;
		n -= (size_t)(dot + 1 - s);
		s = dot + 1;
	}
	if (n >= outlen)
		return -2;
	memcpy(out, s, n);
	out[n] = '\0';
	return (int)n;
}

/* Expands s in a context into out (see spf_int.h). */
int
spf_macro_expand(const struct spf_macro_env *env, const char *s, size_t len,
    int context, char *out, size_t outlen)
{
	char scratch[MACRO_SCRATCH];
	struct spf_macro_sink k;
	size_t total;

	if (outlen == 0)
		return -1;
	if (!(context & SPF_MACRO_DOMAIN)) {
		k = (struct spf_macro_sink){ out, outlen - 1, 0, 0 };
		if (spf_macro_run(env, s, len, context, &k) < 0) {
			out[0] = '\0';
			return -1;
		}
		total = k.pos < outlen - 1 ? k.pos : outlen - 1;
		out[total] = '\0';
		return (int)total;
	}
	k = (struct spf_macro_sink){ scratch, sizeof(scratch), 0, 0 };
	if (spf_macro_run(env, s, len, context, &k) < 0)
		return -1;
	total = k.pos;
	if (total > sizeof(scratch)) {
		/* Keep only the right-most part: labels go from the left. */
		k = (struct spf_macro_sink){ scratch, sizeof(scratch), 0,
		    total - sizeof(scratch) };
		(void)spf_macro_run(env, s, len, context, &k);
		total = sizeof(scratch);
	}
	return spf_macro_domain_fit(scratch, total, out, outlen);
}

/* 1 if name can be asked in DNS: 1..253 octets, labels 1..63. */
int
spf_macro_name_ok(const char *name, size_t len)
{
	const char *p = name, *end = name + len, *dot;

	if (len == 0 || len > SPF_NAME_MAX - 1)
		return 0;
	for (;;) {
		if ((dot = memchr(p, '.', (size_t)(end - p))) == NULL)
			dot = end;
		if (dot == p || dot - p > 63)
			return 0;	/* empty or over-long label */
		if (dot == end)
			return 1;
		p = dot + 1;
		if (p == end)
			return 0;	/* final dot: not allowed here */
	}
}
