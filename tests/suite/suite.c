/*
 * suite.c - loads an OpenSPF conformance suite file into zones and cases.
 *
 * CONTRACT
 *	See suite.h.  The file is read with libyaml's document API, one
 *	document (scenario) at a time; each scenario's zonedata becomes a
 *	struct spf_zone at once, so nothing of the YAML tree outlives its
 *	document.  Any deviation from the format (a missing key, an unknown
 *	record type or result, a duplicate name, an unparsable address) is an
 *	error "FILE:LINE: message" rather than a silently skipped case.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "tests/suite/suite.h"

#define SUITE_STRING_MAX 255	/* one DNS character-string */

/* State of one suite_load(). */
struct loader {
	const char	*path;
	char		*err;
	size_t		 errlen;
	yaml_document_t	*doc;
	struct suite	*suite;
};

/* Writes "FILE:LINE: message" for node (line 0 without one); returns -1. */
static int __attribute__((format(printf, 3, 4)))
suite_error(struct loader *ld, const yaml_node_t *node, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	/* A cut message is still a useful message: truncation is accepted. */
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ld->err != NULL && ld->errlen > 0)
		(void)snprintf(ld->err, ld->errlen, "%s:%lu: %s", ld->path,
		    node ? (unsigned long)node->start_mark.line + 1 : 0UL, msg);
	return -1;
}

/* The node with a given index in the current document. */
static yaml_node_t *
suite_node(struct loader *ld, int index)
{
	return yaml_document_get_node(ld->doc, index);
}

/*
 * The text of a scalar node without embedded NUL (most fields), or NULL
 * after writing an error naming what.
 */
static const char *
suite_text(struct loader *ld, const yaml_node_t *node, const char *what)
{
	const char *s;

	if (node == NULL || node->type != YAML_SCALAR_NODE) {
		suite_error(ld, node, "%s must be a scalar", what);
		return NULL;
	}
	s = (const char *)node->data.scalar.value;
	if (strlen(s) != node->data.scalar.length) {
		suite_error(ld, node, "NUL octet in %s", what);
		return NULL;
	}
	return s;
}

/* 1 if node is the scalar s. */
static int
suite_is(const yaml_node_t *node, const char *s)
{
	return node != NULL && node->type == YAML_SCALAR_NODE &&
	    strcmp((const char *)node->data.scalar.value, s) == 0;
}

/* strdup() of a scalar field into *out; -1 with an error on failure. */
static int
suite_dup(struct loader *ld, const yaml_node_t *node, const char *what,
    char **out)
{
	const char *s = suite_text(ld, node, what);

	if (s == NULL)
		return -1;
	if ((*out = strdup(s)) == NULL)
		return suite_error(ld, node, "out of memory");
	return 0;
}

/* Fails if a map has two equal scalar keys (YAML forbids it). */
static int
suite_unique_keys(struct loader *ld, const yaml_node_t *map)
{
	yaml_node_pair_t *p, *q;
	const yaml_node_t *k1, *k2;

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	    p++) {
		k1 = suite_node(ld, p->key);
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			k2 = suite_node(ld, q->key);
			if (k1 != NULL && k2 != NULL &&
			    k1->type == YAML_SCALAR_NODE &&
			    k2->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)k1->data.scalar.value,
			    (const char *)k2->data.scalar.value) == 0)
				return suite_error(ld, k1, "duplicate key %s",
				    (const char *)k1->data.scalar.value);
		}
	}
	return 0;
}

/*
 * Zone data
 */

/* Counts the 255-octet character-strings a scalar becomes (>= 1). */
static size_t
suite_pieces(const yaml_node_t *s)
{
	size_t len = s->data.scalar.length;

	return len == 0 ? 1 : (len + SUITE_STRING_MAX - 1) / SUITE_STRING_MAX;
}

/* Appends a scalar's pieces to the strs/lens arrays at *n. */
static void
suite_split(const yaml_node_t *s, const char **strs, size_t *lens, size_t *n)
{
	const char *v = (const char *)s->data.scalar.value;
	size_t len = s->data.scalar.length, off = 0, k;

	do {
		k = len - off > SUITE_STRING_MAX ? SUITE_STRING_MAX : len - off;
		strs[*n] = v + off;
		lens[(*n)++] = k;
		off += k;
	} while (off < len);
}

