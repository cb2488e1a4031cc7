/*
 * record_test.c - unit tests of the SPF record parser (spf/spf_record.c).
 *
 * Table-driven: each row is a record and whether RFC 7208 (section 4.5,
 * 4.6, 5, 6, 7.1 ABNF) makes it valid; valid rows also pin the parsed
 * fields that matter (mechanism, qualifier, CIDR lengths, domain-spec,
 * ip, modifiers).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "spf/spf_int.h"
#include "tests/check.h"

#define MAXT 64

static struct spf_term terms[MAXT];
static struct spf_record rec;
static struct spf_syntax_error err;

/* Parses text; returns 0 or -1. */
static int
parse(const char *text)
{
	return spf_record_parse(text, strlen(text), terms, MAXT, &rec, &err);
}

/* Parses text of explicit length (may hold NUL). */
static int
parsen(const char *text, size_t len)
{
	return spf_record_parse(text, len, terms, MAXT, &rec, &err);
}

/* 1 if the term's domain-spec equals s. */
static int
spec_is(const struct spf_term *t, const char *s)
{
	if (t->spec == NULL)
		return s == NULL;
	return s != NULL && t->spec_len == strlen(s) &&
	    memcmp(t->spec, s, t->spec_len) == 0;
}

static void
test_selection(void)
{
	CHECK(spf_record_is_spf1("v=spf1", 6));
	CHECK(spf_record_is_spf1("v=spf1 -all", 11));
	CHECK(spf_record_is_spf1("V=SpF1 -all", 11));
	CHECK(!spf_record_is_spf1("v=spf10", 7));
	CHECK(!spf_record_is_spf1("v=spf1mx", 8));
	CHECK(!spf_record_is_spf1("v=spf", 5));
	CHECK(!spf_record_is_spf1(" v=spf1", 7));
	CHECK(!spf_record_is_spf1("v=spf2.0/pra", 12));
	CHECK(!spf_record_is_spf1("v=spf1\t-all", 11));
	CHECK_INT(spf_record_count("v=spf1  a   mx -all ", 20), 4);
	CHECK_INT(spf_record_count("", 0), 0);
}

/* Records that must parse. */
static const char *const valid[] = {
	"v=spf1",
	"v=spf1 ",
	"v=spf1  -all  ",
	"v=spf1 a  -all",
	"V=SPF1 A MX PTR -ALL",
	"v=spf1 +all ?all ~all -all",
	"v=spf1 a a/24 a//64 a/24//64 a/0 a//0 a/32//128",
	"v=spf1 a:example.com a:example.com/24 a:example.com//64",
	"v=spf1 a:example.com/24//64 a:foo:bar/baz.example.com",
	"v=spf1 mx mx:example.com mx/0 mx//0 mx:example.com/30//126",
	"v=spf1 ptr ptr:example.com ptr:%{d}",
	"v=spf1 ip4:0.0.0.0/0 ip4:192.0.2.1 ip4:255.255.255.255/32",
	"v=spf1 ip6:::/0 ip6:2001:db8::1 ip6:2001:db8::/32 ip6:::ffff:1.2.3.4",
	"v=spf1 ip6:Cafe:Babe:8000::/33 ip6:::1.1.1.1/128",
	"v=spf1 include:_spf.example.com include:%{ir}.%{v}.example.com",
	"v=spf1 exists:%{i}.%{l2r-}.user.%{d2} exists:%{p}.ok.example.com",
	"v=spf1 exists:a.example.com.",
	"v=spf1 a:foo.example.xn--zckzah a:x.123-4 a:x.a1",
	"v=spf1 redirect=_spf.example.com",
	"v=spf1 -all exp=explain.%{d}",
	"v=spf1 exp=%{l}.example.com redirect=%{d}.x.example.com",
	"v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all",
	"v=spf1 default=pass default=+ default=",
	"v=spf1 foo=%{d}bar=%% x=%_%-",
	"v=spf1 a v=spf1",
	"v=spf1 a:%{d}",
	"v=spf1 a:%%",
	"v=spf1 a:.com",
	"v=spf1 a:%{s}%{l}%{o}%{d}%{i}%{p}%{h}%{v}.example.com",
	"v=spf1 a:%{D}%{L10R}%{d1r.-+,/_=}%{i999}.example.com",
	"v=spf1 a:macro%%percent%_%_space%-url-space.example.com",
};

