/*
 * fuzz_spf_eval.c - libFuzzer driver for the whole evaluator and the
 * header formatters (built with -DSPFGATE_FUZZ=ON and clang).
 *
 * The input is cut at newlines into up to eight TXT records served by an
 * in-memory zone at fixed names (the first at the sender's domain, the
 * others at names include:/redirect=/exp= can reach: t1.example.com ..
 * t7.example.com); a few address, MX and PTR records exist too.  The
 * first input byte picks the client (IPv4, IPv6, IPv4-mapped), the
 * identity and the answer order of an asynchronous resolver (fakedns).
 * Checked on every input: done is called exactly once, with a result in
 * range and NUL-terminated, printable verdict strings; nothing stays
 * outstanding; both headers format without CR/LF other than folds.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spf.h"
#include "fakedns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_out {
	int			calls;
	struct spf_verdict	v;
};

/* Aborts (a finding for libFuzzer) when cond is false. */
static void
fuzz_assert(int cond)
{
	if (!cond)
		abort();
}

/* spf_done_cb */
static void
fuzz_done(void *arg, const struct spf_verdict *v)
{
	struct fuzz_out *o = arg;

	o->calls++;
	o->v = *v;
}

/* 1 if s (within max) is NUL-terminated printable ASCII. */
static int
fuzz_printable(const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return i < max;
}

/* Checks that a header only breaks lines with CR LF TAB. */
static void
fuzz_header(const char *h, int n)
{
	int i;

	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		if (h[i] == '\r')
			fuzz_assert(h[i + 1] == '\n' && h[i + 2] == '\t');
		else if (h[i] == '\n')
			fuzz_assert(i > 0 && h[i - 1] == '\r');
	}
}

/* Builds the zone: fuzzed TXT records plus some fixed data. */
static struct spf_zone *
fuzz_zone(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "example.com", "t1.example.com",
	    "t2.example.com", "t3.example.com", "t4.example.com",
	    "t5.example.com", "t6.example.com", "t7.example.com" };
	struct spf_zone *z = spf_zone_new();
	size_t start = 0, i, len;
	int k = 0;

	if (z == NULL)
		return NULL;
	for (i = 0; i <= size && k < 8; i++) {
		if (i < size && data[i] != '\n')
			continue;
		len = i - start;
		while (len > 0) {	/* cut into 255-octet strings */
			const char *s = (const char *)data + start;
			size_t l = len > 255 ? 255 : len;

			spf_zone_add_txt(z, names[k], &s, &l, 1);
			start += l;
			len -= l;
		}
		start = i + 1;
		k++;
	}
	spf_zone_add(z, "t1.example.com", SPF_RR_A, "192.0.2.1");
	spf_zone_add(z, "t2.example.com", SPF_RR_AAAA, "2001:db8::1");
	spf_zone_add(z, "example.com", SPF_RR_MX, "10 t1.example.com");
	spf_zone_add(z, "example.com", SPF_RR_MX, "20 t2.example.com");
	spf_zone_add(z, "1.2.0.192.in-addr.arpa", SPF_RR_PTR,
	    "t1.example.com");
	spf_zone_add_failure(z, "t6.example.com", SPF_RR_A, SPF_DNS_TIMEOUT);
	spf_zone_add_failure(z, "t7.example.com", 0, SPF_DNS_BOGUS);
	return z;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_header_info info = { "mx.example.net", "mx.example.net",
	    "192.0.2.1", "helo.example.com" };
	struct spf_resolver *zr;
	struct spf_request req;
	struct fuzz_out o;
	struct fakedns *f;
	struct spf_zone *z;
	struct spf_eval *ev;
	char hdr[2048];
	int i, sel;

	if (size < 1 || size > 16384)
		return 0;
	sel = data[0];
	if ((z = fuzz_zone(data + 1, size - 1)) == NULL)
		return 0;
	zr = spf_zone_resolver_new(z);
	f = fakedns_new(zr, (enum fakedns_order)(sel & 3));
	memset(&req, 0, sizeof(req));
	req.family = (sel & 4) ? AF_INET6 : AF_INET;
	inet_pton(req.family, (sel & 4) ? ((sel & 8) ? "::ffff:192.0.2.1" :
	    "2001:db8::1") : "192.0.2.1", req.ip);
	req.identity = (sel & 16) ? SPF_ID_HELO : SPF_ID_MAILFROM;
	req.sender = (sel & 32) ? "" : "user@example.com";
	req.helo = "example.com";
	req.default_explanation = (sel & 64) ? "%{p} %{c} %{ir}" : NULL;
	req.now = 1;
	memset(&o, 0, sizeof(o));
	ev = spf_eval_new(&req, &f->base, fuzz_done, &o);
	fuzz_assert(ev != NULL);
	spf_eval_start(ev);
	for (i = 0; i < 200 && o.calls == 0; i++)
		if (!fakedns_pump(f))
			break;
	fuzz_assert(o.calls == 1);
	fuzz_assert(fakedns_live(f) == 0);
	fuzz_assert((unsigned)o.v.result < SPF_RESULT_COUNT);
	fuzz_assert(fuzz_printable(o.v.reason, sizeof(o.v.reason)));
	fuzz_assert(fuzz_printable(o.v.explanation,
	    sizeof(o.v.explanation)));
	fuzz_assert(fuzz_printable(o.v.mechanism, sizeof(o.v.mechanism)));
	fuzz_assert(fuzz_printable(o.v.identity_text,
	    sizeof(o.v.identity_text)));
	fuzz_header(hdr, spf_header_received_spf(hdr, sizeof(hdr), &o.v,
	    &info));
	fuzz_header(hdr, spf_header_authres(hdr, sizeof(hdr), &o.v, &info));
	spf_eval_free(ev);
	fakedns_free(f);
	zr->ops->free(zr);
	spf_zone_free(z);
	return 0;
}
