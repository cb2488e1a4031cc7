/*
 * srs_gate.c - the relay's SRS policy over relay/srs.c (see srs_gate.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay/ratelimit.h"
#include "relay/srs.h"
#include "relay/srs_gate.h"

#define SRS_GATE_MAX_REWRITERS 32
#define SRS_GATE_MS_PER_DAY (86400 * (int64_t)1000)	/* conf durations */
#define SRS_GATE_RATE_SLOTS 4096

/* One rewriter for one (hash_length, max_age) pair. */
struct srs_gate_rewriter {
	int hash_length;
	int max_age;
	struct srs *srs;
};

struct srs_gate {
	const struct conf *conf;
	int active;
	struct srs_gate_rewriter rw[SRS_GATE_MAX_REWRITERS];
	int nrw;
	const char **bounce_domains;	/* point into conf */
	size_t nbounce;
	struct ratelimit *rate;		/* NULL: unlimited */
};

/* The domain part of an address, or NULL. */
static const char *
srs_gate_domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/* A configured max_age (a duration in ms) in whole days. */
static int
srs_gate_days(int64_t max_age_ms)
{
	return (int)(max_age_ms / SRS_GATE_MS_PER_DAY);
}

/* The rewriter for a pair, or NULL. */
static struct srs *
srs_gate_find(const struct srs_gate *gate, int hash_length, int max_age)
{
	int i;

	for (i = 0; i < gate->nrw; i++)
		if (gate->rw[i].hash_length == hash_length &&
		    gate->rw[i].max_age == max_age)
			return gate->rw[i].srs;
	return NULL;
}

/* Adds a rewriter for a pair unless there is one; 0 or -1. */
static int
srs_gate_add(struct srs_gate *gate, char **secrets, int nsecrets,
    int hash_length, int max_age, char *err, size_t errlen)
{
	struct srs *srs;

	if (srs_gate_find(gate, hash_length, max_age) != NULL)
		return 0;
	if (gate->nrw == SRS_GATE_MAX_REWRITERS) {
		snprintf(err, errlen, "more than %d distinct hash_length/"
		    "max_age pairs", SRS_GATE_MAX_REWRITERS);
		return -1;
	}
	srs = srs_new((const char *const *)secrets, nsecrets, hash_length,
	    max_age, (char)gate->conf->srs.separator, err, errlen);
	if (srs == NULL)
		return -1;
	gate->rw[gate->nrw].hash_length = hash_length;
	gate->rw[gate->nrw].max_age = max_age;
	gate->rw[gate->nrw].srs = srs;
	gate->nrw++;
	return 0;
}

/* Adds name to the bounce domains unless present (case-insensitive). */
static void
srs_gate_add_domain(struct srs_gate *gate, const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return;
	for (i = 0; i < gate->nbounce; i++)
		if (strcasecmp(gate->bounce_domains[i], name) == 0)
			return;
	gate->bounce_domains[gate->nbounce++] = name;
}

/* 1 if SRS is switched on globally or for any domain. */
static int
srs_gate_configured(const struct conf *conf)
{
	size_t i;

	if (conf->srs.enabled)
		return 1;
	for (i = 0; i < conf->ndomains; i++)
		if (conf->domains[i].srs == 1)
			return 1;
	return 0;
}

/* Builds one rewriter per policy that can apply. */
static int
srs_gate_build(struct srs_gate *gate, char **secrets, int nsecrets,
    char *err, size_t errlen)
{
	const struct conf *conf = gate->conf;
	struct conf_srs_policy pol;
	size_t i;

	if (srs_gate_add(gate, secrets, nsecrets, conf->srs.hash_length,
	    srs_gate_days(conf->srs.max_age), err, errlen) < 0)
		return -1;
	srs_gate_add_domain(gate, conf->srs.domain);
	for (i = 0; i < conf->ndomains; i++) {
		conf_srs_policy(conf, conf->domains[i].name, &pol);
		if (srs_gate_add(gate, secrets, nsecrets, pol.hash_length,
		    srs_gate_days(pol.max_age), err, errlen) < 0)
			return -1;
		srs_gate_add_domain(gate, conf->domains[i].srs_domain);
	}
	return 0;
}

