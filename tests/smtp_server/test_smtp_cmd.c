/*
 * test_smtp_cmd.c - table-driven tests of smtp/smtp_cmd.c: verb split,
 * MAIL/RCPT paths and parameters, HELO arguments, domain check, and the
 * re-serializers (including a format -> parse round trip).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "smtp/smtp_cmd.h"
#include "tests/check.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* One verb split case. */
struct verb_case {
	const char	*line;
	enum smtp_verb	 verb;
	const char	*args;
};

static const struct verb_case verb_cases[] = {
	{ "MAIL FROM:<a@b.example>", SMTP_VERB_MAIL, "FROM:<a@b.example>" },
	{ "mail from:<a@b.example>", SMTP_VERB_MAIL, "from:<a@b.example>" },
	{ "EhLo   client.example  ", SMTP_VERB_EHLO, "client.example" },
	{ "HELO x", SMTP_VERB_HELO, "x" },
	{ "RCPT TO:<a@b>", SMTP_VERB_RCPT, "TO:<a@b>" },
	{ "DATA", SMTP_VERB_DATA, "" },
	{ "DATA\t", SMTP_VERB_DATA, "" },
	{ "RSET", SMTP_VERB_RSET, "" },
	{ "NOOP hello", SMTP_VERB_NOOP, "hello" },
	{ "QUIT", SMTP_VERB_QUIT, "" },
	{ "VRFY bob", SMTP_VERB_VRFY, "bob" },
	{ "EXPN list", SMTP_VERB_EXPN, "list" },
	{ "HELP", SMTP_VERB_HELP, "" },
	{ "starttls", SMTP_VERB_STARTTLS, "" },
	{ "BDAT 100 LAST", SMTP_VERB_BDAT, "100 LAST" },
	{ "AUTH PLAIN", SMTP_VERB_AUTH, "PLAIN" },
	{ "", SMTP_VERB_UNKNOWN, "" },
	{ "MAILX FROM:<>", SMTP_VERB_UNKNOWN, "FROM:<>" },
	{ "MAI", SMTP_VERB_UNKNOWN, "" },
	{ " MAIL FROM:<>", SMTP_VERB_UNKNOWN, "MAIL FROM:<>" },
	{ "MAIL\tFROM:<>", SMTP_VERB_UNKNOWN, "" },
	{ "GET / HTTP/1.0", SMTP_VERB_UNKNOWN, "/ HTTP/1.0" },
};

