/*
 * conf_check.c - derived defaults and the rules that span several keys.
 *
 * CONTRACT
 *	conf_check_finalize() fills what depends on other values: hostname
 *	(from gethostname()), authserv_id and backend helo (from hostname),
 *	the default listener "smtp" on 127.0.0.1:25 when none is configured,
 *	and each listener's tls (starttls when a certificate exists, else
 *	none).  conf_check_run() then applies every cross-key rule:
 *
 *	  required keys are non-empty;  [domain] names are unique;
 *	  max_connections_per_ip <= max_connections;
 *	  a TLS listener has a certificate; require_tls needs TLS;
 *	  proxy_protocol needs trusted_proxies; no address is listened on
 *	  twice;  dnssec needs trust_anchor;  backend tls_verify needs TLS,
 *	  client cert and key come together;  min_protocol <= max_protocol;
 *	  SRS in use needs domain and secrets_file.
 *
 *	Files are not opened here: the relay reports unreadable files when
 *	it loads them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf_impl.h"

static void bad(struct conf_report *rep, const struct conf *conf,
    enum conf_sect sect, size_t inst, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Reports a rule broken by key (NULL: the section) of an instance. */
static void
bad(struct conf_report *rep, const struct conf *conf, enum conf_sect sect,
    size_t inst, const char *key, const char *fmt, ...)
{
	char label[CONF_LINE_MAX + 16], msg[CONF_MSG_MAX];
	int k = key ? conf_schema_find_key(sect, key) : -1;
	int line = k >= 0 ? conf_errors_line(rep, sect, inst, k) : 0;
	va_list ap;

	if (line == 0)
		line = conf_errors_line(rep, sect, inst, -1);
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_object_label(conf, sect, inst, label, sizeof(label));
	conf_errors_add(rep, line, "%s%s%s%s %s", label, key ? " " : "",
	    key ? key : "", key ? ":" : "", msg);
}

/* Replaces a string field with a copy of s; -1 on out of memory. */
static int
replace(char **field, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

/* Fills an empty hostname from gethostname(), else "localhost". */
static int
derive_hostname(struct conf *conf)
{
	char host[CONF_DOMAIN_MAX + 2], norm[CONF_DOMAIN_MAX + 1];
	char msg[CONF_MSG_MAX];

	if (*conf->server.hostname != '\0')
		return 0;
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (conf_values_domain(host, norm, sizeof(norm), msg, sizeof(msg)) < 0)
		(void)snprintf(norm, sizeof(norm), "localhost");
	return replace(&conf->server.hostname, norm);
}

/* Collects a message while setting a built-in value. */
static void
builtin_msg(void *arg, const char *msg)
{
	(void)snprintf(arg, CONF_MSG_MAX, "%s", msg);
}

/* Adds listener "smtp" on 127.0.0.1:25; -1 on out of memory. */
static int
add_default_listener(struct conf *conf)
{
	const struct conf_section_def *def =
	    conf_schema_section(CONF_S_LISTENER);
	char msg[CONF_MSG_MAX] = "";
	long i;

	if ((i = conf_object_add(conf, CONF_S_LISTENER, "smtp")) < 0)
		return -1;
	if (conf_schema_set(&conf->listeners[i],
	    &def->keys[conf_schema_find_key(CONF_S_LISTENER, "address")],
	    "127.0.0.1:25", 0, builtin_msg, msg) == 0)
		return 0;
	if (strcmp(msg, CONF_MSG_OOM) == 0)
		return -1;
	fprintf(stderr, "conf: bad built-in listener: %s\n", msg);
	abort();
}

/* Resolves derived defaults; -1 on out of memory. */
int
conf_check_finalize(struct conf *conf)
{
	size_t i;

	if (derive_hostname(conf) < 0)
		return -1;
	if (*conf->spf.authserv_id == '\0' &&
	    replace(&conf->spf.authserv_id, conf->server.hostname) < 0)
		return -1;
	if (*conf->backend.helo == '\0' &&
	    replace(&conf->backend.helo, conf->server.hostname) < 0)
		return -1;
	if (conf->nlisteners == 0 && add_default_listener(conf) < 0)
		return -1;
	for (i = 0; i < conf->nlisteners; i++)
		if (conf->listeners[i].tls < 0)
			conf->listeners[i].tls = conf->ncertificates > 0 ?
			    CONF_LTLS_STARTTLS : CONF_LTLS_NONE;
	return 0;
}

/* Every required key of every instance holds a value. */
static void
check_required(const struct conf *conf, struct conf_report *rep)
{
	const struct conf_section_def *def;
	size_t i, k;
	int s;

	for (s = 0; s < CONF_S_COUNT; s++) {
		def = conf_schema_section(s);
		for (i = 0; i < conf_object_count(conf, s); i++)
			for (k = 0; k < def->nkeys; k++)
				if ((def->keys[k].flags & CONF_F_REQUIRED) &&
				    conf_schema_is_empty(conf_object_base(conf,
				    s, i), &def->keys[k]) &&
				    !conf_errors_is_bad(rep, s, i, (int)k))
					bad(rep, conf, s, i, def->keys[k].name,
					    "missing required value");
	}
}

struct name_ref {
	const char *name;
	size_t inst;
};

/* Orders by name, then by instance (file order). */
static int
name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->inst < y->inst ? -1 : x->inst > y->inst;
}