struct srs_gate *
srs_gate_new(const struct conf *conf, char *err, size_t errlen)
{
	struct srs_gate *gate;
	char **secrets = NULL, why[256];
	int nsecrets = 0;

	gate = calloc(1, sizeof(*gate));
	if (gate == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	gate->conf = conf;
	if (!srs_gate_configured(conf))
		return gate;
	gate->active = 1;
	gate->bounce_domains = calloc(conf->ndomains + 1,
	    sizeof(*gate->bounce_domains));
	if (gate->bounce_domains == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (srs_load_secrets(conf->srs.secrets_file, &secrets, &nsecrets,
	    why, sizeof(why)) < 0) {
		snprintf(err, errlen, "[srs] secrets_file %s: %s",
		    conf->srs.secrets_file, why);
		goto fail;
	}
	if (srs_gate_build(gate, secrets, nsecrets, err, errlen) < 0)
		goto fail;
	if (conf->srs.reverse_rate_limit.count > 0) {
		gate->rate = ratelimit_new(SRS_GATE_RATE_SLOTS,
		    conf->srs.reverse_rate_limit.count,
		    conf->srs.reverse_rate_limit.per_ms);
		if (gate->rate == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	srs_free_secrets(secrets, nsecrets);
	return gate;
fail:
	srs_free_secrets(secrets, nsecrets);
	srs_gate_free(gate);
	return NULL;
}

void
srs_gate_free(struct srs_gate *gate)
{
	int i;

	if (gate == NULL)
		return;
	for (i = 0; i < gate->nrw; i++)
		srs_free(gate->rw[i].srs);
	ratelimit_free(gate->rate);
	free(gate->bounce_domains);
	free(gate);
}

int
srs_gate_active(const struct srs_gate *gate)
{
	return gate != NULL && gate->active;
}

static int srs_gate_is_bounce_domain(const struct srs_gate *gate,
    const char *domain);

int
srs_gate_sender(const struct srs_gate *gate, const char *sender, time_t now,
    struct srs_gate_result *result)
{
	struct conf_srs_policy pol;
	const char *domain;
	struct srs *srs;
	int rc;

	memset(result, 0, sizeof(*result));
	if (!srs_gate_active(gate) || sender[0] == '\0' ||
	    (domain = srs_gate_domain_of(sender)) == NULL)
		return 0;
	/* Any bounce domain is ours: never wrap one into another. */
	if (srs_gate_is_bounce_domain(gate, domain))
		return 0;
	conf_srs_policy(gate->conf, domain, &pol);
	if (!pol.rewrite || pol.srs_domain == NULL || pol.srs_domain[0] == '\0')
		return 0;
	srs = srs_gate_find(gate, pol.hash_length, srs_gate_days(pol.max_age));
	if (srs == NULL) {
		snprintf(result->text, sizeof(result->text), "no rewriter for "
		    "the policy of %s", domain);
		return -1;
	}
	rc = srs_forward(srs, sender, pol.srs_domain, now, result->address,
	    sizeof(result->address), result->text, sizeof(result->text));
	if (rc == SRS_OK)
		return 1;
	return rc == SRS_UNCHANGED ? 0 : -1;
}

/* 1 if domain is one of the bounce domains. */
static int
srs_gate_is_bounce_domain(const struct srs_gate *gate, const char *domain)
{
	size_t i;

	for (i = 0; i < gate->nbounce; i++)
		if (strcasecmp(gate->bounce_domains[i], domain) == 0)
			return 1;
	return 0;
}

/* Fills a refusal. */
static enum srs_gate_verdict __attribute__((format(printf, 4, 5)))
srs_gate_refuse(struct srs_gate_result *result, int code,
    const char *enhanced, const char *fmt, ...)
{
	va_list ap;

	result->code = code;
	result->enhanced = enhanced;
	va_start(ap, fmt);
	vsnprintf(result->text, sizeof(result->text), fmt, ap);
	va_end(ap);
	return SRS_GATE_REFUSE;
}

/*
 * Reverses rcpt with the rewriter whose pair is the policy of the domain
 * it decodes to.  Returns SRS_OK, SRS_NOT_SRS or SRS_ERROR (why filled).
 */
static int
srs_gate_reverse(const struct srs_gate *gate, const char *rcpt, time_t now,
    char *out, size_t outlen, char *why, size_t whylen)
{
	struct conf_srs_policy pol;
	const char *domain;
	int i, rc, seen_valid = 0;

	for (i = 0; i < gate->nrw; i++) {
		rc = srs_reverse(gate->rw[i].srs, rcpt, now, out, outlen, why,
		    whylen);
		if (rc == SRS_NOT_SRS)
			return SRS_NOT_SRS;
		if (rc != SRS_OK)
			continue;
		seen_valid = 1;
		domain = srs_gate_domain_of(out);
		if (domain == NULL)
			continue;
		conf_srs_policy(gate->conf, domain, &pol);
		if (pol.hash_length == gate->rw[i].hash_length &&
		    srs_gate_days(pol.max_age) == gate->rw[i].max_age)
			return SRS_OK;
	}
	if (seen_valid)
		snprintf(why, whylen, "not valid under the policy of the "
		    "original sender's domain");
	return SRS_ERROR;
}

enum srs_gate_verdict
srs_gate_rcpt(struct srs_gate *gate, const char *rcpt, const char *sender,
    int family, const unsigned char *addr, time_t now, int64_t now_ms,
    struct srs_gate_result *result)
{
	struct conf_srs_policy pol;
	const char *domain;
	char why[200];
	int rc;

	memset(result, 0, sizeof(*result));
	if (!srs_gate_active(gate) || (domain = srs_gate_domain_of(rcpt)) ==
	    NULL || !srs_gate_is_bounce_domain(gate, domain))
		return SRS_GATE_NOT_BOUNCE;
	if (sender[0] != '\0' &&
	    gate->conf->srs.bounce_senders == CONF_BOUNCE_NULL)
		return srs_gate_refuse(result, 550, "5.7.1", "Error: only "
		    "bounces (null sender) may be sent to SRS address %s",
		    rcpt);
	if (gate->rate != NULL &&
	    !ratelimit_allow(gate->rate, family, addr, now_ms))
		return srs_gate_refuse(result, 450, "4.7.1", "Error: too many "
		    "bounces to %s from your address, try again later",
		    domain);
	rc = srs_gate_reverse(gate, rcpt, now, result->address,
	    sizeof(result->address), why, sizeof(why));
	if (rc == SRS_NOT_SRS)
		return srs_gate_refuse(result, 550, "5.1.1", "Error: %s: no "
		    "such user (not an SRS address)", rcpt);
	if (rc != SRS_OK)
		return srs_gate_refuse(result, 550, "5.1.1", "Error: %s: "
		    "invalid SRS address (%s)", rcpt, why);
	/* A bounce never goes back into a bounce domain: no relay loop. */
	if (srs_gate_is_bounce_domain(gate, srs_gate_domain_of(result->address)))
		return srs_gate_refuse(result, 550, "5.1.1", "Error: %s: "
		    "reverses into a bounce domain", rcpt);
	conf_srs_policy(gate->conf, srs_gate_domain_of(result->address), &pol);
	if (!pol.forward_bounces)
		return srs_gate_refuse(result, 550, "5.7.1", "Error: bounces "
		    "for %s are not forwarded",
		    srs_gate_domain_of(result->address));
	return SRS_GATE_FORWARD;
}
