/*
 * suite.h - loader of the OpenSPF conformance suites (rfc7208-tests.yml).
 *
 * CONTRACT
 *	suite_load() parses a suite file (several YAML documents, one per
 *	scenario) into scenarios, each with an in-memory DNS zone built with
 *	spf_zone_*() and its test cases in file order.  The zone follows the
 *	suite's conventions (tests/rfc7208/README.md, pyspf's test driver):
 *	  - SPF-type records are served as TXT, unless the name lists any TXT
 *	    entry (even "TXT: NONE"); type 99 itself is never served.
 *	  - "TYPE: NONE" adds nothing; every zonedata name exists (NODATA).
 *	  - a bare "- TIMEOUT" makes every type without records listed before
 *	    it time out, and ends the name's list (like pyspf, whose copies
 *	    of SPF records come after it and are never reached);
 *	    "TYPE: TIMEOUT" makes that type time out.
 *	  - TXT/SPF rdata is one string or a list of strings (the strings of
 *	    one record, [] is a record without strings); a string longer
 *	    than 255 octets becomes several 255-octet character-strings.
 *	    YAML "\xNN" escapes are code points and reach the zone UTF-8
 *	    encoded, as libyaml decodes them.
 *	  - MX rdata is [preference, exchange]; "" is the root.
 *	  - names starting with "error." are not special (no suite case needs
 *	    pyspf's rule that they time out).
 *
 *	suite_request() fills a struct spf_request the way the suite's
 *	expected results assume (pyspf's driver: query(i, s, h) with the
 *	default explanation "DEFAULT" and receiver "unknown"): a check_host()
 *	of the MAIL FROM identity.  When mailfrom is empty the sender is the
 *	null path and the engine checks postmaster@<helo> (RFC 7208 2.4), as
 *	pyspf does.  The client address is passed as written: an IPv4-mapped
 *	IPv6 address stays AF_INET6 (the engine decides what it means).
 *
 * OWNERSHIP
 *	Everything hangs off the struct suite and is released by suite_free().
 *	The request filled by suite_request() points into the case.
 *
 * Uses libyaml and the spf library's zone (no SPF engine code), so it can
 * be tested before the engine exists.
 */
#ifndef TESTS_SUITE_SUITE_H
#define TESTS_SUITE_SUITE_H

#include <stddef.h>

#include "spf/spf.h"

#define SUITE_DEFAULT_EXPLANATION "DEFAULT"	/* suite convention */
#define SUITE_RECEIVER "unknown"		/* pyspf's default %{r} */
#define SUITE_NOW ((time_t)1397001600)		/* %{t}: fixed, 2014-04-09 */

/* One test case. */
struct suite_case {
	char *name;
	char *description;	/* NULL if absent */
	char *spec;		/* RFC section(s); NULL if absent */
	char *host;		/* client address as written */
	char *mailfrom;		/* "" for the null path */
	char *helo;
	int family;		/* AF_INET or AF_INET6, parsed from host */
	unsigned char ip[16];
	/* Acceptable results, the preferred one first. */
	enum spf_result results[SPF_RESULT_COUNT];
	int nresults;
	char *explanation;	/* exact expected explanation, or NULL */
	int line;		/* line of the case in the file */
};

/* One scenario: a zone and the cases run against it. */
struct suite_scenario {
	char *description;
	struct spf_zone *zone;
	struct suite_case *cases;
	int ncases;
	int line;
};

struct suite {
	struct suite_scenario *scenarios;
	int nscenarios;
	int ncases;		/* over all scenarios */
};

/*
 * Loads a suite file.  On error returns NULL and writes
 * "FILE:LINE: message" into err.
 */
struct suite *suite_load(const char *path, char *err, size_t errlen);

/* Frees a suite; NULL-safe. */
void suite_free(struct suite *suite);

/* Fills req for case c (see CONTRACT); req points into c afterwards. */
void suite_request(const struct suite_case *c, struct spf_request *req);

/* 1 if result is one of the case's acceptable results, else 0. */
int suite_accepts(const struct suite_case *c, enum spf_result result);

#endif /* TESTS_SUITE_SUITE_H */