/* Adds a TXT record from a scalar or a sequence of scalars. */
static int
suite_txt(struct loader *ld, struct spf_zone *zone, const char *name,
    yaml_node_t *value)
{
	yaml_node_item_t *it, *start = NULL, *top = NULL;
	const yaml_node_t *item;
	const char **strs = NULL;
	size_t *lens = NULL, n = 0, total = 0;
	int rc = -1;

	if (value->type == YAML_SCALAR_NODE) {
		total = suite_pieces(value);
	} else if (value->type == YAML_SEQUENCE_NODE) {
		start = value->data.sequence.items.start;
		top = value->data.sequence.items.top;
		for (it = start; it < top; it++) {
			item = suite_node(ld, *it);
			if (item == NULL || item->type != YAML_SCALAR_NODE)
				return suite_error(ld, value,
				    "TXT strings must be scalars");
			total += suite_pieces(item);
		}
	} else
		return suite_error(ld, value, "bad TXT rdata for %s", name);
	strs = calloc(total + 1, sizeof(*strs));
	lens = calloc(total + 1, sizeof(*lens));
	if (strs == NULL || lens == NULL) {
		suite_error(ld, value, "out of memory");
		goto done;
	}
	if (value->type == YAML_SCALAR_NODE)
		suite_split(value, strs, lens, &n);
	for (it = start; it < top; it++)
		suite_split(suite_node(ld, *it), strs, lens, &n);
	if (spf_zone_add_txt(zone, name, strs, lens, (int)n) == -1)
		suite_error(ld, value, "cannot add TXT record to %s", name);
	else
		rc = 0;
done:
	free(strs);
	free(lens);
	return rc;
}

/* Adds an MX record from [preference, exchange]. */
static int
suite_mx(struct loader *ld, struct spf_zone *zone, const char *name,
    yaml_node_t *value)
{
	const char *pref, *exch;
	char text[512];
	int n;

	if (value->type != YAML_SEQUENCE_NODE ||
	    value->data.sequence.items.top - value->data.sequence.items.start
	    != 2)
		return suite_error(ld, value, "MX rdata must be [pref, name]");
	pref = suite_text(ld, suite_node(ld,
	    value->data.sequence.items.start[0]), "MX preference");
	exch = suite_text(ld, suite_node(ld,
	    value->data.sequence.items.start[1]), "MX exchange");
	if (pref == NULL || exch == NULL)
		return -1;
	n = snprintf(text, sizeof(text), "%s %s", pref, *exch ? exch : ".");
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    spf_zone_add(zone, name, SPF_RR_MX, text) == -1)
		return suite_error(ld, value, "bad MX record for %s", name);
	return 0;
}

/* Maps a zonedata record type to an spf_rrtype (99 for SPF), or -1. */
static int
suite_rrtype(const char *type)
{
	static const struct {
		const char *name;
		int type;
	} types[] = {
		{ "A", SPF_RR_A }, { "AAAA", SPF_RR_AAAA }, { "MX", SPF_RR_MX },
		{ "PTR", SPF_RR_PTR }, { "TXT", SPF_RR_TXT }, { "SPF", 99 },
		{ "CNAME", 5 },
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i].name) == 0)
			return types[i].type;
	return -1;
}

/*
 * Adds one "TYPE: rdata" entry.  as_txt: this is the TXT copy of an SPF
 * entry; SPF entries are otherwise not served at all.
 */
static int
suite_record(struct loader *ld, struct spf_zone *zone, const char *name,
    const yaml_node_pair_t *pair, int as_txt)
{
	yaml_node_t *key = suite_node(ld, pair->key);
	yaml_node_t *value = suite_node(ld, pair->value);
	const char *typestr, *text;
	int type;

	if ((typestr = suite_text(ld, key, "record type")) == NULL)
		return -1;
	if (value == NULL)
		return suite_error(ld, key, "missing rdata");
	if ((type = suite_rrtype(typestr)) == -1)
		return suite_error(ld, key, "unknown record type %s", typestr);
	if (type == 99 && !as_txt)
		return 0;
	if (as_txt)
		type = SPF_RR_TXT;
	if (suite_is(value, "NONE"))
		return 0;
	if (suite_is(value, "TIMEOUT")) {
		if (type == 5 || spf_zone_add_failure(zone, name, type,
		    SPF_DNS_TIMEOUT) == -1)
			return suite_error(ld, value, "bad TIMEOUT for %s",
			    name);
		return 0;
	}
	if (type == SPF_RR_TXT)
		return suite_txt(ld, zone, name, value);
	if (type == SPF_RR_MX)
		return suite_mx(ld, zone, name, value);
	if ((text = suite_text(ld, value, "rdata")) == NULL)
		return -1;
	if (type == 5 ? spf_zone_add_cname(zone, name, text) :
	    spf_zone_add(zone, name, type, text))
		return suite_error(ld, value, "bad %s record \"%s\" for %s",
		    typestr, text, name);
	return 0;
}