/* Records that must be refused (a syntax error anywhere, RFC 7208 4.6). */
static const char *const invalid[] = {
	"v=spf10",
	"v=spf1mx",
	"v=spf1 ip4:1.2.3.4 -all moo",
	"v=spf1 moo.cow/far_out=man:dog/cat ip4:1.2.3.4 -all",
	"v=spf1 moo.cow:far_out=man:dog/cat ip4:1.2.3.4 -all",
	"v=spf1 redirect:t2.example.com",
	"v=spf1 =all",
	"v=spf1 1up=foo",
	"v=spf1 -redirect=example.com",
	"v=spf1 -all.",
	"v=spf1 -all:foobar",
	"v=spf1 -all/8",
	"v=spf1 all -all/0",
	"v=spf1 *all",
	"v=spf1 --all",
	"v=spf1 ptr/0 -all",
	"v=spf1 ptr:",
	"v=spf1 ptr:example.com/24",
	"v=spf1 a:",
	"v=spf1 a:/24",
	"v=spf1 a/",
	"v=spf1 a//",
	"v=spf1 a/33",
	"v=spf1 a//129",
	"v=spf1 a/24/64",
	"v=spf1 a/032",
	"v=spf1 a//064",
	"v=spf1 a/-1",
	"v=spf1 a:foo-bar -all",
	"v=spf1 a:museum",
	"v=spf1 a:museum.",
	"v=spf1 a:abc.123",
	"v=spf1 a:111.222.33.44",
	"v=spf1 a:example.-com",
	"v=spf1 a:example.com-",
	"v=spf1 a:example.com:8080",
	"v=spf1 a:example.com..",
	"v=spf1 a:%{d}.",
	"v=spf1 a:%{d}x",
	"v=spf1 mx:abc.123",
	"v=spf1 mx/33 -all",
	"v=spf1 mx//129",
	"v=spf1 mx: -all",
	"v=spf1 include",
	"v=spf1 include:",
	"v=spf1 include:ip5.example.com/24",
	"v=spf1 exists",
	"v=spf1 exists:",
	"v=spf1 exists:mail.example.com/24",
	"v=spf1 ip4",
	"v=spf1 ip4:",
	"v=spf1 ip4:1.2.3",
	"v=spf1 ip4:1.2.3.4.5",
	"v=spf1 ip4:1.2.3.256",
	"v=spf1 ip4:01.2.3.4",
	"v=spf1 ip4:1.2.3.4/33",
	"v=spf1 ip4:1.2.3.4/032",
	"v=spf1 ip4:1.2.3.4//32",
	"v=spf1 ip4:1.2.3.4/",
	"v=spf1 ip4:1.2.3.4:8080",
	"v=spf1 ip4:example.com",
	"v=spf1 ip6",
	"v=spf1 ip6:",
	"v=spf1 -all ip6",
	"v=spf1 ip6::CAFE::BABE",
	"v=spf1 ip6:::1.1.1.1/129",
	"v=spf1 ip6:::1.1.1.1//33",
	"v=spf1 ip6:2001:db8::/0128",
	"v=spf1 ip6:1.2.3.4",
	"v=spf1 exp=",
	"v=spf1 exp=-all",
	"v=spf1 redirect=",
	"v=spf1 redirect=-all ?all",
	"v=spf1 exp=a.example.com exp=b.example.com",
	"v=spf1 redirect=a.example.com -all redirect=a.example.com",
	"v=spf1 -all foo=%abc",
	"v=spf1 foo=%",
	"v=spf1 foo=%{x}",
	"v=spf1 foo=bar baz",
	"v=spf1 -all exp=%{r}.example.com",
	"v=spf1 a:%{c}.example.com",
	"v=spf1 a:%{t}.example.com",
	"v=spf1 a:%{a}.example.com",
	"v=spf1 a:%{d0}.example.com",
	"v=spf1 foo=%{c}bar",
	"v=spf1 exists:%(ir).sbl.example.com",
	"v=spf1 exists:foo%(ir).sbl.example.com",
	"v=spf1 exists:foo%.sbl.example.com",
	"v=spf1 a:%{dx}.example.com",
	"v=spf1 a:%{d2r",
	"v=spf1 a:%{}.example.com",
	"v=spf1 a:ctrl.example.com\rptr -all",
	"v=spf1 ip4:192.0.2.5\n include:x.example.com ~all",
	"v=spf1 a\t-all",
	"v=spf1 a:\xEF\xBB\xBFgarbage.example.net -all",
	"v=spf1 \x80" "a:example.net -all",
	"v=spf1 a:example.net \x96" "all",
};

