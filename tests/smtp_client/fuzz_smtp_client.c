/*
 * fuzz_smtp_client.c - libFuzzer target for the reply parser and the
 * backend SMTP client (built with -DSPFGATE_FUZZ=ON and clang).
 */
#include "tests/smtp_client/client_fuzz.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer entry: one input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return client_fuzz_one(data, size);
}