/* Calls suite_record() for every pair of a one-key map entry (SPF only
 * when spf_only, as TXT copies). */
static int
suite_entry(struct loader *ld, struct spf_zone *zone, const char *name,
    const yaml_node_t *entry, int spf_only)
{
	yaml_node_pair_t *p;

	for (p = entry->data.mapping.pairs.start;
	    p < entry->data.mapping.pairs.top; p++) {
		if (spf_only && !suite_is(suite_node(ld, p->key), "SPF"))
			continue;
		if (suite_record(ld, zone, name, p, spf_only) == -1)
			return -1;
	}
	return 0;
}

/* 1 if a zonedata entry is a map with a TXT key (even TXT: NONE). */
static int
suite_has_txt(struct loader *ld, const yaml_node_t *entry)
{
	yaml_node_pair_t *p;

	if (entry == NULL || entry->type != YAML_MAPPING_NODE)
		return 0;
	for (p = entry->data.mapping.pairs.start;
	    p < entry->data.mapping.pairs.top; p++)
		if (suite_is(suite_node(ld, p->key), "TXT"))
			return 1;
	return 0;
}

/* Loads the record list of one zonedata name (see suite.h for rules). */
static int
suite_name(struct loader *ld, struct spf_zone *zone, yaml_node_t *key,
    yaml_node_t *list)
{
	yaml_node_item_t *it, *stop;
	const yaml_node_t *entry;
	const char *name;
	int has_txt = 0;

	if ((name = suite_text(ld, key, "domain name")) == NULL)
		return -1;
	if (spf_zone_add_name(zone, name) == -1)
		return suite_error(ld, key, "bad domain name \"%s\"", name);
	if (list == NULL || list->type != YAML_SEQUENCE_NODE)
		return suite_error(ld, key, "records of %s must be a list",
		    name);
	stop = list->data.sequence.items.top;
	for (it = list->data.sequence.items.start; it < stop; it++)
		has_txt |= suite_has_txt(ld, suite_node(ld, *it));
	for (it = list->data.sequence.items.start; it < stop; it++) {
		entry = suite_node(ld, *it);
		if (suite_is(entry, "TIMEOUT")) {
			if (spf_zone_add_failure(zone, name, 0,
			    SPF_DNS_TIMEOUT) == -1)
				return suite_error(ld, entry, "cannot add");
			return 0;	/* nothing after it is reachable */
		}
		if (entry == NULL || entry->type != YAML_MAPPING_NODE)
			return suite_error(ld, entry ? entry : list,
			    "bad record entry for %s", name);
		if (suite_entry(ld, zone, name, entry, 0) == -1)
			return -1;
	}
	for (it = list->data.sequence.items.start; !has_txt && it < stop; it++)
		if (suite_entry(ld, zone, name, suite_node(ld, *it), 1) == -1)
			return -1;
	return 0;
}

/* Builds the scenario's zone from its zonedata map. */
static int
suite_zonedata(struct loader *ld, yaml_node_t *map, struct suite_scenario *sc)
{
	yaml_node_pair_t *p, *q;
	const yaml_node_t *k1, *k2;

	if (map->type != YAML_MAPPING_NODE)
		return suite_error(ld, map, "zonedata must be a map");
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	    p++) {
		k1 = suite_node(ld, p->key);
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			k2 = suite_node(ld, q->key);
			if (k1 != NULL && k2 != NULL &&
			    k1->type == YAML_SCALAR_NODE &&
			    k2->type == YAML_SCALAR_NODE &&
			    strcasecmp((const char *)k1->data.scalar.value,
			    (const char *)k2->data.scalar.value) == 0)
				return suite_error(ld, k1, "duplicate name");
		}
		if (suite_name(ld, sc->zone, suite_node(ld, p->key),
		    suite_node(ld, p->value)) == -1)
			return -1;
	}
	return 0;
}

