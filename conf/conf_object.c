/*
 * conf_object.c - life cycle of struct conf: creation with defaults,
 *	section instances, comparison and release.
 *
 * CONTRACT
 *	Everything here walks the schema table, so a new key needs no code
 *	in this file.  Defaults are applied by parsing each key's default
 *	text with the same setter as the file: a default that does not
 *	parse is a broken invariant and aborts.
 *
 * OWNERSHIP
 *	conf_free() releases every string and array reachable from the
 *	conf; it is NULL-safe and copes with a half-built conf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_impl.h"

/* Grows an array geometrically; -1 on out of memory. */
int
conf_object_grow(void **v, size_t n, size_t sz)
{
	size_t cap;
	void *p;

	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return 0;		/* capacity 4 or 2^k > n: room left */
	cap = n == 0 ? 4 : n * 2;
	if (cap > SIZE_MAX / sz)
		return -1;
	p = realloc(*v, cap * sz);
	if (p == NULL)
		return -1;
	*v = p;
	return 0;
}

/* Instances of a section kind (1 for singletons). */
size_t
conf_object_count(const struct conf *conf, enum conf_sect sect)
{
	switch (sect) {
	case CONF_S_LISTENER:
		return conf->nlisteners;
	case CONF_S_CERTIFICATE:
		return conf->ncertificates;
	case CONF_S_DOMAIN:
		return conf->ndomains;
	default:
		return 1;
	}
}

/* The struct of one section instance. */
void *
conf_object_base(const struct conf *conf, enum conf_sect sect, size_t i)
{
	struct conf *c = (struct conf *)(uintptr_t)conf;

	switch (sect) {
	case CONF_S_SERVER:
		return &c->server;
	case CONF_S_LISTENER:
		return &c->listeners[i];
	case CONF_S_SPF:
		return &c->spf;
	case CONF_S_DNS:
		return &c->dns;
	case CONF_S_BACKEND:
		return &c->backend;
	case CONF_S_TLS:
		return &c->tls;
	case CONF_S_CERTIFICATE:
		return &c->certificates[i];
	case CONF_S_SRS:
		return &c->srs;
	case CONF_S_DOMAIN:
		return &c->domains[i];
	default:
		abort();
	}
}

/* Address of the name pointer of a repeatable section instance. */
static char **
name_field(const struct conf *conf, enum conf_sect sect, size_t i)
{
	switch (sect) {
	case CONF_S_LISTENER:
		return &conf->listeners[i].name;
	case CONF_S_CERTIFICATE:
		return &conf->certificates[i].name;
	case CONF_S_DOMAIN:
		return &conf->domains[i].name;
	default:
		return NULL;
	}
}

/* Name of a repeatable section instance ("" if none). */
const char *
conf_object_name(const struct conf *conf, enum conf_sect sect, size_t i)
{
	char **name = name_field(conf, sect, i);

	return name != NULL && *name != NULL ? *name : "";
}

/* Writes the "[kind NAME]" label used in messages. */
void
conf_object_label(const struct conf *conf, enum conf_sect sect, size_t i,
    char *buf, size_t buflen)
{
	const char *kind = conf_schema_section(sect)->name;
	const char *name = conf_schema_section(sect)->repeatable ?
	    conf_object_name(conf, sect, i) : "";
	int n;

	n = snprintf(buf, buflen, "[%s%s%s]", kind, *name ? " " : "", name);
	if (n < 0 || (size_t)n >= buflen)
		(void)snprintf(buf, buflen, "[%s ...]", kind);
}

/* Collects the message of a default that failed to apply. */
static void
default_msg(void *arg, const char *msg)
{
	(void)snprintf(arg, CONF_MSG_MAX, "%s", msg);
}

/* Initializes every field of a section struct and applies the defaults. */
static int
apply_defaults(void *base, enum conf_sect sect)
{
	const struct conf_section_def *def = conf_schema_section(sect);
	char msg[CONF_MSG_MAX];
	size_t i;

	for (i = 0; i < def->nkeys; i++)
		if (conf_schema_field_init(base, &def->keys[i]) < 0)
			return -1;
	for (i = 0; i < def->nkeys; i++) {
		if (def->keys[i].def == NULL)
			continue;
		msg[0] = '\0';
		if (conf_schema_set(base, &def->keys[i], def->keys[i].def, 0,
		    default_msg, msg) == 0)
			continue;
		if (strcmp(msg, CONF_MSG_OOM) == 0)
			return -1;
		fprintf(stderr, "conf: bad default for [%s] %s: %s\n",
		    def->name, def->keys[i].name, msg);
		abort();
	}
	return 0;
}

