/*
 * smtp_cmd.c - SMTP command line parser and parameter re-serializer.
 *
 * CONTRACT
 *	See smtp_cmd.h for the accepted syntax and the error replies.  Every
 *	scan is bounded by the length the caller passes; nothing here reads
 *	past it, allocates, or keeps state between calls.
 *
 * STRUCTURE
 *	Layered like the grammar of RFC 5321 4.1.2: verb split, then
 *	"FROM:"/"TO:" and the bracketed path, then the ESMTP parameters (a
 *	table per command with one small parser per keyword), and last the
 *	address itself (source route, local part, domain or literal), which
 *	needs the parameters because SMTPUTF8 widens the address syntax.
 */
#include "smtp/smtp_cmd.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Outcome of validating an address. */
enum smtp_cmd_addr {
	SMTP_CMD_ADDR_OK = 0,
	SMTP_CMD_ADDR_BAD,		/* syntax or length */
	SMTP_CMD_ADDR_NONASCII		/* valid only with SMTPUTF8 */
};

/* Which path a parse is about: they differ in "<>" and "<Postmaster>". */
enum smtp_cmd_kind {
	SMTP_CMD_SENDER,
	SMTP_CMD_RECIPIENT
};

/* Parses one parameter value into the object; 0 or -1. */
typedef int smtp_cmd_param_fn(void *obj, const char *v, size_t vlen,
    int has_value);

/* One known ESMTP parameter of a command. */
struct smtp_cmd_param {
	const char		*name;
	smtp_cmd_param_fn	*parse;
	const char		*bad;	/* reply text when the value is bad */
};

/* Bounded output buffer of the formatters; overflow is sticky. */
struct smtp_cmd_out {
	char	*buf;
	size_t	 size;
	size_t	 len;
	int	 overflow;
};

static const char *const smtp_cmd_verbs[SMTP_VERB_COUNT] = {
	"UNKNOWN", "HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP",
	"QUIT", "VRFY", "EXPN", "HELP", "STARTTLS", "BDAT", "AUTH"
};

/* ASCII lower case, independent of the locale. */
static int
smtp_cmd_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* 1 if s[0..len) equals the literal lit, ignoring ASCII case. */
static int
smtp_cmd_eq(const char *s, size_t len, const char *lit)
{
	size_t i;

	if (strlen(lit) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (smtp_cmd_lower((unsigned char)s[i]) !=
		    smtp_cmd_lower((unsigned char)lit[i]))
			return 0;
	return 1;
}

/* 1 if s[0..len) starts with the literal lit, ignoring ASCII case. */
static int
smtp_cmd_prefix(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && smtp_cmd_eq(s, n, lit);
}

/* ASCII letter. */
static int
smtp_cmd_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ASCII digit. */
static int
smtp_cmd_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* ASCII hex digit, either case. */
static int
smtp_cmd_is_hex(int c)
{
	return smtp_cmd_is_digit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* RFC 5322 atext. */
static int
smtp_cmd_is_atext(int c)
{
	return smtp_cmd_is_alpha(c) || smtp_cmd_is_digit(c) ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/*
 * Length (2-4) of the well-formed UTF-8 sequence (RFC 3629) starting at
 * p[0..n), or 0: no overlongs, no surrogates, nothing above U+10FFFF.
 */
static size_t
smtp_cmd_utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Splits line[0..len) into verb and arguments. */
void
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd)
{
	size_t i = 0, v;

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	while (i < len && line[i] != ' ')
		i++;
	cmd->verb = SMTP_VERB_UNKNOWN;
	for (v = 1; v < SMTP_VERB_COUNT; v++)
		if (smtp_cmd_eq(line, i, smtp_cmd_verbs[v]))
			cmd->verb = (enum smtp_verb)v;
	while (i < len && line[i] == ' ')
		i++;
	cmd->args = line + i;
	cmd->args_len = len - i;
}

/* Upper-case name of a verb. */
const char *
smtp_cmd_verb_name(enum smtp_verb verb)
{
	if ((unsigned)verb >= SMTP_VERB_COUNT)
		return "UNKNOWN";
	return smtp_cmd_verbs[verb];
}

/* Fills *err and returns -1, for one-line error exits. */
static int
smtp_cmd_fail(struct smtp_cmd_error *err, int code, const char *enhanced,
    const char *text)
{
	err->code = code;
	err->enhanced = enhanced;
	err->text = text;
	return -1;
}

/* Accepts a HELO/EHLO argument liberally and copies it into name. */
int
smtp_cmd_parse_helo(const char *args, size_t len, char *name,
    struct smtp_cmd_error *err)
{
	size_t i;

	if (len == 0)
		return smtp_cmd_fail(err, 501, "5.5.4",
		    "Syntax: HELO/EHLO hostname");
	if (len > SMTP_HELO_MAX)
		return smtp_cmd_fail(err, 501, "5.5.4",
		    "Error: HELO/EHLO argument too long");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)args[i];

		if (c < 0x20 || c == 0x7f)
			return smtp_cmd_fail(err, 501, "5.5.4",
			    "Error: bad character in HELO/EHLO argument");
	}
	memcpy(name, args, len);
	name[len] = '\0';
	return 0;
}

