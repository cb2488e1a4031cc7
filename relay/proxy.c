/*
 * proxy.c - PROXY protocol v1/v2 header parser (see proxy.h).
 *
 * Reads only buf[0..len) and writes only *out.  v1 waits for the CRLF
 * before decoding any field (the spec requires it) but rejects a wrong
 * prefix, a control octet or a CR without LF as soon as it is seen.  v2
 * checks the signature and the fixed fields as they arrive and decodes the
 * address block only once the whole header is in.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "relay/proxy.h"

#define PROXY_V1_PREFIX "PROXY "
#define PROXY_V1_PREFIX_LEN 6
#define PROXY_V1_FIELDS 5	/* protocol, src, dst, sport, dport */

#define PROXY_V2_SIG_LEN 12
#define PROXY_V2_VER_CMD 12	/* offset: version << 4 | command */
#define PROXY_V2_FAM 13		/* offset: family << 4 | transport */
#define PROXY_V2_LEN 14		/* offset: 16-bit length of the rest */
#define PROXY_V2_VERSION 0x2
#define PROXY_CMD_LOCAL 0x0
#define PROXY_CMD_PROXY 0x1
#define PROXY_FAM_UNSPEC 0x0
#define PROXY_FAM_INET 0x1
#define PROXY_FAM_INET6 0x2
#define PROXY_FAM_UNIX 0x3
#define PROXY_TR_UNSPEC 0x0
#define PROXY_TR_STREAM 0x1
#define PROXY_TR_DGRAM 0x2
#define PROXY_V2_INET_LEN 12	/* 2 * 4 + 2 * 2 */
#define PROXY_V2_INET6_LEN 36	/* 2 * 16 + 2 * 2 */
#define PROXY_V2_UNIX_LEN 216	/* 2 * 108 */
#define PROXY_TLV_HEAD 3	/* type, 16-bit length */
#define PROXY_TLV_CRC32C 0x03
#define PROXY_CRC32C_POLY 0x82f63b78u	/* Castagnoli, reflected */

static const unsigned char proxy_v2_sig[PROXY_V2_SIG_LEN] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* One field of a v1 line: a slice of the caller's buffer. */
struct proxy_tok {
	const char *p;
	size_t n;
};

/* Records why the header is invalid; returns -1 for the caller to pass on. */
static int
proxy_fail(struct proxy_info *out, const char *reason)
{
	out->error = reason;
	return -1;
}

/* Big-endian 16-bit value at p. */
static unsigned
proxy_be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Big-endian 32-bit value at p. */
static uint32_t
proxy_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Stores an IPv4 endpoint (addr: 4 octets, network order). */
static void
proxy_set_in(struct sockaddr_storage *ss, const void *addr, unsigned port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	memcpy(&sin.sin_addr, addr, 4);
	memcpy(ss, &sin, sizeof(sin));
}

/* Stores an IPv6 endpoint (addr: 16 octets, network order). */
static void
proxy_set_in6(struct sockaddr_storage *ss, const void *addr, unsigned port)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons((uint16_t)port);
	memcpy(&sin6.sin6_addr, addr, 16);
	memcpy(ss, &sin6, sizeof(sin6));
}

/*
 * Finds the end of a v1 line.  Returns the octets to consume (line and
 * CRLF) with the line length in *linelen, 0 to wait for more, -1 if invalid.
 */
static int
proxy_v1_end(const unsigned char *buf, size_t len, struct proxy_info *out,
    size_t *linelen)
{
	size_t i, lim = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;

	for (i = 0; i < lim; i++) {
		if (i < PROXY_V1_PREFIX_LEN && buf[i] != PROXY_V1_PREFIX[i])
			return proxy_fail(out, "not a PROXY header");
		if (buf[i] == '\r') {
			if (i + 2 > PROXY_V1_MAX)
				return proxy_fail(out, "v1 header too long");
			if (i + 1 == len)
				return 0;
			if (buf[i + 1] != '\n')
				return proxy_fail(out, "CR without LF in v1 header");
			*linelen = i;
			return (int)(i + 2);
		}
		if (buf[i] == '\n')
			return proxy_fail(out, "bare LF in v1 header");
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return proxy_fail(out, "control or non-ASCII octet in v1 "
			    "header");
	}
	if (len < PROXY_V1_MAX)
		return 0;
	return proxy_fail(out, "v1 header too long");
}

