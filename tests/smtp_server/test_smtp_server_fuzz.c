/*
 * test_smtp_server_fuzz.c - replays deterministic pseudo-random SMTP
 * transcripts through smtp_server_fuzz_one(), so the fuzz invariants run
 * in every ctest (under ASan/UBSan with -DSPFGATE_SANITIZE=ON) without a
 * fuzzer.  Inputs are built from SMTP tokens, smuggling sequences and raw
 * random octets with a fixed seed; any broken invariant aborts the run.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/check.h"
#include "tests/smtp_server/server_fuzz.h"

#define RUNS		4000
#define INPUT_MAX	6000
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* Commands, in no particular order. */
static const char *const tokens[] = {
	"EHLO client.example\r\n", "HELO x\r\n", "EHLO\r\n",
	"MAIL FROM:<a@b.example>\r\n", "MAIL FROM:<>\r\n",
	"MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME RET=HDRS ENVID=x+2B\r\n",
	"MAIL FROM:<j\xc3\xb6@b.example> SMTPUTF8\r\n",
	"MAIL FROM:<@r.example:\"q x\"@[IPv6:::1]>\r\n",
	"MAIL FROM:<a@b.example> SIZE=99999\r\n",
	"RCPT TO:<c@d.example>\r\n", "RCPT TO:<Postmaster>\r\n",
	"RCPT TO:<c@d.example> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;c+40d\r\n",
	"RCPT TO:<b\xc3\xbc@d.example>\r\n",
	"DATA\r\n", "STARTTLS\r\n", "RSET\r\n", "NOOP\r\n", "QUIT\r\n",
	"VRFY a\r\n", "EXPN a\r\n", "HELP\r\n", "BDAT 1 LAST\r\n",
	"AUTH PLAIN\r\n", "FOO\r\n", "\0\r\n",
	"MAIL FROM:<a@b.example> FOO=1\r\n",
};

/* Message content pieces that keep CR LF line ends. */
static const char *const body[] = {
	"Subject: x\r\n\r\n", "body line\r\n", "..\r\n", ".x\r\n", "\r\n",
	".", "..", "text", "MAIL FROM:<evil@x.example>\r\n",
};

/* Smuggling sequences and other bare CR / LF. */
static const char *const bare[] = {
	"\n.\n", "\n.\r\n", "\r.\r", "\r\n.\r", "\r.\n", "\r\n.\n",
	"\n.\r", "\r.\r\n", "\r", "\n", "\r\n..\n",
};

/* A transaction that the owner will mostly accept. */
static const char prologue[] = "EHLO client.example\r\n"
    "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n";

/* xorshift32: deterministic, seedable. */
static uint32_t
next_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* Appends n octets if they fit. */
static void
add(uint8_t *buf, size_t *len, const void *p, size_t n)
{
	if (INPUT_MAX - *len < n)
		return;
	memcpy(buf + *len, p, n);
	*len += n;
}

/* Appends one token of the given list. */
static void
add_token(uint8_t *buf, size_t *len, const char *const *list, size_t n,
    uint32_t *rnd)
{
	const char *t = list[next_rand(rnd) % n];

	/* "\0\r\n" is the only token with a NUL in it. */
	add(buf, len, t, t[0] == '\0' ? 3 : strlen(t));
}

/* Appends 1..16 random octets or a long run of 'x'. */
static void
add_noise(uint8_t *buf, size_t *len, uint32_t *rnd)
{
	size_t n, j;
	uint8_t b;

	if (next_rand(rnd) % 4 == 0) {
		n = 400 + next_rand(rnd) % 800;	/* long line */
		for (j = 0; j < n; j++)
			add(buf, len, "x", 1);
		return;
	}
	n = 1 + next_rand(rnd) % 16;
	for (j = 0; j < n; j++) {
		b = (uint8_t)next_rand(rnd);
		add(buf, len, &b, 1);
	}
}

/*
 * Builds one input: two selector octets, then usually a transaction
 * prologue and content pieces, then 1..40 pieces of commands, content,
 * terminators and noise.
 */
static size_t
make_input(uint8_t *buf, uint32_t *rnd)
{
	size_t len = 0, pieces, i;
	uint8_t b;
	uint32_t r;

	b = (uint8_t)next_rand(rnd);
	if (next_rand(rnd) % 4 != 0)
		b &= (uint8_t)~4;	/* require_tls in a quarter of the runs */
	add(buf, &len, &b, 1);
	b = (uint8_t)next_rand(rnd);
	add(buf, &len, &b, 1);
	if (next_rand(rnd) % 4 != 0)
		add(buf, &len, prologue, sizeof(prologue) - 1);
	pieces = 1 + next_rand(rnd) % 40;
	for (i = 0; i < pieces; i++) {
		r = next_rand(rnd) % 100;
		if (r < 25)
			add_token(buf, &len, tokens, ARRAY_LEN(tokens), rnd);
		else if (r < 75)
			add_token(buf, &len, body, ARRAY_LEN(body), rnd);
		else if (r < 80)
			add_token(buf, &len, bare, ARRAY_LEN(bare), rnd);
		else if (r < 92)
			add(buf, &len, "\r\n.\r\n", 5);
		else
			add_noise(buf, &len, rnd);
	}
	return len;
}

int
main(void)
{
	static uint8_t buf[INPUT_MAX];
	uint32_t rnd = 0x5eed1234u;
	size_t len;
	int i, ok = 0;

	for (i = 0; i < RUNS; i++) {
		len = make_input(buf, &rnd);
		if (smtp_server_fuzz_one(buf, len) == 0)
			ok++;
	}
	CHECK_INT(ok, RUNS);
	/* The generator must keep reaching the interesting paths. */
	printf("data %lu: ok %lu, bare %lu, too big %lu; starttls %lu, "
	    "closed %lu\n", smtp_server_fuzz_stats.data_body,
	    smtp_server_fuzz_stats.data_ok, smtp_server_fuzz_stats.data_bare,
	    smtp_server_fuzz_stats.data_too_big, smtp_server_fuzz_stats.starttls,
	    smtp_server_fuzz_stats.closed);
	CHECK(smtp_server_fuzz_stats.data_body >= RUNS / 10);
	CHECK(smtp_server_fuzz_stats.data_ok >= RUNS / 20);
	CHECK(smtp_server_fuzz_stats.data_bare >= RUNS / 50);
	CHECK(smtp_server_fuzz_stats.data_too_big >= 5);
	CHECK(smtp_server_fuzz_stats.starttls >= RUNS / 100);
	CHECK(smtp_server_fuzz_stats.closed >= RUNS / 4);
	/* Degenerate inputs. */
	CHECK_INT(smtp_server_fuzz_one(NULL, 0), 0);
	CHECK_INT(smtp_server_fuzz_one((const uint8_t *)"\x01", 1), 0);
	CHECK_INT(smtp_server_fuzz_one((const uint8_t *)"\x08\x00" "EHLO x\r\n",
	    10), 0);
	return check_report();
}
