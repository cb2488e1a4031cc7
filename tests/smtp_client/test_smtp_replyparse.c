/*
 * test_smtp_replyparse.c - table-driven tests of the SMTP reply parser.
 *
 * Each valid case is fed whole, split in two at every byte boundary, and
 * one byte at a time; the expected code, enhanced code, text and line
 * count are written by hand.  Malformed cases must end in ERROR with the
 * named reason, however they are split.
 */
#include "smtp/smtp_replyparse.h"
#include "tests/check.h"

#include <stdlib.h>

/* A valid reply and what the parser must make of it. */
struct valid_case {
	const char *in;
	int code;
	const char *enhanced;
	const char *text;
	int lines;
};

static const struct valid_case valid_cases[] = {
	{ "250 OK\r\n", 250, "", "OK", 1 },
	{ "250 2.1.0 Ok\r\n", 250, "2.1.0", "Ok", 1 },
	{ "250\r\n", 250, "", "", 1 },
	{ "250 \r\n", 250, "", "", 1 },
	{ "220 bare LF works\n", 220, "", "bare LF works", 1 },
	{ "550-5.1.1 <x@y>: Recipient address rejected:\r\n"
	  "550 5.1.1 User unknown\r\n",
	  550, "5.1.1", "<x@y>: Recipient address rejected:\nUser unknown", 2 },
	{ "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
	  "250 8BITMIME\r\n",
	  250, "", "mx.example\nPIPELINING\nSIZE 10240000\n8BITMIME", 4 },
	/* a later line with another enhanced code keeps it */
	{ "550-5.1.1 a\r\n550 5.7.1 b\r\n", 550, "5.1.1", "a\n5.7.1 b", 2 },
	/* class must match the code: 550 with 4.x.x is plain text */
	{ "550 4.1.1 mismatch\r\n", 550, "", "4.1.1 mismatch", 1 },
	/* not an enhanced code: no space after, 4 digits, missing part */
	{ "250 2.0.0ok\r\n", 250, "", "2.0.0ok", 1 },
	{ "250 2.1000.0 x\r\n", 250, "", "2.1000.0 x", 1 },
	{ "250 2.1 x\r\n", 250, "", "2.1 x", 1 },
	{ "452 4.5.3\r\n", 452, "4.5.3", "", 1 },
	{ "554 5.123.456 long parts\r\n", 554, "5.123.456", "long parts", 1 },
	/* empty continuation lines */
	{ "250-\r\n250-\r\n250 x\r\n", 250, "", "\n\nx", 3 },
	/* control octets are masked, HT and UTF-8 kept */
	{ "250 a\x01" "b\rc\x7f\td\xc3\xa9\r\n", 250, "", "a?b?c?\td\xc3\xa9", 1 },
	{ "421 4.3.2 Service shutting down\r\n", 421, "4.3.2",
	  "Service shutting down", 1 },
};

/* Feeds in[0..len) in pieces of `step` octets (0: one piece). */
static enum smtp_replyparse_status
feed_all(struct smtp_replyparse *p, const char *in, size_t len, size_t step,
    int *line_events)
{
	enum smtp_replyparse_status st = SMTP_REPLYPARSE_NEED_MORE;
	size_t off = 0, used, n;
	int guard = 0;

	*line_events = 0;
	while (off < len && guard++ < 100000) {
		n = step == 0 || len - off < step ? len - off : step;
		st = smtp_replyparse_feed(p, in + off, n, &used);
		if (st == SMTP_REPLYPARSE_ERROR)
			return st;
		if (st == SMTP_REPLYPARSE_LINE)
			(*line_events)++;
		off += used;
		if (st == SMTP_REPLYPARSE_DONE)
			break;
	}
	if (off != len)
		return SMTP_REPLYPARSE_ERROR;	/* DONE too early or stuck */
	return st;
}

