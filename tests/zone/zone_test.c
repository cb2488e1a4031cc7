/*
 * zone_test.c - unit tests of the in-memory zone resolver (spf/spf_zone.c).
 *
 * Every expected wire image below is written out by hand from RFC 1035
 * section 3.3, not produced by the code under test.  Zone files are
 * written to a private temporary directory that is removed at the end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spf/spf.h"
#include "tests/check.h"

#define MAXREC 16

/* What one callback saw, copied out of the answer. */
struct seen {
	int calls;
	enum spf_dns_status status;
	int secure;
	int count;
	unsigned char rdata[MAXREC][1024];
	int rdlen[MAXREC];
	int has_reason;
};

/* Callback: records the answer into a struct seen. */
static void
seen_cb(void *arg, const struct spf_dns_answer *ans)
{
	struct seen *s = arg;
	int i;

	s->calls++;
	s->status = ans->status;
	s->secure = ans->secure;
	s->count = ans->count;
	s->has_reason = ans->reason != NULL && ans->reason[0] != '\0';
	for (i = 0; i < ans->count && i < MAXREC; i++) {
		s->rdlen[i] = ans->rdlen[i];
		if (ans->rdlen[i] > 0 && ans->rdlen[i] <= 1024)
			memcpy(s->rdata[i], ans->rdata[i], (size_t)ans->rdlen[i]);
	}
}

static struct spf_resolver *res;	/* the resolver under test */

/* Asks res synchronously; returns the query() return value. */
static int
ask(const char *name, int type, struct seen *s)
{
	uint64_t id = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = res->ops->query(res, name, (enum spf_rrtype)type, seen_cb, s, &id);
	if (rc == 0) {
		CHECK_INT(s->calls, 1);	/* answered before query() returned */
		CHECK(id != 0);
	} else
		CHECK_INT(s->calls, 0);
	return rc;
}

/* Checks that (name, type) has status st. */
static void
expect_status(const char *name, int type, enum spf_dns_status st, int line)
{
	struct seen s;

	if (ask(name, type, &s) != 0) {
		fprintf(stderr, "  line %d: query %s refused\n", line, name);
		CHECK(0);
		return;
	}
	if (!check_one(s.status == st, __FILE__, line, "status"))
		fprintf(stderr, "    %s type %d: got %d, want %d\n", name, type,
		    (int)s.status, (int)st);
}
#define STATUS(n, t, st) expect_status((n), (t), (st), __LINE__)

/* Checks that (name, type) answers exactly one record equal to want. */
static void
expect_one(const char *name, int type, const void *want, int len, int line)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	if (ask(name, type, &s) != 0 || s.status != SPF_DNS_ANSWER ||
	    s.count != 1 || s.rdlen[0] != len ||
	    memcmp(s.rdata[0], want, (size_t)len) != 0) {
		check_one(0, __FILE__, line, "single record");
		fprintf(stderr, "    %s type %d: status %d count %d len %d "
		    "(want %d)\n", name, type, (int)s.status, s.count,
		    s.rdlen[0], len);
	} else
		check_one(1, __FILE__, line, "single record");
}
#define ONE(n, t, w) expect_one((n), (t), (w), (int)sizeof(w) - 1, __LINE__)

