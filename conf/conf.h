/*
 * conf.h - spfgate's configuration: schema, defaults, parsing, validation.
 *
 * CONTRACT
 *	spfgate reads one INI file (inih syntax, see spfgate.conf(5)):
 *
 *	    [server] [spf] [dns] [backend] [tls] [srs]   at most once each
 *	    [listener NAME] [certificate NAME] [domain NAME]   repeatable
 *
 *	conf_load() / conf_parse_string() turn the text into a struct conf
 *	whose every field holds its effective value: defaults are applied,
 *	derived defaults resolved (hostname, authserv_id, backend helo,
 *	listener tls) and every cross-key rule checked.  The result is either
 *	a complete, valid configuration or NULL plus error lines of the form
 *
 *	    spfgate.conf:12: [backend] servers: 'x:y' is not an address:port
 *
 *	All errors are collected (up to CONF_ERRORS_MAX), not just the first.
 *	Lines are limited to CONF_LINE_MAX characters (inih's fixed buffer);
 *	a longer line is an error, never truncated.  Long lists continue on
 *	indented lines.
 *
 *	This module uses libc and inih only.
 *
 * OWNERSHIP
 *	A struct conf owns every string and array reachable from it; free it
 *	with conf_free().  It is immutable after parsing: threads and worker
 *	processes may read it concurrently.  struct conf_errors is a plain
 *	caller-owned buffer (no allocation).
 */
#ifndef CONF_CONF_H
#define CONF_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define CONF_LINE_MAX 199	/* longest accepted line, without CR/LF */
#define CONF_ERRORS_MAX 20	/* error lines kept; more are only counted */
#define CONF_ERROR_LEN 512	/* one error line, NUL included */
#define CONF_FILE_MAX (16 * 1024 * 1024)	/* largest config file */

/* Error lines collected by the parser and the validator. */
struct conf_errors {
	int count;			/* lines stored in line[] */
	int dropped;			/* further errors, counted only */
	char line[CONF_ERRORS_MAX][CONF_ERROR_LEN];
};

/* Prints every error line, then "... and N more errors" if any dropped. */
void conf_errors_print(const struct conf_errors *errs, FILE *fp);

/*
 * Value types
 */

/* A socket address; len 0 means "not set". */
struct conf_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct conf_addr_list {
	struct conf_addr *v;
	size_t n;
};

/* An IP network: family AF_INET/AF_INET6, address with host bits zero. */
struct conf_net {
	int family;
	unsigned char addr[16];		/* 4 or 16 octets used */
	unsigned prefix;		/* 0..32 or 0..128 */
};

struct conf_net_list {
	struct conf_net *v;
	size_t n;
};

/* A list of strings (domains are stored lower-case, no trailing dot). */
struct conf_str_list {
	char **v;
	size_t n;
};

/* "count per window"; count 0 = unlimited (then per_ms is 0 too). */
struct conf_rate {
	int count;
	int64_t per_ms;
};

/*
 * Enumerations (values chosen so the relay can use them directly)
 */

enum conf_log {
	CONF_LOG_STDERR = 0,
	CONF_LOG_SYSLOG
};

/* What to do with a message after an SPF result. */
enum conf_action {
	CONF_ACTION_ACCEPT = 0,
	CONF_ACTION_DEFER,		/* 4xx: the client retries later */
	CONF_ACTION_REJECT		/* 5xx */
};

enum conf_listener_tls {
	CONF_LTLS_NONE = 0,
	CONF_LTLS_STARTTLS,
	CONF_LTLS_IMPLICIT		/* TLS from the first byte (port 465) */
};

enum conf_backend_tls {
	CONF_BTLS_NONE = 0,
	CONF_BTLS_OPPORTUNISTIC,	/* STARTTLS when offered */
	CONF_BTLS_REQUIRED		/* no STARTTLS or failed: next server */
};

enum conf_auto {
	CONF_AUTO_NO = 0,
	CONF_AUTO_AUTO			/* use when the backend advertises it */
};