static void
test_tables(void)
{
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		if (!CHECK(parse(valid[i]) == 0))
			fprintf(stderr, "    valid: \"%s\" (%s)\n", valid[i],
			    err.what);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (!CHECK(parse(invalid[i]) == -1))
			fprintf(stderr, "    invalid: \"%s\"\n", invalid[i]);
	/* "v=spf1" later in a record is just an unknown modifier "v". */
	CHECK(parse("v=spf1 a v=spf1") == 0 && rec.nterms == 1);
}

static void
test_nul(void)
{
	static const char rec1[] = "v=spf1 a:foo.example.com\0";
	static const char rec2[] = "v=spf1 mx:foo.example.com\0 -all";

	CHECK(parsen(rec1, sizeof(rec1) - 1) == -1);
	CHECK(parsen(rec2, sizeof(rec2) - 1) == -1);
	CHECK(strcmp(err.what, "control character") == 0);
}

static void
test_fields(void)
{
	unsigned char ip6[16];

	CHECK(parse("v=spf1 a mx/24 -ptr:Example.COM ~ip4:192.0.2.0/24 "
	    "?ip6:2001:db8::/32 +include:_spf.x.org exists:%{i}.bl.org all "
	    "exp=why.%{d} redirect=other.org unknown=%{d}") == 0);
	CHECK_INT(rec.nterms, 8);
	CHECK_INT(terms[0].mech, SPF_MECH_A);
	CHECK_INT(terms[0].result, SPF_RESULT_PASS);
	CHECK_INT(terms[0].cidr4, 32);
	CHECK_INT(terms[0].cidr6, 128);
	CHECK(spec_is(&terms[0], NULL));
	CHECK_INT(terms[1].mech, SPF_MECH_MX);
	CHECK_INT(terms[1].cidr4, 24);
	CHECK_INT(terms[1].cidr6, 128);
	CHECK_INT(terms[2].mech, SPF_MECH_PTR);
	CHECK_INT(terms[2].result, SPF_RESULT_FAIL);
	CHECK(spec_is(&terms[2], "Example.COM"));
	CHECK_INT(terms[3].mech, SPF_MECH_IP4);
	CHECK_INT(terms[3].result, SPF_RESULT_SOFTFAIL);
	CHECK_INT(terms[3].cidr4, 24);
	CHECK(memcmp(terms[3].ip, "\xc0\x00\x02\x00", 4) == 0);
	CHECK_INT(terms[4].mech, SPF_MECH_IP6);
	CHECK_INT(terms[4].result, SPF_RESULT_NEUTRAL);
	CHECK_INT(terms[4].cidr6, 32);
	inet_pton(AF_INET6, "2001:db8::", ip6);
	CHECK(memcmp(terms[4].ip, ip6, 16) == 0);
	CHECK_INT(terms[5].mech, SPF_MECH_INCLUDE);
	CHECK(spec_is(&terms[5], "_spf.x.org"));
	CHECK_INT(terms[5].len, strlen("+include:_spf.x.org"));
	CHECK(memcmp(terms[5].text, "+include:_spf.x.org", terms[5].len) == 0);
	CHECK_INT(terms[6].mech, SPF_MECH_EXISTS);
	CHECK(!terms[6].uses_p);
	CHECK_INT(terms[7].mech, SPF_MECH_ALL);
	CHECK(rec.exp != NULL && rec.exp_len == 8 &&
	    memcmp(rec.exp, "why.%{d}", 8) == 0);
	CHECK(rec.redirect != NULL && rec.redirect_len == 9 &&
	    memcmp(rec.redirect, "other.org", 9) == 0);
	CHECK(!rec.exp_p && !rec.redirect_p);

	/* Dual CIDR and a '/' inside the domain-spec. */
	CHECK(parse("v=spf1 a:foo:bar/baz.example.com/24//64 mx:e.org//0") ==
	    0);
	CHECK(spec_is(&terms[0], "foo:bar/baz.example.com"));
	CHECK_INT(terms[0].cidr4, 24);
	CHECK_INT(terms[0].cidr6, 64);
	CHECK(spec_is(&terms[1], "e.org"));
	CHECK_INT(terms[1].cidr4, 32);
	CHECK_INT(terms[1].cidr6, 0);

	/* %{p} detection, case-insensitive names, redirect/exp with p. */
	CHECK(parse("V=Spf1 EXISTS:%{P}.x.org REDIRECT=%{p}.y.org "
	    "EXP=%{p2}.z.org") == 0);
	CHECK_INT(terms[0].mech, SPF_MECH_EXISTS);
	CHECK(terms[0].uses_p);
	CHECK(rec.redirect_p && rec.exp_p);
	CHECK(parse("v=spf1 exists:%%{p}.x.org") == 0);
	CHECK(!terms[0].uses_p);

	/* Unknown modifiers are dropped, but still checked. */
	CHECK(parse("v=spf1 x-foo=bar.%{d} a") == 0);
	CHECK_INT(rec.nterms, 1);
}

