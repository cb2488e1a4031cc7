/*
 * conf_values.c - typed value parsers and formatters of the configuration.
 *
 * CONTRACT
 *	Pure functions: text in, a value or one human-readable message out
 *	("'x:y' is not an address:port").  Messages never name the key or
 *	the line; conf_parse adds those.  No allocation, no global state.
 *
 *	Syntax accepted (see spfgate.conf(5)):
 *	  bool      yes no true false on off 1 0 (any case)
 *	  integer   decimal digits, optional leading '-'
 *	  size      integer with optional K M G T suffix (powers of 1024)
 *	  duration  integer with optional unit ms s m h d; none = seconds
 *	  address   a.b.c.d:PORT or [IPv6]:PORT (numeric only, no names)
 *	  forward   IP or IP@PORT (unbound's syntax; port 53 by default)
 *	  network   IP/PREFIX or IP; host bits must be zero
 *	  rate      COUNT/DURATION or 0 (unlimited)
 *
 *	The formatters print the shortest exact form, and what they print
 *	parses back to the same value.
 *
 *	Caution: a message longer than msglen is cut; messages are for
 *	humans only.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_impl.h"

#define QUOTE_MAX 96		/* characters of a value kept in messages */

static void msgf(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats a message (cut if too long: it is only for humans). */
static void
msgf(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msglen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

/* Appends one character to buf if room remains (keeping the NUL). */
static void
put_char(char *buf, size_t buflen, size_t *o, char c)
{
	if (*o + 1 < buflen)
		buf[(*o)++] = c;
	buf[*o] = '\0';
}

/* Quotes a value for an error message. */
void
conf_values_quote(const char *s, char *buf, size_t buflen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (buflen == 0)
		return;
	buf[0] = '\0';
	put_char(buf, buflen, &o, '\'');
	for (i = 0; s[i] != '\0' && o + 8 < buflen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == QUOTE_MAX) {
			put_char(buf, buflen, &o, '.');
			put_char(buf, buflen, &o, '.');
			put_char(buf, buflen, &o, '.');
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			put_char(buf, buflen, &o, (char)c);
			continue;
		}
		put_char(buf, buflen, &o, '\\');
		put_char(buf, buflen, &o, 'x');
		put_char(buf, buflen, &o, hex[c >> 4]);
		put_char(buf, buflen, &o, hex[c & 0xf]);
	}
	put_char(buf, buflen, &o, '\'');
}

/* Writes the quoted value into q (a QUOTE buffer) and returns it. */
static const char *
quoted(const char *s, char *q, size_t qlen)
{
	conf_values_quote(s, q, qlen);
	return q;
}

#define QBUF char q_[QUOTE_MAX * 4 + 8]
#define Q(s) quoted((s), q_, sizeof(q_))

/*
 * Reads decimal digits at *p into *out (at most INT64_MAX).  Returns 0,
 * -1 if there is no digit, -2 on overflow; *p is moved past the digits.
 */
static int
read_digits(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int overflow = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > ((uint64_t)INT64_MAX - d) / 10)
			overflow = 1;
		else
			v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return overflow ? -2 : 0;
}

/* Parses a boolean. */
int
conf_values_bool(const char *s, int *out, char *msg, size_t msglen)
{
	static const struct conf_word words[] = {
		{ "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 },
		{ "on", 1 }, { "off", 0 }, { "1", 1 }, { "0", 0 },
	};
	size_t i;
	QBUF;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(s, words[i].name) == 0) {
			*out = words[i].value;
			return 0;
		}
	}
	msgf(msg, msglen, "%s is not yes or no", Q(s));
	return -1;
}