/*
 * Test cases
 */

/* Maps an RFC 7208 result name to its enum value, or -1. */
static int
suite_result_parse(const char *s)
{
	static const char *const names[SPF_RESULT_COUNT] = {
		[SPF_RESULT_NONE] = "none",
		[SPF_RESULT_NEUTRAL] = "neutral",
		[SPF_RESULT_PASS] = "pass",
		[SPF_RESULT_FAIL] = "fail",
		[SPF_RESULT_SOFTFAIL] = "softfail",
		[SPF_RESULT_TEMPERROR] = "temperror",
		[SPF_RESULT_PERMERROR] = "permerror",
	};
	int i;

	for (i = 0; i < SPF_RESULT_COUNT; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* Appends one result name node to the case's acceptable results. */
static int
suite_result_add(struct loader *ld, const yaml_node_t *item,
    struct suite_case *c)
{
	const char *s;
	int r;

	if ((s = suite_text(ld, item, "result")) == NULL)
		return -1;
	if ((r = suite_result_parse(s)) == -1)
		return suite_error(ld, item, "unknown result \"%s\"", s);
	if (c->nresults == SPF_RESULT_COUNT)
		return suite_error(ld, item, "too many results");
	c->results[c->nresults++] = (enum spf_result)r;
	return 0;
}

/* Parses "result": a result name or a list of them. */
static int
suite_results(struct loader *ld, yaml_node_t *node, struct suite_case *c)
{
	yaml_node_item_t *it;

	if (node->type != YAML_SEQUENCE_NODE)
		return suite_result_add(ld, node, c);
	if (node->data.sequence.items.start == node->data.sequence.items.top)
		return suite_error(ld, node, "empty result list");
	for (it = node->data.sequence.items.start;
	    it < node->data.sequence.items.top; it++)
		if (suite_result_add(ld, suite_node(ld, *it), c) == -1)
			return -1;
	return 0;
}

/* Copies "spec" (a scalar, or a list joined with ", ") into c->spec. */
static int
suite_spec(struct loader *ld, yaml_node_t *node, struct suite_case *c)
{
	yaml_node_item_t *it;
	const char *s;
	char buf[256];
	size_t off = 0;
	int n;

	if (node->type != YAML_SEQUENCE_NODE)
		return suite_dup(ld, node, "spec", &c->spec);
	buf[0] = '\0';
	for (it = node->data.sequence.items.start;
	    it < node->data.sequence.items.top; it++) {
		if ((s = suite_text(ld, suite_node(ld, *it), "spec")) == NULL)
			return -1;
		n = snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    off ? ", " : "", s);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			return suite_error(ld, node, "spec list too long");
		off += (size_t)n;
	}
	if ((c->spec = strdup(buf)) == NULL)
		return suite_error(ld, node, "out of memory");
	return 0;
}

/* Parses the host address into c->family/c->ip. */
static int
suite_host(struct loader *ld, const yaml_node_t *node, struct suite_case *c)
{
	if (inet_pton(AF_INET, c->host, c->ip) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, c->host, c->ip) == 1)
		c->family = AF_INET6;
	else
		return suite_error(ld, node, "bad host address \"%s\"",
		    c->host);
	return 0;
}

/* Loads one field of a test case; unknown keys are ignored. */
static int
suite_field(struct loader *ld, const char *key, yaml_node_t *value,
    struct suite_case *c)
{
	if (strcmp(key, "host") == 0)
		return suite_dup(ld, value, key, &c->host) == -1 ? -1 :
		    suite_host(ld, value, c);
	if (strcmp(key, "mailfrom") == 0)
		return suite_dup(ld, value, key, &c->mailfrom);
	if (strcmp(key, "helo") == 0)
		return suite_dup(ld, value, key, &c->helo);
	if (strcmp(key, "explanation") == 0)
		return suite_dup(ld, value, key, &c->explanation);
	if (strcmp(key, "description") == 0)
		return suite_dup(ld, value, key, &c->description);
	if (strcmp(key, "spec") == 0)
		return suite_spec(ld, value, c);
	if (strcmp(key, "result") == 0)
		return suite_results(ld, value, c);
	return 0;	/* comment, strict, ...: not used by this driver */
}