/*
 * Validates one label (RFC 5321 sub-domain, or a U-label with utf8) at
 * p[0..n); stores its length in *used.  0 or -1.
 */
static int
smtp_cmd_label(const char *p, size_t n, size_t *used, int *nonascii)
{
	size_t i = 0, k;
	int last = 0;

	while (i < n && p[i] != '.') {
		unsigned char c = (unsigned char)p[i];

		if (smtp_cmd_is_alpha(c) || smtp_cmd_is_digit(c))
			k = 1;
		else if (c == '-' && i > 0)
			k = 1;
		else if (c >= 0x80 && (k = smtp_cmd_utf8_len(
		    (const unsigned char *)p + i, n - i)) > 0)
			*nonascii = 1;
		else
			return -1;
		last = c;
		i += k;
	}
	if (i == 0 || i > 63 || last == '-')
		return -1;
	*used = i;
	return 0;
}

/* Validates a whole domain at p[0..n); sets *nonascii for U-labels. */
static int
smtp_cmd_domain(const char *p, size_t n, int *nonascii)
{
	size_t i = 0, used;

	if (n == 0 || n > SMTP_DOMAIN_MAX)
		return -1;
	for (;;) {
		if (smtp_cmd_label(p + i, n - i, &used, nonascii) != 0)
			return -1;
		i += used;
		if (i == n)
			return 0;
		i++;		/* the dot; a trailing dot fails next round */
	}
}

/* 1 if s[0..len) is a valid domain (U-labels only with utf8). */
int
smtp_cmd_is_domain(const char *s, size_t len, int utf8)
{
	int nonascii = 0;

	return smtp_cmd_domain(s, len, &nonascii) == 0 &&
	    (utf8 || !nonascii);
}

/* Validates a dotted-quad IPv4 literal body (RFC 5321 IPv4-address-literal). */
static int
smtp_cmd_ipv4(const char *p, size_t n)
{
	size_t i = 0;
	int part, digits, value;

	for (part = 0; part < 4; part++) {
		if (part > 0 && (i >= n || p[i++] != '.'))
			return -1;
		for (digits = 0, value = 0; i < n && digits < 3 &&
		    smtp_cmd_is_digit((unsigned char)p[i]); digits++, i++)
			value = value * 10 + (p[i] - '0');
		if (digits == 0 || value > 255)
			return -1;
	}
	return i == n ? 0 : -1;
}

/* Validates an address literal "[...]" at p[0..n), brackets included. */
static int
smtp_cmd_literal(const char *p, size_t n)
{
	char buf[64];
	unsigned char addr[16];

	if (n < 3 || p[0] != '[' || p[n - 1] != ']')
		return -1;
	p++;
	n -= 2;
	if (!smtp_cmd_prefix(p, n, "IPv6:"))
		return smtp_cmd_ipv4(p, n);
	p += 5;
	n -= 5;
	if (n == 0 || n >= sizeof(buf) || memchr(p, '\0', n) != NULL)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1 ? 0 : -1;
}

/* Validates a dot-string local part; its length goes to *used. */
static int
smtp_cmd_dot_string(const char *p, size_t n, size_t *used, int *nonascii)
{
	size_t i = 0, k, atom = 0;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c == '.') {
			if (atom == 0)
				return -1;
			atom = 0;
			i++;
			continue;
		}
		if (smtp_cmd_is_atext(c))
			k = 1;
		else if (c >= 0x80 && (k = smtp_cmd_utf8_len(
		    (const unsigned char *)p + i, n - i)) > 0)
			*nonascii = 1;
		else
			break;
		atom++;
		i += k;
	}
	if (atom == 0)
		return -1;
	*used = i;
	return 0;
}