/* Verb split over the table. */
static void
test_verbs(void)
{
	struct smtp_cmd cmd;
	char args[128];
	size_t i;

	for (i = 0; i < ARRAY_LEN(verb_cases); i++) {
		const struct verb_case *c = &verb_cases[i];

		smtp_cmd_parse(c->line, strlen(c->line), &cmd);
		CHECK_INT(cmd.verb, c->verb);
		snprintf(args, sizeof(args), "%.*s", (int)cmd.args_len,
		    cmd.args);
		CHECK_STR(args, c->args);
	}
	CHECK_STR(smtp_cmd_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
	CHECK_STR(smtp_cmd_verb_name(SMTP_VERB_UNKNOWN), "UNKNOWN");
	CHECK_STR(smtp_cmd_verb_name((enum smtp_verb)99), "UNKNOWN");
}

/* One MAIL case: code 0 means accepted. */
struct mail_case {
	const char	*args;
	int		 esmtp;
	int		 code;
	const char	*enhanced;	/* expected on error */
	const char	*sender;	/* expected on success */
	size_t		 domain;
};

static const struct mail_case mail_cases[] = {
	{ "FROM:<alice@example.org>", 1, 0, NULL, "alice@example.org", 6 },
	{ "FROM:<>", 1, 0, NULL, "", 0 },
	{ "from:<alice@example.org>", 0, 0, NULL, "alice@example.org", 6 },
	{ "FROM: <alice@example.org>", 1, 0, NULL, "alice@example.org", 6 },
	{ "FROM:   <alice@example.org>", 1, 0, NULL, "alice@example.org", 6 },
	{ "FROM:<@r1.example,@r2.example:alice@example.org>", 1, 0, NULL,
	  "alice@example.org", 6 },
	{ "FROM:<@r1.example:alice@example.org>", 1, 0, NULL,
	  "alice@example.org", 6 },
	{ "FROM:<\"john doe\"@example.org>", 1, 0, NULL,
	  "\"john doe\"@example.org", 11 },
	{ "FROM:<\"a>b\"@example.org>", 1, 0, NULL, "\"a>b\"@example.org", 6 },
	{ "FROM:<\"a\\\"b\"@example.org>", 1, 0, NULL,
	  "\"a\\\"b\"@example.org", 7 },
	{ "FROM:<a@[192.0.2.1]>", 1, 0, NULL, "a@[192.0.2.1]", 2 },
	{ "FROM:<a@[IPv6:2001:db8::1]>", 1, 0, NULL, "a@[IPv6:2001:db8::1]", 2 },
	{ "FROM:<a@[ipv6:::ffff:192.0.2.1]>", 1, 0, NULL,
	  "a@[ipv6:::ffff:192.0.2.1]", 2 },
	{ "FROM:<a.b.c@x-y.example>", 1, 0, NULL, "a.b.c@x-y.example", 6 },
	{ "FROM:<a+tag=x@b.example>", 1, 0, NULL, "a+tag=x@b.example", 8 },
	{ "FROM:<a@b.example> SIZE=1000 BODY=8BITMIME", 1, 0, NULL,
	  "a@b.example", 2 },
	{ "FROM:<a@b.example> body=7bit", 1, 0, NULL, "a@b.example", 2 },
	{ "FROM:<a@b.example> SMTPUTF8", 1, 0, NULL, "a@b.example", 2 },
	{ "FROM:<j\xc3\xb6@b\xc3\xa4r.example> SMTPUTF8", 1, 0, NULL,
	  "j\xc3\xb6@b\xc3\xa4r.example", 4 },
	{ "FROM:<\"j\xc3\xb6 x\"@example.org> SMTPUTF8", 1, 0, NULL,
	  "\"j\xc3\xb6 x\"@example.org", 8 },
	{ "FROM:<a@b.example> RET=HDRS ENVID=QQ+2B123", 1, 0, NULL,
	  "a@b.example", 2 },
	{ "FROM:<a@b.example>   SIZE=5    ret=full", 1, 0, NULL,
	  "a@b.example", 2 },
	{ "FROM:<a@b.example> SIZE=99999999999999999999", 1, 0, NULL,
	  "a@b.example", 2 },
	{ "FROM:<a@b.example> ENVID=a+2b", 1, 0, NULL, "a@b.example", 2 },
	{ "FROM:<a@123.example>", 1, 0, NULL, "a@123.example", 2 },
	/* Command syntax. */
	{ "FROM:a@b.example", 1, 501, "5.5.2", NULL, 0 },
	{ "FROM <a@b.example>", 1, 501, "5.5.2", NULL, 0 },
	{ "TO:<a@b.example>", 1, 501, "5.5.2", NULL, 0 },
	{ "FROM:<a@b.example", 1, 501, "5.5.2", NULL, 0 },
	{ "FROM:<a@b.example>x", 1, 501, "5.5.2", NULL, 0 },
	{ "FROM:<\"a@b.example>", 1, 501, "5.5.2", NULL, 0 },
	{ "", 1, 501, "5.5.2", NULL, 0 },
	{ "FROM:", 1, 501, "5.5.2", NULL, 0 },
	/* Bad sender addresses. */
	{ "FROM:<a@@b.example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<@b.example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<@b.example:>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<@b_x:a@b.example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<Postmaster>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<.a@b.example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a.@b.example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a..b@b.example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a b@b.example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@b..example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@-b.example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@b-.example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@b.example.>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@b_c.example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@[300.1.1.1]>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@[1.2.3]>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@[1.2.3.4.5]>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@[1.2.3.4]x>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@[IPv6:zz::1]>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@[IPv6:1.2.3.4]>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@[tag:foo]>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<a@[1.2.3.4>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<\"a\x01\"@b.example>", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<j\xc3@example.org> SMTPUTF8", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<j\xed\xa0\x80@example.org> SMTPUTF8", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<j\xc0\xaf@example.org> SMTPUTF8", 1, 501, "5.1.7", NULL, 0 },
	{ "FROM:<j\xf4\x90\x80\x80@example.org> SMTPUTF8", 1, 501, "5.1.7", NULL, 0 },
	/* UTF-8 without SMTPUTF8. */
	{ "FROM:<j\xc3\xb6@example.org>", 1, 553, "5.6.7", NULL, 0 },
	{ "FROM:<a@b\xc3\xa4r.example>", 1, 553, "5.6.7", NULL, 0 },
	/* Parameters. */
	{ "FROM:<a@b.example> SIZE=10", 0, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> FOO=bar", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> SIZE=1 SIZE=2", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> SIZE=1 size=1", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> SIZE=abc", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> SIZE", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> SIZE=", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> SIZE=123456789012345678901", 1, 555, "5.5.4",
	  NULL, 0 },
	{ "FROM:<a@b.example> BODY=BINARYMIME", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> BODY", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> SMTPUTF8=yes", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> RET=ALL", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> ENVID=a+2", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> ENVID=a+ZZ", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> ENVID=a+", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> =x", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> -X=1", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> X=a=b", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> AUTH=<>", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> NOTIFY=NEVER", 1, 555, "5.5.4", NULL, 0 },
	{ "FROM:<a@b.example> SIZE=1\xc3\xa4", 1, 555, "5.5.4", NULL, 0 },
};

/* MAIL over the table. */
static void
test_mail_table(void)
{
	struct smtp_mail m;
	struct smtp_cmd_error err;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_LEN(mail_cases); i++) {
		const struct mail_case *c = &mail_cases[i];

		memset(&err, 0, sizeof(err));
		r = smtp_cmd_parse_mail(c->args, strlen(c->args), c->esmtp, &m,
		    &err);
		if (c->code == 0) {
			if (!CHECK(r == 0))
				fprintf(stderr, "    case \"%s\": %d %s %s\n",
				    c->args, err.code, err.enhanced, err.text);
			CHECK_STR(m.sender, c->sender);
			CHECK_INT(m.domain, c->domain);
			continue;
		}
		if (!CHECK(r == -1))
			fprintf(stderr, "    case \"%s\" accepted\n", c->args);
		CHECK_INT(err.code, c->code);
		CHECK_STR(err.enhanced, c->enhanced);
		CHECK(err.text != NULL && err.text[0] != '\0');
	}
}

/* Parameter values land in the struct. */
static void
test_mail_params(void)
{
	struct smtp_mail m;
	struct smtp_cmd_error err;
	const char *a;

	a = "FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS "
	    "ENVID=QQ+2B123";
	CHECK_INT(smtp_cmd_parse_mail(a, strlen(a), 1, &m, &err), 0);
	CHECK_INT(m.has_size, 1);
	CHECK_INT(m.size, 1000);
	CHECK_INT(m.body, SMTP_BODY_8BITMIME);
	CHECK_INT(m.smtputf8, 1);
	CHECK_INT(m.ret, SMTP_RET_HDRS);
	CHECK_STR(m.envid, "QQ+2B123");

	a = "FROM:<a@b.example>";
	CHECK_INT(smtp_cmd_parse_mail(a, strlen(a), 1, &m, &err), 0);
	CHECK_INT(m.has_size, 0);
	CHECK_INT(m.body, SMTP_BODY_NONE);
	CHECK_INT(m.smtputf8, 0);
	CHECK_INT(m.ret, SMTP_RET_NONE);
	CHECK_STR(m.envid, "");

	a = "FROM:<a@b.example> SIZE=99999999999999999999";
	CHECK_INT(smtp_cmd_parse_mail(a, strlen(a), 1, &m, &err), 0);
	CHECK(m.size == UINT64_MAX);
	a = "FROM:<a@b.example> SIZE=18446744073709551615";
	CHECK_INT(smtp_cmd_parse_mail(a, strlen(a), 1, &m, &err), 0);
	CHECK(m.size == UINT64_MAX);
	a = "FROM:<a@b.example> SIZE=18446744073709551614";
	CHECK_INT(smtp_cmd_parse_mail(a, strlen(a), 1, &m, &err), 0);
	CHECK(m.size == UINT64_MAX - 1);
	a = "FROM:<a@b.example> SIZE=0";
	CHECK_INT(smtp_cmd_parse_mail(a, strlen(a), 1, &m, &err), 0);
	CHECK(m.has_size == 1 && m.size == 0);
}

/* Builds "FROM:<local@domain>" with given part lengths into buf. */
static void
make_path(char *buf, size_t size, const char *kw, size_t local,
    const size_t *labels, size_t nlabels)
{
	size_t len = 0, i, j;

	len += (size_t)snprintf(buf, size, "%s<", kw);
	for (i = 0; i < local; i++)
		buf[len++] = 'l';
	buf[len++] = '@';
	for (i = 0; i < nlabels; i++) {
		if (i > 0)
			buf[len++] = '.';
		for (j = 0; j < labels[i]; j++)
			buf[len++] = 'd';
	}
	buf[len++] = '>';
	buf[len] = '\0';
}

/* Local part 64, label 63 and path 256 limits, with one past each. */
static void
test_length_limits(void)
{
	static const size_t l63[] = { 63, 3 }, l64[] = { 64, 3 };
	static const size_t p256[] = { 63, 63, 61 }, p257[] = { 63, 63, 62 };
	static const size_t d255[] = { 63, 63, 63, 63 };
	static const size_t d256[] = { 63, 63, 63, 62, 1 };
	struct smtp_mail m;
	struct smtp_rcpt r;
	struct smtp_cmd_error err;
	char buf[600];

	make_path(buf, sizeof(buf), "FROM:", 64, l63, 2);
	CHECK_INT(smtp_cmd_parse_mail(buf, strlen(buf), 1, &m, &err), 0);
	make_path(buf, sizeof(buf), "FROM:", 65, l63, 2);
	CHECK_INT(smtp_cmd_parse_mail(buf, strlen(buf), 1, &m, &err), -1);
	CHECK_STR(err.enhanced, "5.1.7");
	make_path(buf, sizeof(buf), "FROM:", 1, l64, 2);
	CHECK_INT(smtp_cmd_parse_mail(buf, strlen(buf), 1, &m, &err), -1);
	/* 64 + 1 + 189 + 2 = 256 octets of path. */
	make_path(buf, sizeof(buf), "FROM:", 64, p256, 3);
	CHECK_INT(smtp_cmd_parse_mail(buf, strlen(buf), 1, &m, &err), 0);
	CHECK_INT(strlen(m.sender), 254);
	make_path(buf, sizeof(buf), "FROM:", 64, p257, 3);
	CHECK_INT(smtp_cmd_parse_mail(buf, strlen(buf), 1, &m, &err), -1);
	CHECK_STR(err.enhanced, "5.1.7");
	make_path(buf, sizeof(buf), "TO:", 64, p257, 3);
	CHECK_INT(smtp_cmd_parse_rcpt(buf, strlen(buf), 1, 0, &r, &err), -1);
	CHECK_STR(err.enhanced, "5.1.3");
	/* A 255-octet domain is fine for smtp_cmd_is_domain, 256 is not. */
	make_path(buf, sizeof(buf), "", 0, d255, 4);
	CHECK(smtp_cmd_is_domain(buf + 2, strlen(buf + 2) - 1, 0));
	make_path(buf, sizeof(buf), "", 0, d256, 5);
	CHECK_INT(strlen(buf + 2) - 1, 256);
	CHECK(!smtp_cmd_is_domain(buf + 2, strlen(buf + 2) - 1, 0));
}

/* A NUL octet inside the arguments is never accepted. */
static void
test_nul(void)
{
	static const char a[] = "FROM:<a\0b@b.example>";
	struct smtp_mail m;
	struct smtp_cmd_error err;
	char name[SMTP_HELO_MAX + 1];

	CHECK_INT(smtp_cmd_parse_mail(a, sizeof(a) - 1, 1, &m, &err), -1);
	CHECK_INT(err.code, 501);
	CHECK_INT(smtp_cmd_parse_helo("a\0b", 3, name, &err), -1);
}

/* One RCPT case. */
struct rcpt_case {
	const char	*args;
	int		 utf8;
	int		 code;
	const char	*enhanced;
	const char	*rcpt;
	size_t		 domain;
	unsigned	 notify;
	const char	*orcpt;
};

static const struct rcpt_case rcpt_cases[] = {
	{ "TO:<bob@example.net>", 0, 0, NULL, "bob@example.net", 4, 0, "" },
	{ "to: <bob@example.net>", 0, 0, NULL, "bob@example.net", 4, 0, "" },
	{ "TO:<Postmaster>", 0, 0, NULL, "Postmaster", 0, 0, "" },
	{ "TO:<postMASTER>", 0, 0, NULL, "postMASTER", 0, 0, "" },
	{ "TO:<postmaster@example.net>", 0, 0, NULL, "postmaster@example.net",
	  11, 0, "" },
	{ "TO:<@a.example:bob@example.net>", 0, 0, NULL, "bob@example.net", 4,
	  0, "" },
	{ "TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net",
	  0, 0, NULL, "bob@example.net", 4,
	  SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE, "rfc822;bob@example.net" },
	{ "TO:<bob@example.net> notify=never", 0, 0, NULL, "bob@example.net",
	  4, SMTP_NOTIFY_NEVER, "" },
	{ "TO:<bob@example.net> NOTIFY=DELAY,SUCCESS", 0, 0, NULL,
	  "bob@example.net", 4, SMTP_NOTIFY_DELAY | SMTP_NOTIFY_SUCCESS, "" },
	{ "TO:<bob@example.net> ORCPT=rfc822;a+40b", 0, 0, NULL,
	  "bob@example.net", 4, 0, "rfc822;a+40b" },
	{ "TO:<bob@example.net> ORCPT=rfc822;", 0, 0, NULL,
	  "bob@example.net", 4, 0, "rfc822;" },
	{ "TO:<b\xc3\xbc@example.net>", 1, 0, NULL, "b\xc3\xbc@example.net", 4,
	  0, "" },
	{ "TO:<>", 0, 501, "5.1.3", NULL, 0, 0, NULL },
	{ "TO:<bob>", 0, 501, "5.1.3", NULL, 0, 0, NULL },
	{ "TO:<@a.example:Postmaster>", 0, 501, "5.1.3", NULL, 0, 0, NULL },
	{ "TO:<bob@example..net>", 0, 501, "5.1.3", NULL, 0, 0, NULL },
	{ "FROM:<bob@example.net>", 0, 501, "5.5.2", NULL, 0, 0, NULL },
	{ "TO:bob@example.net", 0, 501, "5.5.2", NULL, 0, 0, NULL },
	{ "TO:<b\xc3\xbc@example.net>", 0, 553, "5.6.7", NULL, 0, 0, NULL },
	{ "TO:<bob@example.net> SIZE=1", 0, 555, "5.5.4", NULL, 0, 0, NULL },
	{ "TO:<bob@example.net> NOTIFY=NEVER,SUCCESS", 0, 555, "5.5.4", NULL,
	  0, 0, NULL },
	{ "TO:<bob@example.net> NOTIFY=SUCCESS,SUCCESS", 0, 555, "5.5.4",
	  NULL, 0, 0, NULL },
	{ "TO:<bob@example.net> NOTIFY=", 0, 555, "5.5.4", NULL, 0, 0, NULL },
	{ "TO:<bob@example.net> NOTIFY=FOO", 0, 555, "5.5.4", NULL, 0, 0, NULL },
	{ "TO:<bob@example.net> NOTIFY=SUCCESS,", 0, 555, "5.5.4", NULL, 0, 0,
	  NULL },
	{ "TO:<bob@example.net> NOTIFY=,SUCCESS", 0, 555, "5.5.4", NULL, 0, 0,
	  NULL },
	{ "TO:<bob@example.net> ORCPT=rfc822", 0, 555, "5.5.4", NULL, 0, 0,
	  NULL },
	{ "TO:<bob@example.net> ORCPT=;x", 0, 555, "5.5.4", NULL, 0, 0, NULL },
	{ "TO:<bob@example.net> ORCPT=rfc822;a+4", 0, 555, "5.5.4", NULL, 0, 0,
	  NULL },
	{ "TO:<bob@example.net> NOTIFY=NEVER NOTIFY=NEVER", 0, 555, "5.5.4",
	  NULL, 0, 0, NULL },
};

/* RCPT over the table. */
static void
test_rcpt_table(void)
{
	struct smtp_rcpt r;
	struct smtp_cmd_error err;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_LEN(rcpt_cases); i++) {
		const struct rcpt_case *c = &rcpt_cases[i];

		memset(&err, 0, sizeof(err));
		rc = smtp_cmd_parse_rcpt(c->args, strlen(c->args), 1, c->utf8,
		    &r, &err);
		if (c->code == 0) {
			if (!CHECK(rc == 0))
				fprintf(stderr, "    case \"%s\": %d %s %s\n",
				    c->args, err.code, err.enhanced, err.text);
			CHECK_STR(r.rcpt, c->rcpt);
			CHECK_INT(r.domain, c->domain);
			CHECK_INT(r.notify, c->notify);
			CHECK_STR(r.orcpt, c->orcpt);
			continue;
		}
		if (!CHECK(rc == -1))
			fprintf(stderr, "    case \"%s\" accepted\n", c->args);
		CHECK_INT(err.code, c->code);
		CHECK_STR(err.enhanced, c->enhanced);
	}
	/* After HELO no parameter at all. */
	CHECK_INT(smtp_cmd_parse_rcpt("TO:<a@b.example> NOTIFY=NEVER", 29, 0, 0,
	    &r, &err), -1);
	CHECK_INT(err.code, 555);
}

/* Overlong ENVID and ORCPT values. */
static void
test_dsn_limits(void)
{
	struct smtp_mail m;
	struct smtp_rcpt r;
	struct smtp_cmd_error err;
	char buf[700];
	int n;

	n = snprintf(buf, sizeof(buf), "FROM:<a@b.example> ENVID=%0100d", 0);
	CHECK_INT(smtp_cmd_parse_mail(buf, (size_t)n, 1, &m, &err), 0);
	CHECK_INT(strlen(m.envid), 100);
	n = snprintf(buf, sizeof(buf), "FROM:<a@b.example> ENVID=%0101d", 0);
	CHECK_INT(smtp_cmd_parse_mail(buf, (size_t)n, 1, &m, &err), -1);
	CHECK_INT(err.code, 555);
	n = snprintf(buf, sizeof(buf), "TO:<a@b.example> ORCPT=rfc822;%0493d", 0);
	CHECK_INT(smtp_cmd_parse_rcpt(buf, (size_t)n, 1, 0, &r, &err), 0);
	CHECK_INT(strlen(r.orcpt), 500);
	n = snprintf(buf, sizeof(buf), "TO:<a@b.example> ORCPT=rfc822;%0494d", 0);
	CHECK_INT(smtp_cmd_parse_rcpt(buf, (size_t)n, 1, 0, &r, &err), -1);
}

/* HELO/EHLO arguments. */
static void
test_helo(void)
{
	struct smtp_cmd_error err;
	char name[SMTP_HELO_MAX + 1], buf[300];

	CHECK_INT(smtp_cmd_parse_helo("client.example", 14, name, &err), 0);
	CHECK_STR(name, "client.example");
	CHECK_INT(smtp_cmd_parse_helo("[192.0.2.1]", 11, name, &err), 0);
	CHECK_INT(smtp_cmd_parse_helo("junk with spaces_", 17, name, &err), 0);
	CHECK_STR(name, "junk with spaces_");
	CHECK_INT(smtp_cmd_parse_helo("", 0, name, &err), -1);
	CHECK_INT(err.code, 501);
	CHECK_STR(err.enhanced, "5.5.4");
	CHECK_INT(smtp_cmd_parse_helo("a\x01" "b", 3, name, &err), -1);
	CHECK_INT(smtp_cmd_parse_helo("a\rb", 3, name, &err), -1);
	memset(buf, 'h', sizeof(buf));
	CHECK_INT(smtp_cmd_parse_helo(buf, 255, name, &err), 0);
	CHECK_INT(strlen(name), 255);
	CHECK_INT(smtp_cmd_parse_helo(buf, 256, name, &err), -1);
}

/* smtp_cmd_is_domain. */
static void
test_is_domain(void)
{
	CHECK(smtp_cmd_is_domain("example.org", 11, 0));
	CHECK(smtp_cmd_is_domain("a", 1, 0));
	CHECK(smtp_cmd_is_domain("123.example", 11, 0));
	CHECK(smtp_cmd_is_domain("xn--bar-4qa.example", 19, 0));
	CHECK(!smtp_cmd_is_domain("exa_mple.org", 12, 0));
	CHECK(!smtp_cmd_is_domain("", 0, 0));
	CHECK(!smtp_cmd_is_domain("a.", 2, 0));
	CHECK(!smtp_cmd_is_domain(".a", 2, 0));
	CHECK(!smtp_cmd_is_domain("[1.2.3.4]", 9, 0));
	CHECK(!smtp_cmd_is_domain("b\xc3\xa4r.example", 12, 0));
	CHECK(smtp_cmd_is_domain("b\xc3\xa4r.example", 12, 1));
}

/* The formatters, including truncation. */
static void
test_format(void)
{
	struct smtp_mail m;
	struct smtp_rcpt r;
	struct smtp_cmd_error err;
	char buf[512];
	const char *a;
	unsigned all = SMTP_CMD_EXT_SIZE | SMTP_CMD_EXT_8BITMIME |
	    SMTP_CMD_EXT_SMTPUTF8 | SMTP_CMD_EXT_DSN;

	a = "FROM:<a@b.example> ret=hdrs SIZE=1000 body=8bitmime SMTPUTF8 "
	    "ENVID=x+2By";
	CHECK_INT(smtp_cmd_parse_mail(a, strlen(a), 1, &m, &err), 0);
	CHECK(smtp_cmd_format_mail(&m, all, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME "
	    "SMTPUTF8 RET=HDRS ENVID=x+2By\r\n");
	CHECK(smtp_cmd_format_mail(&m, 0, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "MAIL FROM:<a@b.example>\r\n");
	CHECK(smtp_cmd_format_mail_params(&m, SMTP_CMD_EXT_SIZE |
	    SMTP_CMD_EXT_8BITMIME, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "SIZE=1000 BODY=8BITMIME");
	CHECK(smtp_cmd_format_mail_params(&m, SMTP_CMD_EXT_DSN, buf,
	    sizeof(buf)) > 0);
	CHECK_STR(buf, "RET=HDRS ENVID=x+2By");
	CHECK_INT(smtp_cmd_format_mail_params(&m, 0, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	CHECK_INT(smtp_cmd_format_mail(&m, all, buf, 20), -1);
	CHECK_STR(buf, "");
	CHECK_INT(smtp_cmd_format_mail_params(&m, all, buf, 0), -1);

	a = "FROM:<>";
	CHECK_INT(smtp_cmd_parse_mail(a, strlen(a), 1, &m, &err), 0);
	CHECK(smtp_cmd_format_mail(&m, all, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "MAIL FROM:<>\r\n");

	a = "TO:<c@d.example> notify=delay,success ORCPT=rfc822;c@d.example";
	CHECK_INT(smtp_cmd_parse_rcpt(a, strlen(a), 1, 0, &r, &err), 0);
	CHECK(smtp_cmd_format_rcpt(&r, all, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "RCPT TO:<c@d.example> NOTIFY=SUCCESS,DELAY "
	    "ORCPT=rfc822;c@d.example\r\n");
	CHECK(smtp_cmd_format_rcpt(&r, all & ~SMTP_CMD_EXT_DSN, buf,
	    sizeof(buf)) > 0);
	CHECK_STR(buf, "RCPT TO:<c@d.example>\r\n");
	a = "TO:<c@d.example> NOTIFY=NEVER";
	CHECK_INT(smtp_cmd_parse_rcpt(a, strlen(a), 1, 0, &r, &err), 0);
	CHECK(smtp_cmd_format_rcpt_params(&r, all, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "NOTIFY=NEVER");
	a = "TO:<c@d.example> NOTIFY=SUCCESS,FAILURE,DELAY";
	CHECK_INT(smtp_cmd_parse_rcpt(a, strlen(a), 1, 0, &r, &err), 0);
	CHECK(smtp_cmd_format_rcpt_params(&r, all, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "NOTIFY=SUCCESS,FAILURE,DELAY");
}

/* Every accepted MAIL case survives format -> parse unchanged. */
static void
test_round_trip(void)
{
	unsigned all = SMTP_CMD_EXT_SIZE | SMTP_CMD_EXT_8BITMIME |
	    SMTP_CMD_EXT_SMTPUTF8 | SMTP_CMD_EXT_DSN;
	struct smtp_mail m, m2;
	struct smtp_cmd_error err;
	char buf[1024];
	size_t i;
	int n;

	for (i = 0; i < ARRAY_LEN(mail_cases); i++) {
		const struct mail_case *c = &mail_cases[i];

		if (c->code != 0 || smtp_cmd_parse_mail(c->args,
		    strlen(c->args), 1, &m, &err) != 0)
			continue;
		n = smtp_cmd_format_mail(&m, all, buf, sizeof(buf));
		CHECK(n > 7);
		/* Strip "MAIL " and the CR LF. */
		CHECK_INT(smtp_cmd_parse_mail(buf + 5, (size_t)n - 7, 1, &m2,
		    &err), 0);
		CHECK_STR(m2.sender, m.sender);
		CHECK_INT(m2.domain, m.domain);
		CHECK(m2.size == m.size && m2.has_size == m.has_size);
		CHECK(m2.body == m.body && m2.smtputf8 == m.smtputf8);
		CHECK(m2.ret == m.ret);
		CHECK_STR(m2.envid, m.envid);
	}
}

int
main(void)
{
	test_verbs();
	test_mail_table();
	test_mail_params();
	test_length_limits();
	test_nul();
	test_rcpt_table();
	test_dsn_limits();
	test_helo();
	test_is_domain();
	test_format();
	test_round_trip();
	return check_report();
}
