/*
 * proxy_test.c - unit tests of relay/proxy.c (PROXY protocol v1/v2).
 *
 * Every vector is parsed from a copy placed right before a PROT_NONE page,
 * so a read past the end crashes even without ASan.  A valid header must
 * report "need more" at every shorter prefix, its exact length when
 * complete, and the same length with SMTP bytes after it.  An invalid one
 * must never be accepted at any prefix, and once rejected stays rejected.
 * The v2 vectors are built by hand from haproxy's doc/proxy-protocol.txt
 * (section 2.2); the CRC32C used to sign one of them is checked against
 * the standard check value first.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "relay/proxy.h"
#include "tests/check.h"

#define GUARD_MAX 4096		/* largest vector the guard buffer holds */
#define TRAILER "EHLO client.example\r\n"

static unsigned char *guard_base;	/* one data page, then PROT_NONE */
static size_t guard_page;

/* Maps the data page and the guard page after it; 0 or -1. */
static int
guard_init(void)
{
	guard_page = (size_t)sysconf(_SC_PAGESIZE);
	if (guard_page < GUARD_MAX)
		guard_page = GUARD_MAX;
	guard_base = mmap(NULL, 2 * guard_page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_base == MAP_FAILED)
		return -1;
	return mprotect(guard_base + guard_page, guard_page, PROT_NONE);
}

/* proxy_parse() of buf[0..len) copied so that it ends at the guard page. */
static int
parse(const void *buf, size_t len, struct proxy_info *pi)
{
	unsigned char *p = guard_base + guard_page - len;

	if (len > GUARD_MAX)
		abort();
	memcpy(p, buf, len);
	return proxy_parse(p, len, pi);
}

/*
 * Checks a valid header of len octets: 0 for every shorter prefix, len
 * alone and with SMTP after it.  Leaves the complete parse in *pi.
 * Returns the number of failed expectations.
 */
static int
check_valid(const char *name, const void *hdr, size_t len,
    struct proxy_info *pi)
{
	unsigned char buf[GUARD_MAX];
	size_t k;
	int bad = 0, r;

	for (k = 0; k < len; k++) {
		if ((r = parse(hdr, k, pi)) != 0) {
			fprintf(stderr, "  %s: prefix %zu gave %d (%s)\n",
			    name, k, r, pi->error ? pi->error : "");
			bad++;
		}
	}
	memcpy(buf, hdr, len);
	memcpy(buf + len, TRAILER, strlen(TRAILER));
	if ((r = parse(buf, len + strlen(TRAILER), pi)) != (int)len) {
		fprintf(stderr, "  %s: with trailer gave %d (%s)\n", name, r,
		    pi->error ? pi->error : "");
		bad++;
	}
	if ((r = parse(hdr, len, pi)) != (int)len) {
		fprintf(stderr, "  %s: gave %d, want %zu (%s)\n", name, r, len,
		    pi->error ? pi->error : "");
		bad++;
	}
	if (pi->error != NULL)
		bad++;
	return bad;
}

/*
 * Checks an invalid header: never > 0 at any prefix, -1 when complete,
 * -1 at every prefix from the first rejection on, and, if first_bad is
 * not 0, rejected exactly from first_bad octets on.  Returns failures.
 */
static int
check_invalid(const char *name, const void *hdr, size_t len, size_t first_bad)
{
	struct proxy_info pi;
	size_t k, first = 0;
	int bad = 0, r;

	for (k = 1; k <= len; k++) {
		r = parse(hdr, k, &pi);
		if (r > 0 || (first != 0 && r != -1) ||
		    (r == -1 && pi.error == NULL)) {
			fprintf(stderr, "  %s: prefix %zu gave %d\n", name, k, r);
			bad++;
		}
		if (r == -1 && first == 0)
			first = k;
	}
	if (first == 0) {
		fprintf(stderr, "  %s: never rejected\n", name);
		bad++;
	} else if (first_bad != 0 && first != first_bad) {
		fprintf(stderr, "  %s: rejected at %zu, want %zu (%s)\n", name,
		    first, first_bad, pi.error);
		bad++;
	}
	return bad;
}