/* No two [domain] sections have the same name. */
static void
check_domains_unique(const struct conf *conf, struct conf_report *rep)
{
	struct name_ref *refs;
	size_t i;

	if (conf->ndomains < 2)
		return;
	if ((refs = calloc(conf->ndomains, sizeof(*refs))) == NULL) {
		conf_errors_add(rep, 0, "%s", CONF_MSG_OOM);
		return;
	}
	for (i = 0; i < conf->ndomains; i++) {
		refs[i].name = conf->domains[i].name;
		refs[i].inst = i;
	}
	qsort(refs, conf->ndomains, sizeof(*refs), name_ref_cmp);
	for (i = 1; i < conf->ndomains; i++)
		if (strcmp(refs[i - 1].name, refs[i].name) == 0)
			bad(rep, conf, CONF_S_DOMAIN, refs[i].inst, NULL,
			    "appears twice (first at line %d)",
			    conf_errors_line(rep, CONF_S_DOMAIN,
			    refs[i - 1].inst, -1));
	free(refs);
}

/* Reports an address of listener i already used before it. */
static void
check_listener_addresses(const struct conf *conf, struct conf_report *rep,
    size_t i)
{
	const struct conf_addr_list *mine = &conf->listeners[i].address;
	char text[64];
	size_t a, j, b;

	for (a = 0; a < mine->n; a++) {
		for (j = 0; j <= i; j++) {
			const struct conf_addr_list *other =
			    &conf->listeners[j].address;
			size_t end = j == i ? a : other->n;

			for (b = 0; b < end; b++) {
				if (!conf_values_addr_equal(&mine->v[a],
				    &other->v[b]))
					continue;
				if (conf_values_fmt_addr(&mine->v[a], text,
				    sizeof(text)) < 0)
					text[0] = '\0';
				bad(rep, conf, CONF_S_LISTENER, i, "address",
				    "%s is also in [listener %s]", text,
				    conf->listeners[j].name);
			}
		}
	}
}

/* TLS, PROXY and address rules of each listener. */
static void
check_listeners(const struct conf *conf, struct conf_report *rep)
{
	size_t i;

	for (i = 0; i < conf->nlisteners; i++) {
		const struct conf_listener *l = &conf->listeners[i];

		if (l->tls != CONF_LTLS_NONE && conf->ncertificates == 0)
			bad(rep, conf, CONF_S_LISTENER, i, "tls", "%s needs a "
			    "[certificate NAME] section", l->tls ==
			    CONF_LTLS_STARTTLS ? "starttls" : "implicit");
		if (l->require_tls && l->tls == CONF_LTLS_NONE)
			bad(rep, conf, CONF_S_LISTENER, i, "require_tls",
			    "needs tls = starttls or implicit");
		if (l->proxy_protocol && l->trusted_proxies.n == 0)
			bad(rep, conf, CONF_S_LISTENER, i, "proxy_protocol",
			    "needs trusted_proxies (the load balancers' "
			    "networks)");
		check_listener_addresses(conf, rep, i);
	}
}

