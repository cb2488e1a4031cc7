/*
 * parse_test.c - tests of the configuration parser as the relay uses it:
 *	a full valid file (every key set to a non-default value, each value
 *	checked by hand), the defaults, the exact file:line:key text of every
 *	kind of error, inih's syntax corners (comments, CRLF, BOM, empty
 *	values, whitespace, long lines, continuation lines), the dump
 *	round trip, and the lookup helpers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "conf/conf_impl.h"
#include "tests/check.h"

#define BACKEND "[backend]\nservers = 127.0.0.1:10025\n"

static const char full_text[] =
	"# every key, none at its default\n"
	"[server]\n"
	"hostname = MX1.Example.COM.\n"
	"workers = 4\n"
	"user = spfgate\n"
	"log = syslog\n"
	"log_level = debug\n"
	"syslog_facility = local3\n"
	"max_connections = 20000\n"
	"max_connections_per_ip = 100\n"
	"max_line_length = 1024\n"
	"max_message_size = 25M\n"
	"max_recipients = 500\n"
	"max_errors = 5\n"
	"timeout_command = 2m\n"
	"timeout_data = 1h\n"
	"greet_delay = 500ms\n"
	"pid_file = /run/spfgate.pid\n"
	"metrics_listen = [::1]:9100\n"
	"\n"
	"[listener smtp]\n"
	"address = 0.0.0.0:25, [::]:25\n"
	"tls = starttls\n"
	"require_tls = yes\n"
	"proxy_protocol = yes\n"
	"trusted_proxies = 10.0.0.0/8, 2001:db8:1::/48\n"
	"\n"
	"[listener smtps]\n"
	"address = 192.0.2.10:465\n"
	"tls = implicit\n"
	"\n"
	"[spf]\n"
	"enabled = no\n"
	"helo_check = yes\n"
	"fail = defer\n"
	"softfail = reject\n"
	"neutral = defer\n"
	"none = reject\n"
	"permerror = accept\n"
	"temperror = reject\n"
	"helo_fail = defer\n"
	"skip_networks = 192.0.2.0/24, 2001:db8::/32, 198.51.100.7\n"
	"skip_domains = Example.NET, trusted.example\n"
	"headers = authentication-results\n"
	"authserv_id = mx.example.com\n"
	"explanation = %{i} is not one of %{d}'s designated mail servers\n"
	"timeout = 30s\n"
	"void_lookup_limit = 3\n"
	"lookup_limit = 20\n"
	"\n"
	"[dns]\n"
	"dnssec = no\n"
	"trust_anchor = /etc/spfgate/root.key\n"
	"forward = 127.0.0.1@5353, ::1\n"
	"query_timeout = 1500ms\n"
	"outgoing_range = 1024\n"
	"cache_size = 64M\n"
	"transparent_zones = 10.in-addr.arpa, test\n"
	"\n"
	"[backend]\n"
	"servers = 127.0.0.1:10025, [::1]:10025\n"
	"helo = [192.0.2.1]\n"
	"xclient = no\n"
	"xforward = no\n"
	"connect_timeout = 10s\n"
	"timeout_command = 60s\n"
	"timeout_data_end = 5m\n"
	"connection_cache = no\n"
	"connection_cache_time = 10s\n"
	"connection_reuse_time = 1h\n"
	"tls = required\n"
	"tls_verify = yes\n"
	"tls_ca_file = /etc/ssl/certs/ca-certificates.crt\n"
	"tls_name = mailstore.example.com\n"
	"tls_cert_file = /etc/spfgate/client.pem\n"
	"tls_key_file = /etc/spfgate/client.key\n"
	"\n"
	"[tls]\n"
	"min_protocol = TLSv1.1\n"
	"max_protocol = TLSv1.2\n"
	"ciphers = ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256\n"
	"ciphersuites = TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256\n"
	"groups = X25519:P-256\n"
	"prefer_server_ciphers = no\n"
	"session_tickets = no\n"
	"handshake_timeout = 20s\n"
	"\n"
	"[certificate rsa]\n"
	"cert_file = /etc/spfgate/rsa.pem\n"
	"key_file = /etc/spfgate/rsa.key\n"
	"chain_file = /etc/spfgate/chain.pem\n"
	"\n"
	"[certificate ecdsa]\n"
	"cert_file = /etc/spfgate/ecdsa.pem\n"
	"key_file = /etc/spfgate/ecdsa.key\n"
	"\n"
	"[srs]\n"
	"enabled = yes\n"
	"domain = srs.example.com\n"
	"secrets_file = /etc/spfgate/srs.secrets\n"
	"hash_length = 6\n"
	"max_age = 30d\n"
	"separator = +\n"
	"rewrite_domains = example.org\n"
	"exclude_domains = example.com\n"
	"forward_bounces = no\n"
	"bounce_senders = any\n"
	"reverse_rate_limit = 10/1h\n"
	"bounce_route = 192.0.2.25:25\n"
	"\n"
	"[domain lists.example.org]\n"
	"srs = no\n"
	"srs_domain = bounces.example.org\n"
	"forward_bounces = yes\n"
	"hash_length = 8\n"
	"max_age = 7d\n"
	"\n"
	"[domain example.org]\n"
	"srs = yes\n";

static struct conf_errors errs;

/* Parses text (NUL-terminated) as "t.conf". */
static struct conf *
parse(const char *text)
{
	return conf_parse_string("t.conf", text, strlen(text), &errs);
}

/* Prints the collected errors (to explain a failed check). */
static void
show_errors(void)
{
	int i;

	for (i = 0; i < errs.count; i++)
		fprintf(stderr, "    error: %s\n", errs.line[i]);
}

/*
 * Parses text and checks that it fails with exactly the error lines in
 * want (NULL-terminated), in order.
 */
static void
expect_errors_at(const char *file, int line, const char *text, size_t len,
    const char *const *want)
{
	struct conf *conf = conf_parse_string("t.conf", text, len, &errs);
	int n = 0, same = conf == NULL;

	while (want[n] != NULL)
		n++;
	if (errs.count != n)
		same = 0;
	for (int i = 0; same && i < n; i++)
		if (strcmp(errs.line[i], want[i]) != 0)
			same = 0;
	if (!check_one(same, file, line, "expected errors")) {
		for (int i = 0; i < n; i++)
			fprintf(stderr, "    want: %s\n", want[i]);
		show_errors();
	}
	conf_free(conf);
}

#define EXPECT(text, ...) expect_errors_at(__FILE__, __LINE__, (text), \
	strlen(text), (const char *const []){ __VA_ARGS__, NULL })

/* Parses text that must be valid; a failure shows the errors. */
static struct conf *
parse_ok_at(const char *file, int line, const char *text)
{
	struct conf *conf = parse(text);

	if (!check_one(conf != NULL, file, line, "config parses"))
		show_errors();
	return conf;
}

#define PARSE_OK(text) parse_ok_at(__FILE__, __LINE__, (text))

/* Text form of an address, for comparisons. */
static const char *
addr_text(const struct conf_addr *a)
{
	static char buf[8][64];
	static int next;
	char *b = buf[next++ % 8];

	if (conf_values_fmt_addr(a, b, 64) < 0)
		return "(bad)";
	return b;
}

