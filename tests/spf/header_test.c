/*
 * header_test.c - unit tests of Received-SPF and Authentication-Results
 * formatting (spf/spf_header.c).
 *
 * Two exact outputs, folded by hand from RFC 7208 9.1 / RFC 8601 and the
 * 78-column rule, then property checks on hostile inputs (quotes,
 * parentheses, backslashes, CR LF, non-ASCII, very long values): the
 * only CR LF in the output are CR LF TAB folds, every comment and
 * quoted-string is closed, lines stay within limits, and a buffer that is
 * too small gives -1 and "".
 */
#include <stdio.h>
#include <string.h>

#include "spf/spf.h"
#include "tests/check.h"

static char out[4096];
static char flat[4096];

/* Unfolds out into flat (CR LF TAB -> SP), for substring checks. */
static const char *
unfold(void)
{
	size_t i, n = 0;

	for (i = 0; out[i] != '\0' && n + 1 < sizeof(flat); i++) {
		if (out[i] == '\r' && out[i + 1] == '\n' && out[i + 2] == '\t')
		    {
			flat[n++] = ' ';
			i += 2;
		} else {
			flat[n++] = out[i];
		}
	}
	flat[n] = '\0';
	return flat;
}

/* A verdict with the given fields, the rest zero. */
static void
verdict(struct spf_verdict *v, enum spf_result r, enum spf_identity id,
    const char *who, const char *mech, const char *reason, int secure)
{
	memset(v, 0, sizeof(*v));
	v->result = r;
	v->identity = id;
	snprintf(v->identity_text, sizeof(v->identity_text), "%s", who);
	snprintf(v->mechanism, sizeof(v->mechanism), "%s", mech);
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	v->dnssec_secure = secure;
}

/*
 * Checks the header's structure: folds are CR LF TAB and nothing else
 * breaks a line, octets are printable ASCII, comments and quoted-strings
 * are balanced, no line passes maxline.  Returns 1 if all hold.
 */
static int
well_formed(const char *h, size_t maxline)
{
	size_t i, col = 0;
	int depth = 0, quoted = 0;
	unsigned char c;

	for (i = 0; h[i] != '\0'; i++) {
		c = (unsigned char)h[i];
		if (c == '\r') {
			if (h[i + 1] != '\n' || h[i + 2] != '\t')
				return 0;
			if (col > maxline)
				return 0;
			col = 0;
			i++;
			continue;
		}
		col++;
		if (c == '\n' || (c < 0x20 && c != '\t') || c > 0x7e)
			return 0;
		if (c == '\t' && (i == 0 || h[i - 1] != '\n'))
			return 0;
		if (c == '\\' && (quoted || depth > 0)) {
			if (h[i + 1] == '\0' || h[i + 1] == '\r')
				return 0;
			i++;
			col++;
			continue;
		}
		if (quoted) {
			if (c == '"')
				quoted = 0;
		} else if (c == '"' && depth == 0) {
			quoted = 1;
		} else if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth < 0)
				return 0;
		}
	}
	return col <= maxline && depth == 0 && !quoted;
}

static void
test_exact(void)
{
	struct spf_verdict v;
	struct spf_header_info info = { "mx.example.net", "mx.example.net",
	    "192.0.2.1", "mail.example.com" };
	const char *want_rs =
	    "Received-SPF: pass (mx.example.net: domain of user@example.com "
	    "designates\r\n"
	    "\t192.0.2.1 as permitted sender) client-ip=192.0.2.1;\r\n"
	    "\tenvelope-from=\"user@example.com\"; helo=mail.example.com;\r\n"
	    "\treceiver=mx.example.net; mechanism=\"ip4:192.0.2.0/24\"; "
	    "identity=mailfrom;\r\n"
	    "\tx-dnssec=secure";
	const char *want_ar =
	    "Authentication-Results: mx.example.net; spf=pass (mx.example.net: "
	    "domain of\r\n"
	    "\tuser@example.com designates 192.0.2.1 as permitted sender) "
	    "(dnssec=secure)\r\n"
	    "\tsmtp.mailfrom=user@example.com";
	int n;

	verdict(&v, SPF_RESULT_PASS, SPF_ID_MAILFROM, "user@example.com",
	    "ip4:192.0.2.0/24", "", 1);
	n = spf_header_received_spf(out, sizeof(out), &v, &info);
	CHECK_STR(out, want_rs);
	CHECK_INT(n, strlen(want_rs));
	n = spf_header_authres(out, sizeof(out), &v, &info);
	CHECK_STR(out, want_ar);
	CHECK_INT(n, strlen(want_ar));

	/* Exactly big enough, and one octet short. */
	CHECK_INT(spf_header_authres(out, strlen(want_ar) + 1, &v, &info),
	    strlen(want_ar));
	CHECK_INT(spf_header_authres(out, strlen(want_ar), &v, &info), -1);
	CHECK_STR(out, "");
	CHECK_INT(spf_header_received_spf(out, 10, &v, &info), -1);
	CHECK_STR(out, "");
	CHECK_INT(spf_header_received_spf(out, 0, &v, &info), -1);
}