/* 1 if ss holds family, the address spelled text, and port. */
static int
endpoint_is(const struct sockaddr_storage *ss, int family, const char *text,
    unsigned port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	unsigned char want[16];

	if (ss->ss_family != family || inet_pton(family, text, want) != 1)
		return 0;
	if (family == AF_INET)
		return memcmp(&sin->sin_addr, want, 4) == 0 &&
		    ntohs(sin->sin_port) == port;
	return memcmp(&sin6->sin6_addr, want, 16) == 0 &&
	    ntohs(sin6->sin6_port) == port;
}

/* A valid v1 line and what it says. */
struct v1_ok {
	const char *text;
	int local;
	int family;
	const char *src, *dst;
	unsigned sport, dport;
};

static const struct v1_ok v1_ok[] = {
	{ "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", 0, AF_INET,
	  "192.168.0.1", "192.168.0.11", 56324, 443 },
	{ "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", 0,
	  AF_INET, "255.255.255.255", "255.255.255.255", 65535, 65535 },
	{ "PROXY TCP4 0.0.0.0 10.0.0.100 0 25\r\n", 0, AF_INET,
	  "0.0.0.0", "10.0.0.100", 0, 25 },
	{ "PROXY TCP6 2001:db8::1 2001:db8::25 1 587\r\n", 0, AF_INET6,
	  "2001:db8::1", "2001:db8::25", 1, 587 },
	{ "PROXY TCP6 2001:DB8::A ::1 40000 25\r\n", 0, AF_INET6,
	  "2001:db8::a", "::1", 40000, 25 },
	{ "PROXY TCP6 ::ffff:192.0.2.7 ::ffff:192.0.2.8 1234 25\r\n", 0,
	  AF_INET6, "::ffff:192.0.2.7", "::ffff:192.0.2.8", 1234, 25 },
	/* The longest TCP6 line: 104 octets. */
	{ "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n", 0,
	  AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 65535 },
	{ "PROXY UNKNOWN\r\n", 1, AF_UNSPEC, NULL, NULL, 0, 0 },
	/* The worst case of the spec: 107 octets. */
	{ "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n", 1,
	  AF_UNSPEC, NULL, NULL, 0, 0 },
	/* Whatever follows UNKNOWN is ignored. */
	{ "PROXY UNKNOWN  anything  goes 999999\r\n", 1, AF_UNSPEC, NULL,
	  NULL, 0, 0 },
};

static void
test_v1_valid(void)
{
	struct proxy_info pi;
	size_t i;

	CHECK_INT(strlen(v1_ok[6].text), 104);
	CHECK_INT(strlen(v1_ok[8].text), PROXY_V1_MAX);
	for (i = 0; i < sizeof(v1_ok) / sizeof(v1_ok[0]); i++) {
		const struct v1_ok *t = &v1_ok[i];

		CHECK_INT(check_valid(t->text, t->text, strlen(t->text), &pi),
		    0);
		CHECK_INT(pi.version, 1);
		CHECK_INT(pi.local, t->local);
		CHECK_INT(pi.check, 0);
		if (t->local) {
			CHECK_INT(pi.src.ss_family, AF_UNSPEC);
			CHECK_INT(pi.dst.ss_family, AF_UNSPEC);
			continue;
		}
		CHECK(endpoint_is(&pi.src, t->family, t->src, t->sport));
		CHECK(endpoint_is(&pi.dst, t->family, t->dst, t->dport));
	}
}

/* An invalid v1 header, and where it must be rejected (0: at the CRLF). */
struct v1_bad {
	const char *text;
	size_t first_bad;
};