/* Validates a quoted-string local part starting at p[0] == '"'. */
static int
smtp_cmd_quoted(const char *p, size_t n, size_t *used, int *nonascii)
{
	size_t i = 1, k;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"') {
			*used = i + 1;
			return 0;
		}
		if (c == '\\') {
			if (i + 1 >= n || p[i + 1] < 0x20 || p[i + 1] > 0x7e)
				return -1;
			i += 2;
		} else if (c >= 0x20 && c <= 0x7e)
			i++;
		else if (c >= 0x80 && (k = smtp_cmd_utf8_len(
		    (const unsigned char *)p + i, n - i)) > 0) {
			*nonascii = 1;
			i += k;
		} else
			return -1;
	}
	return -1;
}

/* Validates Mailbox = Local-part "@" (Domain / address-literal). */
static int
smtp_cmd_mailbox(const char *p, size_t n, size_t *domain, int *nonascii)
{
	size_t local;
	int r;

	if (n == 0)
		return -1;
	if (p[0] == '"')
		r = smtp_cmd_quoted(p, n, &local, nonascii);
	else
		r = smtp_cmd_dot_string(p, n, &local, nonascii);
	if (r != 0 || local > SMTP_LOCAL_MAX || local >= n || p[local] != '@')
		return -1;
	*domain = local + 1;
	p += local + 1;
	n -= local + 1;
	if (n > 0 && p[0] == '[')
		return smtp_cmd_literal(p, n);
	return smtp_cmd_domain(p, n, nonascii);
}

/* Skips a source route "@a,@b:" at p[0] == '@'; its length to *used. */
static int
smtp_cmd_route(const char *p, size_t n, size_t *used)
{
	size_t i = 0, start;
	int nonascii = 0;

	for (;;) {
		if (i >= n || p[i] != '@')
			return -1;
		start = ++i;
		while (i < n && p[i] != ',' && p[i] != ':')
			i++;
		if (i >= n || smtp_cmd_domain(p + start, i - start,
		    &nonascii) != 0)
			return -1;
		if (p[i++] == ':') {
			*used = i;
			return 0;
		}
	}
}

/*
 * Validates the path between the brackets, p[0..n), and copies the
 * mailbox (route stripped) NUL-terminated into out.
 */
static enum smtp_cmd_addr
smtp_cmd_path(const char *p, size_t n, enum smtp_cmd_kind kind, int utf8,
    char *out, size_t *domain)
{
	size_t route = 0;
	int nonascii = 0;

	*domain = 0;
	if (n + 2 > SMTP_PATH_MAX)
		return SMTP_CMD_ADDR_BAD;
	if (n == 0) {
		out[0] = '\0';
		return kind == SMTP_CMD_SENDER ? SMTP_CMD_ADDR_OK :
		    SMTP_CMD_ADDR_BAD;
	}
	if (p[0] == '@' && smtp_cmd_route(p, n, &route) != 0)
		return SMTP_CMD_ADDR_BAD;
	p += route;
	n -= route;
	if (kind == SMTP_CMD_RECIPIENT && route == 0 &&
	    smtp_cmd_eq(p, n, "postmaster")) {
		memcpy(out, p, n);
		out[n] = '\0';
		return SMTP_CMD_ADDR_OK;
	}
	if (smtp_cmd_mailbox(p, n, domain, &nonascii) != 0)
		return SMTP_CMD_ADDR_BAD;
	if (nonascii && !utf8)
		return SMTP_CMD_ADDR_NONASCII;
	memcpy(out, p, n);
	out[n] = '\0';
	return SMTP_CMD_ADDR_OK;
}

/*
 * Finds the '>' that closes the path starting with '<' at p[0]; a quoted
 * local part may contain '>'.  Its index goes to *end.  0 or -1.
 */
static int
smtp_cmd_path_end(const char *p, size_t n, size_t *end)
{
	size_t i;
	int quoted = 0;

	for (i = 1; i < n; i++) {
		if (quoted && p[i] == '\\')
			i++;
		else if (p[i] == '"')
			quoted = !quoted;
		else if (!quoted && p[i] == '>') {
			*end = i;
			return 0;
		}
	}
	return -1;
}