static void
test_results(void)
{
	struct spf_verdict v;
	struct spf_header_info info = { "mx.example.net", "mx.example.net",
	    "2001:db8::1", "mail.example.com" };

	verdict(&v, SPF_RESULT_FAIL, SPF_ID_MAILFROM, "u@example.com", "-all",
	    "", 0);
	CHECK(spf_header_received_spf(out, sizeof(out), &v, &info) > 0);
	CHECK(strstr(unfold(), "Received-SPF: fail (mx.example.net: domain of "
	    "u@example.com does not designate") != NULL);
	CHECK(strstr(unfold(), "client-ip=\"2001:db8::1\";") != NULL);
	CHECK(strstr(unfold(), "mechanism=-all;") != NULL);
	CHECK(strstr(unfold(), "x-dnssec=insecure") != NULL);
	CHECK(well_formed(out, 78));

	verdict(&v, SPF_RESULT_SOFTFAIL, SPF_ID_MAILFROM, "u@example.com",
	    "~all", "", 0);
	spf_header_received_spf(out, sizeof(out), &v, &info);
	CHECK(strstr(unfold(), "transitioning domain of") != NULL);

	verdict(&v, SPF_RESULT_NEUTRAL, SPF_ID_MAILFROM, "u@example.com",
	    "default", "", 0);
	spf_header_received_spf(out, sizeof(out), &v, &info);
	CHECK(strstr(unfold(), "neither permitted nor denied") != NULL);

	/* HELO identity: no envelope-from, smtp.helo in A-R. */
	verdict(&v, SPF_RESULT_NONE, SPF_ID_HELO, "mail.example.com", "",
	    "no SPF record for mail.example.com", 0);
	spf_header_received_spf(out, sizeof(out), &v, &info);
	CHECK(strstr(unfold(), "envelope-from") == NULL);
	CHECK(strstr(unfold(), "identity=helo;") != NULL);
	CHECK(strstr(unfold(), "mechanism=") == NULL);
	CHECK(strstr(unfold(), "problem=") == NULL);	/* none is no error */
	CHECK(well_formed(out, 78));
	spf_header_authres(out, sizeof(out), &v, &info);
	CHECK(strstr(unfold(), "spf=none") != NULL);
	CHECK(strstr(unfold(), "smtp.helo=mail.example.com") != NULL);
	CHECK(well_formed(out, 78));

	/* Errors: the reason in the comment and in problem=. */
	verdict(&v, SPF_RESULT_TEMPERROR, SPF_ID_MAILFROM, "u@example.com", "",
	    "DNS timeout looking up TXT example.com", 0);
	spf_header_received_spf(out, sizeof(out), &v, &info);
	CHECK(strstr(unfold(), "temporary error in processing") != NULL);
	CHECK(strstr(unfold(), "problem=\"DNS timeout looking up TXT "
	    "example.com\"") != NULL);
	CHECK(well_formed(out, 78));
	verdict(&v, SPF_RESULT_PERMERROR, SPF_ID_MAILFROM, "u@example.com", "",
	    "syntax error in 'ip4:1.2.3' (x)", 0);
	spf_header_authres(out, sizeof(out), &v, &info);
	CHECK(strstr(unfold(), "spf=permerror (mx.example.net: permanent "
	    "error") != NULL);
	CHECK(strstr(unfold(), "'ip4:1.2.3' \\(x\\))") != NULL);
	CHECK(well_formed(out, 78));
}

