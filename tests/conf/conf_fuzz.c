/*
 * conf_fuzz.c - invariants checked on any input to the configuration
 * parser (see conf_fuzz.h).  Aborts loudly so that both libFuzzer and
 * ctest see a broken invariant as a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "tests/conf/conf_fuzz.h"

/* Reports a broken invariant and aborts. */
static void
broken(const char *what)
{
	fprintf(stderr, "conf_fuzz: invariant broken: %s\n", what);
	abort();
}

/* Checks that no line of text (len bytes) exceeds the line limit. */
static void
check_lines(const char *text, size_t len)
{
	size_t start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		if (i - start > CONF_LINE_MAX)
			broken("dumped line too long");
		start = i + 1;
	}
}

/* Dumps conf, parses the dump back and compares. */
static void
check_roundtrip(const struct conf *conf)
{
	struct conf_errors errs;
	struct conf *again;
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (fp == NULL)
		broken("open_memstream");
	conf_dump(conf, fp);
	if (fclose(fp) != 0)
		broken("dump written");
	check_lines(text, len);
	again = conf_parse_string("dump", text, len, &errs);
	if (again == NULL) {
		conf_errors_print(&errs, stderr);
		fprintf(stderr, "%s", text);
		broken("the dump parses");
	}
	if (!conf_equal(conf, again)) {
		fprintf(stderr, "%s", text);
		broken("parse(dump(c)) == c");
	}
	conf_free(again);
	free(text);
}

int
conf_fuzz_one(const uint8_t *data, size_t size)
{
	struct conf_errors errs;
	struct conf *conf;
	int i;

	conf = conf_parse_string("f.conf", (const char *)data, size, &errs);
	if (conf != NULL) {
		if (errs.count != 0)
			broken("no errors when accepted");
		check_roundtrip(conf);
		conf_free(conf);
		return 1;
	}
	if (errs.count < 1 || errs.count > CONF_ERRORS_MAX)
		broken("1..CONF_ERRORS_MAX errors when refused");
	for (i = 0; i < errs.count; i++)
		if (memchr(errs.line[i], '\0', CONF_ERROR_LEN) == NULL ||
		    strncmp(errs.line[i], "f.conf", 6) != 0)
			broken("error lines name the file");
	return 0;
}