/* Parses a decimal integer within [min, max]. */
int
conf_values_int(const char *s, int64_t min, int64_t max, int64_t *out,
    char *msg, size_t msglen)
{
	const char *p = s;
	uint64_t u;
	int64_t v;
	int neg = 0, r;
	QBUF;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	r = read_digits(&p, &u);
	if (r == -1 || *p != '\0') {
		msgf(msg, msglen, "%s is not a number", Q(s));
		return -1;
	}
	v = neg ? -(int64_t)u : (int64_t)u;
	if (r == -2 || v < min || v > max) {
		msgf(msg, msglen, "%s is out of range (%" PRId64 "..%" PRId64
		    ")", Q(s), min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Multiplies with overflow check; returns -1 if v * mult > INT64_MAX. */
static int
scale(uint64_t v, uint64_t mult, int64_t *out)
{
	if (v > (uint64_t)INT64_MAX / mult)
		return -1;
	*out = (int64_t)(v * mult);
	return 0;
}

/* Parses a size with an optional K/M/G/T suffix. */
int
conf_values_size(const char *s, int64_t *out, char *msg, size_t msglen)
{
	const char *p = s;
	uint64_t v, mult = 1;
	int r;
	QBUF;

	r = read_digits(&p, &v);
	if (r != -1 && *p != '\0' && p[1] == '\0') {
		switch (tolower((unsigned char)*p)) {
		case 'k': mult = 1ULL << 10; p++; break;
		case 'm': mult = 1ULL << 20; p++; break;
		case 'g': mult = 1ULL << 30; p++; break;
		case 't': mult = 1ULL << 40; p++; break;
		default: break;
		}
	}
	if (r == -1 || *p != '\0') {
		msgf(msg, msglen, "%s is not a size (e.g. 4096, 512K, 50M, 1G)",
		    Q(s));
		return -1;
	}
	if (r == -2 || scale(v, mult, out) < 0) {
		msgf(msg, msglen, "%s is too large", Q(s));
		return -1;
	}
	return 0;
}

/* Milliseconds per duration unit, or 0 if unit is not one. */
static uint64_t
duration_unit(const char *unit)
{
	if (*unit == '\0' || strcmp(unit, "s") == 0)
		return 1000;
	if (strcmp(unit, "ms") == 0)
		return 1;
	if (strcmp(unit, "m") == 0)
		return 60 * 1000;
	if (strcmp(unit, "h") == 0)
		return 3600 * 1000;
	if (strcmp(unit, "d") == 0)
		return 86400 * 1000;
	return 0;
}

/* Parses a duration into milliseconds. */
int
conf_values_duration(const char *s, int64_t *out, char *msg, size_t msglen)
{
	const char *p = s;
	uint64_t v, mult;
	int r;
	QBUF;

	r = read_digits(&p, &v);
	mult = r == -1 ? 0 : duration_unit(p);
	if (mult == 0) {
		msgf(msg, msglen, "%s is not a duration (e.g. 30, 30s, 5m, "
		    "1h, 1d, 500ms)", Q(s));
		return -1;
	}
	if (r == -2 || scale(v, mult, out) < 0) {
		msgf(msg, msglen, "%s is too large", Q(s));
		return -1;
	}
	return 0;
}

/* Reads a port number 1..65535 filling all of s; -1 if not one. */
static int
read_port(const char *s, in_port_t *port)
{
	const char *p = s;
	uint64_t v;

	if (read_digits(&p, &v) != 0 || *p != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (in_port_t)v;
	return 0;
}

/* Fills a sockaddr from a numeric address of the given family. */
static int
make_addr(int family, const char *host, in_port_t port, struct conf_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		out->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		out->len = sizeof(*sin6);
	}
	return 0;
}

/* Copies len bytes of s into buf as a string; -1 if it does not fit. */
static int
copy_part(const char *s, size_t len, char *buf, size_t buflen)
{
	if (len >= buflen)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

/* Parses "[v6]:port"; returns -1 with a hint in why. */
static int
parse_bracketed(const char *s, struct conf_addr *out, const char **why)
{
	char host[INET6_ADDRSTRLEN];
	const char *end = strchr(s, ']');
	in_port_t port;

	if (end == NULL || copy_part(s + 1, (size_t)(end - s - 1), host,
	    sizeof(host)) < 0 || strchr(host, ':') == NULL ||
	    make_addr(AF_INET6, host, 0, out) < 0) {
		*why = " (brackets hold an IPv6 address)";
		return -1;
	}
	if (end[1] != ':' || read_port(end + 2, &port) < 0) {
		*why = " (port 1..65535 after ']:')";
		return -1;
	}
	return make_addr(AF_INET6, host, port, out);
}

/* Parses "a.b.c.d:port"; returns -1 with a hint in why. */
static int
parse_v4port(const char *s, struct conf_addr *out, const char **why)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	in_port_t port;

	if (colon == NULL) {
		*why = " (missing :PORT)";
		return -1;
	}
	if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
		*why = " (write IPv6 addresses in brackets: [2001:db8::1]:25)";
		return -1;
	}
	if (copy_part(s, (size_t)(colon - s), host, sizeof(host)) < 0 ||
	    make_addr(AF_INET, host, 0, out) < 0) {
		*why = " (only numeric IP addresses)";
		return -1;
	}
	if (read_port(colon + 1, &port) < 0) {
		*why = " (port must be 1..65535)";
		return -1;
	}
	return make_addr(AF_INET, host, port, out);
}

/* Parses IPv4:PORT or [IPv6]:PORT. */
int
conf_values_addr(const char *s, struct conf_addr *out, char *msg,
    size_t msglen)
{
	const char *why = "";
	int r;
	QBUF;

	r = s[0] == '[' ? parse_bracketed(s, out, &why) :
	    parse_v4port(s, out, &why);
	if (r < 0) {
		msgf(msg, msglen, "%s is not an address:port%s", Q(s), why);
		return -1;
	}
	return 0;
}

/* Parses IP or IP@PORT (port 53 by default). */
int
conf_values_forward(const char *s, struct conf_addr *out, char *msg,
    size_t msglen)
{
	char host[INET6_ADDRSTRLEN];
	const char *at = strchr(s, '@');
	size_t hostlen = at ? (size_t)(at - s) : strlen(s);
	in_port_t port = 53;
	int family;
	QBUF;

	if (at != NULL && read_port(at + 1, &port) < 0) {
		msgf(msg, msglen, "%s is not IP@PORT (port must be 1..65535)",
		    Q(s));
		return -1;
	}
	if (copy_part(s, hostlen, host, sizeof(host)) < 0)
		host[0] = '\0';
	family = strchr(host, ':') ? AF_INET6 : AF_INET;
	if (host[0] == '\0' || make_addr(family, host, port, out) < 0) {
		msgf(msg, msglen, "%s is not an IP address or IP@PORT", Q(s));
		return -1;
	}
	return 0;
}

/* Stores the network mask check: 1 if bits beyond prefix are zero. */
static int
host_bits_zero(const unsigned char *a, size_t alen, unsigned prefix)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		unsigned bits = prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;
		unsigned char mask = bits >= 8 ? 0xff :
		    (unsigned char)(0xff << (8 - bits));

		if (a[i] & (unsigned char)~mask)
			return 0;
	}
	return 1;
}