static const struct v1_bad v1_bad[] = {
	/* Not PROXY at all, or wrong case: rejected at the first odd octet. */
	{ "EHLO mail.example\r\n", 1 },
	{ "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 1 },
	{ "Proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 2 },
	{ "PRXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 3 },
	{ " PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 1 },
	{ "PROXY\r\n", 6 },
	{ "PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", 6 },
	{ "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY unknown\r\n", 0 },
	{ "PROXY Tcp6 ::1 ::1 1 2\r\n", 0 },
	/* Line ends. */
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 31 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", 32 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", 32 },
	{ "PROXY UNKNOWN\n", 14 },
	{ "PROXY TCP4 1.2.3.4\n5.6.7.8 1 2\r\n", 19 },
	/* Spaces. */
	{ "PROXY \r\n", 0 },
	{ "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", 0 },
	/* Fields. */
	{ "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY UNKNOWNX\r\n", 0 },
	{ "PROXY TCP4\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", 0 },
	/* Ports. */
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 65536 25\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 123456 25\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 01 25\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 00 25\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 -1 25\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 +1 25\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1a 25\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 0x19 25\r\n", 0 },
	/* IPv4 addresses. */
	{ "PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 .1.2.3.4 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4a 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 1.2.3.1000 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n", 0 },
	{ "PROXY TCP4 0x1.2.3.4 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP4 16909060 5.6.7.8 1 2\r\n", 0 },
	/* IPv6 addresses. */
	{ "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", 0 },
	{ "PROXY TCP6 ::1 5.6.7.8 1 2\r\n", 0 },
	{ "PROXY TCP6 2001:db8::g ::1 1 2\r\n", 0 },
	{ "PROXY TCP6 2001:db8:::1 ::1 1 2\r\n", 0 },
	{ "PROXY TCP6 2001::db8::1 ::1 1 2\r\n", 0 },
	{ "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", 0 },
	{ "PROXY TCP6 12345::1 ::1 1 2\r\n", 0 },
	{ "PROXY TCP6 fe80::1%lo ::1 1 2\r\n", 0 },
	{ "PROXY TCP6 [::1] ::1 1 2\r\n", 0 },
	{ "PROXY TCP6 0000:0000:0000:0000:0000:0000:0000:0000:0000 ::1 1 2\r\n",
	  0 },
	/* Too long: no CRLF within 107 octets. */
	{ "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655350\r\n", 107 },
	{ "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535xxxxxxxx", 107 },
};

static void
test_v1_invalid(void)
{
	size_t i;

	for (i = 0; i < sizeof(v1_bad) / sizeof(v1_bad[0]); i++) {
		const struct v1_bad *t = &v1_bad[i];
		size_t n = strlen(t->text);

		CHECK_INT(check_invalid(t->text, t->text, n,
		    t->first_bad != 0 ? t->first_bad : n), 0);
	}
}

static void
test_v1_binary(void)
{
	static const char nul[] = "PROXY TCP4 1.2.3.4\0005.6.7.8 1 2\r\n";
	static const char high[] = "PROXY UNKNOWN \x80\r\n";
	static const char partial[] = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r";
	struct proxy_info pi;
	char longline[PROXY_V1_MAX + 1];

	CHECK_INT(check_invalid("NUL", nul, sizeof(nul) - 1, 19), 0);
	CHECK_INT(check_invalid("0x80", high, sizeof(high) - 1, 15), 0);
	/* A CR at the end may still be followed by its LF. */
	CHECK_INT(parse(partial, sizeof(partial) - 1, &pi), 0);
	/* 106 octets without CRLF: still waiting; 107: too long. */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "PROXY UNKNOWN ", 14);
	CHECK_INT(parse(longline, PROXY_V1_MAX - 1, &pi), 0);
	CHECK_INT(parse(longline, PROXY_V1_MAX, &pi), -1);
	CHECK_STR(pi.error, "v1 header too long");
	CHECK_INT(parse("", 0, &pi), 0);
}

/* The v2 signature. */
static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/*
 * Builds a v2 header: signature, ver_cmd, fam, length field lenfield
 * (-1: the body length), then body.  Returns the octets written.
 */
static size_t
v2(unsigned char *out, int ver_cmd, int fam, long lenfield,
    const void *body, size_t bodylen)
{
	size_t len = lenfield < 0 ? bodylen : (size_t)lenfield;

	memcpy(out, v2_sig, 12);
	out[12] = (unsigned char)ver_cmd;
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)(len >> 8);
	out[15] = (unsigned char)len;
	memcpy(out + 16, body, bodylen);
	return 16 + bodylen;
}

/* 192.0.2.1:55358 -> 198.51.100.7:25 as a v2 AF_INET address block. */
static const unsigned char v2_inet[12] = {
	192, 0, 2, 1, 198, 51, 100, 7, 0xd8, 0x3e, 0x00, 0x19
};

/* [2001:db8::1]:65535 -> [2001:db8::25]:587 as a v2 AF_INET6 block. */
static const unsigned char v2_inet6[36] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25,
	0xff, 0xff, 0x02, 0x4b
};

