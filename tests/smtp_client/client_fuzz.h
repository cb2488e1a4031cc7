/*
 * client_fuzz.h - fuzz entry point shared by the libFuzzer target
 * (fuzz_smtp_client.c) and the replay test (test_smtp_client_fuzz.c).
 */
#ifndef TESTS_SMTP_CLIENT_CLIENT_FUZZ_H
#define TESTS_SMTP_CLIENT_CLIENT_FUZZ_H

#include <stddef.h>

/* How far the inputs got (for the replay test's coverage check). */
struct client_fuzz_stats {
	unsigned long runs;
	unsigned long ready;		/* session established */
	unsigned long data_end;		/* final reply after content */
	unsigned long errors;		/* error() raised */
	unsigned long freed;		/* freed from inside a callback */
};

extern struct client_fuzz_stats client_fuzz_stats;

/* Runs one input through the parser and a driven client; aborts on a bug. */
int client_fuzz_one(const unsigned char *data, size_t size);

#endif /* TESTS_SMTP_CLIENT_CLIENT_FUZZ_H */
