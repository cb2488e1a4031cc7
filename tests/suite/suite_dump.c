/*
 * suite_dump.c - answers DNS questions from the zones of a suite file.
 *
 * Usage: suite_dump SUITE.YML < QUESTIONS
 *
 * Each input line is "SCENARIO<TAB>NAME<TAB>TYPE" (scenario index from 0,
 * TYPE one of A AAAA MX PTR TXT); each output line repeats it and adds
 * "<TAB>STATUS<TAB>RDATA" where RDATA is the records in lower-case hex,
 * separated by spaces ("." for an empty record).  zone_oracle.py computes
 * the same lines independently from the YAML; zone_oracle.sh compares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/suite/suite.h"

#define DUMP_LINE_MAX 1024

/* Callback: prints the status and the records. */
static void
dump_cb(void *arg, const struct spf_dns_answer *ans)
{
	static const char *const names[] = { "ANSWER", "NODATA", "NXDOMAIN",
	    "TIMEOUT", "SERVFAIL", "BOGUS" };
	int i, j;

	(void)arg;
	printf("\t%s\t", names[ans->status]);
	for (i = 0; i < ans->count; i++) {
		if (i > 0)
			putchar(' ');
		if (ans->rdlen[i] == 0)
			putchar('.');
		for (j = 0; j < ans->rdlen[i]; j++)
			printf("%02x", ans->rdata[i][j]);
	}
	putchar('\n');
}

/* Maps a type name to its number, or -1. */
static int
dump_type(const char *s)
{
	if (strcmp(s, "A") == 0)
		return SPF_RR_A;
	if (strcmp(s, "AAAA") == 0)
		return SPF_RR_AAAA;
	if (strcmp(s, "MX") == 0)
		return SPF_RR_MX;
	if (strcmp(s, "PTR") == 0)
		return SPF_RR_PTR;
	if (strcmp(s, "TXT") == 0)
		return SPF_RR_TXT;
	return -1;
}

/* Answers one question line; returns -1 on a malformed line. */
static int
dump_line(const struct suite *s, struct spf_resolver **res, char *line)
{
	char *name, *type, *end;
	long idx;
	uint64_t id;
	int t;

	line[strcspn(line, "\n")] = '\0';
	if ((name = strchr(line, '\t')) == NULL)
		return -1;
	*name++ = '\0';
	if ((type = strchr(name, '\t')) == NULL)
		return -1;
	*type++ = '\0';
	idx = strtol(line, &end, 10);
	if (*end != '\0' || idx < 0 || idx >= s->nscenarios ||
	    (t = dump_type(type)) == -1)
		return -1;
	printf("%ld\t%s\t%s", idx, name, type);
	if (res[idx]->ops->query(res[idx], name, (enum spf_rrtype)t, dump_cb,
	    NULL, &id) == -1)
		printf("\tREFUSED\t\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct spf_resolver **res;
	char err[512], line[DUMP_LINE_MAX];
	struct suite *s;
	int i, rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: suite_dump SUITE.YML < QUESTIONS\n");
		return 2;
	}
	if ((s = suite_load(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if ((res = calloc((size_t)s->nscenarios, sizeof(*res))) == NULL)
		return 1;
	for (i = 0; i < s->nscenarios; i++)
		if ((res[i] = spf_zone_resolver_new(s->scenarios[i].zone)) == NULL)
			return 1;
	while (rc == 0 && fgets(line, sizeof(line), stdin) != NULL)
		if (dump_line(s, res, line) == -1) {
			fprintf(stderr, "bad question: %s\n", line);
			rc = 1;
		}
	for (i = 0; i < s->nscenarios; i++)
		res[i]->ops->free(res[i]);
	free(res);
	suite_free(s);
	return rc;
}