static void
test_hostile(void)
{
	struct spf_verdict v;
	struct spf_header_info info = { "mx.example.net\r\nX-Evil: 1",
	    "auth id; spf=pass", "192.0.2.1", "evil\r\nX-Injected: yes" };
	char longmech[SPF_TERM_MAX];
	int n;

	verdict(&v, SPF_RESULT_PERMERROR, SPF_ID_MAILFROM,
	    "\"a(b)c\\\\d\"@example.com",
	    "a:%{l}.example.com", "bad \"thing\" (here) \\ \r\n end", 0);
	n = spf_header_received_spf(out, sizeof(out), &v, &info);
	CHECK(n > 0);
	CHECK(well_formed(out, 78));
	CHECK(strstr(unfold(), "X-Injected") == NULL || strstr(out,
	    "\r\nX-Injected") == NULL);
	CHECK(strstr(unfold(), "helo=\"evil??X-Injected: yes\";") != NULL);
	CHECK(strstr(unfold(), "receiver=\"mx.example.net??X-Evil: 1\";") !=
	    NULL);
	CHECK(strstr(unfold(), "envelope-from=\"\\\"a(b)c\\\\\\\\d\\\"@example."
	    "com\";") != NULL);
	CHECK(strstr(unfold(), "problem=\"bad \\\"thing\\\" (here) "
	    "\\\\ ?? end\"") != NULL);
	/* In the comment, parentheses and backslashes are quoted-pairs. */
	CHECK(strstr(unfold(), "\"a\\(b\\)c\\\\\\\\d\"@example.com") != NULL);

	n = spf_header_authres(out, sizeof(out), &v, &info);
	CHECK(n > 0);
	CHECK(well_formed(out, 78));
	CHECK(strncmp(out, "Authentication-Results: \"auth id; spf=pass\"; "
	    "spf=permerror", 58) == 0);
	CHECK(strstr(unfold(), "smtp.mailfrom=\"\\\"a(b)c\\\\\\\\d\\\"@example."
	    "com\"") != NULL);

	/* Non-ASCII and a long mechanism: bounded, still well formed. */
	memset(longmech, 'm', sizeof(longmech) - 1);
	longmech[sizeof(longmech) - 1] = '\0';
	verdict(&v, SPF_RESULT_PASS, SPF_ID_MAILFROM, "j\xc3\xb6rg@example.com",
	    longmech, "", 1);
	info.client_ip = NULL;
	info.helo = NULL;
	n = spf_header_received_spf(out, sizeof(out), &v, &info);
	CHECK(n > 0);
	CHECK(well_formed(out, 998));
	CHECK(strstr(unfold(), "j??rg@example.com") != NULL);
	CHECK(strstr(unfold(), "client-ip=") == NULL);
	CHECK(strstr(unfold(), "helo=") == NULL);
	CHECK(strstr(unfold(), "designates unknown as permitted sender") !=
	    NULL);
	n = spf_header_authres(out, sizeof(out), &v, &info);
	CHECK(n > 0);
	CHECK(well_formed(out, 78));
	CHECK(strstr(unfold(), "smtp.mailfrom=\"j??rg@example.com\"") != NULL);

	/* A long reason folds inside the comment at word boundaries. */
	verdict(&v, SPF_RESULT_PERMERROR, SPF_ID_MAILFROM, "u@example.com", "",
	    "syntax error in 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaa"
	    "aaaaaa' at 3: unknown mechanism (SPF record of a.b.c.d.e.f.g.h.i."
	    "example.com)", 0);
	info.client_ip = "192.0.2.1";
	n = spf_header_authres(out, sizeof(out), &v, &info);
	CHECK(n > 0);
	CHECK(well_formed(out, 78));

	/* Every result name, NULL receiver/authserv-id. */
	info.receiver = NULL;
	info.authserv_id = NULL;
	for (n = 0; n < SPF_RESULT_COUNT; n++) {
		verdict(&v, (enum spf_result)n, SPF_ID_MAILFROM, "u@x.org",
		    "", "why", 0);
		CHECK(spf_header_received_spf(out, sizeof(out), &v, &info) > 0);
		CHECK(well_formed(out, 78));
		CHECK(strncmp(out + 14, spf_result_name((enum spf_result)n),
		    strlen(spf_result_name((enum spf_result)n))) == 0);
		CHECK(spf_header_authres(out, sizeof(out), &v, &info) > 0);
		CHECK(well_formed(out, 78));
		CHECK(strncmp(out, "Authentication-Results: unknown; "
		    "spf=", 37) == 0);
	}
}

static void
test_result_names(void)
{
	CHECK_STR(spf_result_name(SPF_RESULT_NONE), "none");
	CHECK_STR(spf_result_name(SPF_RESULT_NEUTRAL), "neutral");
	CHECK_STR(spf_result_name(SPF_RESULT_PASS), "pass");
	CHECK_STR(spf_result_name(SPF_RESULT_FAIL), "fail");
	CHECK_STR(spf_result_name(SPF_RESULT_SOFTFAIL), "softfail");
	CHECK_STR(spf_result_name(SPF_RESULT_TEMPERROR), "temperror");
	CHECK_STR(spf_result_name(SPF_RESULT_PERMERROR), "permerror");
	CHECK_STR(spf_result_name((enum spf_result)99), "permerror");
	CHECK_INT(spf_result_parse("PASS"), SPF_RESULT_PASS);
	CHECK_INT(spf_result_parse("SoftFail"), SPF_RESULT_SOFTFAIL);
	CHECK_INT(spf_result_parse("temperror"), SPF_RESULT_TEMPERROR);
	CHECK_INT(spf_result_parse("error"), -1);
	CHECK_INT(spf_result_parse(""), -1);
	CHECK_INT(spf_result_parse(NULL), -1);
}

int
main(void)
{
	struct spf_limits l;

	test_exact();
	test_results();
	test_hostile();
	test_result_names();
	spf_limits_default(&l);
	CHECK(l.dns_terms == 10 && l.void_lookups == 2 && l.mx_names == 10 &&
	    l.ptr_names == 10);
	return check_report();
}
