/*
 * test_smtp_client_fuzz.c - replays deterministic pseudo-random backend
 * conversations through client_fuzz_one().
 *
 * Inputs are built from fragments of real replies (greetings, EHLO
 * keywords, 220/250/354/421/5xx answers, multi-line replies) and then
 * mutated octet by octet (flips, CR, LF, NUL, digits, deletions).  The
 * entry point aborts on any broken invariant; ASan/UBSan watch memory.
 * A fixed seed keeps runs reproducible; the count keeps it under a few
 * seconds with sanitizers.
 */
#include "tests/smtp_client/client_fuzz.h"
#include "tests/check.h"

#include <stdint.h>

#define FUZZ_RUNS	20000
#define FUZZ_MAX	1500

static const char *const fragments[] = {
	"220 backend.example ESMTP\r\n",
	"220-multi\r\n220 greeting\r\n",
	"250-backend.example\r\n",
	"250-PIPELINING\r\n", "250-SIZE 10240000\r\n", "250-SIZE\r\n",
	"250-8BITMIME\r\n", "250-SMTPUTF8\r\n", "250-DSN\r\n",
	"250-STARTTLS\r\n", "250-ENHANCEDSTATUSCODES\r\n",
	"250-XCLIENT NAME ADDR PORT PROTO HELO DESTADDR DESTPORT\r\n",
	"250-XFORWARD NAME ADDR PORT PROTO HELO SOURCE\r\n",
	"250 CHUNKING\r\n", "250 STARTTLS\r\n", "250 XCLIENT ADDR\r\n",
	"250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", "250 2.0.0 Ok: queued\r\n",
	"220 2.0.0 Ready to start TLS\r\n",
	"354 End data with <CR><LF>.<CR><LF>\r\n",
	"421 4.3.2 Service shutting down\r\n",
	"450 4.2.0 Greylisted\r\n", "451 4.3.0 Error\r\n",
	"502 5.5.1 not implemented\r\n", "550-5.1.1 first\r\n",
	"550 5.1.1 User unknown\r\n", "554 5.7.1 No\r\n",
	"221 2.0.0 Bye\r\n", "\n", "\r\n", "250", "-", " ",
};

/* Whole conversations the mutations start from half of the time. */
static const char *const skeletons[] = {
	"220 b ESMTP\r\n250-b\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 DSN\r\n"
	"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n"
	"250 2.0.0 queued\r\n221 bye\r\n",
	"220 b ESMTP\r\n250-b\r\n250-STARTTLS\r\n250 XCLIENT NAME ADDR HELO\r\n"
	"220 2.0.0 go\r\n250-b\r\n250 XCLIENT NAME ADDR HELO\r\n220 b\r\n"
	"250-b\r\n250 DSN\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"
	"250 ok\r\n221 bye\r\n",
	"220 b ESMTP\r\n250-b\r\n250 XFORWARD NAME ADDR PROTO HELO\r\n"
	"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n354 go\r\n"
	"451 4.3.0 later\r\n221 bye\r\n",
};

/* xorshift64: deterministic pseudo-random numbers. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Builds one input into buf; returns its length. */
static size_t
make_input(uint64_t *rs, unsigned char *buf, size_t cap)
{
	static const unsigned char noise[] = { '\r', '\n', '\0', '-', ' ',
	    '0', '2', '4', '5', '9', 0x7f, 0xff, '.' };
	size_t len = 1, nfrag, i, pos;
	const char *f;
	size_t flen;

	buf[0] = (unsigned char)next_rand(rs);
	if (next_rand(rs) % 2) {
		f = skeletons[next_rand(rs) %
		    (sizeof(skeletons) / sizeof(skeletons[0]))];
		flen = strlen(f);
		memcpy(buf + len, f, flen);
		len += flen;
	}
	nfrag = next_rand(rs) % 24;
	for (i = 0; i < nfrag; i++) {
		f = fragments[next_rand(rs) %
		    (sizeof(fragments) / sizeof(fragments[0]))];
		flen = strlen(f);
		if (len + flen > cap)
			break;
		memcpy(buf + len, f, flen);
		len += flen;
	}
	for (i = next_rand(rs) % 4; i > 0 && len > 1; i--) {
		pos = 1 + next_rand(rs) % (len - 1);
		switch (next_rand(rs) % 3) {
		case 0:		/* replace */
			buf[pos] = noise[next_rand(rs) % sizeof(noise)];
			break;
		case 1:		/* delete */
			memmove(buf + pos, buf + pos + 1, len - pos - 1);
			len--;
			break;
		default:	/* flip */
			buf[pos] ^= (unsigned char)(1u << (next_rand(rs) % 8));
			break;
		}
	}
	return len;
}

int
main(void)
{
	static unsigned char buf[FUZZ_MAX];
	uint64_t rs = 0x5eed5eed12345678ULL;
	size_t len;
	int i, ran = 0;

	for (i = 0; i < FUZZ_RUNS; i++) {
		len = make_input(&rs, buf, sizeof(buf));
		client_fuzz_one(buf, len);
		ran++;
	}
	/* degenerate inputs */
	client_fuzz_one(buf, 0);
	client_fuzz_one((const unsigned char *)"\x00", 1);
	CHECK_INT(ran, FUZZ_RUNS);
	/* the generator must reach every corner, not just the greeting */
	printf("runs %lu ready %lu data_end %lu errors %lu freed %lu\n",
	    client_fuzz_stats.runs, client_fuzz_stats.ready,
	    client_fuzz_stats.data_end, client_fuzz_stats.errors,
	    client_fuzz_stats.freed);
	CHECK(client_fuzz_stats.ready > FUZZ_RUNS / 10);
	CHECK(client_fuzz_stats.data_end > FUZZ_RUNS / 100);
	CHECK(client_fuzz_stats.errors > FUZZ_RUNS / 10);
	CHECK(client_fuzz_stats.freed > FUZZ_RUNS / 100);
	return check_report();
}
