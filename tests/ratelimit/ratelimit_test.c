/*
 * ratelimit_test.c - unit tests of relay/ratelimit.c.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "relay/ratelimit.h"
#include "tests/check.h"

/* Counts how many of n events at now are allowed for addr. */
static int
allowed(struct ratelimit *rl, int family, const unsigned char *addr, int n,
    long long now)
{
	int i, ok = 0;

	for (i = 0; i < n; i++)
		ok += ratelimit_allow(rl, family, addr, now);
	return ok;
}

/* The limit holds within a window and resets after it. */
static void
test_window(void)
{
	struct ratelimit *rl = ratelimit_new(64, 3, 1000);
	unsigned char a[4] = { 192, 0, 2, 1 }, b[4] = { 192, 0, 2, 2 };

	CHECK(rl != NULL);
	CHECK_INT(allowed(rl, AF_INET, a, 5, 0), 3);
	CHECK_INT(allowed(rl, AF_INET, a, 1, 999), 0);
	CHECK_INT(allowed(rl, AF_INET, b, 5, 500), 3);	/* independent */
	CHECK_INT(allowed(rl, AF_INET, a, 5, 1000), 3);	/* new window */
	ratelimit_free(rl);
}

/* IPv4 and IPv6 keys never collide as equal; count 0 is unlimited. */
static void
test_families_and_unlimited(void)
{
	struct ratelimit *rl = ratelimit_new(64, 1, 1000);
	struct ratelimit *open = ratelimit_new(64, 0, 0);
	unsigned char v4[4] = { 0, 0, 0, 0 }, v6[16] = { 0 };

	CHECK_INT(allowed(rl, AF_INET, v4, 2, 0), 1);
	CHECK_INT(allowed(rl, AF_INET6, v6, 2, 0), 1);
	CHECK_INT(allowed(open, AF_INET, v4, 1000, 0), 1000);
	ratelimit_free(rl);
	ratelimit_free(open);
}

/* A flood of distinct addresses never refuses a fresh address. */
static void
test_flood(void)
{
	struct ratelimit *rl = ratelimit_new(16, 2, 60000);
	unsigned char a[4] = { 10, 0, 0, 0 };
	int i, refused = 0;

	for (i = 0; i < 5000; i++) {
		a[2] = (unsigned char)(i >> 8);
		a[3] = (unsigned char)i;
		refused += !ratelimit_allow(rl, AF_INET, a, i);
	}
	CHECK_INT(refused, 0);
	/* ... while an address that used its count is still held back. */
	a[2] = 99;
	CHECK_INT(allowed(rl, AF_INET, a, 3, 6000), 2);
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

int
main(void)
{
	test_window();
	test_families_and_unlimited();
	test_flood();
	return check_report();
}