static void
test_v2_valid(void)
{
	unsigned char hdr[GUARD_MAX], body[1100];
	struct proxy_info pi;
	size_t n;

	n = v2(hdr, 0x21, 0x11, -1, v2_inet, sizeof(v2_inet));
	CHECK_INT(n, 28);
	CHECK_INT(check_valid("v2 inet", hdr, n, &pi), 0);
	CHECK_INT(pi.version, 2);
	CHECK_INT(pi.local, 0);
	CHECK_INT(pi.check, 0);
	CHECK(endpoint_is(&pi.src, AF_INET, "192.0.2.1", 55358));
	CHECK(endpoint_is(&pi.dst, AF_INET, "198.51.100.7", 25));

	n = v2(hdr, 0x21, 0x21, -1, v2_inet6, sizeof(v2_inet6));
	CHECK_INT(n, 52);
	CHECK_INT(check_valid("v2 inet6", hdr, n, &pi), 0);
	CHECK_INT(pi.local, 0);
	CHECK(endpoint_is(&pi.src, AF_INET6, "2001:db8::1", 65535));
	CHECK(endpoint_is(&pi.dst, AF_INET6, "2001:db8::25", 587));

	/* LOCAL, bare (what haproxy health checks send) and with a block
	 * that must be skipped whatever its family byte says. */
	n = v2(hdr, 0x20, 0x00, -1, "", 0);
	CHECK_INT(check_valid("v2 local", hdr, n, &pi), 0);
	CHECK_INT(pi.version, 2);
	CHECK_INT(pi.local, 1);
	CHECK_INT(pi.check, 1);
	CHECK_INT(pi.src.ss_family, AF_UNSPEC);
	n = v2(hdr, 0x20, 0x11, -1, v2_inet, sizeof(v2_inet));
	CHECK_INT(check_valid("v2 local+addr", hdr, n, &pi), 0);
	CHECK_INT(pi.local, 1);
	CHECK_INT(pi.check, 1);
	CHECK_INT(pi.src.ss_family, AF_UNSPEC);
	n = v2(hdr, 0x20, 0xff, -1, "junk", 4);
	CHECK_INT(check_valid("v2 local+junk", hdr, n, &pi), 0);
	CHECK_INT(pi.local, 1);
	CHECK_INT(pi.check, 1);

	/* PROXY with families spfgate does not relay: real endpoints. */
	n = v2(hdr, 0x21, 0x00, -1, "", 0);
	CHECK_INT(check_valid("v2 unspec", hdr, n, &pi), 0);
	CHECK_INT(pi.local, 1);
	CHECK_INT(pi.check, 0);
	n = v2(hdr, 0x21, 0x00, -1, "abcde", 5);
	CHECK_INT(check_valid("v2 unspec+junk", hdr, n, &pi), 0);
	CHECK_INT(pi.local, 1);
	n = v2(hdr, 0x21, 0x12, -1, v2_inet, sizeof(v2_inet));
	CHECK_INT(check_valid("v2 udp4", hdr, n, &pi), 0);
	CHECK_INT(pi.local, 1);
	memset(body, 'u', 216);
	n = v2(hdr, 0x21, 0x31, -1, body, 216);
	CHECK_INT(n, 232);
	CHECK_INT(check_valid("v2 unix", hdr, n, &pi), 0);
	CHECK_INT(pi.local, 1);
	CHECK_INT(pi.src.ss_family, AF_UNSPEC);

	/* TLVs after the addresses are skipped: NOOP, ALPN, an empty one. */
	memcpy(body, v2_inet, 12);
	memcpy(body + 12, "\x04\x00\x03" "abc" "\x01\x00\x02" "h2"
	    "\xe0\x00\x00", 14);
	n = v2(hdr, 0x21, 0x11, -1, body, 26);
	CHECK_INT(check_valid("v2 tlvs", hdr, n, &pi), 0);
	CHECK(endpoint_is(&pi.src, AF_INET, "192.0.2.1", 55358));

	/* The largest length accepted: 1024 octets after the fixed part. */
	memcpy(body, v2_inet, 12);
	body[12] = 0x04;
	body[13] = (PROXY_V2_MAX_LEN - 15) >> 8;
	body[14] = (PROXY_V2_MAX_LEN - 15) & 0xff;
	memset(body + 15, 0, PROXY_V2_MAX_LEN - 15);
	n = v2(hdr, 0x21, 0x11, -1, body, PROXY_V2_MAX_LEN);
	CHECK_INT(n, 16 + PROXY_V2_MAX_LEN);
	CHECK_INT(check_valid("v2 max", hdr, n, &pi), 0);
	CHECK_INT(pi.local, 0);
}