/*
 * Splits "FROM:<path> params" (kw is "FROM:" or "TO:"): the path content
 * goes to path and plen, the rest to rest and rlen.  0, or -1 on bad syntax.
 */
static int
smtp_cmd_split(const char *a, size_t n, const char *kw, const char **path,
    size_t *plen, const char **rest, size_t *rlen)
{
	size_t i, end;

	if (!smtp_cmd_prefix(a, n, kw))
		return -1;
	i = strlen(kw);
	while (i < n && a[i] == ' ')
		i++;
	if (i >= n || a[i] != '<' || smtp_cmd_path_end(a + i, n - i, &end))
		return -1;
	*path = a + i + 1;
	*plen = end - 1;
	i += end + 1;
	if (i < n && a[i] != ' ')
		return -1;
	while (i < n && a[i] == ' ')
		i++;
	*rest = a + i;
	*rlen = n - i;
	return 0;
}

/* 1 if v[0..n) is RFC 3461 xtext (hex digits of either case). */
static int
smtp_cmd_xtext(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '+') {
			if (i + 2 >= n)
				return 0;
			if (!smtp_cmd_is_hex((unsigned char)v[i + 1]) ||
			    !smtp_cmd_is_hex((unsigned char)v[i + 2]))
				return 0;
			i += 2;
		} else if (c < 33 || c > 126 || c == '=')
			return 0;
	}
	return 1;
}

/* SIZE=1*20DIGIT (RFC 1870); the value saturates at UINT64_MAX. */
static int
smtp_cmd_param_size(void *obj, const char *v, size_t n, int has_value)
{
	struct smtp_mail *m = obj;
	uint64_t value = 0;
	size_t i;

	if (!has_value || n == 0 || n > 20)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(v[i] - '0');

		if (!smtp_cmd_is_digit((unsigned char)v[i]))
			return -1;
		value = value > (UINT64_MAX - d) / 10 ? UINT64_MAX :
		    value * 10 + d;
	}
	m->has_size = 1;
	m->size = value;
	return 0;
}

/* BODY=7BIT|8BITMIME (RFC 6152); BINARYMIME needs CHUNKING: refused. */
static int
smtp_cmd_param_body(void *obj, const char *v, size_t n, int has_value)
{
	struct smtp_mail *m = obj;

	if (has_value && smtp_cmd_eq(v, n, "7BIT"))
		m->body = SMTP_BODY_7BIT;
	else if (has_value && smtp_cmd_eq(v, n, "8BITMIME"))
		m->body = SMTP_BODY_8BITMIME;
	else
		return -1;
	return 0;
}

/* SMTPUTF8, without a value (RFC 6531 3.4). */
static int
smtp_cmd_param_smtputf8(void *obj, const char *v, size_t n, int has_value)
{
	struct smtp_mail *m = obj;

	(void)v;
	(void)n;
	if (has_value)
		return -1;
	m->smtputf8 = 1;
	return 0;
}

/* RET=FULL|HDRS (RFC 3461 4.3). */
static int
smtp_cmd_param_ret(void *obj, const char *v, size_t n, int has_value)
{
	struct smtp_mail *m = obj;

	if (has_value && smtp_cmd_eq(v, n, "FULL"))
		m->ret = SMTP_RET_FULL;
	else if (has_value && smtp_cmd_eq(v, n, "HDRS"))
		m->ret = SMTP_RET_HDRS;
	else
		return -1;
	return 0;
}

/* ENVID=xtext, at most 100 octets (RFC 3461 4.4). */
static int
smtp_cmd_param_envid(void *obj, const char *v, size_t n, int has_value)
{
	struct smtp_mail *m = obj;

	if (!has_value || n == 0 || n > SMTP_ENVID_MAX || !smtp_cmd_xtext(v, n))
		return -1;
	memcpy(m->envid, v, n);
	m->envid[n] = '\0';
	return 0;
}

/* Bit of one NOTIFY keyword, or 0 if unknown. */
static unsigned
smtp_cmd_notify_bit(const char *v, size_t n)
{
	if (smtp_cmd_eq(v, n, "NEVER"))
		return SMTP_NOTIFY_NEVER;
	if (smtp_cmd_eq(v, n, "SUCCESS"))
		return SMTP_NOTIFY_SUCCESS;
	if (smtp_cmd_eq(v, n, "FAILURE"))
		return SMTP_NOTIFY_FAILURE;
	if (smtp_cmd_eq(v, n, "DELAY"))
		return SMTP_NOTIFY_DELAY;
	return 0;
}

/* NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1). */
static int
smtp_cmd_param_notify(void *obj, const char *v, size_t n, int has_value)
{
	struct smtp_rcpt *r = obj;
	unsigned bits = 0, bit;
	size_t i = 0, start;

	if (!has_value)
		return -1;
	do {
		start = i;
		while (i < n && v[i] != ',')
			i++;
		bit = smtp_cmd_notify_bit(v + start, i - start);
		if (bit == 0 || (bits & bit) != 0)
			return -1;
		bits |= bit;
	} while (i++ < n);
	if ((bits & SMTP_NOTIFY_NEVER) && bits != SMTP_NOTIFY_NEVER)
		return -1;
	r->notify = bits;
	return 0;
}

/* ORCPT=addr-type;xtext, at most 500 octets (RFC 3461 4.2). */
static int
smtp_cmd_param_orcpt(void *obj, const char *v, size_t n, int has_value)
{
	struct smtp_rcpt *r = obj;
	size_t i = 0;

	if (!has_value || n > SMTP_ORCPT_MAX)
		return -1;
	while (i < n && smtp_cmd_is_atext((unsigned char)v[i]))
		i++;
	if (i == 0 || i >= n || v[i] != ';' || !smtp_cmd_xtext(v + i + 1,
	    n - i - 1))
		return -1;
	memcpy(r->orcpt, v, n);
	r->orcpt[n] = '\0';
	return 0;
}

static const struct smtp_cmd_param smtp_cmd_mail_params[] = {
	{ "SIZE", smtp_cmd_param_size, "Error: bad SIZE parameter" },
	{ "BODY", smtp_cmd_param_body, "Error: bad or unsupported BODY parameter" },
	{ "SMTPUTF8", smtp_cmd_param_smtputf8, "Error: SMTPUTF8 takes no value" },
	{ "RET", smtp_cmd_param_ret, "Error: bad RET parameter" },
	{ "ENVID", smtp_cmd_param_envid, "Error: bad ENVID parameter" },
};

static const struct smtp_cmd_param smtp_cmd_rcpt_params[] = {
	{ "NOTIFY", smtp_cmd_param_notify, "Error: bad NOTIFY parameter" },
	{ "ORCPT", smtp_cmd_param_orcpt, "Error: bad ORCPT parameter" },
};

/* 1 if k[0..n) is an esmtp-keyword: (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"). */
static int
smtp_cmd_keyword(const char *k, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];

		if (!smtp_cmd_is_alpha(c) && !smtp_cmd_is_digit(c) &&
		    (c != '-' || i == 0))
			return 0;
	}
	return 1;
}

/* 1 if v[0..n) is an esmtp-value: 1*(%d33-60 / %d62-126). */
static int
smtp_cmd_value(const char *v, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 33 || c > 126 || c == '=')
			return 0;
	}
	return 1;
}

/* Handles one "keyword[=value]" token against a command's table. */
static int
smtp_cmd_param(const char *t, size_t n, const struct smtp_cmd_param *tab,
    size_t count, unsigned *seen, void *obj, struct smtp_cmd_error *err)
{
	const char *eq = memchr(t, '=', n);
	size_t klen = eq ? (size_t)(eq - t) : n, i;
	const char *v = eq ? eq + 1 : NULL;
	size_t vlen = eq ? n - klen - 1 : 0;

	if (!smtp_cmd_keyword(t, klen) || (eq && !smtp_cmd_value(v, vlen)))
		return smtp_cmd_fail(err, 555, "5.5.4",
		    "Error: malformed parameter");
	for (i = 0; i < count; i++)
		if (smtp_cmd_eq(t, klen, tab[i].name))
			break;
	if (i == count)
		return smtp_cmd_fail(err, 555, "5.5.4",
		    "Error: unsupported parameter");
	if (*seen & (1u << i))
		return smtp_cmd_fail(err, 555, "5.5.4",
		    "Error: duplicate parameter");
	*seen |= 1u << i;
	if (tab[i].parse(obj, v, vlen, eq != NULL) != 0)
		return smtp_cmd_fail(err, 555, "5.5.4", tab[i].bad);
	return 0;
}

/* Parses the space-separated parameters in p[0..n) into obj. */
static int
smtp_cmd_params(const char *p, size_t n, int esmtp,
    const struct smtp_cmd_param *tab, size_t count, void *obj,
    struct smtp_cmd_error *err)
{
	size_t i = 0, start;
	unsigned seen = 0;

