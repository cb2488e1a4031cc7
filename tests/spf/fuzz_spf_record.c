/*
 * fuzz_spf_record.c - libFuzzer driver for the SPF record parser and the
 * macro expander (built with -DSPFGATE_FUZZ=ON and clang).
 *
 * The input is taken as an SPF record (and again with "v=spf1 " put in
 * front, so that most inputs reach the term parser).  Besides memory
 * safety (ASan/UBSan), it checks contracts on every input:
 *   - parse returns 0, -1 (with a reason inside the record) or -2;
 *   - every parsed term lies inside the text, has CIDR lengths in range,
 *     and its domain-spec passes spf_macro_check() again;
 *   - expanding a domain-spec gives -1, -2 or a NUL-terminated name of at
 *     most 253 octets;
 *   - expanding the input as an explanation never overruns a small
 *     buffer and yields only octets 0x20..0x7e.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spf_int.h"

#define FUZZ_TERMS	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a finding for libFuzzer) when cond is false. */
static void
fuzz_assert(int cond)
{
	if (!cond)
		abort();
}

/* An environment with odd but legal values. */
static void
fuzz_env(struct spf_macro_env *env, int six)
{
	static const unsigned char ip4[4] = { 192, 0, 2, 3 };
	static const unsigned char ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0xcb, 0x01 };

	memset(env, 0, sizeof(*env));
	env->l = "a.b-c+d=e\r\n\"%";
	env->l_len = strlen(env->l);
	env->o = "sub.example.com";
	env->o_len = strlen(env->o);
	env->d = "d.example.org";
	env->d_len = strlen(env->d);
	env->h = "helo with space";
	env->h_len = strlen(env->h);
	env->r = "receiver.example.net";
	env->r_len = strlen(env->r);
	env->p = six ? NULL : "mx.example.org";
	env->p_len = env->p ? strlen(env->p) : 0;
	env->family = six ? AF_INET6 : AF_INET;
	env->ip = six ? ip6 : ip4;
	env->now = 1397001600;
}

/* Checks the terms of a parsed record. */
static void
fuzz_terms(const char *text, size_t len, const struct spf_record *rec)
{
	struct spf_macro_env env;
	char name[SPF_NAME_MAX];
	const char *what;
	size_t at;
	int i, n;

	fuzz_env(&env, rec->nterms & 1);
	for (i = 0; i < rec->nterms; i++) {
		const struct spf_term *t = &rec->terms[i];

		fuzz_assert(t->text >= text && t->text + t->len <= text + len);
		fuzz_assert(t->mech <= SPF_MECH_EXISTS);
		fuzz_assert(t->cidr4 <= 32 && t->cidr6 <= 128);
		if (t->spec == NULL)
			continue;
		fuzz_assert(t->spec >= t->text &&
		    t->spec + t->spec_len <= t->text + t->len);
		fuzz_assert(spf_macro_check(t->spec, t->spec_len,
		    SPF_MACRO_DOMAIN, &at, &what) == 0);
		n = spf_macro_expand(&env, t->spec, t->spec_len,
		    SPF_MACRO_DOMAIN, name, sizeof(name));
		fuzz_assert(n >= -2);
		if (n >= 0)
			fuzz_assert((size_t)n == strlen(name) && n <= 253);
	}
}

/* Parses text; checks the result's contract. */
static void
fuzz_parse(const char *text, size_t len)
{
	static struct spf_term terms[FUZZ_TERMS];
	struct spf_syntax_error err;
	struct spf_record rec;
	int rc;

	rc = spf_record_parse(text, len, terms, FUZZ_TERMS, &rec, &err);
	fuzz_assert(rc == 0 || rc == -1 || rc == -2);
	if (rc < 0) {
		fuzz_assert(err.what != NULL);
		fuzz_assert(err.term >= text &&
		    err.term + err.term_len <= text + len);
		fuzz_assert(err.at <= err.term_len);
		return;
	}
	fuzz_assert(rec.nterms <= spf_record_count(text, len));
	fuzz_terms(text, len, &rec);
}

/* Expands the input as an explanation into a small buffer. */
static void
fuzz_explain(const char *text, size_t len)
{
	struct spf_macro_env env;
	char out[40];
	int n, i;

	fuzz_env(&env, (int)(len & 1));
	out[sizeof(out) - 1] = 'X';
	n = spf_macro_expand(&env, text, len, SPF_MACRO_EXP, out,
	    sizeof(out) - 1);
	fuzz_assert(out[sizeof(out) - 1] == 'X');
	fuzz_assert(n >= -1 && n < (int)sizeof(out) - 1);
	for (i = 0; i < n; i++)
		fuzz_assert((unsigned char)out[i] >= 0x20 &&
		    (unsigned char)out[i] <= 0x7e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if (size > SPF_RECORD_MAX)
		return 0;
	if ((buf = malloc(size + 7)) == NULL)
		return 0;
	memcpy(buf, "v=spf1 ", 7);
	memcpy(buf + 7, data, size);
	fuzz_parse(buf + 7, size);
	fuzz_parse(buf, size + 7);
	fuzz_explain(buf + 7, size);
	free(buf);
	return 0;
}
