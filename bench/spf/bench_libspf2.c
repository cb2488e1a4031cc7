/*
 * bench_libspf2.c - libspf2 on the RFC 7208 suite, for comparison.
 *
 * CONTRACT
 *	Reads the flat zone table that bench/spf/suite_data.py exports from
 *	the suite YAML (format documented there): one libspf2 zone DNS layer
 *	(SPF_dns_zone_new + SPF_dns_zone_add_str, no real DNS) and one
 *	SPF_server per scenario.  Answers map onto the zone layer as
 *	follows: records -> NETDB_SUCCESS entries; NODATA -> NO_DATA; a
 *	timeout or a CNAME loop -> TRY_AGAIN (what glibc reports for a
 *	SERVFAIL); names absent from the table -> the layer's own
 *	HOST_NOT_FOUND.  CNAMEs were already resolved by the exporter, as a
 *	recursive resolver would before libspf2 sees the answer.  TXT
 *	character-strings are joined; a string with an embedded NUL cannot
 *	be given to SPF_dns_zone_add_str and ends there.
 *
 *	Each evaluation is what a caller does: SPF_request_new, set the
 *	client address (parsed once at load time, as a caller has it from
 *	the socket), HELO and MAIL FROM, SPF_request_query_mailfrom, free
 *	response and request.  The receiver's default explanation is
 *	"DEFAULT" and the receiving domain "unknown", as in the suite drivers.
 *
 *	--check FLAT      runs every case once, each in a forked child (a
 *	                  libspf2 abort or crash fails that case only), and
 *	                  prints "check ID ok|FAIL RESULT" per case.
 *	--time SECONDS --cases IDS FLAT
 *	                  times the listed cases (bench_util.h) and prints
 *	                  the "rate ..." line.
 *
 *	Static functions use the prefix bl_ (bench libspf2).  This program
 *	links libspf2 only; spfgate's spf/spf.h is never included here (both
 *	define SPF_RESULT_*).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include "bench_util.h"

#define BL_LINE_MAX	65536	/* longest accepted line of the table */
#define BL_FIELDS	8
#define BL_EXP_MAX	1024
#define BL_CHILD_SECONDS 10	/* per-case limit in --check */

struct bl_case {
	char	*id;
	char	*host;
	char	*mailfrom;
	char	*helo;
	char	*results;	/* comma-separated acceptable results */
	char	*explanation;	/* NULL: not checked */
	size_t	 scenario;
	int	 family;	/* AF_INET, AF_INET6; 0: host unparsable */
	struct in_addr	v4;	/* parsed once, as a caller has it */
	struct in6_addr	v6;
};

struct bl_suite {
	SPF_server_t	**servers;	/* one per scenario; owns its zone */
	SPF_dns_server_t **zones;	/* borrowed from servers[] */
	size_t		  nservers;
	struct bl_case	 *cases;
	size_t		  ncases;
	size_t		  capcases;
	unsigned long	  bad_records;	/* records libspf2 refused */
};

/* One timed selection: case pointers in the order of the ids file. */
struct bl_selection {
	struct bl_suite		 *suite;
	const struct bl_case	**cases;
};

/*
 * LeakSanitizer hook (used only in -DSPFGATE_SANITIZE=ON builds): libspf2
 * 1.2.10's SPF_server_free() leaves its zone layer allocated.  Only leaks
 * whose allocation stack passes through libspf2 are suppressed; this
 * file's own allocations are still checked.
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libspf2.so\n";
}

/* Silences libspf2's warning/info/debug output (stderr by default). */
static void
bl_quiet(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

/* Lower-case RFC 7208 name of a libspf2 result. */
static const char *
bl_result_name(int result)
{
	switch (result) {
	case SPF_RESULT_NEUTRAL:	return "neutral";
	case SPF_RESULT_PASS:		return "pass";
	case SPF_RESULT_FAIL:		return "fail";
	case SPF_RESULT_SOFTFAIL:	return "softfail";
	case SPF_RESULT_NONE:		return "none";
	case SPF_RESULT_TEMPERROR:	return "temperror";
	case SPF_RESULT_PERMERROR:	return "permerror";
	case SPF_RESULT_INVALID:	return "(unset)";
	default:			return "(error)";
	}
}

/* Value of one hex digit, or -1. */
static int
bl_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decodes one percent-encoded field in place.  "-" is the empty string;
 * "*" means absent (returns 1).  Returns 0, 1, or -1 if malformed.
 */
static int
bl_decode(char *field)
{
	char *in = field, *out = field;
	int hi, lo;

	if (strcmp(field, "*") == 0)
		return 1;
	if (strcmp(field, "-") == 0) {
		field[0] = '\0';
		return 0;
	}
	while (*in != '\0') {
		if (*in != '%') {
			*out++ = *in++;
			continue;
		}
		if ((hi = bl_hex(in[1])) < 0 || (lo = bl_hex(in[2])) < 0)
			return -1;
		*out++ = (char)(hi * 16 + lo);
		in += 3;
	}
	*out = '\0';
	return 0;
}

/* Splits a line on single spaces into at most BL_FIELDS fields. */
static int
bl_split(char *line, char **fields)
{
	int n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(line, " \n", &save); tok != NULL && n < BL_FIELDS;
	    tok = strtok_r(NULL, " \n", &save))
		fields[n++] = tok;
	return tok == NULL ? n : -1;
}

