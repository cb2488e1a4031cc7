/*
 * spf_result.c - names of SPF results and the RFC 7208 default limits.
 *
 * CONTRACT
 *	spf_result_name() maps every enum spf_result to its lower-case RFC 7208
 *	section 2.6 name ("none", "neutral", ...); an out-of-range value maps
 *	to "permerror" so that callers never print garbage.
 *	spf_result_parse() is its case-insensitive inverse and returns -1 for
 *	anything else.  spf_limits_default() fills the section 4.6.4 values.
 */
#include "spf/spf_int.h"

static const char *const result_names[SPF_RESULT_COUNT] = {
	[SPF_RESULT_NONE] = "none",
	[SPF_RESULT_NEUTRAL] = "neutral",
	[SPF_RESULT_PASS] = "pass",
	[SPF_RESULT_FAIL] = "fail",
	[SPF_RESULT_SOFTFAIL] = "softfail",
	[SPF_RESULT_TEMPERROR] = "temperror",
	[SPF_RESULT_PERMERROR] = "permerror"
};

/* Lower-case RFC name of a result. */
const char *
spf_result_name(enum spf_result result)
{
	if ((unsigned)result >= SPF_RESULT_COUNT)
		return "permerror";
	return result_names[result];
}

/* Parses a result name, case-insensitively; -1 if unknown. */
int
spf_result_parse(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < SPF_RESULT_COUNT; i++)
		if (spf_ieq(name, strlen(name), result_names[i],
		    strlen(result_names[i])))
			return i;
	return -1;
}

/* Fills the RFC 7208 section 4.6.4 limits. */
void
spf_limits_default(struct spf_limits *limits)
{
	limits->dns_terms = 10;
	limits->void_lookups = 2;
	limits->mx_names = 10;
	limits->ptr_names = 10;
}