/*
 * Splits s[0..n) at single spaces into at most max fields.  Returns the
 * count, or -1 for an empty field (two spaces, a leading or trailing
 * space) or too many fields.
 */
static int
proxy_v1_split(const char *s, size_t n, struct proxy_tok *tok, int max)
{
	size_t i, start = 0;
	int ntok = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != ' ')
			continue;
		if (i == start || ntok == max)
			return -1;
		tok[ntok].p = s + start;
		tok[ntok].n = i - start;
		ntok++;
		start = i + 1;
	}
	return ntok;
}

/* 1 if the field is exactly the keyword kw. */
static int
proxy_v1_is(const struct proxy_tok *t, const char *kw)
{
	return t->n == strlen(kw) && memcmp(t->p, kw, t->n) == 0;
}

/*
 * Decimal number of 1 to 5 digits without a leading zero, at most max.
 * Returns 0 with the value in *v, or -1.
 */
static int
proxy_v1_decimal(const char *p, size_t n, unsigned long max, unsigned long *v)
{
	size_t i;

	if (n == 0 || n > 5 || (n > 1 && p[0] == '0'))
		return -1;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned long)(p[i] - '0');
	}
	return *v <= max ? 0 : -1;
}

/* Dotted-quad IPv4 address, strictly as the spec spells it; 0 or -1. */
static int
proxy_v1_ipv4(const struct proxy_tok *t, unsigned char addr[4])
{
	struct proxy_tok part[4];
	unsigned long v;
	size_t i, start = 0;
	int k = 0;

	for (i = 0; i <= t->n; i++) {
		if (i < t->n && t->p[i] != '.')
			continue;
		if (k == 4)
			return -1;
		part[k].p = t->p + start;
		part[k].n = i - start;
		k++;
		start = i + 1;
	}
	if (k != 4)
		return -1;
	for (k = 0; k < 4; k++) {
		if (proxy_v1_decimal(part[k].p, part[k].n, 255, &v) < 0)
			return -1;
		addr[k] = (unsigned char)v;
	}
	return 0;
}

/* Textual IPv6 address (hex groups, one "::" at most); 0 or -1. */
static int
proxy_v1_ipv6(const struct proxy_tok *t, unsigned char addr[16])
{
	char text[INET6_ADDRSTRLEN];
	size_t i;

	if (t->n >= sizeof(text))
		return -1;
	for (i = 0; i < t->n; i++) {
		/* inet_pton() also takes a dotted IPv4 tail; nothing else. */
		if (t->p[i] == '\0' ||
		    strchr("0123456789abcdefABCDEF:.", t->p[i]) == NULL)
			return -1;
	}
	memcpy(text, t->p, t->n);
	text[t->n] = '\0';
	return inet_pton(AF_INET6, text, addr) == 1 ? 0 : -1;
}

/* Decodes "TCP4|TCP6 src dst sport dport" into *out; 0 or -1. */
static int
proxy_v1_addrs(const struct proxy_tok *f, struct proxy_info *out)
{
	unsigned char src[16], dst[16];
	unsigned long sport, dport;

	if (proxy_v1_decimal(f[3].p, f[3].n, 65535, &sport) < 0 ||
	    proxy_v1_decimal(f[4].p, f[4].n, 65535, &dport) < 0)
		return proxy_fail(out, "bad port in v1 header");
	if (proxy_v1_is(&f[0], "TCP4")) {
		if (proxy_v1_ipv4(&f[1], src) < 0 ||
		    proxy_v1_ipv4(&f[2], dst) < 0)
			return proxy_fail(out, "bad IPv4 address in v1 header");
		proxy_set_in(&out->src, src, (unsigned)sport);
		proxy_set_in(&out->dst, dst, (unsigned)dport);
		return 0;
	}
	if (proxy_v1_is(&f[0], "TCP6")) {
		if (proxy_v1_ipv6(&f[1], src) < 0 ||
		    proxy_v1_ipv6(&f[2], dst) < 0)
			return proxy_fail(out, "bad IPv6 address in v1 header");
		proxy_set_in6(&out->src, src, (unsigned)sport);
		proxy_set_in6(&out->dst, dst, (unsigned)dport);
		return 0;
	}
	return proxy_fail(out, "unknown protocol in v1 header");
}