/* Loads one test case from its map. */
static int
suite_case_load(struct loader *ld, yaml_node_t *key, yaml_node_t *map,
    struct suite_case *c)
{
	yaml_node_pair_t *p;
	const char *k;

	c->line = (int)key->start_mark.line + 1;
	if (suite_dup(ld, key, "test name", &c->name) == -1)
		return -1;
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return suite_error(ld, key, "test %s must be a map", c->name);
	if (suite_unique_keys(ld, map) == -1)
		return -1;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	    p++) {
		if ((k = suite_text(ld, suite_node(ld, p->key), "key")) == NULL)
			return -1;
		if (suite_node(ld, p->value) == NULL ||
		    suite_field(ld, k, suite_node(ld, p->value), c) == -1)
			return -1;
	}
	if (c->host == NULL || c->helo == NULL || c->mailfrom == NULL ||
	    c->nresults == 0)
		return suite_error(ld, key, "test %s lacks host, helo, "
		    "mailfrom or result", c->name);
	return 0;
}

/* 1 if a test name is already used anywhere in the suite. */
static int
suite_name_taken(const struct suite *s, const struct suite_scenario *cur,
    const char *name)
{
	int i, j, n;

	for (i = 0; i < s->nscenarios; i++) {
		n = &s->scenarios[i] == cur ? cur->ncases - 1 :
		    s->scenarios[i].ncases;
		for (j = 0; j < n; j++)
			if (strcmp(s->scenarios[i].cases[j].name, name) == 0)
				return 1;
	}
	return 0;
}

/* Loads the "tests" map of a scenario. */
static int
suite_tests(struct loader *ld, yaml_node_t *map, struct suite_scenario *sc)
{
	yaml_node_pair_t *p;
	size_t n;

	if (map->type != YAML_MAPPING_NODE)
		return suite_error(ld, map, "tests must be a map");
	n = (size_t)(map->data.mapping.pairs.top -
	    map->data.mapping.pairs.start);
	if ((sc->cases = calloc(n ? n : 1, sizeof(*sc->cases))) == NULL)
		return suite_error(ld, map, "out of memory");
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	    p++) {
		sc->ncases++;
		if (suite_case_load(ld, suite_node(ld, p->key),
		    suite_node(ld, p->value), &sc->cases[sc->ncases - 1]) == -1)
			return -1;
		if (suite_name_taken(ld->suite, sc,
		    sc->cases[sc->ncases - 1].name))
			return suite_error(ld, suite_node(ld, p->key),
			    "duplicate test name %s",
			    sc->cases[sc->ncases - 1].name);
	}
	ld->suite->ncases += sc->ncases;
	return 0;
}

/* Loads one scenario from the root map of a document. */
static int
suite_scenario_load(struct loader *ld, yaml_node_t *root,
    struct suite_scenario *sc)
{
	yaml_node_t *tests = NULL, *zonedata = NULL, *k, *v;
	yaml_node_pair_t *p;

	sc->line = (int)root->start_mark.line + 1;
	if (root->type != YAML_MAPPING_NODE)
		return suite_error(ld, root, "a scenario must be a map");
	if (suite_unique_keys(ld, root) == -1)
		return -1;
	for (p = root->data.mapping.pairs.start;
	    p < root->data.mapping.pairs.top; p++) {
		k = suite_node(ld, p->key);
		v = suite_node(ld, p->value);
		if (v == NULL)
			continue;
		if (suite_is(k, "description")) {
			if (suite_dup(ld, v, "description",
			    &sc->description) == -1)
				return -1;
		} else if (suite_is(k, "tests"))
			tests = v;
		else if (suite_is(k, "zonedata"))
			zonedata = v;
	}
	if (sc->description == NULL || tests == NULL)
		return suite_error(ld, root,
		    "scenario lacks description or tests");
	if ((sc->zone = spf_zone_new()) == NULL)
		return suite_error(ld, root, "out of memory");
	if (zonedata != NULL && suite_zonedata(ld, zonedata, sc) == -1)
		return -1;
	return suite_tests(ld, tests, sc);
}