/* A, AAAA, MX, PTR in wire format; malformed values refused. */
static void
test_types(struct spf_zone *z)
{
	CHECK_INT(spf_zone_add(z, "t.example", SPF_RR_A, "192.0.2.1"), 0);
	CHECK_INT(spf_zone_add(z, "t.example", SPF_RR_AAAA, "2001:db8::1"), 0);
	CHECK_INT(spf_zone_add(z, "t.example", SPF_RR_MX, "10 Mx.Example.com"), 0);
	CHECK_INT(spf_zone_add(z, "t.example", SPF_RR_PTR, "host.example.com."), 0);
	CHECK_INT(spf_zone_add(z, "mx0.example", SPF_RR_MX, "0 ."), 0);
	CHECK_INT(spf_zone_add(z, "mx1.example", SPF_RR_MX, "65535 "), 0);
	ONE("t.example", SPF_RR_A, "\xc0\x00\x02\x01");
	ONE("t.example", SPF_RR_AAAA,
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01");
	ONE("t.example", SPF_RR_MX, "\x00\x0a\x02Mx\x07" "Example\x03" "com\x00");
	ONE("t.example", SPF_RR_PTR, "\x04host\x07" "example\x03" "com\x00");
	ONE("mx0.example", SPF_RR_MX, "\x00\x00\x00");
	ONE("mx1.example", SPF_RR_MX, "\xff\xff\x00");

	CHECK_INT(spf_zone_add(z, "bad.example", SPF_RR_A, "192.0.2"), -1);
	CHECK_INT(spf_zone_add(z, "bad.example", SPF_RR_A, "2001:db8::1"), -1);
	CHECK_INT(spf_zone_add(z, "bad.example", SPF_RR_AAAA, "192.0.2.1"), -1);
	CHECK_INT(spf_zone_add(z, "bad.example", SPF_RR_MX, "65536 a.b"), -1);
	CHECK_INT(spf_zone_add(z, "bad.example", SPF_RR_MX, "-1 a.b"), -1);
	CHECK_INT(spf_zone_add(z, "bad.example", SPF_RR_MX, "10"), -1);
	CHECK_INT(spf_zone_add(z, "bad.example", SPF_RR_MX, "x a.b"), -1);
	CHECK_INT(spf_zone_add(z, "bad.example", SPF_RR_PTR, "a..b"), -1);
	CHECK_INT(spf_zone_add(z, "bad.example", 99, "v=spf1"), -1);
	CHECK_INT(spf_zone_add(z, "bad.example", SPF_RR_A, NULL), -1);
	/* Nothing half-added: a refused record does not create its name. */
	STATUS("bad.example", SPF_RR_A, SPF_DNS_NXDOMAIN);
}

/* TXT: several strings, empty string, no string, NUL, limits, splitting. */
static void
test_txt(struct spf_zone *z)
{
	const char *two[] = { "v=spf1 ip4:", "192.0.2.5 -all" };
	const char *empty[] = { "" };
	const char *nul[] = { "a\0b" };
	const size_t nullen[] = { 3 };
	char big[301], s256[257];
	struct seen s;

	CHECK_INT(spf_zone_add_txt(z, "txt.example", two, NULL, 2), 0);
	CHECK_INT(spf_zone_add_txt(z, "txt.example", empty, NULL, 1), 0);
	CHECK_INT(spf_zone_add_txt(z, "txt.example", NULL, NULL, 0), 0);
	CHECK_INT(spf_zone_add_txt(z, "txt.example", nul, nullen, 1), 0);
	CHECK_INT(ask("txt.example", SPF_RR_TXT, &s), 0);
	CHECK_INT(s.status, SPF_DNS_ANSWER);
	CHECK_INT(s.count, 4);
	CHECK_INT(s.rdlen[0], 27);
	CHECK(memcmp(s.rdata[0], "\x0bv=spf1 ip4:\x0e" "192.0.2.5 -all",
	    27) == 0);
	CHECK_INT(s.rdlen[1], 1);
	CHECK_INT(s.rdata[1][0], 0);
	CHECK_INT(s.rdlen[2], 0);
	CHECK_INT(s.rdlen[3], 4);
	CHECK(memcmp(s.rdata[3], "\x03" "a\0b", 4) == 0);

	/* 255 octets fit in one string, 256 do not. */
	memset(s256, 'x', 256);
	s256[256] = '\0';
	CHECK_INT(spf_zone_add_txt(z, "long.example", (const char *[]){ s256 },
	    (const size_t[]){ 256 }, 1), -1);
	CHECK_INT(spf_zone_add_txt(z, "long.example", (const char *[]){ s256 },
	    (const size_t[]){ 255 }, 1), 0);
	CHECK_INT(spf_zone_add_txt(z, "long.example", two, NULL, -1), -1);

	/* spf_zone_add(TXT) splits into 255-octet strings. */
	memset(big, 'y', 300);
	big[300] = '\0';
	CHECK_INT(spf_zone_add(z, "split.example", SPF_RR_TXT, big), 0);
	CHECK_INT(spf_zone_add(z, "split.example", SPF_RR_TXT, ""), 0);
	CHECK_INT(ask("split.example", SPF_RR_TXT, &s), 0);
	CHECK_INT(s.count, 2);
	CHECK_INT(s.rdlen[0], 302);
	CHECK_INT(s.rdata[0][0], 255);
	CHECK_INT(s.rdata[0][256], 45);
	CHECK(s.rdata[0][1] == 'y' && s.rdata[0][301] == 'y');
	CHECK_INT(s.rdlen[1], 1);
	CHECK_INT(s.rdata[1][0], 0);
}

/* Case, trailing dots, odd octets, the root, names DNS cannot carry. */
static void
test_names(struct spf_zone *z)
{
	char label64[80], longname[300];
	struct seen s;
	int i;

	CHECK_INT(spf_zone_add(z, "MiXeD.Example.COM.", SPF_RR_A, "192.0.2.7"), 0);
	ONE("mixed.example.com", SPF_RR_A, "\xc0\x00\x02\x07");
	ONE("MIXED.EXAMPLE.COM", SPF_RR_A, "\xc0\x00\x02\x07");
	ONE("mixed.example.com.", SPF_RR_A, "\xc0\x00\x02\x07");
	STATUS("mixed.example.co", SPF_RR_A, SPF_DNS_NXDOMAIN);
	STATUS("xmixed.example.com", SPF_RR_A, SPF_DNS_NXDOMAIN);

	CHECK_INT(spf_zone_add(z, "foo:bar/baz.example.com", SPF_RR_A,
	    "192.0.2.8"), 0);
	ONE("FOO:bar/baz.example.com", SPF_RR_A, "\xc0\x00\x02\x08");
	CHECK_INT(spf_zone_add(z, "macro%percent  space%20url.example.com",
	    SPF_RR_A, "192.0.2.9"), 0);
	ONE("macro%percent  space%20url.example.com", SPF_RR_A,
	    "\xc0\x00\x02\x09");
	/* Non-ASCII octets are kept and compared exactly. */
	CHECK_INT(spf_zone_add(z, "\xc3\xa9t\xc3\xa9.example", SPF_RR_A,
	    "192.0.2.10"), 0);
	ONE("\xc3\xa9T\xc3\xa9.example", SPF_RR_A, "\xc0\x00\x02\x0a");
	STATUS("\xc3\x89t\xc3\xa9.example", SPF_RR_A, SPF_DNS_NXDOMAIN);

	/* The root: "" and "." are the same name. */
	STATUS("", SPF_RR_A, SPF_DNS_NXDOMAIN);
	CHECK_INT(spf_zone_add_name(z, "."), 0);
	STATUS("", SPF_RR_A, SPF_DNS_NODATA);

	/* 63-octet labels are fine, 64 are not; 253 octets in all. */
	memset(label64, 'a', 64);
	memcpy(label64 + 64, ".example", 9);
	CHECK_INT(spf_zone_add_name(z, label64 + 1), 0);
	STATUS(label64 + 1, SPF_RR_TXT, SPF_DNS_NODATA);
	CHECK_INT(spf_zone_add_name(z, label64), -1);
	CHECK_INT(ask(label64, SPF_RR_TXT, &s), -1);
	CHECK_INT(ask("a..example", SPF_RR_TXT, &s), -1);
	CHECK_INT(ask(".example", SPF_RR_TXT, &s), -1);
	CHECK_INT(ask("example..", SPF_RR_TXT, &s), -1);
	CHECK_INT(ask(NULL, SPF_RR_TXT, &s), -1);
	for (i = 0; i < 253; i++)
		longname[i] = (i % 2) ? '.' : 'l';
	longname[253] = '\0';
	CHECK_INT(spf_zone_add_name(z, longname), 0);
	STATUS(longname, SPF_RR_A, SPF_DNS_NODATA);
	longname[253] = '.';	/* a trailing dot does not count */
	longname[254] = '\0';
	STATUS(longname, SPF_RR_A, SPF_DNS_NODATA);
	longname[253] = 'l';
	CHECK_INT(spf_zone_add_name(z, longname), -1);	/* 254 octets */
	CHECK_INT(ask(longname, SPF_RR_A, &s), -1);
	CHECK_INT(spf_zone_add(z, "p.example", SPF_RR_PTR, label64), -1);
}

/* NXDOMAIN for unknown names, NODATA for known names without the type. */
static void
test_nxdomain_nodata(struct spf_zone *z)
{
	CHECK_INT(spf_zone_add(z, "a-only.example", SPF_RR_A, "192.0.2.1"), 0);
	CHECK_INT(spf_zone_add_name(z, "empty.example"), 0);
	CHECK_INT(spf_zone_add_name(z, "empty.example"), 0);	/* twice is ok */
	STATUS("a-only.example", SPF_RR_A, SPF_DNS_ANSWER);
	STATUS("a-only.example", SPF_RR_AAAA, SPF_DNS_NODATA);
	STATUS("a-only.example", SPF_RR_TXT, SPF_DNS_NODATA);
	STATUS("a-only.example", SPF_RR_MX, SPF_DNS_NODATA);
	STATUS("a-only.example", SPF_RR_PTR, SPF_DNS_NODATA);
	STATUS("empty.example", SPF_RR_TXT, SPF_DNS_NODATA);
	STATUS("missing.example", SPF_RR_TXT, SPF_DNS_NXDOMAIN);
	/* A parent of an existing name is not created implicitly. */
	STATUS("example", SPF_RR_TXT, SPF_DNS_NXDOMAIN);
}

/* CNAME chains, loops, dangling targets, CNAME-and-other-data. */
static void
test_cname(struct spf_zone *z)
{
	char name[32], target[32];
	int i;

	CHECK_INT(spf_zone_add_cname(z, "c1.example", "C2.example."), 0);
	CHECK_INT(spf_zone_add_cname(z, "c2.example", "end.example"), 0);
	CHECK_INT(spf_zone_add(z, "end.example", SPF_RR_A, "192.0.2.20"), 0);
	ONE("C1.example", SPF_RR_A, "\xc0\x00\x02\x14");
	STATUS("c1.example", SPF_RR_TXT, SPF_DNS_NODATA);
	CHECK_INT(spf_zone_add_cname(z, "dangling.example", "nowhere.example"), 0);
	STATUS("dangling.example", SPF_RR_A, SPF_DNS_NXDOMAIN);

	/* Loops: to itself (with different case), and a two-name cycle. */
	CHECK_INT(spf_zone_add_cname(z, "self.example", "SELF.example."), 0);
	STATUS("self.example", SPF_RR_A, SPF_DNS_SERVFAIL);
	CHECK_INT(spf_zone_add_cname(z, "ping.example", "pong.example"), 0);
	CHECK_INT(spf_zone_add_cname(z, "pong.example", "ping.example"), 0);
	STATUS("ping.example", SPF_RR_PTR, SPF_DNS_SERVFAIL);
	CHECK_INT(spf_zone_add_cname(z, "into.example", "ping.example"), 0);
	STATUS("into.example", SPF_RR_TXT, SPF_DNS_SERVFAIL);

	/* A chain of 8 hops is followed, 9 are not. */
	for (i = 0; i < 9; i++) {
		snprintf(name, sizeof(name), "h%d.example", i);
		snprintf(target, sizeof(target), "h%d.example", i + 1);
		CHECK_INT(spf_zone_add_cname(z, name, target), 0);
	}
	CHECK_INT(spf_zone_add(z, "h9.example", SPF_RR_A, "192.0.2.21"), 0);
	ONE("h1.example", SPF_RR_A, "\xc0\x00\x02\x15");
	STATUS("h0.example", SPF_RR_A, SPF_DNS_SERVFAIL);

	/* CNAME and other data do not mix, in either order; one CNAME only. */
	CHECK_INT(spf_zone_add(z, "c1.example", SPF_RR_A, "192.0.2.1"), -1);
	CHECK_INT(spf_zone_add(z, "c1.example", SPF_RR_TXT, "x"), -1);
	CHECK_INT(spf_zone_add_cname(z, "c1.example", "end.example"), -1);
	CHECK_INT(spf_zone_add_cname(z, "end.example", "c1.example"), -1);
	CHECK_INT(spf_zone_add_cname(z, "bad.cname", "a..b"), -1);
	STATUS("bad.cname", SPF_RR_A, SPF_DNS_NXDOMAIN);

	/* A failure at the target applies through the alias. */
	CHECK_INT(spf_zone_add_cname(z, "to-fail.example", "fail.example"), 0);
	CHECK_INT(spf_zone_add_failure(z, "fail.example", SPF_RR_TXT,
	    SPF_DNS_TIMEOUT), 0);
	STATUS("to-fail.example", SPF_RR_TXT, SPF_DNS_TIMEOUT);
	STATUS("to-fail.example", SPF_RR_A, SPF_DNS_NODATA);
}

/* TIMEOUT / SERVFAIL / BOGUS for one type or for every other type. */
static void
test_failures(struct spf_zone *z)
{
	struct seen s;

	CHECK_INT(spf_zone_add(z, "tt.example", SPF_RR_A, "192.0.2.1"), 0);
	CHECK_INT(spf_zone_add_failure(z, "tt.example", 0, SPF_DNS_TIMEOUT), 0);
	STATUS("tt.example", SPF_RR_A, SPF_DNS_ANSWER);
	STATUS("tt.example", SPF_RR_TXT, SPF_DNS_TIMEOUT);
	STATUS("tt.example", SPF_RR_MX, SPF_DNS_TIMEOUT);

	/* A failure for a type wins over records of that type. */
	CHECK_INT(spf_zone_add(z, "ty.example", SPF_RR_TXT, "v=spf1 -all"), 0);
	CHECK_INT(spf_zone_add_failure(z, "ty.example", SPF_RR_TXT,
	    SPF_DNS_SERVFAIL), 0);
	CHECK_INT(spf_zone_add_failure(z, "ty.example", SPF_RR_MX,
	    SPF_DNS_BOGUS), 0);
	CHECK_INT(ask("ty.example", SPF_RR_TXT, &s), 0);
	CHECK_INT(s.status, SPF_DNS_SERVFAIL);
	CHECK_INT(s.count, 0);
	CHECK(s.has_reason);
	CHECK_INT(ask("ty.example", SPF_RR_MX, &s), 0);
	CHECK_INT(s.status, SPF_DNS_BOGUS);
	CHECK(s.has_reason);
	STATUS("ty.example", SPF_RR_A, SPF_DNS_NODATA);
	/* A failure makes the name exist. */
	CHECK_INT(spf_zone_add_failure(z, "only-fail.example", SPF_RR_A,
	    SPF_DNS_TIMEOUT), 0);
	STATUS("only-fail.example", SPF_RR_AAAA, SPF_DNS_NODATA);

	CHECK_INT(spf_zone_add_failure(z, "x.example", SPF_RR_A,
	    SPF_DNS_NODATA), -1);
	CHECK_INT(spf_zone_add_failure(z, "x.example", SPF_RR_A,
	    SPF_DNS_ANSWER), -1);
	CHECK_INT(spf_zone_add_failure(z, "x.example", 99, SPF_DNS_TIMEOUT), -1);
	CHECK_INT(spf_zone_add_failure(z, "a..example", 0, SPF_DNS_TIMEOUT), -1);
}

/* The secure flag covers data and denials, never failures. */
static void
test_secure(struct spf_zone *z)
{
	struct seen s;

	ask("tt.example", SPF_RR_A, &s);
	CHECK_INT(s.secure, 0);
	spf_zone_set_secure(z, 1);
	ask("tt.example", SPF_RR_A, &s);
	CHECK_INT(s.secure, 1);
	ask("tt.example", SPF_RR_AAAA, &s);
	CHECK_INT(s.secure, 0);		/* timeout */
	ask("empty.example", SPF_RR_A, &s);
	CHECK(s.status == SPF_DNS_NODATA && s.secure == 1);
	ask("missing.example", SPF_RR_A, &s);
	CHECK(s.status == SPF_DNS_NXDOMAIN && s.secure == 1);
	ask("ty.example", SPF_RR_MX, &s);
	CHECK(s.status == SPF_DNS_BOGUS && s.secure == 0);
	spf_zone_set_secure(z, 0);
	ask("tt.example", SPF_RR_A, &s);
	CHECK_INT(s.secure, 0);
	spf_zone_set_secure(NULL, 1);	/* harmless */
}

/* State for the re-entrancy test: a callback that asks again. */
struct nest {
	struct spf_resolver *r;
	int depth;
	int order[4];
	int n;
};

/* Callback that issues one more query from inside the first one. */
static void
nest_cb(void *arg, const struct spf_dns_answer *ans)
{
	struct nest *nt = arg;
	uint64_t id;

	(void)ans;
	nt->order[nt->n++] = nt->depth;
	if (nt->depth++ == 0)
		CHECK_INT(nt->r->ops->query(nt->r, "t.example", SPF_RR_A,
		    nest_cb, nt, &id), 0);
}

/* Synchronous answers, ids, cancel, counters, refused questions. */
static void
test_resolver(struct spf_zone *z)
{
	struct spf_resolver *r2;
	struct nest nt;
	struct seen s;
	uint64_t id1 = 0, id2 = 0;
	unsigned long before;

	before = spf_zone_resolver_queries(res);
	CHECK_INT(res->ops->query(res, "t.example", SPF_RR_A, seen_cb, &s,
	    &id1), 0);
	CHECK_INT(res->ops->query(res, "t.example", SPF_RR_A, seen_cb, &s,
	    &id2), 0);
	CHECK(id1 != 0 && id2 != 0 && id1 != id2);
	res->ops->cancel(res, id1);	/* already answered: harmless */
	res->ops->cancel(res, 12345);
	CHECK_INT(spf_zone_resolver_queries(res), before + 2);
	/* A query id pointer is optional. */
	CHECK_INT(res->ops->query(res, "t.example", SPF_RR_A, seen_cb, &s,
	    NULL), 0);
	/* Refused: unknown type, no callback. */
	CHECK_INT(ask("t.example", 99, &s), -1);
	CHECK_INT(ask("t.example", 0, &s), -1);
	CHECK_INT(res->ops->query(res, "t.example", SPF_RR_A, NULL, NULL,
	    &id1), -1);
	CHECK_INT(spf_zone_resolver_queries(res), before + 3);
	CHECK_INT(spf_zone_resolver_queries(NULL), 0);

	/* A callback may ask again; the inner answer comes first, nested. */
	memset(&nt, 0, sizeof(nt));
	nt.r = res;
	CHECK_INT(res->ops->query(res, "t.example", SPF_RR_A, nest_cb, &nt,
	    &id1), 0);
	CHECK_INT(nt.n, 2);
	CHECK(nt.order[0] == 0 && nt.order[1] == 1);

	/* Two resolvers on one zone count separately. */
	r2 = spf_zone_resolver_new(z);
	CHECK(r2 != NULL);
	if (r2 != NULL) {
		CHECK_INT(spf_zone_resolver_queries(r2), 0);
		CHECK_INT(r2->ops->query(r2, "t.example", SPF_RR_A, seen_cb, &s,
		    &id1), 0);
		CHECK_INT(spf_zone_resolver_queries(r2), 1);
		r2->ops->free(r2);
	}
	CHECK(spf_zone_resolver_new(NULL) == NULL);
}

static char tmpdir[64];

/* Writes len octets to tmpdir/name; returns the path (static buffer). */
static const char *
write_file(const char *name, const char *data, size_t len)
{
	static char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((fp = fopen(path, "wb")) == NULL) {
		CHECK(fp != NULL);
		return path;
	}
	CHECK_INT(fwrite(data, 1, len, fp), len);
	fclose(fp);
	return path;
}

static const char good_zone[] =
    "# a comment line\n"
    "\n"
    "   # indented comment\n"
    "f.example A 192.0.2.1   # trailing comment\n"
    "F.Example.  aaaa 2001:DB8::2\n"
    "f.example\tMX\t5  mx.f.example\r\n"
    "f.example PTR ptr.f.example.\n"
    "f.example TXT \"v=spf1 \" \"-all\"\n"
    "f.example TXT \"q\\\"b\\\\s\\065\\000z#x\" # \\DDD and quotes\n"
    "f.example TXT \"\"\n"
    "alias.example CNAME f.example\n"
    "t.example TIMEOUT ANY\n"
    "t.example A 192.0.2.3\n"
    "s.example SERVFAIL txt\n"
    "b.example BOGUS A\n"
    "last.example A 192.0.2.4";	/* no final newline */

/* Loads a zone file covering every type and escape. */
static void
test_load_good(void)
{
	struct spf_zone *z = spf_zone_new();
	struct spf_resolver *saved = res;
	const char *path;
	char err[256];
	struct seen s;

	path = write_file("good.zone", good_zone, sizeof(good_zone) - 1);
	CHECK_INT(spf_zone_load(z, path, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	res = spf_zone_resolver_new(z);
	ONE("f.example", SPF_RR_A, "\xc0\x00\x02\x01");
	ONE("f.example", SPF_RR_AAAA,
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02");
	ONE("f.example", SPF_RR_MX, "\x00\x05\x02mx\x01" "f\x07" "example\x00");
	ONE("f.example", SPF_RR_PTR, "\x03ptr\x01" "f\x07" "example\x00");
	CHECK_INT(ask("f.example", SPF_RR_TXT, &s), 0);
	CHECK_INT(s.count, 3);
	CHECK_INT(s.rdlen[0], 13);
	CHECK(memcmp(s.rdata[0], "\x07v=spf1 \x04-all", 13) == 0);
	CHECK_INT(s.rdlen[1], 11);
	CHECK(memcmp(s.rdata[1], "\x0aq\"b\\sA\0z#x", 11) == 0);
	CHECK_INT(s.rdlen[2], 1);
	ONE("alias.example", SPF_RR_A, "\xc0\x00\x02\x01");
	STATUS("t.example", SPF_RR_A, SPF_DNS_ANSWER);
	STATUS("t.example", SPF_RR_TXT, SPF_DNS_TIMEOUT);
	STATUS("s.example", SPF_RR_TXT, SPF_DNS_SERVFAIL);
	STATUS("s.example", SPF_RR_A, SPF_DNS_NODATA);
	STATUS("b.example", SPF_RR_A, SPF_DNS_BOGUS);
	ONE("last.example", SPF_RR_A, "\xc0\x00\x02\x04");
	STATUS("nothing.example", SPF_RR_A, SPF_DNS_NXDOMAIN);
	res->ops->free(res);
	res = saved;
	spf_zone_free(z);
}

/* A 60 000-octet TXT line loads; its string is split into 255s. */
static void
test_load_long_line(void)
{
	struct spf_zone *z = spf_zone_new();
	struct spf_resolver *r;
	size_t n = 60000, len;
	char *data, err[256];
	struct seen s;
	uint64_t id;

	data = malloc(n + 64);
	len = (size_t)snprintf(data, 64, "long.example TXT \"");
	memset(data + len, 'z', n);
	len += n;
	memcpy(data + len, "\"\n", 2);
	len += 2;
	CHECK_INT(spf_zone_load(z, write_file("long.zone", data, len), err,
	    sizeof(err)), 0);
	r = spf_zone_resolver_new(z);
	memset(&s, 0, sizeof(s));
	CHECK_INT(r->ops->query(r, "long.example", SPF_RR_TXT, seen_cb, &s,
	    &id), 0);
	CHECK_INT(s.count, 1);
	/* 235 full strings and one of 75: 60000 + 236 length octets. */
	CHECK_INT(s.rdlen[0], 60236);
	r->ops->free(r);
	spf_zone_free(z);

	/* One octet more than the line limit is an error, not a cut. */
	free(data);
	n = 65537;
	data = malloc(n + 1);
	memset(data, 'a', n);
	data[n] = '\n';
	z = spf_zone_new();
	CHECK_INT(spf_zone_load(z, write_file("toolong.zone", data, n + 1),
	    err, sizeof(err)), -1);
	CHECK(strstr(err, "toolong.zone:1: line longer than") != NULL);
	spf_zone_free(z);
	free(data);
}

/* One malformed file and the exact line its error must name. */
struct bad_case {
	const char *text;
	const char *want;	/* expected "FILE:LINE: message" suffix */
};

static const struct bad_case bad_cases[] = {
	{ "ok.example A 192.0.2.1\nx.example\n", ":2: missing type" },
	{ "x.example A\n", ":1: missing value" },
	{ "x.example A 192.0.2\n", ":1: bad A record \"192.0.2\"" },
	{ "x.example A 192.0.2.1 extra\n", ":1: junk after value" },
	{ "x.example WKS 1\n", ":1: unknown type \"WKS\"" },
	{ "x.example SPF \"v=spf1\"\n", ":1: unknown type \"SPF\"" },
	{ "x.example MX 10\n", ":1: MX needs PREF NAME" },
	{ "x.example MX 99999 a.example\n", ":1: bad MX record" },
	{ "\n\nx.example TXT \"abc\n", ":3: unterminated string" },
	{ "x.example TXT abc\n", ":1: TXT value must be quoted strings" },
	{ "x.example TXT\n", ":1: TXT needs at least one string" },
	{ "x.example TXT \"a\"b\n", ":1: junk after closing quote" },
	{ "x.example TXT \"\\256\"\n", ":1: \\256 escape above 255" },
	{ "x.example TXT \"\\12\"\n", ":1: \\DDD escape needs three digits" },
	{ "x.example TXT \"a\\", ":1: backslash at end of line" },
	{ "x.example TIMEOUT\n", ":1: missing type" },
	{ "x.example TIMEOUT CNAME\n", ":1: unknown type \"CNAME\"" },
	{ "a..example A 192.0.2.1\n", ":1: bad name \"a..example\"" },
	{ "c.example CNAME d.example\nc.example A 192.0.2.1\n",
	    ":2: bad A record" },
	{ "c.example A 192.0.2.1\nc.example CNAME d.example\n",
	    ":2: bad CNAME" },
	{ "#\n#\nx.example TXT \"a\0b\"\n", ":3: NUL byte in line" },
};

/* Every malformed file fails with FILE:LINE: message. */
static void
test_load_bad(void)
{
	char err[256], want[256], name[32];
	const char *path;
	struct spf_zone *z;
	size_t i, len;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		z = spf_zone_new();
		snprintf(name, sizeof(name), "bad%zu.zone", i);
		len = strlen(bad_cases[i].text);
		if (strstr(bad_cases[i].want, "NUL") != NULL)
			len += strlen(bad_cases[i].text + len + 1) + 1;
		path = write_file(name, bad_cases[i].text, len);
		snprintf(want, sizeof(want), "%s%s", path, bad_cases[i].want);
		snprintf(err, sizeof(err), "unset");
		CHECK_INT(spf_zone_load(z, path, err, sizeof(err)), -1);
		if (!check_one(strncmp(err, want, strlen(want)) == 0,
		    __FILE__, __LINE__, "error text"))
			fprintf(stderr, "    got  \"%s\"\n    want \"%s...\"\n",
			    err, want);
		spf_zone_free(z);
	}
	z = spf_zone_new();
	snprintf(want, sizeof(want), "%s/missing.zone", tmpdir);
	CHECK_INT(spf_zone_load(z, want, err, sizeof(err)), -1);
	CHECK(strstr(err, "missing.zone") != NULL &&
	    strstr(err, "No such file") != NULL);
	/* A tiny error buffer is cut, never overrun. */
	CHECK_INT(spf_zone_load(z, want, err, 4), -1);
	CHECK_INT(strlen(err), 3);
	CHECK_INT(spf_zone_load(NULL, want, err, sizeof(err)), -1);
	spf_zone_free(z);
}

/* Rough speed of query(): the benchmark needs a few hundred ns at most. */
static void
test_speed(void)
{
	struct timespec t0, t1;
	struct seen *s = calloc(1, sizeof(*s));
	uint64_t id;
	double ns;
	int i, n = 1000000, bad = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		bad += res->ops->query(res, (i & 1) ? "C1.example" :
		    "txt.example", SPF_RR_TXT, seen_cb, s, &id) != 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / n;
	printf("zone query: %.0f ns each (incl. test callback)\n", ns);
	CHECK_INT(bad, 0);
	CHECK(ns < 5000);	/* loose: shared CPU, maybe sanitizers */
	free(s);
}

int
main(void)
{
	struct spf_zone *z;
	char cmd[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/zone_test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	z = spf_zone_new();
	res = spf_zone_resolver_new(z);
	CHECK(z != NULL && res != NULL);
	if (z == NULL || res == NULL)
		return check_report();
	test_types(z);
	test_txt(z);
	test_names(z);
	test_nxdomain_nodata(z);
	test_cname(z);
	test_failures(z);
	test_secure(z);
	test_resolver(z);
	test_load_good();
	test_load_long_line();
	test_load_bad();
	test_speed();
	res->ops->free(res);
	spf_zone_free(z);
	spf_zone_free(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return check_report();
}