static void
test_v2_invalid(void)
{
	unsigned char hdr[GUARD_MAX], body[1100];
	size_t n;

	/* Signature: every octet matters and is checked on arrival. */
	n = v2(hdr, 0x21, 0x11, -1, v2_inet, sizeof(v2_inet));
	hdr[6] = 0x0b;
	CHECK_INT(check_invalid("v2 sig[6]", hdr, n, 7), 0);
	n = v2(hdr, 0x21, 0x11, -1, v2_inet, sizeof(v2_inet));
	hdr[11] = 0x0d;
	CHECK_INT(check_invalid("v2 sig[11]", hdr, n, 12), 0);
	n = v2(hdr, 0x21, 0x11, -1, v2_inet, sizeof(v2_inet));
	hdr[1] = 0x0d;
	CHECK_INT(check_invalid("v2 sig[1]", hdr, n, 2), 0);

	/* Version (high nibble of octet 13) must be 2. */
	n = v2(hdr, 0x11, 0x11, -1, v2_inet, sizeof(v2_inet));
	CHECK_INT(check_invalid("v2 version 1", hdr, n, 13), 0);
	n = v2(hdr, 0x31, 0x11, -1, v2_inet, sizeof(v2_inet));
	CHECK_INT(check_invalid("v2 version 3", hdr, n, 13), 0);
	n = v2(hdr, 0x01, 0x11, -1, v2_inet, sizeof(v2_inet));
	CHECK_INT(check_invalid("v2 version 0", hdr, n, 13), 0);
	/* Commands other than LOCAL and PROXY. */
	n = v2(hdr, 0x22, 0x11, -1, v2_inet, sizeof(v2_inet));
	CHECK_INT(check_invalid("v2 command 2", hdr, n, 13), 0);
	n = v2(hdr, 0x2f, 0x11, -1, v2_inet, sizeof(v2_inet));
	CHECK_INT(check_invalid("v2 command f", hdr, n, 13), 0);
	/* Unassigned family or transport. */
	n = v2(hdr, 0x21, 0x41, -1, v2_inet, sizeof(v2_inet));
	CHECK_INT(check_invalid("v2 family 4", hdr, n, 14), 0);
	n = v2(hdr, 0x21, 0x13, -1, v2_inet, sizeof(v2_inet));
	CHECK_INT(check_invalid("v2 transport 3", hdr, n, 14), 0);

	/* Oversize length: rejected as soon as the length field is in. */
	memset(body, 0, sizeof(body));
	memcpy(body, v2_inet, 12);
	n = v2(hdr, 0x21, 0x11, PROXY_V2_MAX_LEN + 1, body, 40);
	CHECK_INT(check_invalid("v2 len 1025", hdr, n, 16), 0);
	n = v2(hdr, 0x21, 0x11, 0xffff, body, 40);
	CHECK_INT(check_invalid("v2 len 65535", hdr, n, 16), 0);

	/* Address block shorter than the family needs. */
	n = v2(hdr, 0x21, 0x11, -1, v2_inet, 8);
	CHECK_INT(check_invalid("v2 inet short", hdr, n, n), 0);
	n = v2(hdr, 0x21, 0x21, -1, v2_inet6, 12);
	CHECK_INT(check_invalid("v2 inet6 as inet", hdr, n, n), 0);
	n = v2(hdr, 0x21, 0x31, -1, body, 100);
	CHECK_INT(check_invalid("v2 unix short", hdr, n, n), 0);

	/* TLVs running past the declared length. */
	memcpy(body, v2_inet, 12);
	memcpy(body + 12, "\x04\x00\x05" "ab", 5);
	n = v2(hdr, 0x21, 0x11, -1, body, 17);
	CHECK_INT(check_invalid("v2 tlv past end", hdr, n, n), 0);
	memcpy(body + 12, "\x04\x00", 2);
	n = v2(hdr, 0x21, 0x11, -1, body, 14);
	CHECK_INT(check_invalid("v2 tlv head cut", hdr, n, n), 0);
	memcpy(body + 12, "\x04\x00\x00" "\x01\x00\x02" "h", 7);
	n = v2(hdr, 0x21, 0x11, -1, body, 19);
	CHECK_INT(check_invalid("v2 second tlv cut", hdr, n, n), 0);
}