/* Text form of a network. */
static const char *
net_text(const struct conf_net *n)
{
	static char buf[8][64];
	static int next;
	char *b = buf[next++ % 8];

	if (conf_values_fmt_net(n, b, 64) < 0)
		return "(bad)";
	return b;
}

static void
check_full_server_listeners(const struct conf *c)
{
	CHECK_STR(c->server.hostname, "mx1.example.com");
	CHECK_INT(c->server.workers, 4);
	CHECK_STR(c->server.user, "spfgate");
	CHECK_INT(c->server.log, CONF_LOG_SYSLOG);
	CHECK_INT(c->server.log_level, LOG_DEBUG);
	CHECK_INT(c->server.syslog_facility, LOG_LOCAL3);
	CHECK_INT(c->server.max_connections, 20000);
	CHECK_INT(c->server.max_connections_per_ip, 100);
	CHECK_INT(c->server.max_line_length, 1024);
	CHECK_INT(c->server.max_message_size, 25 * 1024 * 1024);
	CHECK_INT(c->server.max_recipients, 500);
	CHECK_INT(c->server.max_errors, 5);
	CHECK_INT(c->server.timeout_command, 120000);
	CHECK_INT(c->server.timeout_data, 3600000);
	CHECK_INT(c->server.greet_delay, 500);
	CHECK_STR(c->server.pid_file, "/run/spfgate.pid");
	CHECK_STR(addr_text(&c->server.metrics_listen), "[::1]:9100");

	CHECK_INT(c->nlisteners, 2);
	if (c->nlisteners != 2)
		return;
	CHECK_STR(c->listeners[0].name, "smtp");
	CHECK_INT(c->listeners[0].address.n, 2);
	CHECK_STR(addr_text(&c->listeners[0].address.v[0]), "0.0.0.0:25");
	CHECK_STR(addr_text(&c->listeners[0].address.v[1]), "[::]:25");
	CHECK_INT(c->listeners[0].tls, CONF_LTLS_STARTTLS);
	CHECK_INT(c->listeners[0].require_tls, 1);
	CHECK_INT(c->listeners[0].proxy_protocol, 1);
	CHECK_INT(c->listeners[0].trusted_proxies.n, 2);
	CHECK_STR(net_text(&c->listeners[0].trusted_proxies.v[0]),
	    "10.0.0.0/8");
	CHECK_STR(net_text(&c->listeners[0].trusted_proxies.v[1]),
	    "2001:db8:1::/48");
	CHECK_STR(c->listeners[1].name, "smtps");
	CHECK_INT(c->listeners[1].address.n, 1);
	CHECK_STR(addr_text(&c->listeners[1].address.v[0]), "192.0.2.10:465");
	CHECK_INT(c->listeners[1].tls, CONF_LTLS_IMPLICIT);
	CHECK_INT(c->listeners[1].require_tls, 0);
	CHECK_INT(c->listeners[1].proxy_protocol, 0);
	CHECK_INT(c->listeners[1].trusted_proxies.n, 0);
}

static void
check_full_spf_dns(const struct conf *c)
{
	CHECK_INT(c->spf.enabled, 0);
	CHECK_INT(c->spf.helo_check, 1);
	CHECK_INT(c->spf.on_fail, CONF_ACTION_DEFER);
	CHECK_INT(c->spf.on_softfail, CONF_ACTION_REJECT);
	CHECK_INT(c->spf.on_neutral, CONF_ACTION_DEFER);
	CHECK_INT(c->spf.on_none, CONF_ACTION_REJECT);
	CHECK_INT(c->spf.on_permerror, CONF_ACTION_ACCEPT);
	CHECK_INT(c->spf.on_temperror, CONF_ACTION_REJECT);
	CHECK_INT(c->spf.on_helo_fail, CONF_ACTION_DEFER);
	CHECK_INT(c->spf.skip_networks.n, 3);
	if (c->spf.skip_networks.n == 3) {
		CHECK_STR(net_text(&c->spf.skip_networks.v[0]),
		    "192.0.2.0/24");
		CHECK_STR(net_text(&c->spf.skip_networks.v[1]),
		    "2001:db8::/32");
		CHECK_STR(net_text(&c->spf.skip_networks.v[2]),
		    "198.51.100.7/32");
	}
	CHECK_INT(c->spf.skip_domains.n, 2);
	if (c->spf.skip_domains.n == 2) {
		CHECK_STR(c->spf.skip_domains.v[0], "example.net");
		CHECK_STR(c->spf.skip_domains.v[1], "trusted.example");
	}
	CHECK_INT(c->spf.headers, CONF_HDR_AUTH_RESULTS);
	CHECK_STR(c->spf.authserv_id, "mx.example.com");
	CHECK_STR(c->spf.explanation,
	    "%{i} is not one of %{d}'s designated mail servers");
	CHECK_INT(c->spf.timeout, 30000);
	CHECK_INT(c->spf.void_lookup_limit, 3);
	CHECK_INT(c->spf.lookup_limit, 20);

	CHECK_INT(c->dns.dnssec, 0);
	CHECK_STR(c->dns.trust_anchor, "/etc/spfgate/root.key");
	CHECK_INT(c->dns.forward.n, 2);
	if (c->dns.forward.n == 2) {
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)&c->dns.forward.v[0].ss;
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)&c->dns.forward.v[1].ss;

		CHECK_STR(addr_text(&c->dns.forward.v[0]), "127.0.0.1:5353");
		CHECK_INT(ntohs(sin->sin_port), 5353);
		CHECK_STR(addr_text(&c->dns.forward.v[1]), "[::1]:53");
		CHECK_INT(ntohs(sin6->sin6_port), 53);
	}
	CHECK_INT(c->dns.query_timeout, 1500);
	CHECK_INT(c->dns.outgoing_range, 1024);
	CHECK_INT(c->dns.cache_size, 64 * 1024 * 1024);
	CHECK_INT(c->dns.transparent_zones.n, 2);
	if (c->dns.transparent_zones.n == 2) {
		CHECK_STR(c->dns.transparent_zones.v[0], "10.in-addr.arpa");
		CHECK_STR(c->dns.transparent_zones.v[1], "test");
	}
}