/* The ns_type of a table TYPE word, or -1. */
static int
bl_rrtype(const char *word)
{
	static const struct { const char *name; int type; } types[] = {
		{ "A", ns_t_a }, { "AAAA", ns_t_aaaa }, { "MX", ns_t_mx },
		{ "PTR", ns_t_ptr }, { "TXT", ns_t_txt }, { "SPF", ns_t_spf },
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(word, types[i].name) == 0)
			return types[i].type;
	return -1;
}

/* Starts a scenario: a fresh zone layer and the server that owns it. */
static int
bl_add_scenario(struct bl_suite *suite)
{
	SPF_response_t *resp = NULL;
	SPF_dns_server_t *zone, **zones;
	SPF_server_t *server, **servers;
	size_t n = suite->nservers + 1;

	if ((servers = realloc(suite->servers, n * sizeof(*servers))) == NULL)
		return -1;
	suite->servers = servers;
	if ((zones = realloc(suite->zones, n * sizeof(*zones))) == NULL)
		return -1;
	suite->zones = zones;
	if ((zone = SPF_dns_zone_new(NULL, "bench", 0)) == NULL)
		return -1;
	if ((server = SPF_server_new_dns(zone, 0)) == NULL) {
		SPF_dns_free(zone);
		return -1;
	}
	servers[suite->nservers] = server;
	zones[suite->nservers] = zone;
	suite->nservers = n;
	if (SPF_server_set_explanation(server, "DEFAULT", &resp) !=
	    SPF_E_SUCCESS || SPF_server_set_rec_dom(server, "unknown") !=
	    SPF_E_SUCCESS) {
		if (resp != NULL)
			SPF_response_free(resp);
		return -1;
	}
	if (resp != NULL)
		SPF_response_free(resp);
	return 0;
}

/* "rr NAME TYPE VALUE" or "status NAME TYPE STATUS" into the zone. */
static int
bl_add_record(struct bl_suite *suite, char **f, int nf, int is_status)
{
	SPF_dns_server_t *zone;
	int type, herrno = NETDB_SUCCESS;
	const char *data = NULL;

	if (suite->nservers == 0 || nf != 4 || bl_decode(f[1]) != 0 ||
	    (type = bl_rrtype(f[2])) < 0)
		return -1;
	zone = suite->zones[suite->nservers - 1];
	if (!is_status) {
		if (bl_decode(f[3]) != 0)
			return -1;
		data = f[3];
	} else if (strcmp(f[3], "nodata") == 0)
		herrno = NO_DATA;
	else if (strcmp(f[3], "timeout") == 0 ||
	    strcmp(f[3], "servfail") == 0)
		herrno = TRY_AGAIN;
	else
		return -1;
	if (SPF_dns_zone_add_str(zone, f[1], (ns_type)type, herrno, data) !=
	    SPF_E_SUCCESS)
		suite->bad_records++;	/* e.g. a malformed A value */
	return 0;
}

/* Duplicates the decoded fields of a "case" line into a bl_case. */
static int
bl_fill_case(struct bl_case *c, char **f)
{
	char **dst[] = { &c->id, &c->host, &c->mailfrom, &c->helo,
	    &c->results, &c->explanation };
	int i, rc;

	for (i = 0; i < 6; i++) {
		if ((rc = bl_decode(f[i + 1])) < 0 || (rc == 1 && i != 5))
			return -1;
		if (rc == 1)
			continue;	/* absent explanation stays NULL */
		if ((*dst[i] = strdup(f[i + 1])) == NULL)
			return -1;
	}
	return 0;
}