/* Feeds in two pieces split at `cut`, as two separate reads would. */
static enum smtp_replyparse_status
feed_split(struct smtp_replyparse *p, const char *in, size_t len, size_t cut,
    int *line_events)
{
	enum smtp_replyparse_status st = SMTP_REPLYPARSE_NEED_MORE;
	size_t used, off = 0, end = cut;
	int le = 0, guard = 0;

	while (off < len && guard++ < 100000) {
		if (off == end)
			end = len;		/* the second read arrives */
		st = smtp_replyparse_feed(p, in + off, end - off, &used);
		if (st == SMTP_REPLYPARSE_ERROR)
			break;
		if (st == SMTP_REPLYPARSE_LINE)
			le++;
		off += used;
		if (st == SMTP_REPLYPARSE_DONE)
			break;
	}
	*line_events = le;
	return off == len ? st : SMTP_REPLYPARSE_ERROR;
}

/* Checks the parser holds the expected reply. */
static void
check_reply(const struct smtp_replyparse *p, const struct valid_case *vc,
    enum smtp_replyparse_status st, int line_events, const char *how,
    size_t arg)
{
	int ok = st == SMTP_REPLYPARSE_DONE && p->code == vc->code &&
	    strcmp(p->enhanced, vc->enhanced) == 0 &&
	    strcmp(p->text, vc->text) == 0 && p->lines == vc->lines &&
	    strlen(p->text) == p->text_len && line_events == vc->lines - 1 &&
	    !p->truncated;

	if (!CHECK(ok))
		fprintf(stderr, "    case \"%s\" fed %s %zu: st=%d code=%d "
		    "enh=\"%s\" text=\"%s\" lines=%d lineev=%d\n", vc->in, how,
		    arg, (int)st, p->code, p->enhanced, p->text, p->lines,
		    line_events);
}

/* Every valid case, fed whole, in two pieces at every cut, bytewise. */
static void
test_valid(void)
{
	struct smtp_replyparse *p = malloc(sizeof(*p));
	size_t i, cut, len;
	enum smtp_replyparse_status st;
	int le;

	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		const struct valid_case *vc = &valid_cases[i];

		len = strlen(vc->in);
		smtp_replyparse_init(p);
		st = feed_all(p, vc->in, len, 0, &le);
		check_reply(p, vc, st, le, "whole", 0);
		smtp_replyparse_init(p);
		st = feed_all(p, vc->in, len, 1, &le);
		check_reply(p, vc, st, le, "bytewise", 1);
		for (cut = 1; cut < len; cut++) {
			smtp_replyparse_init(p);
			st = feed_split(p, vc->in, len, cut, &le);
			check_reply(p, vc, st, le, "cut at", cut);
		}
	}
	free(p);
}

/* A malformed input and the reason the parser must give. */
struct bad_case {
	const char *in;
	size_t len;		/* 0: strlen(in) */
	const char *why;
};

static const struct bad_case bad_cases[] = {
	{ "25 OK\r\n", 0, "malformed reply code" },
	{ "2500 OK\r\n", 0, "malformed reply code" },
	{ "abc\r\n", 0, "malformed reply code" },
	{ "199 one hundred\r\n", 0, "malformed reply code" },
	{ "650 six\r\n", 0, "malformed reply code" },
	{ "260 second digit\r\n", 0, "malformed reply code" },
	{ "250_x\r\n", 0, "malformed reply code" },
	{ "\r\n", 0, "malformed reply code" },
	{ " 250 x\r\n", 0, "malformed reply code" },
	{ "250-a\r\n251 b\r\n", 0, "inconsistent codes in multi-line reply" },
	{ "250-a\r\n550 b\r\n", 0, "inconsistent codes in multi-line reply" },
	{ "250-a\r\nxyz\r\n", 0, "malformed reply code" },
	{ "250 a\0b\r\n", 9, "NUL in reply" },
	{ "250-a\r\n\0", 8, "NUL in reply" },
};