/* Parses a v1 header ("PROXY ..." CRLF); proxy_parse() semantics. */
static int
proxy_v1(const unsigned char *buf, size_t len, struct proxy_info *out)
{
	struct proxy_tok field[PROXY_V1_FIELDS];
	const char *rest = (const char *)buf + PROXY_V1_PREFIX_LEN;
	size_t linelen, n;
	int used;

	if ((used = proxy_v1_end(buf, len, out, &linelen)) <= 0)
		return used;
	out->version = 1;
	/* proxy_v1_end() matched the prefix before any CR. */
	n = linelen - PROXY_V1_PREFIX_LEN;
	if (n >= 7 && memcmp(rest, "UNKNOWN", 7) == 0 &&
	    (n == 7 || rest[7] == ' ')) {
		/* The spec: ignore whatever follows UNKNOWN on the line. */
		out->local = 1;
		return used;
	}
	if (proxy_v1_split(rest, n, field, PROXY_V1_FIELDS) != PROXY_V1_FIELDS)
		return proxy_fail(out, "malformed v1 header");
	if (proxy_v1_addrs(field, out) < 0)
		return -1;
	return used;
}

/* CRC-32C (Castagnoli) of p[0..n) continued from crc, bit by bit. */
static uint32_t
proxy_crc32c(uint32_t crc, const unsigned char *p, size_t n)
{
	int k;

	while (n-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (PROXY_CRC32C_POLY & -(crc & 1u));
	}
	return crc;
}

/*
 * Checks a PP2_TYPE_CRC32C TLV whose value starts at hdr[val]: the CRC of
 * the whole header with those 4 octets taken as zero.  0 if it matches.
 */
static int
proxy_v2_crc_check(const unsigned char *hdr, size_t total, size_t val)
{
	static const unsigned char zero[4];
	uint32_t crc = 0xffffffffu;

	crc = proxy_crc32c(crc, hdr, val);
	crc = proxy_crc32c(crc, zero, sizeof(zero));
	crc = proxy_crc32c(crc, hdr + val + 4, total - val - 4);
	return ~crc == proxy_be32(hdr + val) ? 0 : -1;
}

/*
 * Walks the TLVs in hdr[pos..total): each must fit; a CRC32C TLV must
 * verify.  The others are skipped.  0 or -1.
 */
static int
proxy_v2_tlvs(const unsigned char *hdr, size_t total, size_t pos,
    struct proxy_info *out)
{
	size_t vlen;

	while (pos < total) {
		if (total - pos < PROXY_TLV_HEAD)
			return proxy_fail(out, "truncated v2 TLV");
		vlen = proxy_be16(hdr + pos + 1);
		if (vlen > total - pos - PROXY_TLV_HEAD)
			return proxy_fail(out, "truncated v2 TLV");
		if (hdr[pos] == PROXY_TLV_CRC32C && (vlen != 4 ||
		    proxy_v2_crc_check(hdr, total, pos + PROXY_TLV_HEAD) < 0))
			return proxy_fail(out, "v2 CRC32C mismatch");
		pos += PROXY_TLV_HEAD + vlen;
	}
	return 0;
}

/*
 * Checks the fixed part of a v2 header as far as it has arrived:
 * signature, version, command, family and transport, length.  0 or -1.
 */