/* CRC-32C written out from its definition, to sign test vectors. */
static uint32_t
test_crc32c(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	int k;

	while (n-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

static void
test_v2_crc(void)
{
	unsigned char hdr[GUARD_MAX], body[32];
	struct proxy_info pi;
	uint32_t crc;
	size_t n;

	/* The CRC-32C check value (RFC 3720 B.4 / the CRC catalogue). */
	CHECK_INT(test_crc32c((const unsigned char *)"123456789", 9),
	    0xe3069283u);

	memcpy(body, v2_inet, 12);
	memcpy(body + 12, "\x03\x00\x04\0\0\0\0", 7);
	n = v2(hdr, 0x21, 0x11, -1, body, 19);
	crc = test_crc32c(hdr, n);
	hdr[n - 4] = (unsigned char)(crc >> 24);
	hdr[n - 3] = (unsigned char)(crc >> 16);
	hdr[n - 2] = (unsigned char)(crc >> 8);
	hdr[n - 1] = (unsigned char)crc;
	CHECK_INT(check_valid("v2 crc", hdr, n, &pi), 0);
	CHECK(endpoint_is(&pi.src, AF_INET, "192.0.2.1", 55358));

	hdr[16] ^= 1;	/* a forged client address */
	CHECK_INT(check_invalid("v2 crc forged", hdr, n, n), 0);
	CHECK_INT(parse(hdr, n, &pi), -1);
	CHECK_STR(pi.error, "v2 CRC32C mismatch");
	hdr[16] ^= 1;
	hdr[n - 1] ^= 0x80;	/* a wrong checksum */
	CHECK_INT(check_invalid("v2 crc wrong", hdr, n, n), 0);

	memcpy(body + 12, "\x03\x00\x03\0\0\0", 6);
	n = v2(hdr, 0x21, 0x11, -1, body, 18);
	CHECK_INT(check_invalid("v2 crc tlv short", hdr, n, n), 0);
}

int
main(void)
{
	if (guard_init() < 0) {
		perror("guard page");
		return 1;
	}
	test_v1_valid();
	test_v1_invalid();
	test_v1_binary();
	test_v2_valid();
	test_v2_invalid();
	test_v2_crc();
	munmap(guard_base, 2 * guard_page);
	return check_report();
}
