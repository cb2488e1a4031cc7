/*
 * fuzz_conf.c - libFuzzer target for the configuration parser
 * (cmake -DSPFGATE_FUZZ=ON -DCMAKE_C_COMPILER=clang; seed it with
 * conf/spfgate.conf.sample).
 */
#include <stddef.h>
#include <stdint.h>

#include "tests/conf/conf_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)conf_fuzz_one(data, size);
	return 0;
}
