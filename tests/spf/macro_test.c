/*
 * macro_test.c - unit tests of the macro expander (spf/spf_macro.c).
 *
 * Expected values come from RFC 7208 section 7.4 (examples), 7.3 (rules)
 * and the RFC 7208 test suite's macro cases; long-expansion cases compute
 * the expected name in the test with the RFC's own rule (drop labels from
 * the left until 253 octets remain).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "spf/spf_int.h"
#include "tests/check.h"

static struct spf_macro_env env;
static unsigned char ip4[4] = { 192, 0, 2, 3 };
static unsigned char ip6[16];
static char out[2048];

/* The environment of RFC 7208 7.4: strong-bad@email.example.com. */
static void
env_rfc(int family)
{
	memset(&env, 0, sizeof(env));
	env.l = "strong-bad";
	env.l_len = strlen(env.l);
	env.o = "email.example.com";
	env.o_len = strlen(env.o);
	env.d = env.o;
	env.d_len = env.o_len;
	env.h = "mx.example.org";
	env.h_len = strlen(env.h);
	env.r = "receiver.example.net";
	env.r_len = strlen(env.r);
	env.p = "mx.example.org";
	env.p_len = strlen(env.p);
	env.family = family;
	inet_pton(AF_INET6, "2001:db8::cb01", ip6);
	env.ip = family == AF_INET ? ip4 : ip6;
	env.now = 1397001600;
}

/* Expands s in a context; returns the text or "<error N>". */
static const char *
ex(const char *s, int context)
{
	static char err[32];
	int n = spf_macro_expand(&env, s, strlen(s), context, out,
	    context & SPF_MACRO_DOMAIN ? SPF_NAME_MAX : sizeof(out));

	if (n < 0) {
		snprintf(err, sizeof(err), "<error %d>", n);
		return err;
	}
	CHECK_INT(n, strlen(out));
	return out;
}

#define D(s) ex((s), SPF_MACRO_DOMAIN)
#define E(s) ex((s), SPF_MACRO_EXP)