	if (n > 0 && !esmtp)
		return smtp_cmd_fail(err, 555, "5.5.4",
		    "Error: parameters need EHLO");
	while (i < n) {
		start = i;
		while (i < n && p[i] != ' ')
			i++;
		if (smtp_cmd_param(p + start, i - start, tab, count, &seen,
		    obj, err) != 0)
			return -1;
		while (i < n && p[i] == ' ')
			i++;
	}
	return 0;
}

/* Parses MAIL's "FROM:<path> [params]". */
int
smtp_cmd_parse_mail(const char *args, size_t len, int esmtp,
    struct smtp_mail *mail, struct smtp_cmd_error *err)
{
	const char *path, *rest;
	size_t plen, rlen;

	memset(mail, 0, sizeof(*mail));
	if (smtp_cmd_split(args, len, "FROM:", &path, &plen, &rest, &rlen))
		return smtp_cmd_fail(err, 501, "5.5.2",
		    "Syntax: MAIL FROM:<address>");
	if (smtp_cmd_params(rest, rlen, esmtp, smtp_cmd_mail_params,
	    sizeof(smtp_cmd_mail_params) / sizeof(smtp_cmd_mail_params[0]),
	    mail, err) != 0)
		return -1;
	switch (smtp_cmd_path(path, plen, SMTP_CMD_SENDER, mail->smtputf8,
	    mail->sender, &mail->domain)) {
	case SMTP_CMD_ADDR_OK:
		return 0;
	case SMTP_CMD_ADDR_NONASCII:
		return smtp_cmd_fail(err, 553, "5.6.7",
		    "Error: non-ASCII sender address needs SMTPUTF8");
	case SMTP_CMD_ADDR_BAD:
		break;
	}
	return smtp_cmd_fail(err, 501, "5.1.7",
	    "Error: bad sender address syntax");
}

/* Parses RCPT's "TO:<path> [params]". */
int
smtp_cmd_parse_rcpt(const char *args, size_t len, int esmtp, int utf8,
    struct smtp_rcpt *rcpt, struct smtp_cmd_error *err)
{
	const char *path, *rest;
	size_t plen, rlen;

	memset(rcpt, 0, sizeof(*rcpt));
	if (smtp_cmd_split(args, len, "TO:", &path, &plen, &rest, &rlen))
		return smtp_cmd_fail(err, 501, "5.5.2",
		    "Syntax: RCPT TO:<address>");
	if (smtp_cmd_params(rest, rlen, esmtp, smtp_cmd_rcpt_params,
	    sizeof(smtp_cmd_rcpt_params) / sizeof(smtp_cmd_rcpt_params[0]),
	    rcpt, err) != 0)
		return -1;
	switch (smtp_cmd_path(path, plen, SMTP_CMD_RECIPIENT, utf8,
	    rcpt->rcpt, &rcpt->domain)) {
	case SMTP_CMD_ADDR_OK:
		return 0;
	case SMTP_CMD_ADDR_NONASCII:
		return smtp_cmd_fail(err, 553, "5.6.7",
		    "Error: non-ASCII recipient address needs SMTPUTF8");
	case SMTP_CMD_ADDR_BAD:
		break;
	}
	return smtp_cmd_fail(err, 501, "5.1.3",
	    "Error: bad recipient address syntax");
}

/* Appends printf output to o; on truncation marks it overflowed. */
static void __attribute__((format(printf, 2, 3)))
smtp_cmd_out_add(struct smtp_cmd_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->overflow = 1;
		return;
	}
	o->len += (size_t)n;
}

/* Appends one parameter word, with a separating space if not first. */
static void
smtp_cmd_out_word(struct smtp_cmd_out *o, const char *key, const char *value)
{
	smtp_cmd_out_add(o, "%s%s%s%s", o->len > 0 ? " " : "", key,
	    value ? "=" : "", value ? value : "");
}

/* Ends the output: length, or -1 (and an empty buf) on overflow. */
static int
smtp_cmd_out_end(struct smtp_cmd_out *o)
{
	if (o->overflow || o->len > (size_t)0x7fffffff) {
		if (o->size > 0)
			o->buf[0] = '\0';
		return -1;
	}
	return (int)o->len;
}