static void
test_errors(void)
{
	CHECK(parse("v=spf1 a ip4:1.2.3 -all") == -1);
	CHECK_INT(err.term_len, 9);
	CHECK(memcmp(err.term, "ip4:1.2.3", 9) == 0);
	CHECK_INT(err.at, 4);
	CHECK_STR(err.what, "invalid ip4-network");

	CHECK(parse("v=spf1 exp=a.example.com exp=b.example.com") == -1);
	CHECK_STR(err.what, "exp= appears twice");
	CHECK(parse("v=spf1 redirect=a.org redirect=a.org") == -1);
	CHECK_STR(err.what, "redirect= appears twice");
	CHECK(parse("v=spf1 foo") == -1);
	CHECK_STR(err.what, "unknown mechanism");
	CHECK(parse("v=spf1 a:%{r}.x.org") == -1);
	CHECK_STR(err.what, "macro letter allowed only in exp text");
	CHECK(parse("v=spf1 a:x.\xc3\xa9.org") == -1);
	CHECK_STR(err.what, "non-ASCII character");

	/* Too many terms for the caller's array. */
	CHECK(spf_record_parse("v=spf1 a a a", 12, terms, 2, &rec, &err) ==
	    -2);
	CHECK_STR(err.what, "too many terms");
	CHECK(spf_record_parse("v=spf1 a a a", 12, terms, 3, &rec, &err) ==
	    0);
	/* A syntax error before the array fills is still -1. */
	CHECK(spf_record_parse("v=spf1 a b a", 12, terms, 2, &rec, &err) ==
	    -1);
	CHECK_STR(err.what, "unknown mechanism");
}

static void
test_ip4(void)
{
	unsigned char ip[4];

	CHECK(spf_record_ip4("0.0.0.0", 7, ip) == 0);
	CHECK(spf_record_ip4("10.200.30.4", 11, ip) == 0 && ip[0] == 10 &&
	    ip[1] == 200 && ip[2] == 30 && ip[3] == 4);
	CHECK(spf_record_ip4("1.2.3.04", 8, ip) == -1);
	CHECK(spf_record_ip4("1.2.3.", 6, ip) == -1);
	CHECK(spf_record_ip4("1..2.3", 6, ip) == -1);
	CHECK(spf_record_ip4("1.2.3.1000", 10, ip) == -1);
	CHECK(spf_record_ip4("", 0, ip) == -1);
}

int
main(void)
{
	test_selection();
	test_tables();
	test_nul();
	test_fields();
	test_errors();
	test_ip4();
	return check_report();
}
