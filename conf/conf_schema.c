/*
 * conf_schema.c - the table of every section and key, and the field
 *	operations it drives (set from text, list items, compare, free).
 *
 * CONTRACT
 *	One row per key: name, type, field offset, range, allowed words,
 *	default (as text, parsed by the same setter as the file), flags and
 *	a one-line meaning.  conf_object applies the defaults, conf_parse
 *	sets keys, conf_dump prints them, conf_object compares and frees
 *	them: adding a key is adding a row (plus the sample file and the
 *	man page, which a test keeps in step with this table).
 *
 *	Setters replace the value for a key line and extend it for a
 *	continuation line (lists, ':'-joined strings, text).  A bad item of
 *	a list is reported and skipped; the others are kept, so all errors
 *	of a line are seen at once.
 *
 * OWNERSHIP
 *	String and list fields are heap-owned by the section struct.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "conf/conf_impl.h"

#define MS(s) ((int64_t)(s) * 1000)
#define DAY MS(86400)
#define KIB ((int64_t)1024)

static const struct conf_word w_log[] = {
	{ "stderr", CONF_LOG_STDERR }, { "syslog", CONF_LOG_SYSLOG },
	{ NULL, 0 }
};
static const struct conf_word w_level[] = {
	{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
	{ "warning", LOG_WARNING }, { "err", LOG_ERR }, { NULL, 0 }
};
static const struct conf_word w_facility[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 }, { NULL, 0 }
};
static const struct conf_word w_action[] = {
	{ "accept", CONF_ACTION_ACCEPT }, { "defer", CONF_ACTION_DEFER },
	{ "reject", CONF_ACTION_REJECT }, { NULL, 0 }
};
static const struct conf_word w_ltls[] = {
	{ "none", CONF_LTLS_NONE }, { "starttls", CONF_LTLS_STARTTLS },
	{ "implicit", CONF_LTLS_IMPLICIT }, { NULL, 0 }
};
static const struct conf_word w_btls[] = {
	{ "none", CONF_BTLS_NONE },
	{ "opportunistic", CONF_BTLS_OPPORTUNISTIC },
	{ "required", CONF_BTLS_REQUIRED }, { NULL, 0 }
};
static const struct conf_word w_auto[] = {
	{ "auto", CONF_AUTO_AUTO }, { "no", CONF_AUTO_NO }, { NULL, 0 }
};
static const struct conf_word w_tlsver[] = {
	{ "TLSv1", CONF_TLS_1_0 }, { "TLSv1.1", CONF_TLS_1_1 },
	{ "TLSv1.2", CONF_TLS_1_2 }, { "TLSv1.3", CONF_TLS_1_3 }, { NULL, 0 }
};
static const struct conf_word w_bounce[] = {
	{ "null", CONF_BOUNCE_NULL }, { "any", CONF_BOUNCE_ANY }, { NULL, 0 }
};
static const struct conf_word w_separator[] = {
	{ "=", '=' }, { "+", '+' }, { "-", '-' }, { NULL, 0 }
};
static const struct conf_word w_headers[] = {
	{ "received-spf", CONF_HDR_RECEIVED_SPF },
	{ "authentication-results", CONF_HDR_AUTH_RESULTS }, { NULL, 0 }
};

#define F(type, field) offsetof(type, field)

#define SV(f) F(struct conf_server, f)
static const struct conf_key k_server[] = {
	{ "hostname", CONF_T_DOMAIN, SV(hostname), 0, 0, NULL, "",
	    CONF_F_DERIVED, "this host's name; empty = the system host name" },
	{ "workers", CONF_T_INT, SV(workers), 0, 256, NULL, "0", 0,
	    "worker processes; 0 = one per CPU core" },
	{ "user", CONF_T_USER, SV(user), 0, 0, NULL, "", 0,
	    "drop privileges to this user after binding; empty = do not" },
	{ "log", CONF_T_ENUM, SV(log), 0, 0, w_log, "stderr", 0,
	    "where logs go: stderr or syslog" },
	{ "log_level", CONF_T_ENUM, SV(log_level), 0, 0, w_level, "info", 0,
	    "least important level logged" },
	{ "syslog_facility", CONF_T_ENUM, SV(syslog_facility), 0, 0,
	    w_facility, "mail", 0, "syslog facility when log = syslog" },
	{ "max_connections", CONF_T_INT, SV(max_connections), 1, 1000000, NULL,
	    "10000", 0, "concurrent client connections of the whole instance" },
	{ "max_connections_per_ip", CONF_T_INT, SV(max_connections_per_ip), 0,
	    1000000, NULL, "50", 0,
	    "concurrent connections from one client address; 0 = no limit" },
	{ "max_line_length", CONF_T_INT, SV(max_line_length), 512, 65536, NULL,
	    "512", 0, "longest SMTP command line, CRLF included" },
	{ "max_message_size", CONF_T_SIZE, SV(max_message_size), KIB,
	    4 * KIB * KIB * KIB, NULL, "50M", 0,
	    "largest message accepted, in bytes (advertised as SIZE)" },
	{ "max_recipients", CONF_T_INT, SV(max_recipients), 1, 100000, NULL,
	    "100", 0, "recipients per message" },
	{ "max_errors", CONF_T_INT, SV(max_errors), 1, 1000, NULL, "10", 0,
	    "protocol errors before the connection is closed" },
	{ "timeout_command", CONF_T_DURATION, SV(timeout_command), MS(1),
	    MS(3600), NULL, "300s", 0,
	    "time allowed for each command line, in total" },
	{ "timeout_data", CONF_T_DURATION, SV(timeout_data), MS(1), DAY, NULL,
	    "600s", 0, "time allowed for the whole DATA content" },
	{ "greet_delay", CONF_T_DURATION, SV(greet_delay), 0, MS(60), NULL,
	    "0", 0, "pause before the greeting; clients talking first are "
	    "rejected; 0 = off" },
	{ "pid_file", CONF_T_PATH, SV(pid_file), 0, 0, NULL, "", 0,
	    "file receiving the process id; empty = none" },
	{ "metrics_listen", CONF_T_ADDR, SV(metrics_listen), 0, 0, NULL, "", 0,
	    "address:port of the HTTP metrics endpoint; empty = off" },
};

#define LV(f) F(struct conf_listener, f)
static const struct conf_key k_listener[] = {
	{ "address", CONF_T_ADDRS, LV(address), 0, 0, NULL, NULL,
	    CONF_F_REQUIRED, "addresses to listen on (IP:PORT, [IPv6]:PORT)" },
	{ "tls", CONF_T_ENUM, LV(tls), 0, 0, w_ltls, NULL, CONF_F_DERIVED,
	    "none, starttls or implicit; default starttls if a certificate "
	    "exists, else none" },
	{ "require_tls", CONF_T_BOOL, LV(require_tls), 0, 0, NULL, "no", 0,
	    "refuse mail before STARTTLS" },
	{ "proxy_protocol", CONF_T_BOOL, LV(proxy_protocol), 0, 0, NULL, "no",
	    0, "expect a HAProxy PROXY header (v1 or v2) on each connection" },
	{ "trusted_proxies", CONF_T_NETS, LV(trusted_proxies), 0, 0, NULL, "",
	    0, "networks allowed to send PROXY headers" },
};

#define PV(f) F(struct conf_spf, f)
static const struct conf_key k_spf[] = {
	{ "enabled", CONF_T_BOOL, PV(enabled), 0, 0, NULL, "yes", 0,
	    "check SPF at all" },
	{ "helo_check", CONF_T_BOOL, PV(helo_check), 0, 0, NULL, "no", 0,
	    "also check the HELO identity" },
	{ "fail", CONF_T_ENUM, PV(on_fail), 0, 0, w_action, "reject", 0,
	    "action for fail: reject, defer or accept" },
	{ "softfail", CONF_T_ENUM, PV(on_softfail), 0, 0, w_action, "accept",
	    0, "action for softfail" },
	{ "neutral", CONF_T_ENUM, PV(on_neutral), 0, 0, w_action, "accept", 0,
	    "action for neutral" },
	{ "none", CONF_T_ENUM, PV(on_none), 0, 0, w_action, "accept", 0,
	    "action for none" },
	{ "permerror", CONF_T_ENUM, PV(on_permerror), 0, 0, w_action, "reject",
	    0, "action for permerror" },
	{ "temperror", CONF_T_ENUM, PV(on_temperror), 0, 0, w_action, "defer",
	    0, "action for temperror" },
	{ "helo_fail", CONF_T_ENUM, PV(on_helo_fail), 0, 0, w_action, "reject",
	    0, "action when the HELO check gives fail" },
	{ "skip_networks", CONF_T_NETS, PV(skip_networks), 0, 0, NULL,
	    "127.0.0.0/8, ::1/128", 0, "clients never checked" },
	{ "skip_domains", CONF_T_DOMAINS, PV(skip_domains), 0, 0, NULL, "", 0,
	    "sender domains (and subdomains) never checked" },
	{ "headers", CONF_T_FLAGS, PV(headers), 0, 0, w_headers,
	    "received-spf, authentication-results", 0,
	    "result headers added to accepted mail" },
	{ "authserv_id", CONF_T_TOKEN, PV(authserv_id), 0, 0, NULL, "",
	    CONF_F_DERIVED, "Authentication-Results authserv-id; empty = "
	    "hostname" },
	{ "explanation", CONF_T_TEXT, PV(explanation), 0, 0, NULL,
	    "SPF fail - not authorized", 0,
	    "macro-string used for fail when the domain gives none" },
	{ "timeout", CONF_T_DURATION, PV(timeout), MS(1), MS(300), NULL, "20s",
	    0, "time allowed for one whole evaluation" },
	{ "void_lookup_limit", CONF_T_INT, PV(void_lookup_limit), 0, 100, NULL,
	    "2", 0, "void lookups before permerror (RFC 7208 4.6.4)" },
	{ "lookup_limit", CONF_T_INT, PV(lookup_limit), 1, 100, NULL, "10", 0,
	    "DNS-querying terms before permerror (RFC 7208 4.6.4)" },
};

#define DV(f) F(struct conf_dns, f)
static const struct conf_key k_dns[] = {
	{ "dnssec", CONF_T_BOOL, DV(dnssec), 0, 0, NULL, "yes", 0,
	    "validate DNSSEC; bogus answers give temperror" },
	{ "trust_anchor", CONF_T_PATH, DV(trust_anchor), 0, 0, NULL,
	    "/usr/share/dns/root.key", 0, "root trust anchor file" },
	{ "forward", CONF_T_FORWARDS, DV(forward), 0, 0, NULL, "", 0,
	    "resolvers to forward to (IP or IP@PORT); empty = full recursion" },
	{ "query_timeout", CONF_T_DURATION, DV(query_timeout), 100, MS(60),
	    NULL, "5s", 0, "time allowed for one DNS query" },
	{ "outgoing_range", CONF_T_INT, DV(outgoing_range), 16, 65536, NULL,
	    "256", 0, "UDP ports used at once for queries, per worker" },
	{ "cache_size", CONF_T_SIZE, DV(cache_size), 0, KIB * KIB * KIB, NULL,
	    "16M", 0, "DNS cache memory per worker" },
	{ "transparent_zones", CONF_T_DOMAINS, DV(transparent_zones), 0, 0,
	    NULL, "", 0, "built-in local zones of libunbound to turn off" },
};

#define BV(f) F(struct conf_backend, f)
static const struct conf_key k_backend[] = {
	{ "servers", CONF_T_ADDRS, BV(servers), 0, 0, NULL, NULL,
	    CONF_F_REQUIRED, "next-hop SMTP servers, tried in order" },
	{ "helo", CONF_T_HELO, BV(helo), 0, 0, NULL, "", CONF_F_DERIVED,
	    "name sent in EHLO; empty = hostname" },
	{ "xclient", CONF_T_ENUM, BV(xclient), 0, 0, w_auto, "auto", 0,
	    "send XCLIENT when offered (auto) or never (no)" },
	{ "xforward", CONF_T_ENUM, BV(xforward), 0, 0, w_auto, "auto", 0,
	    "send XFORWARD when offered (auto) or never (no)" },
	{ "connect_timeout", CONF_T_DURATION, BV(connect_timeout), MS(1),
	    MS(300), NULL, "30s", 0, "time allowed to connect and get the "
	    "greeting" },
	{ "timeout_command", CONF_T_DURATION, BV(timeout_command), MS(1),
	    MS(3600), NULL, "300s", 0, "time allowed for each reply" },
	{ "timeout_data_end", CONF_T_DURATION, BV(timeout_data_end), MS(1),
	    MS(3600), NULL, "600s", 0, "time allowed for the reply to the "
	    "final dot" },
	{ "connection_cache", CONF_T_BOOL, BV(connection_cache), 0, 0, NULL,
	    "yes", 0, "keep a backend connection open after a session for "
	    "the next one" },
	{ "connection_cache_time", CONF_T_DURATION, BV(connection_cache_time),
	    MS(1), MS(300), NULL, "2s", 0, "idle time after which a kept "
	    "connection is closed" },
	{ "connection_reuse_time", CONF_T_DURATION, BV(connection_reuse_time),
	    MS(1), MS(86400), NULL, "300s", 0, "age after which a connection "
	    "is no longer kept" },
	{ "tls", CONF_T_ENUM, BV(tls), 0, 0, w_btls, "opportunistic", 0,
	    "none, opportunistic or required" },
	{ "tls_verify", CONF_T_BOOL, BV(tls_verify), 0, 0, NULL, "no", 0,
	    "verify the server certificate and name" },
	{ "tls_ca_file", CONF_T_PATH, BV(tls_ca_file), 0, 0, NULL, "", 0,
	    "CA certificates for tls_verify; empty = system store" },
	{ "tls_name", CONF_T_DOMAIN, BV(tls_name), 0, 0, NULL, "", 0,
	    "name expected in the certificate and sent as SNI; empty = the "
	    "server's IP" },
	{ "tls_cert_file", CONF_T_PATH, BV(tls_cert_file), 0, 0, NULL, "", 0,
	    "client certificate (with tls_key_file); empty = none" },
	{ "tls_key_file", CONF_T_PATH, BV(tls_key_file), 0, 0, NULL, "", 0,
	    "client certificate key" },
};

#define TV(f) F(struct conf_tls, f)
static const struct conf_key k_tls[] = {
	{ "min_protocol", CONF_T_ENUM, TV(min_protocol), 0, 0, w_tlsver,
	    "TLSv1.2", 0, "oldest TLS version accepted" },
	{ "max_protocol", CONF_T_ENUM, TV(max_protocol), 0, 0, w_tlsver,
	    "TLSv1.3", 0, "newest TLS version offered" },
	{ "ciphers", CONF_T_JOINED, TV(ciphers), 0, 0, NULL, "", 0,
	    "TLS 1.2 cipher list; empty = ECDHE/DHE with AES-GCM or ChaCha20 only" },
	{ "ciphersuites", CONF_T_JOINED, TV(ciphersuites), 0, 0, NULL, "", 0,
	    "TLS 1.3 cipher suites; empty = OpenSSL default" },
	{ "groups", CONF_T_JOINED, TV(groups), 0, 0, NULL, "", 0,
	    "key exchange groups; empty = OpenSSL default" },
	{ "prefer_server_ciphers", CONF_T_BOOL, TV(prefer_server_ciphers), 0,
	    0, NULL, "yes", 0, "choose the cipher by our order" },
	{ "session_tickets", CONF_T_BOOL, TV(session_tickets), 0, 0, NULL,
	    "yes", 0, "allow TLS session tickets" },
	{ "handshake_timeout", CONF_T_DURATION, TV(handshake_timeout), MS(1),
	    MS(300), NULL, "30s", 0, "time allowed for a TLS handshake" },
};

#define CV(f) F(struct conf_certificate, f)
static const struct conf_key k_certificate[] = {
	{ "cert_file", CONF_T_PATH, CV(cert_file), 0, 0, NULL, NULL,
	    CONF_F_REQUIRED, "PEM certificate (may include the chain)" },
	{ "key_file", CONF_T_PATH, CV(key_file), 0, 0, NULL, NULL,
	    CONF_F_REQUIRED, "PEM private key" },
	{ "chain_file", CONF_T_PATH, CV(chain_file), 0, 0, NULL, "", 0,
	    "PEM intermediate certificates; empty = none" },
};

#define RV(f) F(struct conf_srs, f)
static const struct conf_key k_srs[] = {
	{ "enabled", CONF_T_BOOL, RV(enabled), 0, 0, NULL, "no", 0,
	    "rewrite forwarded senders (SRS)" },
	{ "domain", CONF_T_DOMAIN, RV(domain), 0, 0, NULL, "", 0,
	    "domain of the rewritten addresses (receives the bounces)" },
	{ "secrets_file", CONF_T_PATH, RV(secrets_file), 0, 0, NULL, "", 0,
	    "secrets, one per line: the first signs, all verify" },
	{ "hash_length", CONF_T_INT, RV(hash_length), 4, 27, NULL, "4", 0,
	    "base64 characters of the hash" },
	{ "max_age", CONF_T_DURATION, RV(max_age), DAY, 511 * DAY, NULL,
	    "21d", CONF_F_DAYS, "oldest bounce accepted, in whole days" },
	{ "separator", CONF_T_ENUM, RV(separator), 0, 0, w_separator, "=", 0,
	    "separator after SRS0/SRS1: =, + or -" },
	{ "rewrite_domains", CONF_T_DOMAINS, RV(rewrite_domains), 0, 0, NULL,
	    "", 0, "sender domains rewritten; empty = all not excluded" },
	{ "exclude_domains", CONF_T_DOMAINS, RV(exclude_domains), 0, 0, NULL,
	    "", 0, "sender domains never rewritten" },
	{ "forward_bounces", CONF_T_BOOL, RV(forward_bounces), 0, 0, NULL,
	    "yes", 0, "reverse SRS addresses and deliver the bounces" },
	{ "bounce_senders", CONF_T_ENUM, RV(bounce_senders), 0, 0, w_bounce,
	    "null", 0, "who may mail SRS addresses: null (<> only) or any" },
	{ "reverse_rate_limit", CONF_T_RATE, RV(reverse_rate_limit), 0, 0,
	    NULL, "100/1m", 0, "SRS bounces per client IP; 0 = no limit" },
	{ "bounce_route", CONF_T_ADDR, RV(bounce_route), 0, 0, NULL, "", 0,
	    "where reversed bounces go; empty = the backend" },
};

#define OV(f) F(struct conf_domain, f)
static const struct conf_key k_domain[] = {
	{ "srs", CONF_T_BOOL, OV(srs), 0, 0, NULL, NULL, CONF_F_INHERIT,
	    "rewrite senders of this domain" },
	{ "srs_domain", CONF_T_DOMAIN, OV(srs_domain), 0, 0, NULL, NULL,
	    CONF_F_INHERIT, "SRS domain for this domain's senders" },
	{ "forward_bounces", CONF_T_BOOL, OV(forward_bounces), 0, 0, NULL,
	    NULL, CONF_F_INHERIT, "forward bounces to this domain" },
	{ "hash_length", CONF_T_INT, OV(hash_length), 4, 27, NULL, NULL,
	    CONF_F_INHERIT, "SRS hash length" },
	{ "max_age", CONF_T_DURATION, OV(max_age), DAY, 511 * DAY, NULL, NULL,
	    CONF_F_INHERIT | CONF_F_DAYS, "oldest bounce accepted" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const struct conf_section_def sections[CONF_S_COUNT] = {
	[CONF_S_SERVER] = { "server", 0, k_server, N(k_server),
	    "process, limits and timeouts of the SMTP server" },
	[CONF_S_LISTENER] = { "listener", 1, k_listener, N(k_listener),
	    "one set of listening sockets" },
	[CONF_S_SPF] = { "spf", 0, k_spf, N(k_spf), "SPF policy" },
	[CONF_S_DNS] = { "dns", 0, k_dns, N(k_dns), "the resolver" },
	[CONF_S_BACKEND] = { "backend", 0, k_backend, N(k_backend),
	    "where accepted mail goes" },
	[CONF_S_TLS] = { "tls", 0, k_tls, N(k_tls),
	    "TLS of the listeners" },
	[CONF_S_CERTIFICATE] = { "certificate", 1, k_certificate,
	    N(k_certificate), "one server certificate" },
	[CONF_S_SRS] = { "srs", 0, k_srs, N(k_srs),
	    "Sender Rewriting Scheme" },
	[CONF_S_DOMAIN] = { "domain", 1, k_domain, N(k_domain),
	    "overrides for one sending domain" },
};

_Static_assert(N(k_server) <= CONF_SECT_KEYS_MAX, "too many keys");
_Static_assert(N(k_spf) <= CONF_SECT_KEYS_MAX, "too many keys");
_Static_assert(N(k_backend) <= CONF_SECT_KEYS_MAX, "too many keys");
_Static_assert(N(k_srs) <= CONF_SECT_KEYS_MAX, "too many keys");

/* Definition of one section kind. */
const struct conf_section_def *
conf_schema_section(enum conf_sect sect)
{
	return &sections[sect];
}