/* Frees the strings of one case; NULL-safe fields. */
static void
bl_case_clear(struct bl_case *c)
{
	free(c->id);
	free(c->host);
	free(c->mailfrom);
	free(c->helo);
	free(c->results);
	free(c->explanation);
}

/* "case ID HOST MAILFROM HELO RESULTS EXPLANATION" */
static int
bl_add_case(struct bl_suite *suite, char **f, int nf)
{
	struct bl_case *grown, *c;

	if (suite->nservers == 0 || nf != 7)
		return -1;
	if (suite->ncases == suite->capcases) {
		suite->capcases = suite->capcases ? suite->capcases * 2 : 256;
		grown = realloc(suite->cases, suite->capcases * sizeof(*grown));
		if (grown == NULL)
			return -1;
		suite->cases = grown;
	}
	c = &suite->cases[suite->ncases];
	memset(c, 0, sizeof(*c));
	c->scenario = suite->nservers - 1;
	suite->ncases++;		/* counted now so that free sees it */
	if (bl_fill_case(c, f) != 0)
		return -1;
	if (inet_pton(AF_INET, c->host, &c->v4) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, c->host, &c->v6) == 1)
		c->family = AF_INET6;
	return 0;
}

/* Dispatches one line of the table. */
static int
bl_line(struct bl_suite *suite, char *line)
{
	char *f[BL_FIELDS];
	int nf;

	if ((nf = bl_split(line, f)) <= 0)
		return nf == 0 ? 0 : -1;
	if (strcmp(f[0], "scenario") == 0)
		return bl_add_scenario(suite);
	if (strcmp(f[0], "rr") == 0)
		return bl_add_record(suite, f, nf, 0);
	if (strcmp(f[0], "status") == 0)
		return bl_add_record(suite, f, nf, 1);
	if (strcmp(f[0], "case") == 0)
		return bl_add_case(suite, f, nf);
	return -1;
}

/* Releases a suite; NULL-safe. */
static void
bl_suite_free(struct bl_suite *suite)
{
	size_t i;

	if (suite == NULL)
		return;
	for (i = 0; i < suite->nservers; i++)
		SPF_server_free(suite->servers[i]);	/* frees its zone */
	for (i = 0; i < suite->ncases; i++)
		bl_case_clear(&suite->cases[i]);
	free(suite->servers);
	free(suite->zones);
	free(suite->cases);
	free(suite);
}

/* Loads the flat table; prints "FILE:LINE: ..." and returns NULL on error. */
static struct bl_suite *
bl_suite_load(const char *path)
{
	struct bl_suite *suite;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	FILE *fp = NULL;

	if ((suite = calloc(1, sizeof(*suite))) == NULL)
		return NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto fail;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (len > BL_LINE_MAX || bl_line(suite, line) != 0) {
			fprintf(stderr, "%s:%lu: bad line\n", path, lineno);
			goto fail;
		}
	}
	if (ferror(fp) || suite->ncases == 0) {
		fprintf(stderr, "%s: read error or no cases\n", path);
		goto fail;
	}
	fclose(fp);
	free(line);
	return suite;
fail:
	if (fp != NULL)
		fclose(fp);
	free(line);
	bl_suite_free(suite);
	return NULL;
}

/*
 * One evaluation as a caller would run it.  Returns the SPF_result_t or
 * -1; copies the explanation to exp when exp is not NULL.
 */
static int
bl_eval(SPF_server_t *server, const struct bl_case *c, char *exp,
    size_t explen)
{
	SPF_response_t *resp = NULL;
	SPF_request_t *req;
	SPF_errcode_t err;
	const char *text;
	int result = -1;

	if ((req = SPF_request_new(server)) == NULL)
		return -1;
	if (c->family == AF_INET6)
		err = SPF_request_set_ipv6(req, c->v6);
	else if (c->family == AF_INET)
		err = SPF_request_set_ipv4(req, c->v4);
	else
		goto done;
	if (err != SPF_E_SUCCESS ||
	    SPF_request_set_helo_dom(req, c->helo) != SPF_E_SUCCESS ||
	    SPF_request_set_env_from(req, c->mailfrom) != 0)
		goto done;
	/* The error code is not the verdict: the response carries it. */
	(void)SPF_request_query_mailfrom(req, &resp);
	if (resp == NULL)
		goto done;
	result = (int)SPF_response_result(resp);
	if (exp != NULL) {
		text = SPF_response_get_explanation(resp);
		if (snprintf(exp, explen, "%s", text ? text : "") >=
		    (int)explen)
			exp[0] = '\0';	/* too long to compare: treat as "" */
	}
done:
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
	return result;
}