/* Rules of [server], [dns], [backend] and [tls]. */
static void
check_singletons(const struct conf *conf, struct conf_report *rep)
{
	const struct conf_backend *b = &conf->backend;

	if (conf->server.max_connections_per_ip > conf->server.max_connections)
		bad(rep, conf, CONF_S_SERVER, 0, conf_errors_line(rep,
		    CONF_S_SERVER, 0, conf_schema_find_key(CONF_S_SERVER,
		    "max_connections")) > 0 ? "max_connections" :
		    "max_connections_per_ip", "max_connections_per_ip (%d) is "
		    "larger than max_connections (%d)",
		    conf->server.max_connections_per_ip,
		    conf->server.max_connections);
	if (conf->dns.dnssec && *conf->dns.trust_anchor == '\0')
		bad(rep, conf, CONF_S_DNS, 0, "trust_anchor",
		    "needed when dnssec = yes");
	if (b->tls_verify && b->tls == CONF_BTLS_NONE)
		bad(rep, conf, CONF_S_BACKEND, 0, "tls_verify",
		    "needs tls = opportunistic or required");
	if ((*b->tls_cert_file == '\0') != (*b->tls_key_file == '\0'))
		bad(rep, conf, CONF_S_BACKEND, 0, *b->tls_cert_file ?
		    "tls_cert_file" : "tls_key_file", "needs %s too",
		    *b->tls_cert_file ? "tls_key_file" : "tls_cert_file");
	if (conf->tls.min_protocol > conf->tls.max_protocol)
		bad(rep, conf, CONF_S_TLS, 0, "min_protocol",
		    "is newer than max_protocol");
}

/* SRS in use (globally or for one domain) has its domain and secrets. */
static void
check_srs(const struct conf *conf, struct conf_report *rep)
{
	int used = conf->srs.enabled, need_domain = conf->srs.enabled;
	size_t i;

	for (i = 0; i < conf->ndomains; i++) {
		if (conf->domains[i].srs != 1)
			continue;
		used = 1;
		if (conf->domains[i].srs_domain == NULL)
			need_domain = 1;
	}
	if (need_domain && *conf->srs.domain == '\0')
		bad(rep, conf, CONF_S_SRS, 0, "domain",
		    "needed when SRS rewriting is enabled");
	if (used && *conf->srs.secrets_file == '\0')
		bad(rep, conf, CONF_S_SRS, 0, "secrets_file",
		    "needed when SRS rewriting is enabled");
}

/* Applies every cross-key rule. */
void
conf_check_run(const struct conf *conf, struct conf_report *rep)
{
	check_required(conf, rep);
	check_domains_unique(conf, rep);
	check_listeners(conf, rep);
	check_singletons(conf, rep);
	check_srs(conf, rep);
}

/* Checks a conf built without a file (positions unknown). */
int
conf_check(const struct conf *conf, struct conf_errors *errs)
{
	struct conf_report rep;

	conf_errors_init(&rep, errs, NULL);
	conf_check_run(conf, &rep);
	conf_errors_done(&rep);
	return errs->count > 0 ? -1 : 0;
}

/* Orders [domain] sections by name. */
static int
domain_cmp(const void *a, const void *b)
{
	const struct conf_domain *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Sorts [domain] sections so lookups can bisect. */
void
conf_check_sort_domains(struct conf *conf)
{
	if (conf->ndomains > 1)
		qsort(conf->domains, conf->ndomains, sizeof(*conf->domains),
		    domain_cmp);
}