/* Section kind of a header word, or -1. */
int
conf_schema_find_section(const char *word)
{
	int i;

	for (i = 0; i < CONF_S_COUNT; i++)
		if (strcmp(sections[i].name, word) == 0)
			return i;
	return -1;
}

/* Index of a key in its section, or -1. */
int
conf_schema_find_key(enum conf_sect sect, const char *name)
{
	size_t i;

	for (i = 0; i < sections[sect].nkeys; i++)
		if (strcmp(sections[sect].keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * Field access by type
 */

#define FIELD(base, key, type) ((type *)(void *)((char *)(base) + (key)->off))
#define CFIELD(base, key, type) \
	((const type *)(const void *)((const char *)(base) + (key)->off))

/* Reports a formatted message through the caller's function. */
static void say(conf_schema_msg_fn *msg, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(conf_schema_msg_fn *msg, void *arg, const char *fmt, ...)
{
	char buf[CONF_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	msg(arg, buf);
}

/* Value of word s in words (case-insensitive), or -1 if absent. */
static int
word_index(const struct conf_word *words, const char *s, size_t len)
{
	int i;

	for (i = 0; words[i].name != NULL; i++)
		if (strlen(words[i].name) == len &&
		    strncasecmp(words[i].name, s, len) == 0)
			return i;
	return -1;
}

/* Writes "'x' is not one of: a, b, c" into m. */
static void
words_message(const struct conf_word *words, const char *s, char *m,
    size_t mlen)
{
	/* Sized so the message always fits: no truncation to reason about. */
	char list[160] = "", q[CONF_MSG_MAX / 3];
	size_t o = 0;
	int i, n;

	for (i = 0; words[i].name != NULL; i++) {
		n = snprintf(list + o, sizeof(list) - o, "%s%s",
		    i ? ", " : "", words[i].name);
		if (n < 0 || (size_t)n >= sizeof(list) - o)
			break;
		o += (size_t)n;
	}
	conf_values_quote(s, q, sizeof(q));
	(void)snprintf(m, mlen, "%s is not one of: %s", q, list);
}

/* Replaces the string field with a copy of s; -1 on out of memory. */
static int
set_string(char **field, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

/* Appends " s" (or sep s) to the string field; -1 on out of memory. */
static int
append_string(char **field, const char *sep, const char *s)
{
	size_t a = *field ? strlen(*field) : 0, b = strlen(s), c = strlen(sep);
	char *p;

	if (a == 0)
		return set_string(field, s);
	p = realloc(*field, a + c + b + 1);
	if (p == NULL)
		return -1;
	memcpy(p + a, sep, c);
	memcpy(p + a + c, s, b + 1);
	*field = p;
	return 0;
}

/* Grows an array of elements of size sz to hold n + 1; -1 if no memory. */
static int
grow(void **v, size_t n, size_t sz)
{
	return conf_object_grow(v, n, sz);
}

/* Frees the items of a string list and empties it. */
static void
strlist_clear(struct conf_str_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Empties a list field of any list type. */
static void
list_clear(void *base, const struct conf_key *key)
{
	switch (key->type) {
	case CONF_T_ADDRS:
	case CONF_T_FORWARDS: {
		struct conf_addr_list *l =
		    FIELD(base, key, struct conf_addr_list);

		free(l->v);
		l->v = NULL;
		l->n = 0;
		break;
	}
	case CONF_T_NETS: {
		struct conf_net_list *l =
		    FIELD(base, key, struct conf_net_list);

		free(l->v);
		l->v = NULL;
		l->n = 0;
		break;
	}
	case CONF_T_DOMAINS:
		strlist_clear(FIELD(base, key, struct conf_str_list));
		break;
	case CONF_T_FLAGS:
		*FIELD(base, key, unsigned) = 0;
		break;
	case CONF_T_JOINED:
		free(*FIELD(base, key, char *));
		*FIELD(base, key, char *) = NULL;
		break;
	default:
		break;
	}
}

/* 1 if c may appear in a ':'-joined token (OpenSSL list syntax). */
static int
joined_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || strchr("_+!@=.-", c) != NULL;
}

/* Appends an address (IP:PORT or IP[@PORT]) to an address list. */
static int
add_addr(struct conf_addr_list *l, int forward, const char *item, char *m,
    size_t mlen)
{
	struct conf_addr a;

	if ((forward ? conf_values_forward(item, &a, m, mlen) :
	    conf_values_addr(item, &a, m, mlen)) < 0)
		return -1;
	if (grow((void **)&l->v, l->n, sizeof(a)) < 0)
		return -2;
	l->v[l->n++] = a;
	return 0;
}

/* Appends a network to a network list. */
static int
add_net(struct conf_net_list *l, const char *item, char *m, size_t mlen)
{
	struct conf_net net;

	if (conf_values_net(item, &net, m, mlen) < 0)
		return -1;
	if (grow((void **)&l->v, l->n, sizeof(net)) < 0)
		return -2;
	l->v[l->n++] = net;
	return 0;
}

/* Appends a (lower-cased) domain to a string list. */
static int
add_domain(struct conf_str_list *l, const char *item, char *m, size_t mlen)
{
	char dom[CONF_DOMAIN_MAX + 1], *copy;

	if (conf_values_domain(item, dom, sizeof(dom), m, mlen) < 0)
		return -1;
	if (grow((void **)&l->v, l->n, sizeof(char *)) < 0 ||
	    (copy = strdup(dom)) == NULL)
		return -2;
	l->v[l->n++] = copy;
	return 0;
}

/* Adds the bit of a word to a flag set. */
static int
add_flag(unsigned *flags, const struct conf_word *words, const char *item,
    char *m, size_t mlen)
{
	int w = word_index(words, item, strlen(item));

	if (w < 0) {
		words_message(words, item, m, mlen);
		return -1;
	}
	*flags |= (unsigned)words[w].value;
	return 0;
}

/* Appends a token to a ':'-joined string. */
static int
add_token(char **field, const char *item, char *m, size_t mlen)
{
	char q[CONF_MSG_MAX / 3];
	size_t i;

	for (i = 0; item[i] != '\0'; i++) {
		if (!joined_char(item[i])) {
			conf_values_quote(item, q, sizeof(q));
			(void)snprintf(m, mlen, "%s contains '%c', not allowed "
			    "in an OpenSSL list", q, item[i]);
			return -1;
		}
	}
	return append_string(field, ":", item) < 0 ? -2 : 0;
}

/* Adds one list item of the key's type; returns 1 if it was bad. */
static int
add_item(void *base, const struct conf_key *key, const char *item,
    conf_schema_msg_fn *msg, void *arg)
{
	char m[CONF_MSG_MAX];
	int r;

	switch (key->type) {
	case CONF_T_ADDRS:
	case CONF_T_FORWARDS:
		r = add_addr(FIELD(base, key, struct conf_addr_list),
		    key->type == CONF_T_FORWARDS, item, m, sizeof(m));
		break;
	case CONF_T_NETS:
		r = add_net(FIELD(base, key, struct conf_net_list), item, m,
		    sizeof(m));
		break;
	case CONF_T_DOMAINS:
		r = add_domain(FIELD(base, key, struct conf_str_list), item, m,
		    sizeof(m));
		break;
	case CONF_T_FLAGS:
		r = add_flag(FIELD(base, key, unsigned), key->words, item, m,
		    sizeof(m));
		break;
	case CONF_T_JOINED:
		r = add_token(FIELD(base, key, char *), item, m, sizeof(m));
		break;
	default:
		abort();	/* only list types come here */
	}
	if (r == 0)
		return 0;
	msg(arg, r == -2 ? CONF_MSG_OOM : m);
	return 1;
}

/* Sets or extends a list: each item separately, bad ones reported. */
static int
set_list(void *base, const struct conf_key *key, const char *value,
    int append, conf_schema_msg_fn *msg, void *arg)
{
	const char *cur = value, *item;
	const char *seps = key->type == CONF_T_JOINED ? ",:" : ",";
	char buf[CONF_LINE_MAX + 1];
	size_t len;
	int bad = 0;

	if (!append)
		list_clear(base, key);
	if (key->type == CONF_T_JOINED && *FIELD(base, key, char *) == NULL &&
	    set_string(FIELD(base, key, char *), "") < 0) {
		msg(arg, CONF_MSG_OOM);
		return 1;
	}
	while ((item = conf_values_item(&cur, seps, &len)) != NULL) {
		if (len >= sizeof(buf)) {
			msg(arg, "list item too long");
			bad++;
			continue;
		}
		memcpy(buf, item, len);
		buf[len] = '\0';
		bad += add_item(base, key, buf, msg, arg);
	}
	return bad;
}

/* Checks an integer-like value against the key's range with units. */
static int
check_range(const struct conf_key *key, int64_t v, const char *value,
    conf_schema_msg_fn *msg, void *arg)
{
	char lo[32], hi[32], q[CONF_MSG_MAX];
	int (*f)(int64_t, char *, size_t) = key->type == CONF_T_SIZE ?
	    conf_values_fmt_size : conf_values_fmt_duration;

	conf_values_quote(value, q, sizeof(q));
	if (v < key->min || v > key->max) {
		if (f(key->min, lo, sizeof(lo)) < 0 ||
		    f(key->max, hi, sizeof(hi)) < 0)
			abort();
		say(msg, arg, "%s is out of range (%s..%s)", q, lo, hi);
		return 1;
	}
	if ((key->flags & CONF_F_DAYS) && v % DAY != 0) {
		say(msg, arg, "%s is not a whole number of days (e.g. 21d)", q);
		return 1;
	}
	return 0;
}

/* Sets a number-like scalar (BOOL, INT, SIZE, DURATION, ENUM, RATE). */
static int
set_number(void *base, const struct conf_key *key, const char *value,
    conf_schema_msg_fn *msg, void *arg)
{
	char m[CONF_MSG_MAX];
	int64_t v;
	int b, w;
	struct conf_rate rate;

	switch (key->type) {
	case CONF_T_BOOL:
		if (conf_values_bool(value, &b, m, sizeof(m)) < 0)
			break;
		*FIELD(base, key, int) = b;
		return 0;
	case CONF_T_INT:
		if (conf_values_int(value, key->min, key->max, &v, m,
		    sizeof(m)) < 0)
			break;
		*FIELD(base, key, int) = (int)v;
		return 0;
	case CONF_T_SIZE:
	case CONF_T_DURATION:
		if ((key->type == CONF_T_SIZE ?
		    conf_values_size(value, &v, m, sizeof(m)) :
		    conf_values_duration(value, &v, m, sizeof(m))) < 0)
			break;
		if (check_range(key, v, value, msg, arg))
			return 1;
		*FIELD(base, key, int64_t) = v;
		return 0;
	case CONF_T_ENUM:
		w = word_index(key->words, value, strlen(value));
		if (w < 0) {
			words_message(key->words, value, m, sizeof(m));
			break;
		}
		*FIELD(base, key, int) = key->words[w].value;
		return 0;
	case CONF_T_RATE:
		if (conf_values_rate(value, &rate, m, sizeof(m)) < 0)
			break;
		*FIELD(base, key, struct conf_rate) = rate;
		return 0;
	default:
		abort();
	}
	msg(arg, m);
	return 1;
}

/* Validates a string value of the key's type; normalizes into out. */
static int
check_string(const struct conf_key *key, const char *value, char *out,
    size_t outlen, char *m, size_t mlen)
{
	int r = 0;

	if (strlen(value) >= outlen) {
		(void)snprintf(m, mlen, "value too long");
		return -1;
	}
	memcpy(out, value, strlen(value) + 1);
	if (*value == '\0')
		return 0;
	switch (key->type) {
	case CONF_T_PATH: r = conf_values_path(value, m, mlen); break;
	case CONF_T_USER: r = conf_values_user(value, m, mlen); break;
	case CONF_T_HELO: r = conf_values_helo(value, m, mlen); break;
	case CONF_T_TOKEN: r = conf_values_text(value, 0, m, mlen); break;
	case CONF_T_TEXT: r = conf_values_text(value, 1, m, mlen); break;
	case CONF_T_DOMAIN:
		r = conf_values_domain(value, out, outlen, m, mlen);
		break;
	default: abort();
	}
	return r;
}

/* Sets (or for TEXT extends) a string field. */
static int
set_str(void *base, const struct conf_key *key, const char *value,
    int append, conf_schema_msg_fn *msg, void *arg)
{
	char m[CONF_MSG_MAX], norm[CONF_LINE_MAX + 1];
	char **field = FIELD(base, key, char *);
	int r;

	if (check_string(key, value, norm, sizeof(norm), m, sizeof(m)) < 0) {
		msg(arg, m);
		return 1;
	}
	if (key->type == CONF_T_TOKEN && strpbrk(norm, "()<>@,;:\\\"/[]?=")) {
		conf_values_quote(norm, m, sizeof(m));
		say(msg, arg, "%s: only a token is allowed (no ()<>@,;:\\\"/[]?"
		    "=)", m);
		return 1;
	}
	r = append ? append_string(field, " ", norm) : set_string(field, norm);
	if (r < 0) {
		msg(arg, CONF_MSG_OOM);
		return 1;
	}
	return 0;
}

/* 1 if the key accepts continuation lines. */
int
conf_schema_continues(const struct conf_key *key)
{
	switch (key->type) {
	case CONF_T_ADDRS:
	case CONF_T_FORWARDS:
	case CONF_T_NETS:
	case CONF_T_DOMAINS:
	case CONF_T_FLAGS:
	case CONF_T_JOINED:
	case CONF_T_TEXT:
		return 1;
	default:
		return 0;
	}
}

/* 1 if the key holds a number-like scalar (empty value not allowed). */
static int
is_number(const struct conf_key *key)
{
	switch (key->type) {
	case CONF_T_BOOL:
	case CONF_T_INT:
	case CONF_T_SIZE:
	case CONF_T_DURATION:
	case CONF_T_ENUM:
	case CONF_T_RATE:
		return 1;
	default:
		return 0;
	}
}

/* 1 if the key's type is a list (an empty value means an empty list). */
static int
is_list(const struct conf_key *key)
{
	return conf_schema_continues(key) && key->type != CONF_T_TEXT;
}

/* Sets or extends a field from text; returns errors. */
int
conf_schema_set(void *base, const struct conf_key *key, const char *value,
    int append, conf_schema_msg_fn *msg, void *arg)
{
	char m[CONF_MSG_MAX];

	if (append && !conf_schema_continues(key)) {
		msg(arg, "takes one value; only lists continue on indented "
		    "lines");
		return 1;
	}
	if (*value == '\0' && (key->flags & CONF_F_INHERIT)) {
		conf_schema_field_free(base, key);
		return conf_schema_field_init(base, key) < 0;
	}
	if (is_list(key))
		return set_list(base, key, value, append, msg, arg);
	if (key->type == CONF_T_ADDR) {
		struct conf_addr *a = FIELD(base, key, struct conf_addr);

		if (*value == '\0') {
			memset(a, 0, sizeof(*a));
			return 0;
		}
		if (conf_values_addr(value, a, m, sizeof(m)) == 0)
			return 0;
		msg(arg, m);
		return 1;
	}
	if (is_number(key)) {
		if (*value == '\0') {
			msg(arg, "empty value");
			return 1;
		}
		return set_number(base, key, value, msg, arg);
	}
	return set_str(base, key, value, append, msg, arg);
}

/* 1 if an inheriting field is unset. */
int
conf_schema_is_unset(const void *base, const struct conf_key *key)
{
	if (!(key->flags & CONF_F_INHERIT))
		return 0;
	switch (key->type) {
	case CONF_T_BOOL:
	case CONF_T_INT:
	case CONF_T_ENUM:
		return *CFIELD(base, key, int) == -1;
	case CONF_T_SIZE:
	case CONF_T_DURATION:
		return *CFIELD(base, key, int64_t) == -1;
	case CONF_T_DOMAIN:
		return *CFIELD(base, key, char *) == NULL;
	default:
		abort();	/* no other type may inherit */
	}
}

/* 1 if the field holds nothing. */
int
conf_schema_is_empty(const void *base, const struct conf_key *key)
{
	const char *s;

	switch (key->type) {
	case CONF_T_ADDRS:
	case CONF_T_FORWARDS:
		return CFIELD(base, key, struct conf_addr_list)->n == 0;
	case CONF_T_NETS:
		return CFIELD(base, key, struct conf_net_list)->n == 0;
	case CONF_T_DOMAINS:
		return CFIELD(base, key, struct conf_str_list)->n == 0;
	case CONF_T_ADDR:
		return CFIELD(base, key, struct conf_addr)->len == 0;
	case CONF_T_PATH:
	case CONF_T_USER:
	case CONF_T_DOMAIN:
	case CONF_T_HELO:
	case CONF_T_TOKEN:
	case CONF_T_TEXT:
	case CONF_T_JOINED:
		s = *CFIELD(base, key, char *);
		return s == NULL || *s == '\0';
	default:
		return 0;
	}
}

/* Name of value in words, or NULL. */
static const char *
word_name(const struct conf_word *words, int value)
{
	int i;

	for (i = 0; words[i].name != NULL; i++)
		if (words[i].value == value)
			return words[i].name;
	return NULL;
}

/*
 * Splits TEXT into the pieces between which a line may break: at single
 * spaces, and not before a piece starting with ';' or '#' (which would
 * begin a comment on a continuation line).
 */
static int
text_items(const char *s, conf_schema_item_fn *item, void *arg)
{
	char buf[CONF_LINE_MAX * 64];
	const char *start = s, *p;
	size_t len;

	for (p = s; *p != '\0'; p++) {
		if (!(p > start && p[0] == ' ' && p[-1] != ' ' &&
		    p[1] != ' ' && p[1] != '\0' && p[1] != ';' && p[1] != '#'))
			continue;
		len = (size_t)(p - start);
		if (len >= sizeof(buf))
			return -1;
		memcpy(buf, start, len);
		buf[len] = '\0';
		item(arg, buf);
		start = p + 1;
	}
	if (*start != '\0')
		item(arg, start);
	return 0;
}

/* Calls item() for each ':'-separated token of s. */
static int
joined_items(const char *s, conf_schema_item_fn *item, void *arg)
{
	char buf[CONF_LINE_MAX + 1];
	const char *cur = s, *it;
	size_t len;

	while ((it = conf_values_item(&cur, ":", &len)) != NULL) {
		if (len >= sizeof(buf))
			return -1;
		memcpy(buf, it, len);
		buf[len] = '\0';
		item(arg, buf);
	}
	return 0;
}

/* Calls item() for each element of a list field. */
static int
list_items(const void *base, const struct conf_key *key,
    conf_schema_item_fn *item, void *arg)
{
	char buf[CONF_LINE_MAX + 1];
	size_t i;
	int r = 0;

	if (key->type == CONF_T_DOMAINS) {
		const struct conf_str_list *l =
		    CFIELD(base, key, struct conf_str_list);

		for (i = 0; i < l->n; i++)
			item(arg, l->v[i]);
	} else if (key->type == CONF_T_NETS) {
		const struct conf_net_list *l =
		    CFIELD(base, key, struct conf_net_list);

		for (i = 0; i < l->n && r == 0; i++)
			if ((r = conf_values_fmt_net(&l->v[i], buf,
			    sizeof(buf))) == 0)
				item(arg, buf);
	} else {
		const struct conf_addr_list *l =
		    CFIELD(base, key, struct conf_addr_list);

		for (i = 0; i < l->n && r == 0; i++) {
			r = key->type == CONF_T_ADDRS ?
			    conf_values_fmt_addr(&l->v[i], buf, sizeof(buf)) :
			    conf_values_fmt_forward(&l->v[i], buf, sizeof(buf));
			if (r == 0)
				item(arg, buf);
		}
	}
	return r;
}

/* Calls item() once with the formatted number-like scalar. */
static int
number_item(const void *base, const struct conf_key *key,
    conf_schema_item_fn *item, void *arg)
{
	char buf[64];
	const char *name;
	int r = 0;

	switch (key->type) {
	case CONF_T_BOOL:
		item(arg, *CFIELD(base, key, int) ? "yes" : "no");
		return 0;
	case CONF_T_INT:
		r = snprintf(buf, sizeof(buf), "%d", *CFIELD(base, key, int));
		r = r < 0 || (size_t)r >= sizeof(buf) ? -1 : 0;
		break;
	case CONF_T_SIZE:
		r = conf_values_fmt_size(*CFIELD(base, key, int64_t), buf,
		    sizeof(buf));
		break;
	case CONF_T_DURATION:
		r = conf_values_fmt_duration(*CFIELD(base, key, int64_t), buf,
		    sizeof(buf));
		break;
	case CONF_T_RATE:
		r = conf_values_fmt_rate(CFIELD(base, key, struct conf_rate),
		    buf, sizeof(buf));
		break;
	case CONF_T_ENUM:
		name = word_name(key->words, *CFIELD(base, key, int));
		if (name == NULL)
			return -1;
		item(arg, name);
		return 0;
	default:
		abort();
	}
	if (r == 0)
		item(arg, buf);
	return r;
}

/* Calls item() for each printable piece of the value. */
int
conf_schema_items(const void *base, const struct conf_key *key,
    conf_schema_item_fn *item, void *arg)
{
	const char *s;
	char buf[64];
	int i;

	switch (key->type) {
	case CONF_T_FLAGS:
		for (i = 0; key->words[i].name != NULL; i++)
			if (*CFIELD(base, key, unsigned) &
			    (unsigned)key->words[i].value)
				item(arg, key->words[i].name);
		return 0;
	case CONF_T_ADDR:
		if (CFIELD(base, key, struct conf_addr)->len == 0)
			return 0;
		if (conf_values_fmt_addr(CFIELD(base, key, struct conf_addr),
		    buf, sizeof(buf)) < 0)
			return -1;
		item(arg, buf);
		return 0;
	case CONF_T_ADDRS:
	case CONF_T_FORWARDS:
	case CONF_T_NETS:
	case CONF_T_DOMAINS:
		return list_items(base, key, item, arg);
	case CONF_T_TEXT:
	case CONF_T_JOINED:
	case CONF_T_PATH:
	case CONF_T_USER:
	case CONF_T_DOMAIN:
	case CONF_T_HELO:
	case CONF_T_TOKEN:
		s = *CFIELD(base, key, char *);
		if (s == NULL || *s == '\0')
			return 0;
		if (key->type == CONF_T_TEXT)
			return text_items(s, item, arg);
		if (key->type == CONF_T_JOINED)
			return joined_items(s, item, arg);
		item(arg, s);
		return 0;
	default:
		return number_item(base, key, item, arg);
	}
}

/* 1 if two optional strings are equal (NULL only equals NULL). */
static int
str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* 1 if two address lists hold the same addresses in the same order. */
static int
addrs_equal(const struct conf_addr_list *a, const struct conf_addr_list *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (!conf_values_addr_equal(&a->v[i], &b->v[i]))
			return 0;
	return 1;
}

/* 1 if two network lists are equal element by element. */
static int
nets_equal(const struct conf_net_list *a, const struct conf_net_list *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->v[i].family != b->v[i].family ||
		    a->v[i].prefix != b->v[i].prefix ||
		    memcmp(a->v[i].addr, b->v[i].addr, 16) != 0)
			return 0;
	return 1;
}

/* 1 if two string lists are equal element by element. */
static int
strs_equal(const struct conf_str_list *a, const struct conf_str_list *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

/* 1 if the field is equal in both structs. */
int
conf_schema_field_equal(const void *a, const void *b,
    const struct conf_key *key)
{
	switch (key->type) {
	case CONF_T_BOOL:
	case CONF_T_INT:
	case CONF_T_ENUM:
		return *CFIELD(a, key, int) == *CFIELD(b, key, int);
	case CONF_T_FLAGS:
		return *CFIELD(a, key, unsigned) == *CFIELD(b, key, unsigned);
	case CONF_T_SIZE:
	case CONF_T_DURATION:
		return *CFIELD(a, key, int64_t) == *CFIELD(b, key, int64_t);
	case CONF_T_RATE:
		return CFIELD(a, key, struct conf_rate)->count ==
		    CFIELD(b, key, struct conf_rate)->count &&
		    CFIELD(a, key, struct conf_rate)->per_ms ==
		    CFIELD(b, key, struct conf_rate)->per_ms;
	case CONF_T_ADDR:
		return conf_values_addr_equal(CFIELD(a, key, struct conf_addr),
		    CFIELD(b, key, struct conf_addr));
	case CONF_T_ADDRS:
	case CONF_T_FORWARDS:
		return addrs_equal(CFIELD(a, key, struct conf_addr_list),
		    CFIELD(b, key, struct conf_addr_list));
	case CONF_T_NETS:
		return nets_equal(CFIELD(a, key, struct conf_net_list),
		    CFIELD(b, key, struct conf_net_list));
	case CONF_T_DOMAINS:
		return strs_equal(CFIELD(a, key, struct conf_str_list),
		    CFIELD(b, key, struct conf_str_list));
	default:
		return str_equal(*CFIELD(a, key, char *),
		    *CFIELD(b, key, char *));
	}
}

/* Frees what the field owns. */
void
conf_schema_field_free(void *base, const struct conf_key *key)
{
	switch (key->type) {
	case CONF_T_ADDRS:
	case CONF_T_FORWARDS:
	case CONF_T_NETS:
	case CONF_T_DOMAINS:
	case CONF_T_JOINED:
		list_clear(base, key);
		break;
	case CONF_T_PATH:
	case CONF_T_USER:
	case CONF_T_DOMAIN:
	case CONF_T_HELO:
	case CONF_T_TOKEN:
	case CONF_T_TEXT:
		free(*FIELD(base, key, char *));
		*FIELD(base, key, char *) = NULL;
		break;
	default:
		break;
	}
}

/* Puts the field in its "not set" state. */
int
conf_schema_field_init(void *base, const struct conf_key *key)
{
	int unset = (key->flags & (CONF_F_INHERIT | CONF_F_DERIVED)) != 0;

	switch (key->type) {
	case CONF_T_BOOL:
	case CONF_T_INT:
	case CONF_T_ENUM:
		*FIELD(base, key, int) = unset ? -1 : 0;
		return 0;
	case CONF_T_SIZE:
	case CONF_T_DURATION:
		*FIELD(base, key, int64_t) = unset ? -1 : 0;
		return 0;
	case CONF_T_PATH:
	case CONF_T_USER:
	case CONF_T_DOMAIN:
	case CONF_T_HELO:
	case CONF_T_TOKEN:
	case CONF_T_TEXT:
	case CONF_T_JOINED:
		*FIELD(base, key, char *) = NULL;
		if (key->flags & CONF_F_INHERIT)
			return 0;
		return set_string(FIELD(base, key, char *), "");
	default:
		return 0;	/* lists, flags, addresses: zeroed by caller */
	}
}