/* Feeds a bad case in pieces of `step`; returns the final status. */
static enum smtp_replyparse_status
feed_bad(struct smtp_replyparse *p, const char *in, size_t len, size_t step)
{
	enum smtp_replyparse_status st = SMTP_REPLYPARSE_NEED_MORE;
	size_t off = 0, used, n;
	int guard = 0;

	while (off < len && guard++ < 100000) {
		n = step == 0 || len - off < step ? len - off : step;
		st = smtp_replyparse_feed(p, in + off, n, &used);
		if (st == SMTP_REPLYPARSE_ERROR)
			return st;
		off += used;
	}
	return st;
}

/* Every malformed case fails with its reason, whole and bytewise. */
static void
test_bad(void)
{
	struct smtp_replyparse *p = malloc(sizeof(*p));
	size_t i, len, steps[] = { 0, 1, 2, 3 }, s;
	enum smtp_replyparse_status st;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		len = bad_cases[i].len ? bad_cases[i].len :
		    strlen(bad_cases[i].in);
		for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			smtp_replyparse_init(p);
			st = feed_bad(p, bad_cases[i].in, len, steps[s]);
			if (!CHECK(st == SMTP_REPLYPARSE_ERROR && p->error &&
			    strcmp(p->error, bad_cases[i].why) == 0))
				fprintf(stderr, "    bad case %zu step %zu: st=%d"
				    " why=%s\n", i, steps[s], (int)st,
				    p->error ? p->error : "(none)");
		}
	}
	free(p);
}

/* Builds "250 " + filler + CR LF of total length n (n >= 6). */
static char *
make_line(size_t n, char cont)
{
	char *s = malloc(n + 1);

	memset(s, 'x', n);
	memcpy(s, cont == '-' ? "250-" : "250 ", 4);
	s[n - 2] = '\r';
	s[n - 1] = '\n';
	s[n] = '\0';
	return s;
}

/* 2048 octets with CR LF pass; 2049 fail, also without any LF. */
static void
test_line_limit(void)
{
	struct smtp_replyparse *p = malloc(sizeof(*p));
	char *ok = make_line(SMTP_REPLYPARSE_LINE_MAX, ' ');
	char *bad = make_line(SMTP_REPLYPARSE_LINE_MAX + 1, ' ');
	size_t used;
	int le;

	smtp_replyparse_init(p);
	CHECK_INT(feed_all(p, ok, strlen(ok), 0, &le), SMTP_REPLYPARSE_DONE);
	CHECK_INT(p->text_len, SMTP_REPLYPARSE_LINE_MAX - 6);
	smtp_replyparse_init(p);
	CHECK_INT(feed_all(p, ok, strlen(ok), 7, &le), SMTP_REPLYPARSE_DONE);
	smtp_replyparse_init(p);
	CHECK_INT(feed_bad(p, bad, strlen(bad), 0), SMTP_REPLYPARSE_ERROR);
	CHECK_STR(p->error, "reply line too long");
	smtp_replyparse_init(p);
	CHECK_INT(feed_bad(p, bad, strlen(bad), 100), SMTP_REPLYPARSE_ERROR);
	CHECK_STR(p->error, "reply line too long");
	/* no LF at all: fails as soon as the cap is passed, not at LF */
	smtp_replyparse_init(p);
	CHECK_INT(feed_bad(p, bad, SMTP_REPLYPARSE_LINE_MAX - 1, 1),
	    SMTP_REPLYPARSE_NEED_MORE);
	CHECK(smtp_replyparse_pending(p));
	CHECK_INT(smtp_replyparse_feed(p, "y", 1, &used),
	    SMTP_REPLYPARSE_ERROR);
	/* the error is sticky */
	CHECK_INT(smtp_replyparse_feed(p, "250 ok\r\n", 8, &used),
	    SMTP_REPLYPARSE_ERROR);
	CHECK_INT(used, 0);
	free(ok);
	free(bad);
	free(p);
}

