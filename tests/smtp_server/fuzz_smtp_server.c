/*
 * fuzz_smtp_server.c - libFuzzer target around smtp_server_fuzz_one().
 * Built only with -DSPFGATE_FUZZ=ON (clang).
 */
#include <stddef.h>
#include <stdint.h>

#include "tests/smtp_server/server_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer entry: one input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return smtp_server_fuzz_one(data, size);
}
