/*
 * spf_header.c - Received-SPF (RFC 7208 9.1) and Authentication-Results
 * (RFC 8601) header fields for an SPF verdict.
 *
 * CONTRACT
 *	Both functions write one header field without the final CRLF, folded
 *	with CRLF + TAB so that no line passes 78 characters unless a single
 *	unbreakable token is longer (values are capped so a line stays far
 *	below RFC 5322's 998).  They return the length, or -1 with out = ""
 *	when out is too small.
 *
 *	Injection safety: every octet that comes from outside (receiver,
 *	client address, HELO, sender, mechanism, reason) is emitted as a
 *	dot-atom only if it is one, otherwise as a quoted-string with " and \
 *	escaped; inside comments ( ) and \ are escaped.  Any octet outside
 *	0x21..0x7e (CR, LF, TAB, NUL can only end a C string, non-ASCII) in a
 *	value becomes '?', and the only CR LF in the output are the folds this
 *	file writes.
 *
 *	Received-SPF:
 *	  RESULT (COMMENT) client-ip=IP; envelope-from="SENDER"; helo=HELO;
 *	  receiver=RECEIVER; mechanism=TERM; problem="REASON";
 *	  identity=mailfrom|helo; x-dnssec=secure|insecure
 *	envelope-from only for the mailfrom identity, mechanism only when
 *	one is known, problem (RFC 7208: "a description of the error") only
 *	for temperror and permerror.  The DNSSEC state uses RFC 7208's extension key syntax
 *	(key = name): "x-dnssec=secure" when every answer used was secure.
 *
 *	Authentication-Results:
 *	  AUTHSERV-ID; spf=RESULT (COMMENT) (dnssec=secure|insecure)
 *	  smtp.mailfrom=SENDER   (or smtp.helo=HELO for the HELO identity)
 *	RFC 8601 has no registered property for DNSSEC, so it is carried in
 *	a comment, which every parser skips.
 */
#include "spf/spf_int.h"

#define HDR_LINE_MAX	78	/* RFC 5322 2.1.1 SHOULD */
#define HDR_TOKEN_MAX	1024	/* one unbreakable token */
#define HDR_WORD_MAX	70	/* comment tokens longer than this are split */
#define HDR_VALUE_MAX	320	/* octets of a value shown */
#define HDR_COMMENT_MAX	1400

/* A header being written. */
struct spf_header_buf {
	char	*out;
	size_t	 cap;
	size_t	 len;
	size_t	 col;		/* characters on the current line */
	int	 full;		/* out was too small */
	size_t	 tlen;
	char	 tok[HDR_TOKEN_MAX];
};

/* Appends raw octets to the output. */
static void
spf_header_raw(struct spf_header_buf *h, const char *s, size_t n)
{
	if (h->full || n >= h->cap - h->len) {
		h->full = 1;
		return;
	}
	memcpy(h->out + h->len, s, n);
	h->len += n;
}

/* Appends octets to the pending token (bounded). */
static void
spf_header_tok_put(struct spf_header_buf *h, const char *s, size_t n)
{
	if (n > sizeof(h->tok) - h->tlen)
		n = sizeof(h->tok) - h->tlen;
	memcpy(h->tok + h->tlen, s, n);
	h->tlen += n;
}

/* Appends a NUL-terminated string to the pending token. */
static void
spf_header_tok_puts(struct spf_header_buf *h, const char *s)
{
	spf_header_tok_put(h, s, strlen(s));
}

/* Writes the pending token after a space, or after a fold if too long. */
static void
spf_header_emit(struct spf_header_buf *h)
{
	if (h->tlen == 0)
		return;
	if (h->col > 0) {
		if (h->col + 1 + h->tlen > HDR_LINE_MAX) {
			spf_header_raw(h, "\r\n\t", 3);
			h->col = 1;
		} else {
			spf_header_raw(h, " ", 1);
			h->col++;
		}
	}
	spf_header_raw(h, h->tok, h->tlen);
	h->col += h->tlen;
	h->tlen = 0;
}