/* Appends the MAIL parameters the peer supports. */
static void
smtp_cmd_out_mail(struct smtp_cmd_out *o, const struct smtp_mail *m,
    unsigned ext)
{
	char size[24];

	if (m->has_size && (ext & SMTP_CMD_EXT_SIZE)) {
		snprintf(size, sizeof(size), "%llu",
		    (unsigned long long)m->size);	/* <= 20 digits: fits */
		smtp_cmd_out_word(o, "SIZE", size);
	}
	if (m->body != SMTP_BODY_NONE && (ext & SMTP_CMD_EXT_8BITMIME))
		smtp_cmd_out_word(o, "BODY",
		    m->body == SMTP_BODY_7BIT ? "7BIT" : "8BITMIME");
	if (m->smtputf8 && (ext & SMTP_CMD_EXT_SMTPUTF8))
		smtp_cmd_out_word(o, "SMTPUTF8", NULL);
	if (!(ext & SMTP_CMD_EXT_DSN))
		return;
	if (m->ret != SMTP_RET_NONE)
		smtp_cmd_out_word(o, "RET",
		    m->ret == SMTP_RET_FULL ? "FULL" : "HDRS");
	if (m->envid[0] != '\0')
		smtp_cmd_out_word(o, "ENVID", m->envid);
}

/* Appends the RCPT parameters (DSN only). */
static void
smtp_cmd_out_rcpt(struct smtp_cmd_out *o, const struct smtp_rcpt *r,
    unsigned ext)
{
	char notify[32];

	if (!(ext & SMTP_CMD_EXT_DSN))
		return;
	if (r->notify != 0) {
		/* At most "SUCCESS,FAILURE,DELAY": 21 octets. */
		snprintf(notify, sizeof(notify), "%s%s%s%s",
		    (r->notify & SMTP_NOTIFY_NEVER) ? "NEVER" : "",
		    (r->notify & SMTP_NOTIFY_SUCCESS) ? "SUCCESS," : "",
		    (r->notify & SMTP_NOTIFY_FAILURE) ? "FAILURE," : "",
		    (r->notify & SMTP_NOTIFY_DELAY) ? "DELAY," : "");
		if (notify[strlen(notify) - 1] == ',')
			notify[strlen(notify) - 1] = '\0';
		smtp_cmd_out_word(o, "NOTIFY", notify);
	}
	if (r->orcpt[0] != '\0')
		smtp_cmd_out_word(o, "ORCPT", r->orcpt);
}

/* Re-serializes the forwardable MAIL parameters. */
int
smtp_cmd_format_mail_params(const struct smtp_mail *mail, unsigned ext,
    char *buf, size_t size)
{
	struct smtp_cmd_out o = { buf, size, 0, size == 0 };

	if (size > 0)
		buf[0] = '\0';
	smtp_cmd_out_mail(&o, mail, ext);
	return smtp_cmd_out_end(&o);
}

/* Re-serializes the forwardable RCPT parameters. */
int
smtp_cmd_format_rcpt_params(const struct smtp_rcpt *rcpt, unsigned ext,
    char *buf, size_t size)
{
	struct smtp_cmd_out o = { buf, size, 0, size == 0 };

	if (size > 0)
		buf[0] = '\0';
	smtp_cmd_out_rcpt(&o, rcpt, ext);
	return smtp_cmd_out_end(&o);
}

/* Formats "MAIL FROM:<sender> params\r\n". */
int
smtp_cmd_format_mail(const struct smtp_mail *mail, unsigned ext, char *buf,
    size_t size)
{
	struct smtp_cmd_out o = { buf, size, 0, size == 0 };

	smtp_cmd_out_add(&o, "MAIL FROM:<%s>", mail->sender);
	smtp_cmd_out_mail(&o, mail, ext);
	smtp_cmd_out_add(&o, "\r\n");
	return smtp_cmd_out_end(&o);
}

/* Formats "RCPT TO:<rcpt> params\r\n". */
int
smtp_cmd_format_rcpt(const struct smtp_rcpt *rcpt, unsigned ext, char *buf,
    size_t size)
{
	struct smtp_cmd_out o = { buf, size, 0, size == 0 };

	smtp_cmd_out_add(&o, "RCPT TO:<%s>", rcpt->rcpt);
	smtp_cmd_out_rcpt(&o, rcpt, ext);
	smtp_cmd_out_add(&o, "\r\n");
	return smtp_cmd_out_end(&o);
}
