/*
 * conf_fuzz.h - the configuration parser's fuzz entry point, shared by
 * the libFuzzer target (fuzz_conf.c) and the deterministic replay that
 * runs in ctest (fuzz_test.c).
 */
#ifndef TESTS_CONF_CONF_FUZZ_H
#define TESTS_CONF_CONF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses data as a configuration file and aborts on a broken invariant:
 * an accepted file has no errors and survives parse(dump(c)) == c with
 * every dumped line within the line limit; a refused one has 1 to
 * CONF_ERRORS_MAX NUL-terminated error lines naming the file.  Returns 1
 * if the input was accepted, else 0.
 */
int conf_fuzz_one(const uint8_t *data, size_t size);

#endif /* TESTS_CONF_CONF_FUZZ_H */