/* 100 lines pass; the 101st fails. */
static void
test_line_count(void)
{
	struct smtp_replyparse *p = malloc(sizeof(*p));
	size_t used;
	int i;

	smtp_replyparse_init(p);
	for (i = 0; i < SMTP_REPLYPARSE_LINES_MAX - 1; i++)
		CHECK_INT(smtp_replyparse_feed(p, "250-x\r\n", 7, &used),
		    SMTP_REPLYPARSE_LINE);
	CHECK_INT(smtp_replyparse_feed(p, "250 x\r\n", 7, &used),
	    SMTP_REPLYPARSE_DONE);
	CHECK_INT(p->lines, SMTP_REPLYPARSE_LINES_MAX);
	smtp_replyparse_init(p);
	for (i = 0; i < SMTP_REPLYPARSE_LINES_MAX; i++)
		CHECK_INT(smtp_replyparse_feed(p, "250-x\r\n", 7, &used),
		    SMTP_REPLYPARSE_LINE);
	CHECK_INT(smtp_replyparse_feed(p, "250 x\r\n", 7, &used),
	    SMTP_REPLYPARSE_ERROR);
	CHECK_STR(p->error, "too many lines in reply");
	free(p);
}

/* Text beyond 4 KB drops whole lines and sets truncated. */
static void
test_truncation(void)
{
	struct smtp_replyparse *p = malloc(sizeof(*p));
	char *l1 = make_line(2006, '-');	/* 2000 octets of text */
	char *l3 = make_line(2006, ' ');
	char want[4100];
	size_t used;

	smtp_replyparse_init(p);
	CHECK_INT(smtp_replyparse_feed(p, l1, 2006, &used),
	    SMTP_REPLYPARSE_LINE);
	CHECK_INT(smtp_replyparse_feed(p, l1, 2006, &used),
	    SMTP_REPLYPARSE_LINE);
	CHECK_INT(smtp_replyparse_feed(p, l3, 2006, &used),
	    SMTP_REPLYPARSE_DONE);
	CHECK_INT(p->lines, 3);
	CHECK_INT(p->truncated, 1);
	CHECK_INT(p->text_len, 4001);
	memset(want, 'x', 4001);
	want[2000] = '\n';
	want[4001] = '\0';
	CHECK_STR(p->text, want);
	free(l1);
	free(l3);
	free(p);
}

/* Two replies in one buffer: the first DONE consumes exactly its bytes. */
static void
test_two_replies(void)
{
	struct smtp_replyparse p;
	const char in[] = "250-a\r\n250 b\r\n354 go\r\n";
	size_t used, off = 0;

	smtp_replyparse_init(&p);
	CHECK_INT(smtp_replyparse_feed(&p, in, sizeof(in) - 1, &used),
	    SMTP_REPLYPARSE_LINE);
	CHECK_INT(used, 7);
	CHECK_INT(p.last_len, 1);
	CHECK(memcmp(p.last, "a", 1) == 0);
	off += used;
	CHECK_INT(smtp_replyparse_feed(&p, in + off, sizeof(in) - 1 - off,
	    &used), SMTP_REPLYPARSE_DONE);
	CHECK_INT(used, 7);
	CHECK_STR(p.text, "a\nb");
	CHECK(!smtp_replyparse_pending(&p));
	off += used;
	CHECK_INT(smtp_replyparse_feed(&p, in + off, sizeof(in) - 1 - off,
	    &used), SMTP_REPLYPARSE_DONE);
	CHECK_INT(p.code, 354);
	CHECK_STR(p.text, "go");
	CHECK_INT(p.lines, 1);
	CHECK_INT(smtp_replyparse_feed(&p, "", 0, &used),
	    SMTP_REPLYPARSE_NEED_MORE);
}

int
main(void)
{
	test_valid();
	test_bad();
	test_line_limit();
	test_line_count();
	test_truncation();
	test_two_replies();
	return check_report();
}