/* Appends an empty scenario to the suite; NULL on out of memory. */
static struct suite_scenario *
suite_scenario_new(struct suite *s)
{
	struct suite_scenario *a;

	a = realloc(s->scenarios, (size_t)(s->nscenarios + 1) * sizeof(*a));
	if (a == NULL)
		return NULL;
	s->scenarios = a;
	memset(&a[s->nscenarios], 0, sizeof(*a));
	return &a[s->nscenarios++];
}

/* Reads every document of the open parser into ld->suite. */
static int
suite_documents(struct loader *ld, yaml_parser_t *parser)
{
	struct suite_scenario *sc;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_t where;
	int rc;

	for (;;) {
		if (!yaml_parser_load(parser, &doc)) {
			memset(&where, 0, sizeof(where));
			where.start_mark = parser->problem_mark;
			return suite_error(ld, &where, "YAML: %s",
			    parser->problem ? parser->problem : "error");
		}
		if ((root = yaml_document_get_root_node(&doc)) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		ld->doc = &doc;
		if ((sc = suite_scenario_new(ld->suite)) == NULL)
			rc = suite_error(ld, root, "out of memory");
		else
			rc = suite_scenario_load(ld, root, sc);
		ld->doc = NULL;
		yaml_document_delete(&doc);
		if (rc == -1)
			return -1;
	}
	if (ld->suite->nscenarios == 0)
		return suite_error(ld, NULL, "no scenario in file");
	return 0;
}

/* Loads a suite file; NULL with "FILE:LINE: message" in err on error. */
struct suite *
suite_load(const char *path, char *err, size_t errlen)
{
	struct loader ld;
	yaml_parser_t parser;
	int parser_ok = 0;
	FILE *fp = NULL;

	memset(&ld, 0, sizeof(ld));
	ld.path = path ? path : "(null)";
	ld.err = err;
	ld.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((ld.suite = calloc(1, sizeof(*ld.suite))) == NULL) {
		suite_error(&ld, NULL, "out of memory");
		goto fail;
	}
	if (path == NULL || (fp = fopen(path, "rb")) == NULL) {
		suite_error(&ld, NULL, "cannot open: %s",
		    path ? strerror(errno) : "no path");
		goto fail;
	}
	if (!yaml_parser_initialize(&parser)) {
		suite_error(&ld, NULL, "cannot initialize libyaml");
		goto fail;
	}
	parser_ok = 1;
	yaml_parser_set_input_file(&parser, fp);
	if (suite_documents(&ld, &parser) == -1)
		goto fail;
	yaml_parser_delete(&parser);
	fclose(fp);
	return ld.suite;
fail:
	if (parser_ok)
		yaml_parser_delete(&parser);
	if (fp != NULL)
		fclose(fp);
	suite_free(ld.suite);
	return NULL;
}

/* Frees the strings of one case. */
static void
suite_case_free(struct suite_case *c)
{
	free(c->name);
	free(c->description);
	free(c->spec);
	free(c->host);
	free(c->mailfrom);
	free(c->helo);
	free(c->explanation);
}

/* Frees a suite and every zone and case in it; NULL-safe. */
void
suite_free(struct suite *suite)
{
	struct suite_scenario *sc;
	int i, j;

	if (suite == NULL)
		return;
	for (i = 0; i < suite->nscenarios; i++) {
		sc = &suite->scenarios[i];
		for (j = 0; j < sc->ncases; j++)
			suite_case_free(&sc->cases[j]);
		free(sc->cases);
		spf_zone_free(sc->zone);
		free(sc->description);
	}
	free(suite->scenarios);
	free(suite);
}

/* Fills an SPF request for a case, as the suite's expectations assume. */
void
suite_request(const struct suite_case *c, struct spf_request *req)
{
	memset(req, 0, sizeof(*req));
	req->family = c->family;
	memcpy(req->ip, c->ip, sizeof(req->ip));
	req->identity = SPF_ID_MAILFROM;
	req->sender = c->mailfrom;	/* "": null path -> postmaster@helo */
	req->helo = c->helo;
	req->receiver = SUITE_RECEIVER;
	req->default_explanation = SUITE_DEFAULT_EXPLANATION;
	req->now = SUITE_NOW;
	/* req->limits stays zero: the RFC 7208 defaults. */
}

/* 1 if result is acceptable for the case. */
int
suite_accepts(const struct suite_case *c, enum spf_result result)
{
	int i;

	for (i = 0; i < c->nresults; i++)
		if (c->results[i] == result)
			return 1;
	return 0;
}