static void
check_full_backend_tls(const struct conf *c)
{
	CHECK_INT(c->backend.servers.n, 2);
	if (c->backend.servers.n == 2) {
		CHECK_STR(addr_text(&c->backend.servers.v[0]),
		    "127.0.0.1:10025");
		CHECK_STR(addr_text(&c->backend.servers.v[1]), "[::1]:10025");
	}
	CHECK_STR(c->backend.helo, "[192.0.2.1]");
	CHECK_INT(c->backend.xclient, CONF_AUTO_NO);
	CHECK_INT(c->backend.xforward, CONF_AUTO_NO);
	CHECK_INT(c->backend.connect_timeout, 10000);
	CHECK_INT(c->backend.timeout_command, 60000);
	CHECK_INT(c->backend.timeout_data_end, 300000);
	CHECK_INT(c->backend.connection_cache, 0);
	CHECK_INT(c->backend.connection_cache_time, 10000);
	CHECK_INT(c->backend.connection_reuse_time, 3600000);
	CHECK_INT(c->backend.tls, CONF_BTLS_REQUIRED);
	CHECK_INT(c->backend.tls_verify, 1);
	CHECK_STR(c->backend.tls_ca_file, "/etc/ssl/certs/ca-certificates.crt");
	CHECK_STR(c->backend.tls_name, "mailstore.example.com");
	CHECK_STR(c->backend.tls_cert_file, "/etc/spfgate/client.pem");
	CHECK_STR(c->backend.tls_key_file, "/etc/spfgate/client.key");

	CHECK_INT(c->tls.min_protocol, CONF_TLS_1_1);
	CHECK_INT(c->tls.max_protocol, CONF_TLS_1_2);
	CHECK_INT(CONF_TLS_1_2, 0x0303);
	CHECK_STR(c->tls.ciphers,
	    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256");
	CHECK_STR(c->tls.ciphersuites,
	    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
	CHECK_STR(c->tls.groups, "X25519:P-256");
	CHECK_INT(c->tls.prefer_server_ciphers, 0);
	CHECK_INT(c->tls.session_tickets, 0);
	CHECK_INT(c->tls.handshake_timeout, 20000);

	CHECK_INT(c->ncertificates, 2);
	if (c->ncertificates == 2) {
		CHECK_STR(c->certificates[0].name, "rsa");
		CHECK_STR(c->certificates[0].cert_file, "/etc/spfgate/rsa.pem");
		CHECK_STR(c->certificates[0].key_file, "/etc/spfgate/rsa.key");
		CHECK_STR(c->certificates[0].chain_file,
		    "/etc/spfgate/chain.pem");
		CHECK_STR(c->certificates[1].name, "ecdsa");
		CHECK_STR(c->certificates[1].cert_file,
		    "/etc/spfgate/ecdsa.pem");
		CHECK_STR(c->certificates[1].chain_file, "");
	}
}

static void
check_full_srs(const struct conf *c)
{
	const int64_t day = 86400000;

	CHECK_INT(c->srs.enabled, 1);
	CHECK_STR(c->srs.domain, "srs.example.com");
	CHECK_STR(c->srs.secrets_file, "/etc/spfgate/srs.secrets");
	CHECK_INT(c->srs.hash_length, 6);
	CHECK_INT(c->srs.max_age, 30 * day);
	CHECK_INT(c->srs.separator, '+');
	CHECK_INT(c->srs.rewrite_domains.n, 1);
	CHECK_INT(c->srs.exclude_domains.n, 1);
	CHECK_INT(c->srs.forward_bounces, 0);
	CHECK_INT(c->srs.bounce_senders, CONF_BOUNCE_ANY);
	CHECK_INT(c->srs.reverse_rate_limit.count, 10);
	CHECK_INT(c->srs.reverse_rate_limit.per_ms, 3600000);
	CHECK_STR(addr_text(&c->srs.bounce_route), "192.0.2.25:25");

	/* sorted by name */
	CHECK_INT(c->ndomains, 2);
	if (c->ndomains != 2)
		return;
	CHECK_STR(c->domains[0].name, "example.org");
	CHECK_INT(c->domains[0].srs, 1);
	CHECK(c->domains[0].srs_domain == NULL);
	CHECK_INT(c->domains[0].forward_bounces, -1);
	CHECK_INT(c->domains[0].hash_length, -1);
	CHECK_INT(c->domains[0].max_age, -1);
	CHECK_STR(c->domains[1].name, "lists.example.org");
	CHECK_INT(c->domains[1].srs, 0);
	CHECK_STR(c->domains[1].srs_domain, "bounces.example.org");
	CHECK_INT(c->domains[1].forward_bounces, 1);
	CHECK_INT(c->domains[1].hash_length, 8);
	CHECK_INT(c->domains[1].max_age, 7 * day);
}

/* A file setting every key: each value as written. */
static void
test_full(void)
{
	struct conf *c = PARSE_OK(full_text);

	if (c == NULL)
		return;
	check_full_server_listeners(c);
	check_full_spf_dns(c);
	check_full_backend_tls(c);
	check_full_srs(c);
	conf_free(c);
}

/* The defaults as documented, and what conf_check says about them. */
static void
test_defaults(void)
{
	struct conf *d = conf_defaults(), *p;
	char host[256];

	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK(gethostname(host, sizeof(host)) == 0);
	host[sizeof(host) - 1] = '\0';
	CHECK(strcasecmp(d->server.hostname, host) == 0);
	CHECK_STR(d->spf.authserv_id, d->server.hostname);
	CHECK_STR(d->backend.helo, d->server.hostname);
	CHECK_INT(d->server.workers, 0);
	CHECK_STR(d->server.user, "");
	CHECK_INT(d->server.log, CONF_LOG_STDERR);
	CHECK_INT(d->server.log_level, LOG_INFO);
	CHECK_INT(d->server.syslog_facility, LOG_MAIL);
	CHECK_INT(d->server.max_connections, 10000);
	CHECK_INT(d->server.max_connections_per_ip, 50);
	CHECK_INT(d->server.max_line_length, 512);
	CHECK_INT(d->server.max_message_size, 50 * 1024 * 1024);
	CHECK_INT(d->server.max_recipients, 100);
	CHECK_INT(d->server.max_errors, 10);
	CHECK_INT(d->server.timeout_command, 300000);
	CHECK_INT(d->server.timeout_data, 600000);
	CHECK_INT(d->server.greet_delay, 0);
	CHECK_STR(d->server.pid_file, "");
	CHECK_INT(d->server.metrics_listen.len, 0);

	CHECK_INT(d->nlisteners, 1);
	CHECK_STR(d->listeners[0].name, "smtp");
	CHECK_INT(d->listeners[0].address.n, 1);
	CHECK_STR(addr_text(&d->listeners[0].address.v[0]), "127.0.0.1:25");
	CHECK_INT(d->listeners[0].tls, CONF_LTLS_NONE);
	CHECK_INT(d->listeners[0].require_tls, 0);
	CHECK_INT(d->listeners[0].proxy_protocol, 0);

	CHECK_INT(d->spf.enabled, 1);
	CHECK_INT(d->spf.helo_check, 0);
	CHECK_INT(d->spf.on_fail, CONF_ACTION_REJECT);
	CHECK_INT(d->spf.on_softfail, CONF_ACTION_ACCEPT);
	CHECK_INT(d->spf.on_neutral, CONF_ACTION_ACCEPT);
	CHECK_INT(d->spf.on_none, CONF_ACTION_ACCEPT);
	CHECK_INT(d->spf.on_permerror, CONF_ACTION_REJECT);
	CHECK_INT(d->spf.on_temperror, CONF_ACTION_DEFER);
	CHECK_INT(d->spf.on_helo_fail, CONF_ACTION_REJECT);
	CHECK_INT(d->spf.skip_networks.n, 2);
	CHECK_STR(net_text(&d->spf.skip_networks.v[0]), "127.0.0.0/8");
	CHECK_STR(net_text(&d->spf.skip_networks.v[1]), "::1/128");
	CHECK_INT(d->spf.skip_domains.n, 0);
	CHECK_INT(d->spf.headers,
	    CONF_HDR_RECEIVED_SPF | CONF_HDR_AUTH_RESULTS);
	CHECK_STR(d->spf.explanation, "SPF fail - not authorized");
	CHECK_INT(d->spf.timeout, 20000);
	CHECK_INT(d->spf.void_lookup_limit, 2);
	CHECK_INT(d->spf.lookup_limit, 10);

	CHECK_INT(d->dns.dnssec, 1);
	CHECK_STR(d->dns.trust_anchor, "/usr/share/dns/root.key");
	CHECK_INT(d->dns.forward.n, 0);
	CHECK_INT(d->dns.query_timeout, 5000);
	CHECK_INT(d->dns.outgoing_range, 256);
	CHECK_INT(d->dns.cache_size, 16 * 1024 * 1024);

	CHECK_INT(d->backend.servers.n, 0);
	CHECK_INT(d->backend.xclient, CONF_AUTO_AUTO);
	CHECK_INT(d->backend.xforward, CONF_AUTO_AUTO);
	CHECK_INT(d->backend.connect_timeout, 30000);
	CHECK_INT(d->backend.timeout_command, 300000);
	CHECK_INT(d->backend.timeout_data_end, 600000);
	CHECK_INT(d->backend.connection_cache, 1);
	CHECK_INT(d->backend.connection_cache_time, 2000);
	CHECK_INT(d->backend.connection_reuse_time, 300000);
	CHECK_INT(d->backend.tls, CONF_BTLS_OPPORTUNISTIC);
	CHECK_INT(d->backend.tls_verify, 0);

	CHECK_INT(d->tls.min_protocol, CONF_TLS_1_2);
	CHECK_INT(d->tls.max_protocol, CONF_TLS_1_3);
	CHECK_STR(d->tls.ciphers, "");
	CHECK_INT(d->tls.prefer_server_ciphers, 1);
	CHECK_INT(d->tls.session_tickets, 1);
	CHECK_INT(d->tls.handshake_timeout, 30000);
	CHECK_INT(d->ncertificates, 0);

	CHECK_INT(d->srs.enabled, 0);
	CHECK_INT(d->srs.hash_length, 4);
	CHECK_INT(d->srs.max_age, 21LL * 86400000);
	CHECK_INT(d->srs.separator, '=');
	CHECK_INT(d->srs.forward_bounces, 1);
	CHECK_INT(d->srs.bounce_senders, CONF_BOUNCE_NULL);
	CHECK_INT(d->srs.reverse_rate_limit.count, 100);
	CHECK_INT(d->srs.reverse_rate_limit.per_ms, 60000);
	CHECK_INT(d->srs.bounce_route.len, 0);
	CHECK_INT(d->ndomains, 0);

	/* the one thing the defaults lack */
	CHECK_INT(conf_check(d, &errs), -1);
	CHECK_INT(errs.count, 1);
	CHECK_STR(errs.line[0], "[backend] servers: missing required value");

	/* a file with only the backend gives the defaults plus it */
	p = PARSE_OK(BACKEND);
	if (p != NULL) {
		CHECK(!conf_equal(p, d));
		conf_schema_field_free(&d->backend, &conf_schema_section(
		    CONF_S_BACKEND)->keys[0]);
		d->backend.servers = p->backend.servers;
		CHECK(conf_equal(p, d));
		d->backend.servers.v = NULL;
		d->backend.servers.n = 0;
		CHECK_INT(conf_check(p, &errs), 0);
		CHECK_INT(errs.count, 0);
	}
	conf_free(p);
	conf_free(d);
}

/* The full file sets every key of the schema to a non-default value. */
static void
test_every_key_covered(void)
{
	struct conf *full = PARSE_OK(full_text), *d = conf_defaults();
	const struct conf_section_def *def;
	size_t k;
	int s;

	if (full == NULL || d == NULL) {
		conf_free(full);
		conf_free(d);
		return;
	}
	/* fresh instances hold the defaults of repeatable sections */
	CHECK(conf_object_add(d, CONF_S_LISTENER, "x") >= 0);
	CHECK(conf_object_add(d, CONF_S_CERTIFICATE, "x") >= 0);
	CHECK(conf_object_add(d, CONF_S_DOMAIN, "x") >= 0);
	for (s = 0; s < CONF_S_COUNT; s++) {
		def = conf_schema_section(s);
		for (k = 0; k < def->nkeys; k++) {
			const void *a = conf_object_base(full, s,
			    s == CONF_S_DOMAIN ? 1 : 0);
			const void *b = conf_object_base(d, s,
			    def->repeatable ? conf_object_count(d, s) - 1 : 0);
			int differs = !conf_schema_field_equal(a, b,
			    &def->keys[k]);

			if (!check_one(differs, __FILE__, __LINE__,
			    "full config sets a non-default value"))
				fprintf(stderr, "    [%s] %s\n", def->name,
				    def->keys[k].name);
			CHECK(def->keys[k].doc != NULL &&
			    def->keys[k].doc[0] != '\0');
		}
	}
	conf_free(full);
	conf_free(d);
}

/* Every kind of bad value: file, line, section, key and the reason. */
static void
test_value_errors(void)
{
	EXPECT("[backend]\nservers = x:y\n",
	    "t.conf:2: [backend] servers: 'x:y' is not an address:port "
	    "(only numeric IP addresses)");
	EXPECT("[backend]\nservers = 127.0.0.1:10025, 2001:db8::1:25\n",
	    "t.conf:2: [backend] servers: '2001:db8::1:25' is not an "
	    "address:port (write IPv6 addresses in brackets: "
	    "[2001:db8::1]:25)");
	EXPECT("[spf]\nenabled = maybe\n" BACKEND,
	    "t.conf:2: [spf] enabled: 'maybe' is not yes or no");
	EXPECT("[server]\nworkers = 1000\n" BACKEND,
	    "t.conf:2: [server] workers: '1000' is out of range (0..256)");
	EXPECT("[server]\nmax_errors = ten\n" BACKEND,
	    "t.conf:2: [server] max_errors: 'ten' is not a number");
	EXPECT("[server]\nmax_errors = 99999999999999999999999\n" BACKEND,
	    "t.conf:2: [server] max_errors: '99999999999999999999999' is "
	    "out of range (1..1000)");
	EXPECT("[server]\ntimeout_command = 2h\n" BACKEND,
	    "t.conf:2: [server] timeout_command: '2h' is out of range "
	    "(1s..1h)");
	EXPECT("[server]\ngreet_delay = soon\n" BACKEND,
	    "t.conf:2: [server] greet_delay: 'soon' is not a duration (e.g. "
	    "30, 30s, 5m, 1h, 1d, 500ms)");
	EXPECT("[spf]\ntimeout = 99999999999999999999s\n" BACKEND,
	    "t.conf:2: [spf] timeout: '99999999999999999999s' is too large");
	EXPECT("[spf]\ntimeout = 106751991168d\n" BACKEND,
	    "t.conf:2: [spf] timeout: '106751991168d' is too large");
	EXPECT("[srs]\nmax_age = 36h\n" BACKEND,
	    "t.conf:2: [srs] max_age: '36h' is not a whole number of days "
	    "(e.g. 21d)");
	EXPECT("[srs]\nmax_age = 21\n" BACKEND,
	    "t.conf:2: [srs] max_age: '21' is out of range (1d..511d)");
	EXPECT("[srs]\nmax_age = 512d\n" BACKEND,
	    "t.conf:2: [srs] max_age: '512d' is out of range (1d..511d)");
	EXPECT("[server]\nmax_message_size = 5G\n" BACKEND,
	    "t.conf:2: [server] max_message_size: '5G' is out of range "
	    "(1K..4G)");
	EXPECT("[dns]\ncache_size = 99999999999G\n" BACKEND,
	    "t.conf:2: [dns] cache_size: '99999999999G' is too large");
	EXPECT("[server]\nmax_message_size = 50MB\n" BACKEND,
	    "t.conf:2: [server] max_message_size: '50MB' is not a size "
	    "(e.g. 4096, 512K, 50M, 1G)");
	EXPECT("[server]\nlog = file\n" BACKEND,
	    "t.conf:2: [server] log: 'file' is not one of: stderr, syslog");
	EXPECT("[tls]\nmin_protocol = SSLv3\n" BACKEND,
	    "t.conf:2: [tls] min_protocol: 'SSLv3' is not one of: TLSv1, "
	    "TLSv1.1, TLSv1.2, TLSv1.3");
	EXPECT("[spf]\nheaders = received-spf, x-spam\n" BACKEND,
	    "t.conf:2: [spf] headers: 'x-spam' is not one of: received-spf, "
	    "authentication-results");
	EXPECT("[spf]\nskip_networks = 192.0.2.1/24, ::1, 10.0.0.0/33\n"
	    BACKEND,
	    "t.conf:2: [spf] skip_networks: '192.0.2.1/24' has host bits set "
	    "(the network is 192.0.2.0/24)",
	    "t.conf:2: [spf] skip_networks: '10.0.0.0/33': the prefix length "
	    "must be 0..32");
	EXPECT("[spf]\nskip_domains = ok.example, -bad.example\n" BACKEND,
	    "t.conf:2: [spf] skip_domains: '-bad.example' is not a domain "
	    "name (label starts or ends with '-')");
	EXPECT("[dns]\ntrust_anchor = root.key\n" BACKEND,
	    "t.conf:2: [dns] trust_anchor: 'root.key' is not an absolute "
	    "path");
	EXPECT("[dns]\nforward = dns.example\n" BACKEND,
	    "t.conf:2: [dns] forward: 'dns.example' is not an IP address or "
	    "IP@PORT");
	EXPECT("[srs]\nreverse_rate_limit = lots\n" BACKEND,
	    "t.conf:2: [srs] reverse_rate_limit: 'lots' is not a rate: "
	    "COUNT/DURATION with COUNT 1..1000000 and DURATION 1s..1d (e.g. "
	    "100/1m), or 0 for no limit");
	EXPECT("[srs]\nseparator = :\n" BACKEND,
	    "t.conf:2: [srs] separator: ':' is not one of: =, +, -");
	EXPECT("[spf]\nauthserv_id = mx;x\n" BACKEND,
	    "t.conf:2: [spf] authserv_id: 'mx;x': only a token is allowed "
	    "(no ()<>@,;:\\\"/[]?=)");
	EXPECT("[server]\nuser = 0day\n" BACKEND,
	    "t.conf:2: [server] user: '0day' is not a user name");
	EXPECT("[backend]\nservers = 127.0.0.1:25\nhelo = [mx]\n",
	    "t.conf:3: [backend] helo: '[mx]' is neither a domain name nor "
	    "an address literal ([192.0.2.1], [IPv6:2001:db8::1])");
	EXPECT("[tls]\nciphers = AES128/SHA\n" BACKEND,
	    "t.conf:2: [tls] ciphers: 'AES128/SHA' contains '/', not allowed "
	    "in an OpenSSL list");
	EXPECT("[server]\nworkers =\n" BACKEND,
	    "t.conf:2: [server] workers: empty value");
	EXPECT("[domain x.example]\nhash_length = 2\n" BACKEND,
	    "t.conf:2: [domain x.example] hash_length: '2' is out of range "
	    "(4..27)");
	EXPECT("[server]\nhostname = 192.0.2.1\n" BACKEND,
	    "t.conf:2: [server] hostname: '192.0.2.1' is not a domain name "
	    "(the last label is all digits)");
}

/* Structure errors: sections, keys, syntax. */
static void
test_structure_errors(void)
{
	EXPECT("[server]\nfoo = 1\n" BACKEND,
	    "t.conf:2: [server] unknown key 'foo'");
	EXPECT("[frobnicate]\nworkers = 1\n  2\n" BACKEND,
	    "t.conf:1: unknown section 'frobnicate'");
	EXPECT("[server]\nworkers = 1\nuser = a\nworkers = 2\n" BACKEND,
	    "t.conf:4: [server] workers: duplicate key (first set at line 2)");
	EXPECT("[server]\n[spf]\n[server]\nworkers = 1\n" BACKEND,
	    "t.conf:3: section [server] appears twice (first at line 1)");
	EXPECT("[listener a]\naddress = 127.0.0.1:25\n[listener a]\n"
	    "address = 127.0.0.1:26\n" BACKEND,
	    "t.conf:3: section [listener a] appears twice (first at line 1)");
	EXPECT("[domain a.example]\nsrs = no\n[domain A.Example.]\nsrs = no\n"
	    BACKEND,
	    "t.conf:3: [domain a.example] appears twice (first at line 1)");
	EXPECT("workers = 1\n" BACKEND,
	    "t.conf:1: key 'workers' is outside any section");
	EXPECT("[server]\nworkers 4\n" BACKEND,
	    "t.conf:2: expected 'key = value' or '[section]'");
	EXPECT("[server]\nworkers: 4\n" BACKEND,
	    "t.conf:2: expected 'key = value' (':' is not a separator)");
	EXPECT("[server]\n= 4\n" BACKEND,
	    "t.conf:2: expected 'key = value' (missing key name)");
	EXPECT("[server\nworkers = 4\n" BACKEND,
	    "t.conf:1: missing ']' in section header");
	EXPECT("[server] x\n" BACKEND,
	    "t.conf:1: unexpected text after ']'");
	EXPECT("[listener]\n" BACKEND,
	    "t.conf:1: section [listener] needs a name, e.g. [listener smtp]");
	EXPECT("[server main]\n" BACKEND,
	    "t.conf:1: section [server] takes no name");
	EXPECT("[domain 192.0.2.1]\nsrs = no\n" BACKEND,
	    "t.conf:1: [domain]: '192.0.2.1' is not a domain name (the last "
	    "label is all digits)");
	EXPECT("[listener a/b]\n" BACKEND,
	    "t.conf:1: [listener]: 'a/b' is not a valid name (1 to 32 "
	    "letters, digits, '_', '-' or '.')");
	EXPECT("[server]\nworkers = 1\n  2\n  3\n" BACKEND,
	    "t.conf:3: [server] workers: takes one value; only lists "
	    "continue on indented lines");
	EXPECT("[server]\nbogus = 1\n  2\n" BACKEND,
	    "t.conf:2: [server] unknown key 'bogus'");
	EXPECT("[server]\n\xEF\xBB\xBFworkers = 1\n" BACKEND,
	    "t.conf:2: [server] unknown key '\\xef\\xbb\\xbfworkers'");
	expect_errors_at(__FILE__, __LINE__,
	    "[server]\nwor\0kers = 1\n" BACKEND,
	    sizeof("[server]\nwor\0kers = 1\n" BACKEND) - 1,
	    (const char *const []){ "t.conf:2: NUL byte in line", NULL });
}

/* Required values and rules across keys. */
static void
test_rule_errors(void)
{
	EXPECT("", "t.conf: [backend] servers: missing required value");
	EXPECT("[backend]\nservers =\n",
	    "t.conf:2: [backend] servers: missing required value");
	EXPECT("[backend]\nservers = nowhere\n",
	    "t.conf:2: [backend] servers: 'nowhere' is not an address:port "
	    "(missing :PORT)");
	EXPECT("[listener a]\ntls = none\n" BACKEND,
	    "t.conf:1: [listener a] address: missing required value");
	EXPECT("[listener a]\naddress = 127.0.0.1:2525\ntls = starttls\n"
	    BACKEND,
	    "t.conf:3: [listener a] tls: starttls needs a [certificate NAME] "
	    "section");
	EXPECT("[listener a]\naddress = 127.0.0.1:2525\nrequire_tls = yes\n"
	    BACKEND,
	    "t.conf:3: [listener a] require_tls: needs tls = starttls or "
	    "implicit");
	EXPECT("[listener a]\naddress = 127.0.0.1:2525\nproxy_protocol = yes\n"
	    BACKEND,
	    "t.conf:3: [listener a] proxy_protocol: needs trusted_proxies "
	    "(the load balancers' networks)");
	EXPECT("[listener a]\naddress = 127.0.0.1:25\n[listener b]\n"
	    "address = [::1]:25, 127.0.0.1:25\n" BACKEND,
	    "t.conf:4: [listener b] address: 127.0.0.1:25 is also in "
	    "[listener a]");
	EXPECT("[certificate rsa]\ncert_file = /a.pem\n" BACKEND,
	    "t.conf:1: [certificate rsa] key_file: missing required value");
	EXPECT("[srs]\nenabled = yes\n" BACKEND,
	    "t.conf:1: [srs] domain: needed when SRS rewriting is enabled",
	    "t.conf:1: [srs] secrets_file: needed when SRS rewriting is "
	    "enabled");
	EXPECT("[domain example.org]\nsrs = yes\n" BACKEND,
	    "t.conf: [srs] domain: needed when SRS rewriting is enabled",
	    "t.conf: [srs] secrets_file: needed when SRS rewriting is "
	    "enabled");
	EXPECT("[tls]\nmin_protocol = TLSv1.3\nmax_protocol = TLSv1.2\n"
	    BACKEND,
	    "t.conf:2: [tls] min_protocol: is newer than max_protocol");
	EXPECT(BACKEND "tls = none\ntls_verify = yes\n",
	    "t.conf:4: [backend] tls_verify: needs tls = opportunistic or "
	    "required");
	EXPECT(BACKEND "tls_cert_file = /c.pem\n",
	    "t.conf:3: [backend] tls_cert_file: needs tls_key_file too");
	EXPECT("[server]\nmax_connections = 10\n" BACKEND,
	    "t.conf:2: [server] max_connections: max_connections_per_ip "
	    "(50) is larger than max_connections (10)");
	EXPECT("[server]\nmax_connections_per_ip = 20000\n" BACKEND,
	    "t.conf:2: [server] max_connections_per_ip: "
	    "max_connections_per_ip (20000) is larger than max_connections "
	    "(10000)");
	EXPECT("[dns]\ntrust_anchor =\n" BACKEND,
	    "t.conf:2: [dns] trust_anchor: needed when dnssec = yes");
}

/* Twenty errors are kept; parsing stops there. */
static void
test_error_cap(void)
{
	char text[4096] = "[server]\n";
	size_t o = strlen(text);
	char out[8192];
	FILE *fp;
	int i;

	for (i = 0; i < 30; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    "bogus%d = 1\n", i);
	CHECK(parse(text) == NULL);
	CHECK_INT(errs.count, CONF_ERRORS_MAX);
	CHECK_STR(errs.line[0], "t.conf:2: [server] unknown key 'bogus0'");
	CHECK_STR(errs.line[19], "t.conf:21: [server] unknown key 'bogus19'");
	fp = fmemopen(out, sizeof(out), "w");
	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	conf_errors_print(&errs, fp);
	fclose(fp);
	CHECK(strstr(out, "t.conf:21: [server] unknown key 'bogus19'\n"
	    "too many errors: only the first 20 are shown\n") != NULL);
}

/* Comments, CRLF, BOM, whitespace, empty values. */
static void
test_syntax(void)
{
	static const char crlf[] =
	    "\xEF\xBB\xBF# comment with a BOM before it\r\n"
	    "; another comment\r\n"
	    "[server]   ; trailing comment\r\n"
	    "  workers\t=\t4   ; four workers\r\n"
	    "user=spfgate\r\n"
	    "pid_file =\r\n"
	    "\r\n"
	    "   \t \r\n"
	    "[spf]\r\n"
	    "explanation = SPF;fail # see %{d} ; a comment\r\n"
	    "skip_networks =\r\n"
	    "skip_domains =   ; nothing\r\n"
	    "[backend]\r\n"
	    "servers = 127.0.0.1:10025\r\n"
	    "[srs]\r\n"
	    "bounce_route =\r\n"
	    "[domain x.example]\r\n"
	    "srs_domain =\r\n"
	    "# no newline at the end\r\n"
	    "hash_length = 5";
	struct conf *c = PARSE_OK(crlf);

	if (c == NULL)
		return;
	CHECK_INT(c->server.workers, 4);
	CHECK_STR(c->server.user, "spfgate");
	CHECK_STR(c->server.pid_file, "");
	CHECK_STR(c->spf.explanation, "SPF;fail # see %{d}");
	CHECK_INT(c->spf.skip_networks.n, 0);
	CHECK_INT(c->spf.skip_domains.n, 0);
	CHECK_INT(c->backend.servers.n, 1);
	CHECK_INT(c->srs.bounce_route.len, 0);
	CHECK_INT(c->ndomains, 1);
	CHECK(c->domains[0].srs_domain == NULL);
	CHECK_INT(c->domains[0].hash_length, 5);
	conf_free(c);

	/* a comment longer than the line limit is just a comment */
	{
		char text[1024];
		int n = snprintf(text, sizeof(text), "# %0300d\n%s", 0,
		    BACKEND);

		CHECK(n > 300);
		c = PARSE_OK(text);
		conf_free(c);
	}
}

/* A 300-character line: rejected with its number, never truncated. */
static void
test_long_line(void)
{
	char text[4096], want[256], *o;
	struct conf *c;
	size_t len;
	int i;

	/* 20 addresses on one line */
	o = text + sprintf(text, "[backend]\nservers = ");
	for (i = 0; i < 20; i++)
		o += sprintf(o, "%s127.0.0.%d:%d", i ? ", " : "", i + 1,
		    10000 + i);
	len = strlen(text) - strlen("[backend]\n");
	CHECK(len >= 300);
	sprintf(o, "\n    127.0.0.99:25\nhelo = mx.example\n");
	snprintf(want, sizeof(want), "t.conf:2: line too long (%zu "
	    "characters, at most 199): split long lists over indented "
	    "continuation lines", len);
	EXPECT(text, want, "t.conf:1: [backend] servers: missing required "
	    "value");

	/* the same list over continuation lines */
	o = text + sprintf(text, "[backend]\nservers = ");
	for (i = 0; i < 20; i++)
		o += sprintf(o, "%s127.0.0.%d:%d", i % 5 == 0 ? (i ? ",\n    " :
		    "") : ", ", i + 1, 10000 + i);
	sprintf(o, "\nhelo = mx.example\n");
	c = PARSE_OK(text);
	if (c != NULL) {
		CHECK_INT(c->backend.servers.n, 20);
		CHECK_STR(addr_text(&c->backend.servers.v[0]),
		    "127.0.0.1:10000");
		CHECK_STR(addr_text(&c->backend.servers.v[19]),
		    "127.0.0.20:10019");
		CHECK_STR(c->backend.helo, "mx.example");
	}
	conf_free(c);

	/* exactly 199 characters is fine, 200 is not */
	o = text + sprintf(text, BACKEND "[spf]\nexplanation = ");
	len = strlen("explanation = ");
	memset(o, 'x', 199 - len);
	strcpy(o + 199 - len, "\n");
	c = PARSE_OK(text);
	if (c != NULL)
		CHECK_INT(strlen(c->spf.explanation), 199 - len);
	conf_free(c);
	memset(o, 'x', 200 - len);
	strcpy(o + 200 - len, "\n");
	EXPECT(text, "t.conf:4: line too long (200 characters, at most 199): "
	    "split long lists over indented continuation lines");

	/* an over-long section header: its keys are not misattributed */
	o = text + sprintf(text, BACKEND "[domain ");
	for (i = 0; i < 4; i++)
		o += sprintf(o, "%0*d.", 60, i);
	sprintf(o, "example]\nsrs = no\n[server]\nworkers = 2\n");
	c = parse(text);
	CHECK(c == NULL);
	CHECK_INT(errs.count, 1);
	CHECK(strncmp(errs.line[0], "t.conf:3: line too long (", 25) == 0);
	conf_free(c);
}

/* Section names longer than inih's 49-character limit are kept whole. */
static void
test_long_section_name(void)
{
	char name[200], text[512];
	struct conf *c;

	snprintf(name, sizeof(name), "%s.%s.example", "a-rather-long-label-"
	    "for-a-department-of-something", "and-another-long-label-"
	    "for-the-organisation-itself");
	CHECK(strlen(name) > 100);
	snprintf(text, sizeof(text), BACKEND "[domain %s]\nsrs = no\n", name);
	c = PARSE_OK(text);
	if (c != NULL) {
		CHECK_INT(c->ndomains, 1);
		CHECK_STR(c->domains[0].name, name);
	}
	conf_free(c);
}

/* Lists and text continue on indented lines; comments may sit between. */
static void
test_continuation(void)
{
	static const char text[] =
	    "[backend]\n"
	    "servers = 127.0.0.1:10025,\n"
	    "    127.0.0.2:10025   ; the second\n"
	    "    # a comment line inside the list\n"
	    "\n"
	    "    [::1]:10025, [::2]:10025\n"
	    "helo = mx.example.com\n"
	    "[spf]\n"
	    "explanation = first part\n"
	    "  second   part ; comment\n"
	    "\tthird\n"
	    "skip_networks =\n"
	    "  10.0.0.0/8\n"
	    "  192.168.0.0/16\n"
	    "headers = received-spf\n"
	    "   authentication-results\n"
	    "[tls]\n"
	    "ciphers = ECDHE+AESGCM:!aNULL\n"
	    "   CHACHA20, @SECLEVEL=2\n"
	    "[listener in]\n"
	    "  address = 127.0.0.1:2525\n";
	struct conf *c = PARSE_OK(text);

	if (c == NULL)
		return;
	CHECK_INT(c->backend.servers.n, 4);
	if (c->backend.servers.n == 4) {
		CHECK_STR(addr_text(&c->backend.servers.v[1]),
		    "127.0.0.2:10025");
		CHECK_STR(addr_text(&c->backend.servers.v[3]), "[::2]:10025");
	}
	CHECK_STR(c->backend.helo, "mx.example.com");
	CHECK_STR(c->spf.explanation, "first part second   part third");
	CHECK_INT(c->spf.skip_networks.n, 2);
	CHECK_INT(c->spf.headers,
	    CONF_HDR_RECEIVED_SPF | CONF_HDR_AUTH_RESULTS);
	CHECK_STR(c->tls.ciphers, "ECDHE+AESGCM:!aNULL:CHACHA20:@SECLEVEL=2");
	CHECK_INT(c->nlisteners, 1);
	CHECK_STR(c->listeners[0].name, "in");
	CHECK_INT(c->listeners[0].address.n, 1);
	conf_free(c);
}

/* Writes the dump of conf into buf; returns its length. */
static size_t
dump_to(const struct conf *conf, char *buf, size_t buflen)
{
	FILE *fp = fmemopen(buf, buflen, "w");
	long n;

	if (fp == NULL)
		return 0;
	conf_dump(conf, fp);
	n = ftell(fp);
	fclose(fp);
	return n < 0 || (size_t)n >= buflen ? 0 : (size_t)n;
}

/* 1 if no line of text is longer than the limit. */
static int
lines_fit(const char *text)
{
	const char *p = text, *nl;

	while ((nl = strchr(p, '\n')) != NULL) {
		if ((size_t)(nl - p) > CONF_LINE_MAX)
			return 0;
		p = nl + 1;
	}
	return strlen(p) <= CONF_LINE_MAX;
}

/* parse(dump(c)) == c, with lines within the limit. */
static void
roundtrip_at(const char *file, int line, const char *text)
{
	static char dump[256 * 1024];
	struct conf *a = parse_ok_at(file, line, text), *b;
	size_t n;

	if (a == NULL)
		return;
	n = dump_to(a, dump, sizeof(dump));
	check_one(n > 0, file, line, "dump written");
	check_one(lines_fit(dump), file, line, "dump lines fit");
	b = conf_parse_string("dump", dump, n, &errs);
	if (!check_one(b != NULL && conf_equal(a, b), file, line,
	    "parse(dump(c)) == c")) {
		show_errors();
		fprintf(stderr, "%s", dump);
	}
	conf_free(a);
	conf_free(b);
}

/* Long values and awkward text survive the round trip. */
static void
test_roundtrip(void)
{
	char text[16384], *o;
	struct conf *a, *b;
	int i;

	roundtrip_at(__FILE__, __LINE__, full_text);
	roundtrip_at(__FILE__, __LINE__, BACKEND);
	roundtrip_at(__FILE__, __LINE__, BACKEND "[spf]\nskip_networks =\n"
	    "headers =\nexplanation =\n[certificate a]\ncert_file = /a\n"
	    "key_file = /b\n");

	o = text + sprintf(text, BACKEND "[spf]\nskip_networks = ::/0\n");
	for (i = 0; i < 60; i++)
		o += sprintf(o, "  10.%d.0.0/16, 2001:db8:%x::/48\n", i, i);
	o += sprintf(o, "skip_domains = a.example\n %.63s.%.63s.%.63s."
	    "domain\n  short.example\n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbb"
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	    "cccccccccccccccccc");
	o += sprintf(o, "explanation = %%{i} is #1 not;allowed\n"
	    "  #not a comment? yes it is, a comment line\n"
	    "  for %%{d}  with two  spaces; see\n");
	for (i = 0; i < 12; i++)
		o += sprintf(o, "  http://www.example.com/why/%d?s=%%{s}\n", i);
	o += sprintf(o, "[tls]\nciphers =\n");
	for (i = 0; i < 20; i++)
		o += sprintf(o, "  ECDHE-ECDSA-AES%d-GCM-SHA%d:!aNULL%d\n", i,
		    i * 2, i);
	sprintf(o, "[dns]\nforward = 192.0.2.1@5353, 2001:db8::53, "
	    "2001:db8::54@54\n");
	roundtrip_at(__FILE__, __LINE__, text);

	/* conf_equal notices a difference */
	a = PARSE_OK(full_text);
	b = PARSE_OK(full_text);
	if (a != NULL && b != NULL) {
		CHECK(conf_equal(a, b));
		b->spf.lookup_limit++;
		CHECK(!conf_equal(a, b));
		b->spf.lookup_limit--;
		b->domains[1].srs_domain[0] = 'B';
		CHECK(!conf_equal(a, b));
		b->domains[1].srs_domain[0] = 'b';
		b->listeners[1].address.v[0].ss.ss_family = AF_INET6;
		CHECK(!conf_equal(a, b));
	}
	conf_free(a);
	conf_free(b);
}

/* Makes a 4- or 16-octet address from text. */
static const unsigned char *
ip(const char *text, int *family)
{
	static unsigned char buf[16];

	*family = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(*family, text, buf) != 1)
		abort();
	return buf;
}

/* 1 if text is in the network list. */
static int
in_nets(const struct conf_net_list *l, const char *text)
{
	int family;
	const unsigned char *a = ip(text, &family);

	return conf_net_match(l, family, a);
}

/* Networks, domain lists, [domain] lookup and the SRS policy merge. */
static void
test_lookups(void)
{
	struct conf *c = PARSE_OK(full_text), *all;
	struct conf_srs_policy pol;
	const int64_t day = 86400000;

	if (c == NULL)
		return;
	CHECK(in_nets(&c->spf.skip_networks, "192.0.2.77"));
	CHECK(!in_nets(&c->spf.skip_networks, "192.0.3.1"));
	CHECK(in_nets(&c->spf.skip_networks, "2001:db8:ffff::1"));
	CHECK(!in_nets(&c->spf.skip_networks, "2001:db9::1"));
	CHECK(in_nets(&c->spf.skip_networks, "::ffff:192.0.2.5"));
	CHECK(!in_nets(&c->spf.skip_networks, "::ffff:8.8.8.8"));
	CHECK(in_nets(&c->spf.skip_networks, "198.51.100.7"));
	CHECK(!in_nets(&c->spf.skip_networks, "198.51.100.8"));
	CHECK(in_nets(&c->listeners[0].trusted_proxies, "10.255.0.1"));
	CHECK(!in_nets(&c->listeners[0].trusted_proxies, "11.0.0.1"));

	CHECK(conf_domain_match(&c->spf.skip_domains, "mail.Example.NET."));
	CHECK(conf_domain_match(&c->spf.skip_domains, "example.net"));
	CHECK(!conf_domain_match(&c->spf.skip_domains, "badexample.net"));
	CHECK(!conf_domain_match(&c->spf.skip_domains, "net"));
	CHECK(!conf_domain_match(&c->spf.skip_domains, ""));

	CHECK(conf_domain_lookup(c, "LISTS.example.org.") == &c->domains[1]);
	CHECK(conf_domain_lookup(c, "a.lists.example.org") == &c->domains[1]);
	CHECK(conf_domain_lookup(c, "www.example.org") == &c->domains[0]);
	CHECK(conf_domain_lookup(c, "example.org") == &c->domains[0]);
	CHECK(conf_domain_lookup(c, "xexample.org") == NULL);
	CHECK(conf_domain_lookup(c, "example.com") == NULL);
	CHECK(conf_domain_lookup(c, "org") == NULL);

	conf_srs_policy(c, "a.lists.example.org", &pol);
	CHECK_INT(pol.rewrite, 0);
	CHECK_STR(pol.srs_domain, "bounces.example.org");
	CHECK_INT(pol.forward_bounces, 1);
	CHECK_INT(pol.hash_length, 8);
	CHECK_INT(pol.max_age, 7 * day);
	conf_srs_policy(c, "www.example.org", &pol);
	CHECK_INT(pol.rewrite, 1);
	CHECK_STR(pol.srs_domain, "srs.example.com");
	CHECK_INT(pol.forward_bounces, 0);
	CHECK_INT(pol.hash_length, 6);
	CHECK_INT(pol.max_age, 30 * day);
	conf_srs_policy(c, "example.com", &pol);
	CHECK_INT(pol.rewrite, 0);	/* excluded */
	conf_srs_policy(c, "example.net", &pol);
	CHECK_INT(pol.rewrite, 0);	/* not in rewrite_domains */

	all = PARSE_OK(BACKEND "[srs]\nenabled = yes\ndomain = srs.example\n"
	    "secrets_file = /s\nexclude_domains = mine.example\n"
	    "[spf]\nskip_networks = 0.0.0.0/0\n");
	if (all != NULL) {
		conf_srs_policy(all, "foo.example", &pol);
		CHECK_INT(pol.rewrite, 1);
		CHECK_STR(pol.srs_domain, "srs.example");
		CHECK_INT(pol.hash_length, 4);
		conf_srs_policy(all, "a.mine.example", &pol);
		CHECK_INT(pol.rewrite, 0);
		CHECK(in_nets(&all->spf.skip_networks, "203.0.113.9"));
		CHECK(in_nets(&all->spf.skip_networks, "::ffff:203.0.113.9"));
		CHECK(!in_nets(&all->spf.skip_networks, "2001:db8::1"));
	}
	conf_free(all);
	conf_free(c);
}

/* conf_load(): a real file, and a missing one. */
static void
test_load(void)
{
	char path[] = "/tmp/spfgate-conf-test-XXXXXX";
	int fd = mkstemp(path);
	struct conf *c;
	char want[128];
	const char *p;
	int lines = 1;

	for (p = full_text; *p != '\0'; p++)
		lines += *p == '\n';
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, full_text, strlen(full_text)) ==
	    (ssize_t)strlen(full_text));
	CHECK(write(fd, "[server]\n", 9) == 9);
	close(fd);
	c = conf_load(path, &errs);
	CHECK(c == NULL);
	CHECK_INT(errs.count, 1);
	snprintf(want, sizeof(want), "%s:%d: section [server] appears twice "
	    "(first at line 2)", path, lines);
	CHECK_STR(errs.line[0], want);
	conf_free(c);
	if (truncate(path, (off_t)strlen(full_text)) == 0) {
		c = conf_load(path, &errs);
		CHECK(c != NULL);
		conf_free(c);
	} else
		CHECK(0);
	unlink(path);

	CHECK(conf_load("/nonexistent/spfgate.conf", &errs) == NULL);
	CHECK_INT(errs.count, 1);
	CHECK_STR(errs.line[0], "/nonexistent/spfgate.conf: cannot open: No "
	    "such file or directory");
	CHECK(conf_load("/", &errs) == NULL);
	CHECK_INT(errs.count, 1);
	CHECK_STR(errs.line[0], "/: cannot read: Is a directory");
}

int
main(void)
{
	test_full();
	test_defaults();
	test_every_key_covered();
	test_value_errors();
	test_structure_errors();
	test_rule_errors();
	test_error_cap();
	test_syntax();
	test_long_line();
	test_long_section_name();
	test_continuation();
	test_roundtrip();
	test_lookups();
	test_load();
	return check_report();
}
