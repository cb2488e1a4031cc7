/*
 * check.h - the tiny assertion kit of spfgate's unit tests.
 *
 * Each test program calls CHECK*() as often as it likes and ends main()
 * with "return check_report();", which prints "N passed, N failed" and
 * returns non-zero when anything failed.  A failed CHECK prints the file,
 * line and expression and goes on, so one run shows every failure.
 */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(expr) check_one(!!(expr), __FILE__, __LINE__, #expr)

#define CHECK_INT(got, want) do {					\
	long long check_g_ = (long long)(got), check_w_ = (long long)(want); \
	if (!check_one(check_g_ == check_w_, __FILE__, __LINE__,	\
	    #got " == " #want))						\
		fprintf(stderr, "    got %lld, want %lld\n", check_g_, check_w_); \
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *check_g_ = (got), *check_w_ = (want);		\
	if (!check_one(check_g_ != NULL && strcmp(check_g_, check_w_) == 0, \
	    __FILE__, __LINE__, #got " == " #want))			\
		fprintf(stderr, "    got \"%s\", want \"%s\"\n",	\
		    check_g_ ? check_g_ : "(null)", check_w_);		\
} while (0)

static inline int
check_one(int ok, const char *file, int line, const char *text)
{
	if (ok) {
		check_passed++;
		return 1;
	}
	check_failed++;
	fprintf(stderr, "FAIL %s:%d: %s\n", file, line, text);
	return 0;
}

static inline int
check_report(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed != 0 || check_passed == 0;
}

#endif /* TESTS_CHECK_H */