/* TLS protocol versions as on the wire (OpenSSL's TLS1_x_VERSION). */
enum conf_tls_version {
	CONF_TLS_1_0 = 0x0301,
	CONF_TLS_1_1 = 0x0302,
	CONF_TLS_1_2 = 0x0303,
	CONF_TLS_1_3 = 0x0304
};

enum conf_bounce_senders {
	CONF_BOUNCE_NULL = 0,		/* only <> may mail SRS addresses */
	CONF_BOUNCE_ANY
};

/* [spf] headers bits. */
#define CONF_HDR_RECEIVED_SPF	0x1u
#define CONF_HDR_AUTH_RESULTS	0x2u

/*
 * Sections.  Durations are milliseconds, sizes bytes.  Fields of
 * struct conf_domain use -1 (numbers) or NULL (strings) for "not set
 * here: inherit from [srs]".
 */

struct conf_server {
	char *hostname;			/* never empty after parsing */
	int workers;			/* 0 = one per CPU core */
	char *user;			/* "" = do not drop privileges */
	int log;			/* enum conf_log */
	int log_level;			/* LOG_ERR .. LOG_DEBUG (syslog.h) */
	int syslog_facility;		/* LOG_MAIL, LOG_LOCAL0, ... */
	int max_connections;		/* whole instance */
	int max_connections_per_ip;	/* 0 = unlimited */
	int max_line_length;		/* SMTP command line, CRLF included */
	int64_t max_message_size;
	int max_recipients;
	int max_errors;
	int64_t timeout_command;
	int64_t timeout_data;		/* whole DATA content */
	int64_t greet_delay;		/* 0 = off */
	char *pid_file;			/* "" = none */
	struct conf_addr metrics_listen;	/* len 0 = off */
};

struct conf_listener {
	char *name;
	struct conf_addr_list address;
	int tls;			/* enum conf_listener_tls */
	int require_tls;
	int proxy_protocol;		/* PROXY v1 and v2 accepted */
	struct conf_net_list trusted_proxies;
};

struct conf_spf {
	int enabled;
	int helo_check;
	int on_fail, on_softfail, on_neutral, on_none;	/* enum conf_action */
	int on_permerror, on_temperror, on_helo_fail;
	struct conf_net_list skip_networks;
	struct conf_str_list skip_domains;
	unsigned headers;		/* CONF_HDR_* */
	char *authserv_id;		/* never empty after parsing */
	char *explanation;		/* SPF macro-string */
	int64_t timeout;		/* one whole evaluation */
	int void_lookup_limit;
	int lookup_limit;
};

struct conf_dns {
	int dnssec;
	char *trust_anchor;		/* root key file (DS or DNSKEY) */
	struct conf_addr_list forward;	/* empty = full recursion */
	int64_t query_timeout;
	int outgoing_range;
	int64_t cache_size;
	struct conf_str_list transparent_zones;
};

struct conf_backend {
	struct conf_addr_list servers;	/* tried in order; never empty */
	char *helo;			/* never empty after parsing */
	int xclient, xforward;		/* enum conf_auto */
	int64_t connect_timeout;
	int64_t timeout_command;
	int64_t timeout_data_end;
	int connection_cache;		/* keep idle connections for reuse */
	int64_t connection_cache_time;	/* idle time before closing one */
	int64_t connection_reuse_time;	/* age after which one is not kept */
	int tls;			/* enum conf_backend_tls */
	int tls_verify;
	char *tls_ca_file;		/* "" = system store */
	char *tls_name;			/* "" = verify the server's IP */
	char *tls_cert_file, *tls_key_file;	/* "" = no client cert */
};

struct conf_tls {
	int min_protocol, max_protocol;	/* enum conf_tls_version */
	char *ciphers;			/* ':'-joined; "" = AEAD-only ECDHE/DHE (relay/tls.h) */
	char *ciphersuites;		/* TLS 1.3; "" = OpenSSL default */
	char *groups;			/* "" = OpenSSL default */
	int prefer_server_ciphers;
	int session_tickets;
	int64_t handshake_timeout;
};

