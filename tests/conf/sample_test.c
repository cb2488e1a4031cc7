/*
 * sample_test.c - keeps the shipped documentation honest:
 *	conf/spfgate.conf.sample parses cleanly, documents every key of the
 *	schema in the right section (and no key that does not exist), and
 *	every default it shows ("#key = value" in a [section] that appears
 *	once) is the real default; packaging/spfgate.conf.5 documents every
 *	key in the right section and no other.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_impl.h"
#include "tests/check.h"

#ifndef SPFGATE_SOURCE_DIR
#error "SPFGATE_SOURCE_DIR must name the source tree"
#endif

#define SAMPLE SPFGATE_SOURCE_DIR "/conf/spfgate.conf.sample"
#define MANPAGE SPFGATE_SOURCE_DIR "/packaging/spfgate.conf.5"
#define BACKEND "[backend]\nservers = 127.0.0.1:10025\n"

/* seen[sect][key]: how often the document mentions the key there. */
static int seen[CONF_S_COUNT][CONF_SECT_KEYS_MAX];

/* Reads the section kind after the first '[' of line, or -1. */
static int
section_of(const char *line)
{
	const char *open = strchr(line, '[');
	char word[32];
	size_t n = 0;

	if (open == NULL)
		return -1;
	for (open++; isalpha((unsigned char)open[n]) && n + 1 < sizeof(word);
	    n++)
		word[n] = open[n];
	word[n] = '\0';
	return conf_schema_find_section(word);
}

/* Copies the key name at s ([a-z0-9_]+) into buf; returns its length. */
static size_t
key_name(const char *s, char *buf, size_t buflen)
{
	size_t n = 0;

	while ((islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) ||
	    s[n] == '_') && n + 1 < buflen) {
		buf[n] = s[n];
		n++;
	}
	buf[n] = '\0';
	return n;
}

/* Counts a key mentioned in a section; reports keys the schema lacks. */
static int
mention(const char *doc, int lineno, int sect, const char *key)
{
	int k;

	if (!check_one(sect >= 0, doc, lineno, "key inside a known section"))
		return -1;
	k = conf_schema_find_key(sect, key);
	if (!check_one(k >= 0, doc, lineno, "documented key exists"))
		fprintf(stderr, "    [%s] %s\n",
		    conf_schema_section(sect)->name, key);
	else
		seen[sect][k]++;
	return k;
}

/* Every key of the schema was mentioned in its section of doc. */
static void
check_all_seen(const char *doc)
{
	const struct conf_section_def *def;
	size_t k;
	int s;

	for (s = 0; s < CONF_S_COUNT; s++) {
		def = conf_schema_section(s);
		for (k = 0; k < def->nkeys; k++)
			if (!check_one(seen[s][k] > 0, doc, 0,
			    "key documented"))
				fprintf(stderr, "    [%s] %s\n", def->name,
				    def->keys[k].name);
	}
	memset(seen, 0, sizeof(seen));
}

/*
 * Parses "[sect]\nkey = value" and checks the value equals the default;
 * the shown default of a derived key ("" for hostname) must give the
 * derived default too.
 */
static void
check_shown_default(int lineno, int sect, int k, const char *value)
{
	const struct conf_section_def *def = conf_schema_section(sect);
	struct conf *d = conf_defaults(), *c;
	struct conf_errors errs;
	char text[512];

	if (sect == CONF_S_BACKEND)
		snprintf(text, sizeof(text), BACKEND "%s = %s\n",
		    def->keys[k].name, value);
	else
		snprintf(text, sizeof(text), "[%s]\n%s = %s\n" BACKEND,
		    def->name, def->keys[k].name, value);
	c = conf_parse_string("sample-line", text, strlen(text), &errs);
	if (!check_one(c != NULL && d != NULL && conf_schema_field_equal(
	    conf_object_base(c, sect, 0), conf_object_base(d, sect, 0),
	    &def->keys[k]), SAMPLE, lineno, "shown default is the default"))
		fprintf(stderr, "    [%s] %s = %s\n", def->name,
		    def->keys[k].name, value);
	conf_free(c);
	conf_free(d);
}

/* Walks the sample: sections (also commented ones) and key lines. */
static void
scan_sample(FILE *fp)
{
	char line[1024], key[64];
	int lineno = 0, sect = -1, k;
	size_t n;

	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *s = line;
		int commented = 0;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (*s == '#' &&
		    (s[1] == '[' || islower((unsigned char)s[1]))) {
			commented = 1;
			s++;
		}
		if (*s == '[') {
			sect = section_of(s);
			CHECK(sect >= 0);
			continue;
		}
		if ((n = key_name(s, key, sizeof(key))) == 0 ||
		    strncmp(s + n, " =", 2) != 0)
			continue;
		k = mention(SAMPLE, lineno, sect, key);
		if (k >= 0 && commented && sect >= 0 &&
		    !conf_schema_section(sect)->repeatable)
			check_shown_default(lineno, sect, k,
			    s[n + 2] == ' ' ? s + n + 3 : s + n + 2);
	}
}

/* The sample loads, and documents every key with its true default. */
static void
test_sample(void)
{
	struct conf_errors errs;
	struct conf *c = conf_load(SAMPLE, &errs);
	FILE *fp;

	if (!check_one(c != NULL, SAMPLE, 0, "sample parses cleanly"))
		conf_errors_print(&errs, stderr);
	if (c != NULL) {
		CHECK_INT(c->nlisteners, 1);
		CHECK_INT(c->backend.servers.n, 2);
	}
	conf_free(c);
	fp = fopen(SAMPLE, "r");
	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	scan_sample(fp);
	fclose(fp);
	check_all_seen(SAMPLE);
}

/* The man page has an entry ".TP" + "\fBkey\fR" per key per section. */
static void
test_manpage(void)
{
	char line[1024], key[64];
	int lineno = 0, sect = -1, after_tp = 0;
	FILE *fp = fopen(MANPAGE, "r");

	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strncmp(line, ".SH", 3) == 0) {
			sect = strncmp(line, ".SH \"SECTION [", 14) == 0 ?
			    section_of(line) : -1;
			continue;
		}
		if (after_tp && sect >= 0 && strncmp(line, "\\fB", 3) == 0 &&
		    key_name(line + 3, key, sizeof(key)) > 0)
			mention(MANPAGE, lineno, sect, key);
		after_tp = strncmp(line, ".TP", 3) == 0;
	}
	fclose(fp);
	check_all_seen(MANPAGE);
}

int
main(void)
{
	test_sample();
	test_manpage();
	return check_report();
}