static int
proxy_v2_fixed(const unsigned char *buf, size_t len, struct proxy_info *out)
{
	size_t n = len < PROXY_V2_SIG_LEN ? len : PROXY_V2_SIG_LEN;

	if (memcmp(buf, proxy_v2_sig, n) != 0)
		return proxy_fail(out, "not a PROXY header");
	if (len <= PROXY_V2_VER_CMD)
		return 0;
	if (buf[PROXY_V2_VER_CMD] >> 4 != PROXY_V2_VERSION)
		return proxy_fail(out, "unsupported v2 version");
	if ((buf[PROXY_V2_VER_CMD] & 0xf) > PROXY_CMD_PROXY)
		return proxy_fail(out, "unknown v2 command");
	/* LOCAL ignores the family octet, as the spec says. */
	if (len > PROXY_V2_FAM &&
	    (buf[PROXY_V2_VER_CMD] & 0xf) == PROXY_CMD_PROXY &&
	    (buf[PROXY_V2_FAM] >> 4 > PROXY_FAM_UNIX ||
	    (buf[PROXY_V2_FAM] & 0xf) > PROXY_TR_DGRAM))
		return proxy_fail(out, "unknown v2 family or transport");
	if (len >= PROXY_V2_HEAD &&
	    proxy_be16(buf + PROXY_V2_LEN) > PROXY_V2_MAX_LEN)
		return proxy_fail(out, "v2 header too long");
	return 0;
}

/* Size of the v2 address block of a family/transport byte, 0 if none. */
static size_t
proxy_v2_addrlen(int fam, int tr)
{
	if (tr != PROXY_TR_STREAM && tr != PROXY_TR_DGRAM)
		return 0;
	switch (fam) {
	case PROXY_FAM_INET:
		return PROXY_V2_INET_LEN;
	case PROXY_FAM_INET6:
		return PROXY_V2_INET6_LEN;
	case PROXY_FAM_UNIX:
		return PROXY_V2_UNIX_LEN;
	default:
		return 0;
	}
}

/* Decodes the body of a complete v2 PROXY command; 0 or -1. */
static int
proxy_v2_body(const unsigned char *hdr, size_t total, struct proxy_info *out)
{
	const unsigned char *a = hdr + PROXY_V2_HEAD;
	int fam = hdr[PROXY_V2_FAM] >> 4, tr = hdr[PROXY_V2_FAM] & 0xf;
	size_t alen = proxy_v2_addrlen(fam, tr);

	if (alen == 0) {
		/* UNSPEC: the block has no defined layout; ignore it. */
		out->local = 1;
		return 0;
	}
	if (total - PROXY_V2_HEAD < alen)
		return proxy_fail(out, "v2 address block too short");
	if (proxy_v2_tlvs(hdr, total, PROXY_V2_HEAD + alen, out) < 0)
		return -1;
	if (tr != PROXY_TR_STREAM || fam == PROXY_FAM_UNIX) {
		/* Not TCP: fall back to the real endpoints (spec 2.2). */
		out->local = 1;
		return 0;
	}
	if (fam == PROXY_FAM_INET) {
		proxy_set_in(&out->src, a, proxy_be16(a + 8));
		proxy_set_in(&out->dst, a + 4, proxy_be16(a + 10));
	} else {
		proxy_set_in6(&out->src, a, proxy_be16(a + 32));
		proxy_set_in6(&out->dst, a + 16, proxy_be16(a + 34));
	}
	return 0;
}

/* Parses a v2 header (binary signature first); proxy_parse() semantics. */
static int
proxy_v2(const unsigned char *buf, size_t len, struct proxy_info *out)
{
	size_t total;

	if (proxy_v2_fixed(buf, len, out) < 0)
		return -1;
	if (len < PROXY_V2_HEAD)
		return 0;
	total = PROXY_V2_HEAD + proxy_be16(buf + PROXY_V2_LEN);
	if (len < total)
		return 0;
	out->version = 2;
	if ((buf[PROXY_V2_VER_CMD] & 0xf) == PROXY_CMD_LOCAL) {
		/* Health check: skip the block whatever it holds. */
		out->local = 1;
		out->check = 1;
		return (int)total;
	}
	if (proxy_v2_body(buf, total, out) < 0)
		return -1;
	return (int)total;
}

int
proxy_parse(const unsigned char *buf, size_t len, struct proxy_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return 0;
	if (buf[0] == PROXY_V1_PREFIX[0])
		return proxy_v1(buf, len, out);
	if (buf[0] == proxy_v2_sig[0])
		return proxy_v2(buf, len, out);
	return proxy_fail(out, "not a PROXY header");
}