struct conf_certificate {
	char *name;
	char *cert_file, *key_file;
	char *chain_file;		/* "" = none */
};

struct conf_srs {
	int enabled;
	char *domain;			/* "" only when SRS is unused */
	char *secrets_file;
	int hash_length;
	int64_t max_age;		/* ms, a whole number of days */
	int separator;			/* '=', '+' or '-' */
	struct conf_str_list rewrite_domains;	/* empty = all */
	struct conf_str_list exclude_domains;
	int forward_bounces;
	int bounce_senders;		/* enum conf_bounce_senders */
	struct conf_rate reverse_rate_limit;	/* per client IP */
	struct conf_addr bounce_route;	/* len 0 = the backend */
};

/* Per sending domain overrides of [srs]; -1 / NULL = inherit. */
struct conf_domain {
	char *name;			/* lower-case, no trailing dot */
	int srs;
	char *srs_domain;
	int forward_bounces;
	int hash_length;
	int64_t max_age;
};

struct conf {
	struct conf_server server;
	struct conf_listener *listeners;
	size_t nlisteners;		/* >= 1 */
	struct conf_spf spf;
	struct conf_dns dns;
	struct conf_backend backend;
	struct conf_tls tls;
	struct conf_certificate *certificates;
	size_t ncertificates;
	struct conf_srs srs;
	struct conf_domain *domains;	/* sorted by name */
	size_t ndomains;
};

/*
 * Life cycle
 */

/*
 * Reads and checks the file at path.  Messages name the file as path.
 * Returns NULL on any error (errs filled; out of memory included).
 */
struct conf *conf_load(const char *path, struct conf_errors *errs);

/*
 * The same from text in memory (len bytes, NULs are errors); name is used
 * in messages (NULL: "spfgate.conf").
 */
struct conf *conf_parse_string(const char *name, const char *text,
    size_t len, struct conf_errors *errs);

/*
 * Every default, derived values resolved (hostname from gethostname()),
 * one listener "smtp" on 127.0.0.1:25.  Not valid as is: the relay needs
 * [backend] servers; conf_check() says so.  NULL on out of memory.
 */
struct conf *conf_defaults(void);

/* Runs the cross-key checks; returns 0 if valid, else -1 (errs filled). */
int conf_check(const struct conf *conf, struct conf_errors *errs);

/* Frees everything; NULL-safe. */
void conf_free(struct conf *conf);

/* Prints the effective configuration as INI text that parses back equal. */
void conf_dump(const struct conf *conf, FILE *fp);

/* 1 if a and b hold the same values, else 0. */
int conf_equal(const struct conf *a, const struct conf *b);

/*
 * Lookups used by the relay
 */

/*
 * 1 if addr (4 octets for AF_INET, 16 for AF_INET6) lies in one of the
 * networks.  An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is also
 * matched against the IPv4 networks.
 */
int conf_net_match(const struct conf_net_list *list, int family,
    const unsigned char *addr);

/*
 * 1 if domain equals an entry of the list or is a subdomain of one
 * (case-insensitive; a trailing dot is ignored).
 */
int conf_domain_match(const struct conf_str_list *list, const char *domain);

/*
 * The [domain NAME] section for a sending domain: the most specific
 * section whose name equals domain or a parent domain of it
 * ([domain example.com] covers mail.example.com), or NULL.
 */
const struct conf_domain *conf_domain_lookup(const struct conf *conf,
    const char *domain);

/* The SRS settings that apply to one sending domain. */
struct conf_srs_policy {
	int rewrite;			/* 1: rewrite this sender */
	const char *srs_domain;		/* owned by the conf */
	int forward_bounces;
	int hash_length;
	int64_t max_age;
};

/*
 * Merges [srs] with the sender's [domain] section: a value set in the
 * section wins.  rewrite = section's srs if set, otherwise enabled, not
 * in exclude_domains and (rewrite_domains empty or in it).
 */
void conf_srs_policy(const struct conf *conf, const char *sender_domain,
    struct conf_srs_policy *out);

#endif /* CONF_CONF_H */