/* Clears the bits of a beyond prefix. */
static void
mask_bits(unsigned char *a, size_t alen, unsigned prefix)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		unsigned bits = prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;

		if (bits < 8)
			a[i] &= (unsigned char)(0xff << (8 - bits)) & 0xff;
	}
}

/* Reads the address part of a network into out; -1 if not an address. */
static int
read_net_addr(const char *s, size_t len, struct conf_net *out)
{
	char host[INET6_ADDRSTRLEN];

	memset(out, 0, sizeof(*out));
	if (copy_part(s, len, host, sizeof(host)) < 0)
		return -1;
	out->family = strchr(host, ':') ? AF_INET6 : AF_INET;
	return inet_pton(out->family, host, out->addr) == 1 ? 0 : -1;
}

/* Parses a network, refusing host bits. */
int
conf_values_net(const char *s, struct conf_net *out, char *msg, size_t msglen)
{
	const char *slash = strchr(s, '/'), *p;
	size_t alen;
	unsigned max;
	uint64_t prefix;
	char net[64];
	QBUF;

	if (read_net_addr(s, slash ? (size_t)(slash - s) : strlen(s),
	    out) < 0) {
		msgf(msg, msglen, "%s is not an IP network (e.g. "
		    "192.0.2.0/24, 2001:db8::/32)", Q(s));
		return -1;
	}
	alen = out->family == AF_INET ? 4 : 16;
	max = (unsigned)alen * 8;
	prefix = max;
	p = slash ? slash + 1 : NULL;
	if (p != NULL && (read_digits(&p, &prefix) != 0 || *p != '\0' ||
	    prefix > max)) {
		msgf(msg, msglen, "%s: the prefix length must be 0..%u", Q(s),
		    max);
		return -1;
	}
	out->prefix = (unsigned)prefix;
	if (!host_bits_zero(out->addr, alen, out->prefix)) {
		mask_bits(out->addr, alen, out->prefix);
		if (conf_values_fmt_net(out, net, sizeof(net)) < 0)
			net[0] = '\0';
		msgf(msg, msglen, "%s has host bits set (the network is %s)",
		    Q(s), net);
		return -1;
	}
	return 0;
}

