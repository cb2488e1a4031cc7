/*
 * server_fuzz.h - fuzz entry point for the SMTP server session and the
 * command parser (tests/smtp_server/server_fuzz.c).
 *
 * CONTRACT
 *	smtp_server_fuzz_one() takes arbitrary bytes: the first two select
 *	the configuration and the owner's behaviour, the rest is client
 *	input.  It runs a session with an owner that answers every request
 *	(synchronously or later, accepting or refusing in turn), completes
 *	STARTTLS handshakes, and checks invariants as it goes; a violated
 *	invariant calls abort(), which a fuzzer reports as a crash.  Each
 *	input line is also run through the MAIL/RCPT parsers with a
 *	format -> parse round trip.  Returns 0.
 */
#ifndef TESTS_SMTP_SERVER_SERVER_FUZZ_H
#define TESTS_SMTP_SERVER_SERVER_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* What the runs so far reached, so a replay can check its coverage. */
struct smtp_server_fuzz_stats {
	unsigned long	data_body;	/* 354 given: content follows */
	unsigned long	data_ok;	/* data_end(OK) */
	unsigned long	data_bare;	/* data_end(BARE_NEWLINE) */
	unsigned long	data_too_big;	/* data_end(TOO_BIG) */
	unsigned long	starttls;	/* handshakes completed */
	unsigned long	closed;		/* sessions that reached close() */
};

extern struct smtp_server_fuzz_stats smtp_server_fuzz_stats;

/* Runs one fuzz input; aborts on a broken invariant, else returns 0. */
int smtp_server_fuzz_one(const uint8_t *data, size_t size);

#endif /* TESTS_SMTP_SERVER_SERVER_FUZZ_H */