static void
test_rfc_examples(void)
{
	env_rfc(AF_INET);
	CHECK_STR(D("%{s}"), "strong-bad@email.example.com");
	CHECK_STR(D("%{o}"), "email.example.com");
	CHECK_STR(D("%{d}"), "email.example.com");
	CHECK_STR(D("%{d4}"), "email.example.com");
	CHECK_STR(D("%{d3}"), "email.example.com");
	CHECK_STR(D("%{d2}"), "example.com");
	CHECK_STR(D("%{d1}"), "com");
	CHECK_STR(D("%{dr}"), "com.example.email");
	CHECK_STR(D("%{d2r}"), "example.email");
	CHECK_STR(D("%{l}"), "strong-bad");
	CHECK_STR(D("%{l-}"), "strong.bad");
	CHECK_STR(D("%{lr}"), "strong-bad");
	CHECK_STR(D("%{lr-}"), "bad.strong");
	CHECK_STR(D("%{l1r-}"), "strong");
	CHECK_STR(D("%{ir}.%{v}._spf.%{d2}"),
	    "3.2.0.192.in-addr._spf.example.com");
	CHECK_STR(D("%{lr-}.lp._spf.%{d2}"), "bad.strong.lp._spf.example.com");
	CHECK_STR(D("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}"),
	    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	CHECK_STR(D("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}"),
	    "3.2.0.192.in-addr.strong.lp._spf.example.com");
	CHECK_STR(D("%{d2}.trusted-domains.example.net"),
	    "example.com.trusted-domains.example.net");

	env_rfc(AF_INET6);
	CHECK_STR(D("%{ir}.%{v}._spf.%{d2}"), "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
}

static void
test_letters(void)
{
	env_rfc(AF_INET);
	CHECK_STR(D("%{h}"), "mx.example.org");
	CHECK_STR(D("%{p}"), "mx.example.org");
	CHECK_STR(D("%{p2}"), "example.org");
	CHECK_STR(D("%{i}"), "192.0.2.3");
	CHECK_STR(D("%{v}"), "in-addr");
	CHECK_STR(E("%{c}"), "192.0.2.3");
	CHECK_STR(E("%{r}"), "receiver.example.net");
	CHECK_STR(E("%{t}"), "1397001600");
	CHECK_STR(E("%{i}"), "192.0.2.3");
	env.p = NULL;
	CHECK_STR(D("%{p}.x.org"), "unknown.x.org");

	env_rfc(AF_INET6);
	CHECK_STR(D("%{v}"), "ip6");
	CHECK_STR(D("%{i}"), "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.c.b.0.1");
	CHECK_STR(E("%{c}"), "2001:db8::cb01");
	/* In explanations %{i} nibbles are upper-case (suite v-macro-ip6). */
	CHECK_STR(E("%{ir}.%{v}.arpa"), "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa");
}

static void
test_transformers(void)
{
	env_rfc(AF_INET);
	env.l = "foo-bar+zip+quux";
	env.l_len = strlen(env.l);
	CHECK_STR(D("%{l2r+-}.user.%{d2}"), "bar.foo.user.example.com");
	CHECK_STR(D("%{l-+}"), "foo.bar.zip.quux");
	CHECK_STR(D("%{l+}"), "foo-bar.zip.quux");
	CHECK_STR(D("%{l1+}"), "quux");
	CHECK_STR(D("%{l9r-+}"), "quux.zip.bar.foo");
	CHECK_STR(D("%{l99999999999999}"), "foo-bar+zip+quux");
	CHECK_STR(D("%{l.-+,/_=}"), "foo.bar.zip.quux");
	env.l = "philip-gladstone-test";
	env.l_len = strlen(env.l);
	env.ip = (const unsigned char *)"\x01\x02\x03\x04";
	CHECK_STR(D("%{i}.%{l2r-}.user.%{d2}"),
	    "1.2.3.4.gladstone.philip.user.example.com");
	/* Empty parts are kept. */
	env.l = "a..b";
	env.l_len = 4;
	CHECK_STR(D("%{l1}"), "b");
	CHECK_STR(D("%{l2}"), ".b");
	CHECK_STR(D("%{lr}"), "b..a");
}

static void
test_escapes(void)
{
	env_rfc(AF_INET);
	CHECK_STR(D("macro%%percent%_%_space%-url-space.example.com"),
	    "macro%percent  space%20url-space.example.com");
	CHECK_STR(E("a%%b%_c%-d"), "a%b c%20d");
	/* Upper-case letters are URL-escaped (RFC 7208 7.3). */
	env.l = "~jack&jill=up-a_b3.c";
	env.l_len = strlen(env.l);
	CHECK_STR(E("http://example.com/why.html?l=%{L}"),
	    "http://example.com/why.html?l=~jack%26jill%3Dup-a_b3.c");
	env.l = "a b\xc3\xa9/";
	env.l_len = strlen(env.l);
	CHECK_STR(D("%{L}.x.org"), "a%20b%C3%A9%2F.x.org");
	CHECK_STR(D("%{S}.x.org"), "a%20b%C3%A9%2F%40email.example.com.x.org");
	/* Explanations keep spaces exactly, and trailing dots. */
	CHECK_STR(E("Congratulations!  That was tricky."),
	    "Congratulations!  That was tricky.");
	CHECK_STR(E(" lead and trail "), " lead and trail ");
	/* Control characters from macro values never reach an explanation. */
	env.l = "evil\r\nInjected: yes";
	env.l_len = strlen(env.l);
	CHECK_STR(E("%{l}"), "evil??Injected: yes");
	CHECK_STR(E("%{L}"), "evil%0D%0AInjected%3A%20yes");
}

static void
test_errors(void)
{
	env_rfc(AF_INET);
	CHECK_STR(D("%{d0}"), "<error -1>");
	CHECK_STR(D("%{c}.example.com"), "<error -1>");
	CHECK_STR(D("%{r}"), "<error -1>");
	CHECK_STR(D("%{t}"), "<error -1>");
	CHECK_STR(D("%{a}.example.com"), "<error -1>");
	CHECK_STR(D("%x.example.com"), "<error -1>");
	CHECK_STR(D("abc%"), "<error -1>");
	CHECK_STR(D("%{d"), "<error -1>");
	CHECK_STR(D("%{d2rr}"), "<error -1>");
	CHECK_STR(D("%{d x}"), "<error -1>");
	CHECK_STR(D("a b"), "<error -1>");
	CHECK_STR(E("The %{x}-files."), "<error -1>");
	CHECK_STR(E("tab\there"), "<error -1>");
	CHECK_STR(E("bad \xc3\xa9"), "<error -1>");
}

static void
test_domains(void)
{
	char want[4096], spec[4096];
	const char *o = "somewhat.long.exp.example.com";
	size_t n;
	int i;

	env_rfc(AF_INET);
	CHECK_STR(D("example.com."), "example.com");
	CHECK_STR(D("%{d}."), "email.example.com");
	CHECK_STR(D("."), "");

	/* Suite case domain-name-truncation: 258 octets -> drop "foobar.". */
	env.o = o;
	env.o_len = strlen(o);
	CHECK_STR(D("foobar.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}."
	    "example.com"), "somewhat.long.exp.example.com.somewhat.long.exp."
	    "example.com.somewhat.long.exp.example.com.somewhat.long.exp."
	    "example.com.somewhat.long.exp.example.com.somewhat.long.exp."
	    "example.com.somewhat.long.exp.example.com.somewhat.long.exp."
	    "example.com.example.com");

	/*
	 * An expansion far longer than the expander's 1 KB window: the
	 * expected name is computed here with the RFC 7208 7.3 rule.
	 */
	env.l = "abcdefghijklmnopqrstuvwxyz0123456789.abcdefghijklmnopqrstuv."
	    "x1.x2.x3.x4.x5.x6.x7.x8.x9.x10.x11.x12.x13.x14.x15.x16.x17.x18."
	    "x19";
	env.l_len = strlen(env.l);
	for (i = 0, n = 0; i < 20; i++) {
		memcpy(spec + 5 * i, "%{l}.", 5);
		memcpy(want + n, env.l, env.l_len);
		want[n + env.l_len] = '.';
		n += env.l_len + 1;
	}
	snprintf(spec + 5 * i, sizeof(spec) - 5 * i, "tail.example.com");
	snprintf(want + n, sizeof(want) - n, "tail.example.com");
	n = strlen(want);
	CHECK(n > 2000);
	{
		const char *w = want;

		while (strlen(w) > 253)
			w = strchr(w, '.') + 1;
		CHECK_STR(D(spec), w);
		CHECK(strlen(out) <= 253);
	}

	/* A final label that alone passes 253 octets cannot be shortened. */
	env.l = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvw"
	    "xyz";
	env.l_len = strlen(env.l);
	CHECK_STR(D("x.%{l}%{l}%{l}%{l}%{l}"), "<error -2>");

	/* Explanations are truncated to the buffer, never overflowed. */
	{
		char small[16];
		int r = spf_macro_expand(&env, "%{l}%{l}", 8, SPF_MACRO_EXP,
		    small, sizeof(small));

		CHECK_INT(r, 15);
		CHECK(memcmp(small, env.l, 15) == 0 && small[15] == '\0');
	}
}

static void
test_check(void)
{
	size_t at = 99;
	const char *what = NULL;

	CHECK(spf_macro_check("%{c}", 4, SPF_MACRO_EXP, &at, &what) == 0);
	CHECK(spf_macro_check("%{c}", 4, SPF_MACRO_STRING, &at, &what) == -1);
	CHECK_STR(what, "macro letter allowed only in exp text");
	CHECK_INT(at, 2);
	CHECK(spf_macro_check("a b", 3, SPF_MACRO_EXP, &at, &what) == 0);
	CHECK(spf_macro_check("a b", 3, SPF_MACRO_STRING, &at, &what) == -1);
	CHECK_STR(what, "space");
	CHECK(spf_macro_check("", 0, SPF_MACRO_STRING, &at, &what) == 0);
	CHECK(spf_macro_check("", 0, SPF_MACRO_DOMAIN, &at, &what) == -1);
	CHECK_STR(what, "empty domain-spec");
	CHECK(spf_macro_check("%{d}", 4, SPF_MACRO_DOMAIN, &at, &what) == 0);
	CHECK(spf_macro_check("x.%_", 4, SPF_MACRO_DOMAIN, &at, &what) == 0);
	CHECK(spf_macro_check("foo.bar", 7, SPF_MACRO_DOMAIN, &at, &what) ==
	    0);
	CHECK(spf_macro_check("foo.bar.", 8, SPF_MACRO_DOMAIN, &at, &what) ==
	    0);
	CHECK(spf_macro_check("%{d}.-bar", 9, SPF_MACRO_DOMAIN, &at,
	    &what) == -1);
	CHECK(spf_macro_uses_p("%{p}", 4));
	CHECK(spf_macro_uses_p("x.%{P2r}.y", 10));
	CHECK(!spf_macro_uses_p("%%{p}", 5));
	CHECK(!spf_macro_uses_p("%{d}p", 5));
}

static void
test_names(void)
{
	char lab64[80];

	memset(lab64, 'a', 64);
	lab64[64] = '\0';
	CHECK(spf_macro_name_ok("example.com", 11));
	CHECK(spf_macro_name_ok("com", 3));
	CHECK(spf_macro_name_ok("foo:bar/baz.example.com", 23));
	CHECK(!spf_macro_name_ok("", 0));
	CHECK(!spf_macro_name_ok(".com", 4));
	CHECK(!spf_macro_name_ok("example.com.", 12));
	CHECK(!spf_macro_name_ok("mail.example...com", 18));
	CHECK(!spf_macro_name_ok(lab64, 64));
	CHECK(spf_macro_name_ok(lab64, 63));
}

int
main(void)
{
	test_rfc_examples();
	test_letters();
	test_transformers();
	test_escapes();
	test_errors();
	test_domains();
	test_check();
	test_names();
	return check_report();
}