/* Checks one label; returns NULL or what is wrong with it. */
static const char *
label_problem(const char *l, size_t len)
{
	size_t i;

	if (len == 0)
		return "empty label";
	if (len > 63)
		return "label longer than 63 characters";
	if (l[0] == '-' || l[len - 1] == '-')
		return "label starts or ends with '-'";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];

		if (!isalnum(c) && c != '-' && c != '_')
			return "only letters, digits, '-' and '_' are allowed";
	}
	return NULL;
}

/* 1 if the len characters at s are all digits. */
static int
all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Checks a domain name; returns NULL or what is wrong with it. */
static const char *
domain_problem(const char *s, size_t len)
{
	const char *l = s, *dot, *why = NULL, *end = s + len;

	if (len == 0)
		return "empty";
	if (len > CONF_DOMAIN_MAX)
		return "longer than 253 characters";
	for (;;) {
		dot = memchr(l, '.', (size_t)(end - l));
		why = label_problem(l, dot ? (size_t)(dot - l) :
		    (size_t)(end - l));
		if (why != NULL || dot == NULL)
			break;
		l = dot + 1;
	}
	if (why == NULL && all_digits(l, (size_t)(end - l)))
		why = "the last label is all digits";
	return why;
}

/* Checks a domain name and lower-cases it. */
int
conf_values_domain(const char *s, char *out, size_t outlen, char *msg,
    size_t msglen)
{
	size_t len = strlen(s), i;
	const char *why;
	QBUF;

	if (len > 1 && s[len - 1] == '.')
		len--;
	why = domain_problem(s, len);
	if (why == NULL && len >= outlen)
		why = "too long";
	if (why != NULL) {
		msgf(msg, msglen, "%s is not a domain name (%s)", Q(s), why);
		return -1;
	}
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[len] = '\0';
	return 0;
}

/* Parses COUNT/DURATION or 0. */
int
conf_values_rate(const char *s, struct conf_rate *out, char *msg,
    size_t msglen)
{
	const char *p = s;
	uint64_t count;
	int64_t per;
	char sub[CONF_MSG_MAX];
	QBUF;

	if (strcmp(s, "0") == 0) {
		out->count = 0;
		out->per_ms = 0;
		return 0;
	}
	if (read_digits(&p, &count) != 0 || *p != '/' || count < 1 ||
	    count > 1000000 || conf_values_duration(p + 1, &per, sub,
	    sizeof(sub)) < 0 || per < 1000 || per > 86400 * 1000) {
		msgf(msg, msglen, "%s is not a rate: COUNT/DURATION with "
		    "COUNT 1..1000000 and DURATION 1s..1d (e.g. 100/1m), "
		    "or 0 for no limit", Q(s));
		return -1;
	}
	out->count = (int)count;
	out->per_ms = per;
	return 0;
}

