/*
 * values_test.c - table-driven tests of conf/conf_values.c: every typed
 *	value parser (accepted forms, rejections with their message,
 *	overflow) and every formatter (shortest exact form that parses back).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "conf/conf_impl.h"
#include "tests/check.h"

static char msg[CONF_MSG_MAX];

/* Durations: units, default seconds, overflow, junk. */
static void
test_duration(void)
{
	static const struct { const char *in; int64_t ms; } ok[] = {
		{ "0", 0 }, { "300", 300000 }, { "300s", 300000 },
		{ "5m", 300000 }, { "1h", 3600000 }, { "500ms", 500 },
		{ "21d", 21LL * 86400000 }, { "9223372036854775ms",
		9223372036854775LL },
	};
	static const char *bad[] = {
		"", "s", "5x", "5 m", "-5s", "+5", "5M", "1h30m", "0x10",
		" 5", "5s ", "5.5s",
	};
	size_t i;
	int64_t v;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		CHECK_INT(conf_values_duration(ok[i].in, &v, msg, sizeof(msg)),
		    0);
		CHECK_INT(v, ok[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(conf_values_duration(bad[i], &v, msg, sizeof(msg)),
		    -1);
	CHECK_INT(conf_values_duration("5x", &v, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'5x' is not a duration (e.g. 30, 30s, 5m, 1h, 1d, "
	    "500ms)");
	/* INT64_MAX ms is 106751991167 days: one more day overflows. */
	CHECK_INT(conf_values_duration("106751991167d", &v, msg, sizeof(msg)),
	    0);
	CHECK_INT(conf_values_duration("106751991168d", &v, msg, sizeof(msg)),
	    -1);
	CHECK_STR(msg, "'106751991168d' is too large");
	CHECK_INT(conf_values_duration("99999999999999999999999", &v, msg,
	    sizeof(msg)), -1);
	CHECK_STR(msg, "'99999999999999999999999' is too large");
}

/* Sizes: suffixes K M G T (powers of 1024), overflow, junk. */
static void
test_size(void)
{
	static const struct { const char *in; int64_t v; } ok[] = {
		{ "0", 0 }, { "4096", 4096 }, { "512K", 512 * 1024 },
		{ "512k", 512 * 1024 }, { "50M", 50 * 1024 * 1024 },
		{ "1G", 1LL << 30 }, { "2t", 2LL << 40 },
		{ "8388607T", 8388607LL << 40 },
	};
	static const char *bad[] = {
		"", "M", "50X", "50MB", "5 M", "-1", "1.5G", "50M ",
	};
	size_t i;
	int64_t v;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		CHECK_INT(conf_values_size(ok[i].in, &v, msg, sizeof(msg)), 0);
		CHECK_INT(v, ok[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(conf_values_size(bad[i], &v, msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_size("50X", &v, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'50X' is not a size (e.g. 4096, 512K, 50M, 1G)");
	CHECK_INT(conf_values_size("8388608T", &v, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'8388608T' is too large");
	CHECK_INT(conf_values_size("9223372036854775807", &v, msg,
	    sizeof(msg)), 0);
	CHECK_INT(v, INT64_MAX);
	CHECK_INT(conf_values_size("9223372036854775808", &v, msg,
	    sizeof(msg)), -1);
	CHECK_STR(msg, "'9223372036854775808' is too large");
}

/* Integers and booleans. */
static void
test_int_bool(void)
{
	int64_t v;
	int b;

	CHECK_INT(conf_values_int("42", 0, 100, &v, msg, sizeof(msg)), 0);
	CHECK_INT(v, 42);
	CHECK_INT(conf_values_int("-3", -5, 5, &v, msg, sizeof(msg)), 0);
	CHECK_INT(v, -3);
	CHECK_INT(conf_values_int("101", 0, 100, &v, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'101' is out of range (0..100)");
	CHECK_INT(conf_values_int("18446744073709551617", 0, 100, &v, msg,
	    sizeof(msg)), -1);
	CHECK_STR(msg, "'18446744073709551617' is out of range (0..100)");
	CHECK_INT(conf_values_int("4x", 0, 100, &v, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'4x' is not a number");
	CHECK_INT(conf_values_int("", 0, 100, &v, msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_int("-", 0, 100, &v, msg, sizeof(msg)), -1);

	CHECK_INT(conf_values_bool("Yes", &b, msg, sizeof(msg)), 0);
	CHECK_INT(b, 1);
	CHECK_INT(conf_values_bool("off", &b, msg, sizeof(msg)), 0);
	CHECK_INT(b, 0);
	CHECK_INT(conf_values_bool("TRUE", &b, msg, sizeof(msg)), 0);
	CHECK_INT(b, 1);
	CHECK_INT(conf_values_bool("maybe", &b, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'maybe' is not yes or no");
}

/* Returns the IPv4/IPv6 port of a parsed address. */
static int
port_of(const struct conf_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

/* IP:PORT, [IPv6]:PORT and the forwarder syntax IP[@PORT]. */
static void
test_addr(void)
{
	static const struct { const char *in, *why; } bad[] = {
		{ "x:y", "'x:y' is not an address:port (only numeric IP "
		    "addresses)" },
		{ "127.0.0.1", "'127.0.0.1' is not an address:port (missing "
		    ":PORT)" },
		{ "2001:db8::1:25", "'2001:db8::1:25' is not an address:port "
		    "(write IPv6 addresses in brackets: [2001:db8::1]:25)" },
		{ "127.0.0.1:0", "'127.0.0.1:0' is not an address:port (port "
		    "must be 1..65535)" },
		{ "127.0.0.1:65536", "'127.0.0.1:65536' is not an "
		    "address:port (port must be 1..65535)" },
		{ "[::1]", "'[::1]' is not an address:port (port 1..65535 "
		    "after ']:')" },
		{ "[192.0.2.1]:25", "'[192.0.2.1]:25' is not an address:port "
		    "(brackets hold an IPv6 address)" },
		{ "[::1:25", "'[::1:25' is not an address:port (brackets hold "
		    "an IPv6 address)" },
		{ "127.1:25", "'127.1:25' is not an address:port (only "
		    "numeric IP addresses)" },
		{ "localhost:25", "'localhost:25' is not an address:port "
		    "(only numeric IP addresses)" },
		{ "127.0.0.1:+25", "'127.0.0.1:+25' is not an address:port "
		    "(port must be 1..65535)" },
	};
	struct conf_addr a;
	char buf[64];
	size_t i;

	CHECK_INT(conf_values_addr("192.0.2.1:25", &a, msg, sizeof(msg)), 0);
	CHECK_INT(a.ss.ss_family, AF_INET);
	CHECK_INT(a.len, sizeof(struct sockaddr_in));
	CHECK_INT(port_of(&a), 25);
	CHECK_INT(conf_values_fmt_addr(&a, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "192.0.2.1:25");

	CHECK_INT(conf_values_addr("[2001:DB8::1]:10025", &a, msg,
	    sizeof(msg)), 0);
	CHECK_INT(a.ss.ss_family, AF_INET6);
	CHECK_INT(a.len, sizeof(struct sockaddr_in6));
	CHECK_INT(port_of(&a), 10025);
	CHECK_INT(conf_values_fmt_addr(&a, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "[2001:db8::1]:10025");

	CHECK_INT(conf_values_addr("[::]:65535", &a, msg, sizeof(msg)), 0);
	CHECK_INT(conf_values_fmt_addr(&a, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "[::]:65535");
	CHECK_INT(conf_values_addr("[::ffff:192.0.2.1]:25", &a, msg,
	    sizeof(msg)), 0);
	CHECK_INT(a.ss.ss_family, AF_INET6);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(conf_values_addr(bad[i].in, &a, msg, sizeof(msg)),
		    -1);
		CHECK_STR(msg, bad[i].why);
	}

	CHECK_INT(conf_values_forward("192.0.2.53", &a, msg, sizeof(msg)), 0);
	CHECK_INT(port_of(&a), 53);
	CHECK_INT(conf_values_forward("2001:db8::53@5353", &a, msg,
	    sizeof(msg)), 0);
	CHECK_INT(a.ss.ss_family, AF_INET6);
	CHECK_INT(port_of(&a), 5353);
	CHECK_INT(conf_values_fmt_forward(&a, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "2001:db8::53@5353");
	CHECK_INT(conf_values_forward("127.0.0.1@53", &a, msg, sizeof(msg)),
	    0);
	CHECK_INT(conf_values_fmt_forward(&a, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "127.0.0.1");
	CHECK_INT(conf_values_forward("ns.example@53", &a, msg, sizeof(msg)),
	    -1);
	CHECK_STR(msg, "'ns.example@53' is not an IP address or IP@PORT");
	CHECK_INT(conf_values_forward("127.0.0.1@99999", &a, msg,
	    sizeof(msg)), -1);
	CHECK_STR(msg, "'127.0.0.1@99999' is not IP@PORT (port must be "
	    "1..65535)");
}

/* CIDR networks: host bits rejected, prefixes checked, bare hosts. */
static void
test_net(void)
{
	struct conf_net n;
	char buf[64];

	CHECK_INT(conf_values_net("192.0.2.0/24", &n, msg, sizeof(msg)), 0);
	CHECK_INT(n.family, AF_INET);
	CHECK_INT(n.prefix, 24);
	CHECK(memcmp(n.addr, "\xc0\x00\x02\x00", 4) == 0);
	CHECK_INT(conf_values_net("198.51.100.7", &n, msg, sizeof(msg)), 0);
	CHECK_INT(n.prefix, 32);
	CHECK_INT(conf_values_fmt_net(&n, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "198.51.100.7/32");
	CHECK_INT(conf_values_net("0.0.0.0/0", &n, msg, sizeof(msg)), 0);
	CHECK_INT(n.prefix, 0);
	CHECK_INT(conf_values_net("2001:DB8::/32", &n, msg, sizeof(msg)), 0);
	CHECK_INT(n.family, AF_INET6);
	CHECK_INT(n.prefix, 32);
	CHECK_INT(conf_values_fmt_net(&n, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "2001:db8::/32");
	CHECK_INT(conf_values_net("::/0", &n, msg, sizeof(msg)), 0);
	CHECK_INT(conf_values_net("::1", &n, msg, sizeof(msg)), 0);
	CHECK_INT(n.prefix, 128);
	CHECK_INT(conf_values_net("10.128.0.0/9", &n, msg, sizeof(msg)), 0);

	CHECK_INT(conf_values_net("192.0.2.1/24", &n, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'192.0.2.1/24' has host bits set (the network is "
	    "192.0.2.0/24)");
	CHECK_INT(conf_values_net("10.192.0.0/9", &n, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'10.192.0.0/9' has host bits set (the network is "
	    "10.128.0.0/9)");
	CHECK_INT(conf_values_net("2001:db8::1/64", &n, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'2001:db8::1/64' has host bits set (the network is "
	    "2001:db8::/64)");
	CHECK_INT(conf_values_net("10.0.0.0/33", &n, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'10.0.0.0/33': the prefix length must be 0..32");
	CHECK_INT(conf_values_net("::/129", &n, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'::/129': the prefix length must be 0..128");
	CHECK_INT(conf_values_net("10.0.0/8", &n, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'10.0.0/8' is not an IP network (e.g. 192.0.2.0/24, "
	    "2001:db8::/32)");
	CHECK_INT(conf_values_net("10.0.0.0/", &n, msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_net("10.0.0.0/-1", &n, msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_net("[::1]/128", &n, msg, sizeof(msg)), -1);
}

/* Domain names: normalization and each reason for rejection. */
static void
test_domain(void)
{
	char out[CONF_DOMAIN_MAX + 1], long_label[80], too_long[300];
	size_t i;

	CHECK_INT(conf_values_domain("Mail.Example.COM.", out, sizeof(out),
	    msg, sizeof(msg)), 0);
	CHECK_STR(out, "mail.example.com");
	CHECK_INT(conf_values_domain("_spf.example-1.net", out, sizeof(out),
	    msg, sizeof(msg)), 0);
	CHECK_INT(conf_values_domain("localhost", out, sizeof(out), msg,
	    sizeof(msg)), 0);
	CHECK_INT(conf_values_domain("-bad.example", out, sizeof(out), msg,
	    sizeof(msg)), -1);
	CHECK_STR(msg, "'-bad.example' is not a domain name (label starts or "
	    "ends with '-')");
	CHECK_INT(conf_values_domain("a..b", out, sizeof(out), msg,
	    sizeof(msg)), -1);
	CHECK_STR(msg, "'a..b' is not a domain name (empty label)");
	CHECK_INT(conf_values_domain("192.0.2.1", out, sizeof(out), msg,
	    sizeof(msg)), -1);
	CHECK_STR(msg, "'192.0.2.1' is not a domain name (the last label is "
	    "all digits)");
	CHECK_INT(conf_values_domain("a b.example", out, sizeof(out), msg,
	    sizeof(msg)), -1);
	CHECK_INT(conf_values_domain(".", out, sizeof(out), msg, sizeof(msg)),
	    -1);
	memset(long_label, 'a', 64);
	memcpy(long_label + 64, ".example", 9);
	CHECK_INT(conf_values_domain(long_label, out, sizeof(out), msg,
	    sizeof(msg)), -1);
	for (i = 0; i + 2 < sizeof(too_long); i += 2)
		memcpy(too_long + i, "a.", 2);
	memcpy(too_long + 254, "com", 4);
	CHECK_INT(conf_values_domain(too_long, out, sizeof(out), msg,
	    sizeof(msg)), -1);
	CHECK(strstr(msg, " is not a domain name (longer than 253 "
	    "characters)") != NULL);
}

/* Rates, names, paths, users, HELO names, text. */
static void
test_misc(void)
{
	struct conf_rate r;
	char buf[64];

	CHECK_INT(conf_values_rate("100/1m", &r, msg, sizeof(msg)), 0);
	CHECK_INT(r.count, 100);
	CHECK_INT(r.per_ms, 60000);
	CHECK_INT(conf_values_fmt_rate(&r, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "100/1m");
	CHECK_INT(conf_values_rate("0", &r, msg, sizeof(msg)), 0);
	CHECK_INT(r.count, 0);
	CHECK_INT(conf_values_rate("100", &r, msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_rate("100/500ms", &r, msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_rate("0/1m", &r, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'0/1m' is not a rate: COUNT/DURATION with COUNT "
	    "1..1000000 and DURATION 1s..1d (e.g. 100/1m), or 0 for no limit");

	CHECK_INT(conf_values_path("/etc/spfgate/key.pem", msg, sizeof(msg)),
	    0);
	CHECK_INT(conf_values_path("etc/key.pem", msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'etc/key.pem' is not an absolute path");
	CHECK_INT(conf_values_path("/etc/a\tb", msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'/etc/a\\x09b' contains a control character");

	CHECK_INT(conf_values_user("_spfgate", msg, sizeof(msg)), 0);
	CHECK_INT(conf_values_user("spf-gate.1", msg, sizeof(msg)), 0);
	CHECK_INT(conf_values_user("1spf", msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_user("a b", msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_user("abcdefghijabcdefghijabcdefghijabc", msg,
	    sizeof(msg)), -1);

	CHECK_INT(conf_values_name("smtp-465", msg, sizeof(msg)), 0);
	CHECK_INT(conf_values_name("", msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_name("a/b", msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'a/b' is not a valid name (1 to 32 letters, digits, "
	    "'_', '-' or '.')");

	CHECK_INT(conf_values_helo("mx.example.com", msg, sizeof(msg)), 0);
	CHECK_INT(conf_values_helo("[192.0.2.1]", msg, sizeof(msg)), 0);
	CHECK_INT(conf_values_helo("[IPv6:2001:db8::1]", msg, sizeof(msg)), 0);
	CHECK_INT(conf_values_helo("[2001:db8::1]", msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_helo("mx example", msg, sizeof(msg)), -1);

	CHECK_INT(conf_values_text("SPF fail - see %{d}", 1, msg, sizeof(msg)),
	    0);
	CHECK_INT(conf_values_text("a b", 0, msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_text(";x", 1, msg, sizeof(msg)), -1);
	CHECK_INT(conf_values_text("caf\xc3\xa9", 1, msg, sizeof(msg)), -1);
	CHECK_STR(msg, "'caf\\xc3\\xa9': only printable ASCII is allowed");
}

/* Formatters print the shortest exact unit. */
static void
test_format(void)
{
	char buf[64];

	CHECK_INT(conf_values_fmt_duration(0, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "0");
	CHECK_INT(conf_values_fmt_duration(300000, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "5m");
	CHECK_INT(conf_values_fmt_duration(1500, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "1500ms");
	CHECK_INT(conf_values_fmt_duration(90000, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "90s");
	CHECK_INT(conf_values_fmt_duration(21LL * 86400000, buf,
	    sizeof(buf)), 0);
	CHECK_STR(buf, "21d");
	CHECK_INT(conf_values_fmt_size(50LL << 20, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "50M");
	CHECK_INT(conf_values_fmt_size(1536, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "1536");
	CHECK_INT(conf_values_fmt_size(3LL << 40, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "3T");
	CHECK_INT(conf_values_fmt_size(0, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "0");
	CHECK_INT(conf_values_fmt_size(50LL << 20, buf, 3), -1);
}

/* List splitting on separators and whitespace. */
static void
test_items(void)
{
	const char *cur = " a, b,,c\td ,", *it;
	const char *want[] = { "a", "b", "c", "d" };
	size_t len, n = 0;

	while ((it = conf_values_item(&cur, ",", &len)) != NULL && n < 4) {
		CHECK_INT(len, strlen(want[n]));
		CHECK(strncmp(it, want[n], len) == 0);
		n++;
	}
	CHECK_INT(n, 4);
	CHECK(it == NULL);
}

int
main(void)
{
	test_duration();
	test_size();
	test_int_bool();
	test_addr();
	test_net();
	test_domain();
	test_misc();
	test_format();
	test_items();
	return check_report();
}