/* Is name one of the comma-separated results? */
static int
bl_result_listed(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, len) == 0 && (p[len] == ',' ||
		    p[len] == '\0'))
			return 1;
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return 0;
}

/* Child side of --check: evaluates one case, prints, exits 0/1. */
static void
bl_check_child(struct bl_suite *suite, const struct bl_case *c)
{
	char exp[BL_EXP_MAX];
	const char *name;
	int result, ok;

	alarm(BL_CHILD_SECONDS);
	result = bl_eval(suite->servers[c->scenario], c, exp, sizeof(exp));
	name = bl_result_name(result);
	ok = bl_result_listed(c->results, name) &&
	    (c->explanation == NULL || strcmp(c->explanation, exp) == 0);
	printf("check %s %s %s\n", c->id, ok ? "ok" : "FAIL", name);
	fflush(stdout);
	_exit(ok ? 0 : 1);
}

/* --check: every case once, each in its own child process. */
static int
bl_check(struct bl_suite *suite)
{
	size_t i, passed = 0;
	int status;
	pid_t pid;

	for (i = 0; i < suite->ncases; i++) {
		fflush(stdout);
		if ((pid = fork()) < 0)
			return -1;
		if (pid == 0)
			bl_check_child(suite, &suite->cases[i]);
		if (waitpid(pid, &status, 0) != pid)
			return -1;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			passed++;
		else if (!WIFEXITED(status))
			printf("check %s FAIL (crash:signal-%d)\n",
			    suite->cases[i].id, WTERMSIG(status));
	}
	printf("summary libspf2 %zu/%zu\n", passed, suite->ncases);
	if (suite->bad_records > 0)
		printf("note libspf2 refused %lu zone records\n",
		    suite->bad_records);
	return 0;
}

/* bench_util_eval_fn over a selection. */
static int
bl_eval_selected(void *arg, size_t i)
{
	struct bl_selection *sel = arg;
	const struct bl_case *c = sel->cases[i];

	return bl_eval(sel->suite->servers[c->scenario], c, NULL, 0);
}

/* Finds a case by id, or NULL. */
static const struct bl_case *
bl_find(const struct bl_suite *suite, const char *id)
{
	size_t i;

	for (i = 0; i < suite->ncases; i++)
		if (strcmp(suite->cases[i].id, id) == 0)
			return &suite->cases[i];
	return NULL;
}

/* --time: the listed cases in a loop for seconds. */
static int
bl_time(struct bl_suite *suite, const char *ids_path, double seconds)
{
	struct bl_selection sel = { suite, NULL };
	struct bench_util_rate rate;
	char **ids = NULL;
	size_t nids = 0, i;
	int rc = -1;

	if (bench_util_read_ids(ids_path, &ids, &nids) != 0 || nids == 0) {
		fprintf(stderr, "%s: no case ids\n", ids_path);
		goto done;
	}
	if ((sel.cases = calloc(nids, sizeof(*sel.cases))) == NULL)
		goto done;
	for (i = 0; i < nids; i++)
		if ((sel.cases[i] = bl_find(suite, ids[i])) == NULL) {
			fprintf(stderr, "unknown case id %s\n", ids[i]);
			goto done;
		}
	if (bench_util_time(nids, bl_eval_selected, &sel, seconds,
	    &rate) == 0) {
		bench_util_print_rate(&rate);
		rc = 0;
	}
done:
	free(sel.cases);
	bench_util_free_ids(ids, nids);
	return rc;
}

/* Prints usage and returns the exit status 2. */
static int
bl_usage(void)
{
	fprintf(stderr, "usage: bench_libspf2 --check FLAT\n"
	    "       bench_libspf2 --time SECONDS --cases IDS FLAT\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct bl_suite *suite;
	double seconds = 0;
	int check, rc;

	check = argc == 3 && strcmp(argv[1], "--check") == 0;
	if (argc == 6 && strcmp(argv[1], "--time") == 0 &&
	    strcmp(argv[3], "--cases") == 0)
		seconds = strtod(argv[2], NULL);
	if (!check && !(seconds > 0 && seconds < 3600))
		return bl_usage();
	SPF_warning_handler = bl_quiet;
	SPF_info_handler = bl_quiet;
	SPF_debug_handler = bl_quiet;
	if ((suite = bl_suite_load(argv[argc - 1])) == NULL)
		return 1;
	if (check)
		rc = bl_check(suite);
	else
		rc = bl_time(suite, argv[4], seconds);
	bl_suite_free(suite);
	return rc == 0 ? 0 : 1;
}