/* 1 if c is RFC 5322 atext. */
static int
spf_header_atext(unsigned char c)
{
	return spf_is_alpha(c) || spf_is_digit(c) ||
	    (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* 1 if s is a non-empty RFC 5322 dot-atom. */
static int
spf_header_dot_atom(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i - 1] == '.')
				return 0;
		} else if (!spf_header_atext((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* 1 if s is a plain domain name (letters, digits, '-', dots). */
static int
spf_header_domain_name(const char *s, size_t n)
{
	size_t i;
	unsigned char c;

	if (!spf_header_dot_atom(s, n))
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (!(spf_is_alpha(c) || spf_is_digit(c) || c == '-' ||
		    c == '.'))
			return 0;
	}
	return 1;
}

/* Appends s to the token as a quoted-string, escaping " and \. */
static void
spf_header_tok_quoted(struct spf_header_buf *h, const char *s, size_t n)
{
	size_t i;
	char c;

	if (n > HDR_VALUE_MAX)
		n = HDR_VALUE_MAX;
	spf_header_tok_put(h, "\"", 1);
	for (i = 0; i < n; i++) {
		c = s[i];
		if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
			c = '?';
		if (c == '"' || c == '\\')
			spf_header_tok_put(h, "\\", 1);
		spf_header_tok_put(h, &c, 1);
	}
	spf_header_tok_put(h, "\"", 1);
}

/* Appends a value: as is if a dot-atom, else quoted. */
static void
spf_header_tok_value(struct spf_header_buf *h, const char *s)
{
	size_t n = strlen(s);

	if (n <= HDR_VALUE_MAX && spf_header_dot_atom(s, n))
		spf_header_tok_put(h, s, n);
	else
		spf_header_tok_quoted(h, s, n);
}

/* Emits "key=value;" (no ';' if last). */
static void
spf_header_pair(struct spf_header_buf *h, const char *key, const char *value,
    int last)
{
	spf_header_tok_puts(h, key);
	spf_header_tok_put(h, "=", 1);
	spf_header_tok_value(h, value);
	if (!last)
		spf_header_tok_put(h, ";", 1);
	spf_header_emit(h);
}

/* Appends one comment character, escaped as ctext or quoted-pair. */
static void
spf_header_tok_comment_char(struct spf_header_buf *h, char c)
{
	if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
		c = '?';
	if (c == '(' || c == ')' || c == '\\')
		spf_header_tok_put(h, "\\", 1);
	spf_header_tok_put(h, &c, 1);
}

/* Emits text as a comment, one token per word so that it can fold. */
static void
spf_header_comment(struct spf_header_buf *h, const char *text)
{
	size_t i = 0, n = strlen(text);

	spf_header_tok_put(h, "(", 1);
	while (i < n) {
		while (i < n && text[i] == ' ')
			i++;
		while (i < n && text[i] != ' ') {
			if (h->tlen >= HDR_WORD_MAX)
				spf_header_emit(h);	/* split a long word */
			spf_header_tok_comment_char(h, text[i++]);
		}
		if (i < n && h->tlen > 0)
			spf_header_emit(h);
	}
	spf_header_tok_put(h, ")", 1);
	spf_header_emit(h);
}

/* Writes the human-readable comment of RFC 7208 9.1 into sb. */
static void
spf_header_comment_text(struct spf_sb *sb, const struct spf_verdict *v,
    const struct spf_header_info *info)
{
	const char *ip = info->client_ip ? info->client_ip : "unknown";
	const char *sender = v->identity_text;

	spf_sb_puts(sb, info->receiver ? info->receiver : "unknown");
	spf_sb_puts(sb, ": ");
	switch (v->result) {
	case SPF_RESULT_PASS:
	case SPF_RESULT_FAIL:
	case SPF_RESULT_SOFTFAIL:
		spf_sb_puts(sb, v->result == SPF_RESULT_SOFTFAIL ?
		    "transitioning domain of " : "domain of ");
		spf_sb_puts(sb, sender);
		spf_sb_puts(sb, v->result == SPF_RESULT_PASS ? " designates " :
		    " does not designate ");
		spf_sb_puts(sb, ip);
		spf_sb_puts(sb, " as permitted sender");
		break;
	case SPF_RESULT_NEUTRAL:
		spf_sb_puts(sb, ip);
		spf_sb_puts(sb, " is neither permitted nor denied by domain "
		    "of ");
		spf_sb_puts(sb, sender);
		break;
	case SPF_RESULT_NONE:
		spf_sb_puts(sb, "domain of ");
		spf_sb_puts(sb, sender);
		spf_sb_puts(sb, " does not designate permitted sender hosts");
		break;
	default:
		spf_sb_puts(sb, v->result == SPF_RESULT_TEMPERROR ?
		    "temporary" : "permanent");
		spf_sb_puts(sb, " error in processing domain of ");
		spf_sb_puts(sb, sender);
		if (v->reason[0] != '\0') {
			spf_sb_puts(sb, ": ");
			spf_sb_puts(sb, v->reason);
		}
		break;
	}
}

/* Starts a header: name and first token. */
static void
spf_header_init(struct spf_header_buf *h, char *out, size_t outlen,
    const char *name)
{
	h->out = out;
	h->cap = outlen;
	h->len = 0;
	h->col = 0;
	h->full = outlen == 0;
	h->tlen = 0;
	spf_header_tok_puts(h, name);
	spf_header_emit(h);
}

/* Terminates the header; the length or -1. */
static int
spf_header_finish(struct spf_header_buf *h)
{
	if (h->full || h->len >= h->cap) {
		if (h->cap > 0)
			h->out[0] = '\0';
		return -1;
	}
	h->out[h->len] = '\0';
	return (int)h->len;
}

/* Formats "Received-SPF: ..." (see spf.h and the contract above). */
int
spf_header_received_spf(char *out, size_t outlen,
    const struct spf_verdict *v, const struct spf_header_info *info)
{
	struct spf_header_buf h;
	char comment[HDR_COMMENT_MAX];
	struct spf_sb sb;
	int err = v->result == SPF_RESULT_TEMPERROR ||
	    v->result == SPF_RESULT_PERMERROR;

	spf_header_init(&h, out, outlen, "Received-SPF:");
	spf_header_tok_puts(&h, spf_result_name(v->result));
	spf_header_emit(&h);
	spf_sb_init(&sb, comment, sizeof(comment));
	spf_header_comment_text(&sb, v, info);
	spf_header_comment(&h, comment);
	if (info->client_ip)
		spf_header_pair(&h, "client-ip", info->client_ip, 0);
	if (v->identity == SPF_ID_MAILFROM)
		spf_header_pair(&h, "envelope-from", v->identity_text, 0);
	if (info->helo)
		spf_header_pair(&h, "helo", info->helo, 0);
	if (info->receiver)
		spf_header_pair(&h, "receiver", info->receiver, 0);
	if (v->mechanism[0] != '\0')
		spf_header_pair(&h, "mechanism", v->mechanism, 0);
	if (err && v->reason[0] != '\0')
		spf_header_pair(&h, "problem", v->reason, 0);
	spf_header_pair(&h, "identity", v->identity == SPF_ID_HELO ? "helo" :
	    "mailfrom", 0);
	spf_header_pair(&h, "x-dnssec", v->dnssec_secure ? "secure" :
	    "insecure", 1);
	return spf_header_finish(&h);
}

/* Appends an RFC 8601 pvalue: address or domain as is if plain, else quoted. */
static void
spf_header_tok_pvalue(struct spf_header_buf *h, const char *s, int is_domain)
{
	size_t n = strlen(s);
	const char *at = strrchr(s, '@');

	if (n <= HDR_VALUE_MAX && (is_domain ? spf_header_domain_name(s, n) :
	    (at != NULL && spf_header_dot_atom(s, (size_t)(at - s)) &&
	    spf_header_domain_name(at + 1, strlen(at + 1)))))
		spf_header_tok_put(h, s, n);
	else
		spf_header_tok_quoted(h, s, n);
}

/* 1 if s is an RFC 2045 token. */
static int
spf_header_token(const char *s)
{
	size_t i;
	unsigned char c;

	if (s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c))
			return 0;
	}
	return 1;
}

