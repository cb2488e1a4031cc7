/*
 * conf_match.c - lookups the relay makes against the configuration:
 *	networks, domain lists, [domain] sections, effective SRS policy.
 *
 * CONTRACT
 *	Read-only on the conf; no allocation; safe from any thread.
 *	Domains compare case-insensitively, a trailing dot ignored; a list
 *	entry or [domain] name covers itself and all its subdomains, and
 *	the most specific [domain] section wins.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_impl.h"

/* 1 if the first prefix bits of a and b are equal. */
static int
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	unsigned char mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* 1 if a 16-octet address is IPv4-mapped (::ffff:a.b.c.d). */
static int
v4_mapped(const unsigned char *a)
{
	static const unsigned char head[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	return memcmp(a, head, sizeof(head)) == 0;
}

/* 1 if the address lies in one of the networks. */
int
conf_net_match(const struct conf_net_list *list, int family,
    const unsigned char *addr)
{
	const unsigned char *v4 = NULL;
	size_t i;

	if (family == AF_INET)
		v4 = addr;
	else if (family == AF_INET6 && v4_mapped(addr))
		v4 = addr + 12;
	for (i = 0; i < list->n; i++) {
		const struct conf_net *n = &list->v[i];

		if (n->family == AF_INET6 && family == AF_INET6 &&
		    prefix_equal(n->addr, addr, n->prefix))
			return 1;
		if (n->family == AF_INET && v4 != NULL &&
		    prefix_equal(n->addr, v4, n->prefix))
			return 1;
	}
	return 0;
}

/* Lower-cases domain into buf without a trailing dot; -1 if too long. */
static int
normalize(const char *domain, char *buf, size_t buflen)
{
	size_t len = strlen(domain), i;

	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len >= buflen)
		return -1;
	for (i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)domain[i]);
	buf[len] = '\0';
	return 0;
}

/* 1 if d equals parent or ends with "." parent. */
static int
covers(const char *parent, const char *d)
{
	size_t pl = strlen(parent), dl = strlen(d);

	if (dl == pl)
		return strcmp(parent, d) == 0;
	return dl > pl && d[dl - pl - 1] == '.' &&
	    strcmp(d + dl - pl, parent) == 0;
}

/* 1 if domain equals or is below an entry of the list. */
int
conf_domain_match(const struct conf_str_list *list, const char *domain)
{
	char d[CONF_DOMAIN_MAX + 1];
	size_t i;

	if (normalize(domain, d, sizeof(d)) < 0)
		return 0;
	for (i = 0; i < list->n; i++)
		if (covers(list->v[i], d))
			return 1;
	return 0;
}

/* bsearch comparator: a name against a struct conf_domain. */
static int
domain_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct conf_domain *)elem)->name);
}

/* Most specific [domain] section covering domain. */
const struct conf_domain *
conf_domain_lookup(const struct conf *conf, const char *domain)
{
	char d[CONF_DOMAIN_MAX + 1];
	const char *s;
	const struct conf_domain *hit;

	if (conf->ndomains == 0 || normalize(domain, d, sizeof(d)) < 0)
		return NULL;
	for (s = d; s != NULL; s = strchr(s, '.') ? strchr(s, '.') + 1 :
	    NULL) {
		hit = bsearch(s, conf->domains, conf->ndomains,
		    sizeof(*conf->domains), domain_key_cmp);
		if (hit != NULL)
			return hit;
	}
	return NULL;
}

/* 1 if [srs] alone says senders of domain are rewritten. */
static int
srs_global_rewrite(const struct conf_srs *srs, const char *domain)
{
	if (!srs->enabled || conf_domain_match(&srs->exclude_domains, domain))
		return 0;
	return srs->rewrite_domains.n == 0 ||
	    conf_domain_match(&srs->rewrite_domains, domain);
}

/* Merges [srs] with the sender domain's overrides. */
void
conf_srs_policy(const struct conf *conf, const char *sender_domain,
    struct conf_srs_policy *out)
{
	const struct conf_srs *srs = &conf->srs;
	const struct conf_domain *d = conf_domain_lookup(conf, sender_domain);

	out->rewrite = d && d->srs >= 0 ? d->srs :
	    srs_global_rewrite(srs, sender_domain);
	out->srs_domain = d && d->srs_domain ? d->srs_domain : srs->domain;
	out->forward_bounces = d && d->forward_bounces >= 0 ?
	    d->forward_bounces : srs->forward_bounces;
	out->hash_length = d && d->hash_length >= 0 ? d->hash_length :
	    srs->hash_length;
	out->max_age = d && d->max_age >= 0 ? d->max_age : srs->max_age;
}