/* Checks an absolute path (or ""). */
int
conf_values_path(const char *s, char *msg, size_t msglen)
{
	size_t i;
	QBUF;

	if (s[0] == '\0')
		return 0;
	if (s[0] != '/') {
		msgf(msg, msglen, "%s is not an absolute path", Q(s));
		return -1;
	}
	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			msgf(msg, msglen, "%s contains a control character",
			    Q(s));
			return -1;
		}
	}
	return 0;
}

/* Checks a user name (or ""). */
int
conf_values_user(const char *s, char *msg, size_t msglen)
{
	size_t i;
	QBUF;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		int ok = isalpha(c) || c == '_' ||
		    (i > 0 && (isdigit(c) || c == '-' || c == '.'));

		if (!ok || i >= 32) {
			msgf(msg, msglen, "%s is not a user name", Q(s));
			return -1;
		}
	}
	return 0;
}

/* Checks a listener or certificate name. */
int
conf_values_name(const char *s, char *msg, size_t msglen)
{
	size_t i;
	QBUF;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) || c == '_' || c == '-' || c == '.'))
			break;
	}
	if (i == 0 || s[i] != '\0' || i > CONF_NAME_MAX) {
		msgf(msg, msglen, "%s is not a valid name (1 to %d letters, "
		    "digits, '_', '-' or '.')", Q(s), CONF_NAME_MAX);
		return -1;
	}
	return 0;
}

/* Checks printable ASCII text. */
int
conf_values_text(const char *s, int spaces, char *msg, size_t msglen)
{
	size_t i;
	QBUF;

	if (s[0] == ';') {
		msgf(msg, msglen, "%s: a value cannot start with ';'", Q(s));
		return -1;
	}
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || (c == ' ' && !spaces)) {
			msgf(msg, msglen, "%s: only printable ASCII%s is "
			    "allowed", Q(s), spaces ? "" : " without spaces");
			return -1;
		}
	}
	return 0;
}

/* Checks a HELO name: domain or address literal. */
int
conf_values_helo(const char *s, char *msg, size_t msglen)
{
	char buf[CONF_DOMAIN_MAX + 2];
	unsigned char bin[16];
	size_t len = strlen(s);
	QBUF;

	if (len > 2 && s[0] == '[' && s[len - 1] == ']' &&
	    copy_part(s + 1, len - 2, buf, sizeof(buf)) == 0) {
		if (inet_pton(AF_INET, buf, bin) == 1 ||
		    (strncasecmp(buf, "IPv6:", 5) == 0 &&
		    inet_pton(AF_INET6, buf + 5, bin) == 1))
			return 0;
	} else if (len > 0 && domain_problem(s, s[len - 1] == '.' ?
	    len - 1 : len) == NULL)
		return 0;
	msgf(msg, msglen, "%s is neither a domain name nor an address literal "
	    "([192.0.2.1], [IPv6:2001:db8::1])", Q(s));
	return -1;
}

/* Splits the next list item off the cursor. */
const char *
conf_values_item(const char **cursor, const char *seps, size_t *len)
{
	const char *s = *cursor, *start;

	while (*s != '\0' && (isspace((unsigned char)*s) ||
	    strchr(seps, *s) != NULL))
		s++;
	if (*s == '\0') {
		*cursor = s;
		return NULL;
	}
	start = s;
	while (*s != '\0' && !isspace((unsigned char)*s) &&
	    strchr(seps, *s) == NULL)
		s++;
	*len = (size_t)(s - start);
	*cursor = s;
	return start;
}

/* snprintf into buf; returns 0, or -1 if it did not fit. */
static int fmt(char *buf, size_t buflen, const char *f, ...)
    __attribute__((format(printf, 3, 4)));

