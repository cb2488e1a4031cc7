/*
 * test_smtp_reply.c - table-driven tests of smtp/smtp_reply.c: single and
 * multi-line replies, enhanced codes, validation, sanitizing, cutting.
 */
#include <string.h>

#include "smtp/smtp_reply.h"
#include "tests/check.h"

/* One formatting case; want NULL means the call must fail. */
struct reply_case {
	int		 code;
	const char	*enhanced;
	const char	*text;
	const char	*want;
};

static const struct reply_case reply_cases[] = {
	{ 250, "2.0.0", "Ok", "250 2.0.0 Ok\r\n" },
	{ 220, NULL, "mx.test ESMTP spfgate", "220 mx.test ESMTP spfgate\r\n" },
	{ 250, NULL, "mx.test\nPIPELINING\nSIZE 100",
	  "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 100\r\n" },
	{ 550, "5.7.1", "first\nsecond", "550-5.7.1 first\r\n550 5.7.1 second\r\n" },
	/* CR before LF and one final LF are dropped. */
	{ 451, "4.3.0", "a\r\nb\n", "451-4.3.0 a\r\n451 4.3.0 b\r\n" },
	/* An empty line in the middle stays. */
	{ 250, NULL, "a\n\nb", "250-a\r\n250-\r\n250 b\r\n" },
	{ 250, NULL, "", "250\r\n" },
	{ 250, NULL, NULL, "250\r\n" },
	{ 250, "2.0.0", "", "250 2.0.0\r\n" },
	{ 354, NULL, "End data with <CR><LF>.<CR><LF>",
	  "354 End data with <CR><LF>.<CR><LF>\r\n" },
	/* Control and 8-bit octets become '?'. */
	{ 550, "5.0.0", "a\tb\x01\x7f\xc3\xa9", "550 5.0.0 a?b????\r\n" },
	{ 552, "5.3.4", "x", "552 5.3.4 x\r\n" },
	{ 250, "2.123.456", "x", "250 2.123.456 x\r\n" },
	/* Invalid codes. */
	{ 199, NULL, "x", NULL },
	{ 600, NULL, "x", NULL },
	{ 260, NULL, "x", NULL },
	{ 25, NULL, "x", NULL },
	/* Invalid enhanced codes. */
	{ 550, "4.1.1", "x", NULL },
	{ 354, "3.0.0", "x", NULL },
	{ 250, "2.0", "x", NULL },
	{ 250, "2.0.0.0", "x", NULL },
	{ 250, "2.1234.0", "x", NULL },
	{ 250, "2..0", "x", NULL },
	{ 250, "", "x", NULL },
	{ 250, "2.0.0 ", "x", NULL },
};

/* Runs the table through smtp_reply_format(). */
static void
test_format_table(void)
{
	char buf[2048];
	size_t i;
	int n;

	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		const struct reply_case *c = &reply_cases[i];

		n = smtp_reply_format(buf, sizeof(buf), c->code, c->enhanced,
		    c->text);
		if (c->want == NULL) {
			CHECK_INT(n, -1);
			continue;
		}
		CHECK_INT(n, strlen(c->want));
		CHECK_STR(buf, c->want);
	}
}

/* Counts lines and checks each handed-out line ends with CR LF. */
static void
count_out(void *arg, const char *line, size_t len)
{
	int *lines = arg;

	CHECK(len >= 5 && line[len - 2] == '\r' && line[len - 1] == '\n');
	CHECK(len <= SMTP_REPLY_LINE_MAX);
	(*lines)++;
}

/* smtp_reply_emit() hands out one line per text line. */
static void
test_emit_lines(void)
{
	int lines = 0;

	CHECK_INT(smtp_reply_emit(250, NULL, "a\nb\nc", count_out, &lines), 3);
	CHECK_INT(lines, 3);
	lines = 0;
	CHECK_INT(smtp_reply_emit(700, NULL, "a", count_out, &lines), -1);
	CHECK_INT(lines, 0);
}

/* An overlong text line is cut to 512 octets with CR LF. */
static void
test_long_line_cut(void)
{
	char text[2000], buf[4096];
	int n;

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	n = smtp_reply_format(buf, sizeof(buf), 550, "5.7.1", text);
	CHECK_INT(n, SMTP_REPLY_LINE_MAX);
	CHECK(strncmp(buf, "550 5.7.1 xxx", 13) == 0);
	CHECK(buf[n - 2] == '\r' && buf[n - 1] == '\n' && buf[n - 3] == 'x');
}

/* A buffer too small fails cleanly and leaves an empty string. */
static void
test_small_buffer(void)
{
	char buf[10];

	CHECK_INT(smtp_reply_format(buf, sizeof(buf), 250, "2.0.0", "Ok"), -1);
	CHECK_STR(buf, "");
	CHECK_INT(smtp_reply_format(buf, 0, 250, NULL, "Ok"), -1);
	/* Exactly fitting: "250 Ok\r\n" is 8 octets + NUL. */
	CHECK_INT(smtp_reply_format(buf, 9, 250, NULL, "Ok"), 8);
	CHECK_INT(smtp_reply_format(buf, 8, 250, NULL, "Ok"), -1);
}

/* The validators on their own. */
static void
test_validators(void)
{
	CHECK(smtp_reply_code_valid(200));
	CHECK(smtp_reply_code_valid(559));
	CHECK(!smtp_reply_code_valid(599));
	CHECK(!smtp_reply_code_valid(570));
	CHECK(smtp_reply_enhanced_valid(421, "4.7.0"));
	CHECK(!smtp_reply_enhanced_valid(421, "5.7.0"));
	CHECK(!smtp_reply_enhanced_valid(421, NULL));
	CHECK(!smtp_reply_enhanced_valid(221, "2.0.x"));
}

int
main(void)
{
	test_format_table();
	test_emit_lines();
	test_long_line_cut();
	test_small_buffer();
	test_validators();
	return check_report();
}
