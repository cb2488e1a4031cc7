/*
 * fuzz_test.c - replays deterministic pseudo-random configuration files
 *	through conf_fuzz_one().
 *
 * Inputs are assembled from fragments of real configuration lines
 * (headers, keys with good and bad values, continuation lines, comments,
 * CR LF, a BOM, long runs) or start from the shipped sample, and are then
 * mutated octet by octet (flips, NUL, CR, LF, '[', '=', ';', '#', spaces,
 * deletions, duplications).  The entry point aborts on any broken
 * invariant; ASan/UBSan watch memory.  A fixed seed keeps runs
 * reproducible; the count keeps it to a few seconds with sanitizers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "tests/conf/conf_fuzz.h"

#define FUZZ_RUNS	6000
#define FUZZ_MAX	(64 * 1024)

#define SAMPLE SPFGATE_SOURCE_DIR "/conf/spfgate.conf.sample"

static const char *const fragments[] = {
	"[server]\n", "[listener smtp]\n", "[listener b]\n", "[spf]\n",
	"[dns]\n", "[backend]\n", "[tls]\n", "[certificate rsa]\n",
	"[srs]\n", "[domain example.org]\n", "[domain a.example.org]\n",
	"servers = 127.0.0.1:10025\n", "servers = [::1]:25, 192.0.2.1:2525\n",
	"address = 0.0.0.0:25, [::]:25\n", "address = 127.0.0.1:2525\n",
	"tls = starttls\n", "tls = implicit\n", "tls = required\n",
	"require_tls = yes\n", "proxy_protocol = yes\n",
	"trusted_proxies = 10.0.0.0/8\n", "workers = 4\n", "workers = 999\n",
	"timeout_command = 5m\n", "timeout = 99999999999999999999d\n",
	"max_message_size = 50M\n", "max_message_size = 9T\n",
	"skip_networks = 192.0.2.0/24, 2001:db8::/32\n",
	"skip_networks = 192.0.2.1/24\n", "skip_domains = Example.COM.\n",
	"explanation = %{i} is not allowed ; c\n", "headers = received-spf\n",
	"ciphers = A:B\n", "  C, D\n", "    127.0.0.2:10025,\n",
	"\t10.0.0.0/8\n",
	"cert_file = /a.pem\n", "key_file = /a.key\n",
	"enabled = yes\n", "domain = srs.example\n", "secrets_file = /s\n",
	"srs = yes\n", "srs_domain = b.example\n", "max_age = 7d\n",
	"reverse_rate_limit = 10/1m\n", "forward = 192.0.2.53@5353, ::1\n",
	"bounce_route = [::1]:25\n", "metrics_listen = 127.0.0.1:9100\n",
	"helo = [192.0.2.1]\n", "authserv_id = mx.example\n",
	"# comment\n", "; comment\n", "\n", "\r\n", "   \n", "key\n", "= x\n",
	"a: b\n", "[unknown]\n", "[server x]\n", "[listener]\n",
	"separator = =\n", "hash_length = 6\n", "\xEF\xBB\xBF", "]", "[",
	"=", ";", "#", " ", "\t", "\r", "\0",
};

static const char mutations[] = "\0\r\n[]=;#:, \t/@.-*\x80\xff";

static unsigned long long rng = 0x5eed5eed1234ULL;

/* xorshift64: a fixed, portable sequence. */
static unsigned
next(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Appends len bytes if room remains. */
static void
put(char *buf, size_t *len, const char *s, size_t n)
{
	if (*len + n > FUZZ_MAX)
		return;
	memcpy(buf + *len, s, n);
	*len += n;
}

/* Builds an input from fragments. */
static size_t
assemble(char *buf)
{
	size_t len = 0, i, n = 1 + next(40);
	char run[300];

	put(buf, &len, "[backend]\nservers = 127.0.0.1:10025\n", 36);
	for (i = 0; i < n; i++) {
		const char *f = fragments[next(sizeof(fragments) /
		    sizeof(fragments[0]))];

		put(buf, &len, f, *f ? strlen(f) : 1);
		if (next(50) == 0) {
			memset(run, 'a' + (int)next(26), sizeof(run));
			put(buf, &len, run, 150 + next(150));
		}
	}
	return len;
}

/* Applies a few octet-level mutations. */
static void
mutate(char *buf, size_t *len)
{
	unsigned i, n = next(8);

	for (i = 0; i < n && *len > 0; i++) {
		size_t at = next((unsigned)*len);

		switch (next(4)) {
		case 0:
			buf[at] = mutations[next(sizeof(mutations) - 1)];
			break;
		case 1:
			buf[at] ^= (char)(1u << next(8));
			break;
		case 2: {
			size_t cut = 1 + next(16);

			if (at + cut > *len)
				cut = *len - at;
			memmove(buf + at, buf + at + cut, *len - at - cut);
			*len -= cut;
			break;
		}
		default:
			if (*len + 1 <= FUZZ_MAX) {
				memmove(buf + at + 1, buf + at, *len - at);
				buf[at] = mutations[next(sizeof(mutations) -
				    1)];
				(*len)++;
			}
			break;
		}
	}
}

/* Reads the sample as one base input. */
static size_t
read_sample(char *buf)
{
	FILE *fp = fopen(SAMPLE, "r");
	size_t n;

	if (fp == NULL)
		return 0;
	n = fread(buf, 1, FUZZ_MAX, fp);
	fclose(fp);
	return n;
}

int
main(void)
{
	static char sample[FUZZ_MAX], buf[FUZZ_MAX];
	size_t sample_len = read_sample(sample), len;
	int accepted = 0, refused = 0, i;

	CHECK(sample_len > 0);
	for (i = 0; i < FUZZ_RUNS; i++) {
		if (next(4) == 0 && sample_len > 0) {
			memcpy(buf, sample, sample_len);
			len = sample_len;
		} else
			len = assemble(buf);
		if (next(3) != 0)
			mutate(buf, &len);
		if (conf_fuzz_one((const unsigned char *)buf, len))
			accepted++;
		else
			refused++;
	}
	printf("%d accepted, %d refused\n", accepted, refused);
	/* both paths must really be exercised */
	CHECK(accepted > FUZZ_RUNS / 20);
	CHECK(refused > FUZZ_RUNS / 20);
	return check_report();
}