/* Formats "Authentication-Results: ..." with the spf method. */
int
spf_header_authres(char *out, size_t outlen, const struct spf_verdict *v,
    const struct spf_header_info *info)
{
	struct spf_header_buf h;
	char comment[HDR_COMMENT_MAX];
	struct spf_sb sb;
	const char *id = info->authserv_id ? info->authserv_id : "unknown";
	int helo = v->identity == SPF_ID_HELO;

	spf_header_init(&h, out, outlen, "Authentication-Results:");
	if (spf_header_token(id) && strlen(id) <= HDR_VALUE_MAX)
		spf_header_tok_puts(&h, id);
	else
		spf_header_tok_quoted(&h, id, strlen(id));
	spf_header_tok_put(&h, ";", 1);
	spf_header_emit(&h);
	spf_header_tok_puts(&h, "spf=");
	spf_header_tok_puts(&h, spf_result_name(v->result));
	spf_header_emit(&h);
	spf_sb_init(&sb, comment, sizeof(comment));
	spf_header_comment_text(&sb, v, info);
	spf_header_comment(&h, comment);
	spf_header_comment(&h, v->dnssec_secure ? "dnssec=secure" :
	    "dnssec=insecure");
	spf_header_tok_puts(&h, helo ? "smtp.helo=" : "smtp.mailfrom=");
	spf_header_tok_pvalue(&h, v->identity_text, helo);
	spf_header_emit(&h);
	return spf_header_finish(&h);
}
