/*
 * fuzz_proxy.c - libFuzzer driver for relay/proxy.c (built with
 * -DSPFGATE_FUZZ=ON and clang).
 *
 * Besides memory safety (ASan/UBSan), it checks the parser's contract on
 * every input: a result never exceeds the input, -1 always has a reason, a
 * complete header is "need more" at every shorter prefix and parses the
 * same with extra bytes after it, and a non-local result names an IPv4 or
 * IPv6 endpoint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a finding for libFuzzer) when cond is false. */
static void
fuzz_assert(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_info pi, again;
	size_t k;
	int r;

	r = proxy_parse(data, size, &pi);
	fuzz_assert(r >= -1 && (r < 0 || (size_t)r <= size));
	fuzz_assert(r != -1 || pi.error != NULL);
	if (r <= 0)
		return 0;
	fuzz_assert(pi.version == 1 || pi.version == 2);
	fuzz_assert(pi.local || ((pi.src.ss_family == AF_INET ||
	    pi.src.ss_family == AF_INET6) &&
	    pi.dst.ss_family == pi.src.ss_family));
	for (k = 0; k < (size_t)r; k++)
		fuzz_assert(proxy_parse(data, k, &again) == 0);
	fuzz_assert(proxy_parse(data, (size_t)r, &again) == r);
	fuzz_assert(memcmp(&again, &pi, sizeof(pi)) == 0);
	return 0;
}