/* Allocates a conf holding every singleton default. */
struct conf *
conf_object_new(void)
{
	struct conf *conf = calloc(1, sizeof(*conf));
	int s;

	if (conf == NULL)
		return NULL;
	for (s = 0; s < CONF_S_COUNT; s++) {
		if (conf_schema_section(s)->repeatable)
			continue;
		if (apply_defaults(conf_object_base(conf, s, 0), s) < 0)
			goto fail;
	}
	return conf;
fail:
	conf_free(conf);
	return NULL;
}

/* The array pointer, count and element size of a repeatable section. */
static void
instances(struct conf *conf, enum conf_sect sect, void ***v, size_t **n,
    size_t *sz)
{
	switch (sect) {
	case CONF_S_LISTENER:
		*v = (void **)&conf->listeners;
		*n = &conf->nlisteners;
		*sz = sizeof(struct conf_listener);
		return;
	case CONF_S_CERTIFICATE:
		*v = (void **)&conf->certificates;
		*n = &conf->ncertificates;
		*sz = sizeof(struct conf_certificate);
		return;
	case CONF_S_DOMAIN:
		*v = (void **)&conf->domains;
		*n = &conf->ndomains;
		*sz = sizeof(struct conf_domain);
		return;
	default:
		abort();
	}
}

/* Appends a section instance holding its defaults. */
long
conf_object_add(struct conf *conf, enum conf_sect sect, const char *name)
{
	void **v;
	size_t *n, sz, i;
	char *base;

	instances(conf, sect, &v, &n, &sz);
	if (conf_object_grow(v, *n, sz) < 0)
		return -1;
	i = (*n)++;
	base = (char *)*v + i * sz;
	memset(base, 0, sz);
	if ((*name_field(conf, sect, i) = strdup(name)) == NULL ||
	    apply_defaults(base, sect) < 0)
		return -1;	/* the half-built instance is freed with conf */
	return (long)i;
}

/* Frees what one section instance owns. */
static void
free_instance(struct conf *conf, enum conf_sect sect, size_t i)
{
	const struct conf_section_def *def = conf_schema_section(sect);
	void *base = conf_object_base(conf, sect, i);
	char **name = name_field(conf, sect, i);
	size_t k;

	for (k = 0; k < def->nkeys; k++)
		conf_schema_field_free(base, &def->keys[k]);
	if (name != NULL)
		free(*name);
}

/* Frees the conf and everything it owns; NULL-safe. */
void
conf_free(struct conf *conf)
{
	size_t i;
	int s;

	if (conf == NULL)
		return;
	for (s = 0; s < CONF_S_COUNT; s++)
		for (i = 0; i < conf_object_count(conf, s); i++)
			free_instance(conf, s, i);
	free(conf->listeners);
	free(conf->certificates);
	free(conf->domains);
	free(conf);
}

/* 1 if instance i of a section kind is equal in both confs. */
static int
instance_equal(const struct conf *a, const struct conf *b,
    enum conf_sect sect, size_t i)
{
	const struct conf_section_def *def = conf_schema_section(sect);
	const void *x = conf_object_base(a, sect, i);
	const void *y = conf_object_base(b, sect, i);
	size_t k;

	if (strcmp(conf_object_name(a, sect, i),
	    conf_object_name(b, sect, i)) != 0)
		return 0;
	for (k = 0; k < def->nkeys; k++)
		if (!conf_schema_field_equal(x, y, &def->keys[k]))
			return 0;
	return 1;
}

/* 1 if both confs hold the same values everywhere. */
int
conf_equal(const struct conf *a, const struct conf *b)
{
	size_t i;
	int s;

	for (s = 0; s < CONF_S_COUNT; s++) {
		if (conf_object_count(a, s) != conf_object_count(b, s))
			return 0;
		for (i = 0; i < conf_object_count(a, s); i++)
			if (!instance_equal(a, b, s, i))
				return 0;
	}
	return 1;
}

/* The built-in configuration, derived values resolved. */
struct conf *
conf_defaults(void)
{
	struct conf *conf = conf_object_new();

	if (conf == NULL || conf_check_finalize(conf) < 0) {
		conf_free(conf);
		return NULL;
	}
	return conf;
}