static int
fmt(char *buf, size_t buflen, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, buflen, f, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

/* Formats a size in its largest exact unit. */
int
conf_values_fmt_size(int64_t v, char *buf, size_t buflen)
{
	static const char units[] = "TGMK";
	int i;

	for (i = 0; v != 0 && i < 4; i++) {
		int64_t mult = (int64_t)1 << (10 * (4 - i));

		if (v % mult == 0)
			return fmt(buf, buflen, "%" PRId64 "%c", v / mult,
			    units[i]);
	}
	return fmt(buf, buflen, "%" PRId64, v);
}

/* Formats a duration in its largest exact unit. */
int
conf_values_fmt_duration(int64_t ms, char *buf, size_t buflen)
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 },
	};
	size_t i;

	for (i = 0; ms != 0 && i < sizeof(units) / sizeof(units[0]); i++)
		if (ms % units[i].ms == 0)
			return fmt(buf, buflen, "%" PRId64 "%s",
			    ms / units[i].ms, units[i].unit);
	if (ms == 0)
		return fmt(buf, buflen, "0");
	return fmt(buf, buflen, "%" PRId64 "ms", ms);
}

/* Formats the address part of a; stores the port in *port. */
static int
fmt_host(const struct conf_addr *a, char *buf, size_t buflen, int *port)
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)&a->ss;

		*port = ntohs(sin->sin_port);
		return inet_ntop(AF_INET, &sin->sin_addr, buf,
		    (socklen_t)buflen) ? 0 : -1;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)&a->ss;

		*port = ntohs(sin6->sin6_port);
		return inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
		    (socklen_t)buflen) ? 0 : -1;
	}
	return -1;
}

/* Formats IPv4:PORT or [IPv6]:PORT ("" if unset). */
int
conf_values_fmt_addr(const struct conf_addr *a, char *buf, size_t buflen)
{
	char host[INET6_ADDRSTRLEN];
	int port;

	if (a->len == 0)
		return fmt(buf, buflen, "%s", "");
	if (fmt_host(a, host, sizeof(host), &port) < 0)
		return -1;
	if (a->ss.ss_family == AF_INET6)
		return fmt(buf, buflen, "[%s]:%d", host, port);
	return fmt(buf, buflen, "%s:%d", host, port);
}

/* Formats IP, or IP@PORT when the port is not 53. */
int
conf_values_fmt_forward(const struct conf_addr *a, char *buf, size_t buflen)
{
	char host[INET6_ADDRSTRLEN];
	int port;

	if (fmt_host(a, host, sizeof(host), &port) < 0)
		return -1;
	if (port == 53)
		return fmt(buf, buflen, "%s", host);
	return fmt(buf, buflen, "%s@%d", host, port);
}

/* Formats ADDRESS/PREFIX. */
int
conf_values_fmt_net(const struct conf_net *n, char *buf, size_t buflen)
{
	char host[INET6_ADDRSTRLEN];

	if (inet_ntop(n->family, n->addr, host, sizeof(host)) == NULL)
		return -1;
	return fmt(buf, buflen, "%s/%u", host, n->prefix);
}

/* Formats COUNT/DURATION, or 0. */
int
conf_values_fmt_rate(const struct conf_rate *r, char *buf, size_t buflen)
{
	char per[32];

	if (r->count == 0)
		return fmt(buf, buflen, "0");
	if (conf_values_fmt_duration(r->per_ms, per, sizeof(per)) < 0)
		return -1;
	return fmt(buf, buflen, "%d/%s", r->count, per);
}

/* 1 if two addresses are equal. */
int
conf_values_addr_equal(const struct conf_addr *a, const struct conf_addr *b)
{
	if (a->len != b->len)
		return 0;
	if (a->len == 0)
		return 1;
	if (a->ss.ss_family == AF_INET && b->ss.ss_family == AF_INET) {
		const struct sockaddr_in *x =
		    (const struct sockaddr_in *)&a->ss;
		const struct sockaddr_in *y =
		    (const struct sockaddr_in *)&b->ss;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss.ss_family == AF_INET6 && b->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *x =
		    (const struct sockaddr_in6 *)&a->ss;
		const struct sockaddr_in6 *y =
		    (const struct sockaddr_in6 *)&b->ss;

		return x->sin6_port == y->sin6_port &&
		    x->sin6_scope_id == y->sin6_scope_id &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return 0;
}
