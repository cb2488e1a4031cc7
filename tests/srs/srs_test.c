/*
 * srs_test.c - unit tests of relay/srs.c: known answers from Mail::SRS,
 * round trips, SRS1 chains, tampering, timestamps (expiry, future,
 * the 1024-day wrap-around), case mangling, the URL-safe alphabet, hash
 * lengths, secret rotation and the secrets file loader.
 *
 * The known answers were produced by Mail::SRS 0.31 (the reference
 * implementation, Debian's libmail-srs-perl) with time() fixed at
 * T0 = 1700000000; mailsrs_compat.pl compares many more addresses live.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "relay/srs.h"
#include "tests/check.h"

#define T0 ((time_t)1700000000)	/* day 19675, 219 in the 1024-day cycle */
#define DAY ((time_t)86400)
#define OUT 1100

static char tmpdir[256];

/* A rewriter with one or two secrets; aborts the run if it fails. */
static struct srs *
mk(const char *s1, const char *s2, int hash, int age, char sep)
{
	const char *v[2] = { s1, s2 };
	char why[256];
	struct srs *srs = srs_new(v, s2 ? 2 : 1, hash, age, sep, why,
	    sizeof(why));

	if (srs == NULL) {
		fprintf(stderr, "srs_new: %s\n", why);
		exit(1);
	}
	return srs;
}

/* srs_forward into a static buffer; NULL unless it returns want_rc. */
static const char *
fwd(const struct srs *srs, const char *sender, const char *domain,
    time_t now, int want_rc)
{
	static char out[OUT];
	char why[256] = "";
	int rc = srs_forward(srs, sender, domain, now, out, sizeof(out), why,
	    sizeof(why));

	if (rc != want_rc) {
		fprintf(stderr, "    forward %s: rc %d (%s)\n", sender, rc, why);
		return NULL;
	}
	return out;
}

/* srs_reverse: rc, result in out, reason in why. */
static int
rev(const struct srs *srs, const char *addr, time_t now, char *out,
    char *why)
{
	out[0] = '\0';
	why[0] = '\0';
	return srs_reverse(srs, addr, now, out, OUT, why, 256);
}

/* Known answers of Mail::SRS (see the file comment). */
static void
test_known_answers(void)
{
	static const struct {
		const char *secret, *secret2;
		int hash;
		char sep;
		const char *sender, *want;
	} t[] = {
		{ "mysecret", NULL, 4, '=', "User.Name@Example.COM",
		  "SRS0=dVJW=G3=Example.COM=User.Name@bounce.org" },
		{ "mysecret", NULL, 4, '=', "a=b+c@x.org",
		  "SRS0=cB8N=G3=x.org=a=b+c@bounce.org" },
		{ "mysecret", NULL, 4, '=', "SRS0=abcd=AB=orig.com=joe@fw.net",
		  "SRS1=Bqwt=fw.net==abcd=AB=orig.com=joe@bounce.org" },
		{ "mysecret", NULL, 4, '=', "srs0+abcd=AB=orig.com=joe@fw.net",
		  "SRS1=gHTt=fw.net=+abcd=AB=orig.com=joe@bounce.org" },
		{ "mysecret", NULL, 4, '=',
		  "SRS1=zzzz=fw.net==abcd=AB=orig.com=joe@fw2.net",
		  "SRS1=Bqwt=fw.net==abcd=AB=orig.com=joe@bounce.org" },
		{ "k3y with spaces", "old", 27, '+', "User.Name@Example.COM",
		  "SRS0+rEEpq2eUnBAMKCgq7Gh1PEZdRTU=G3=Example.COM=User.Name"
		  "@bounce.org" },
		{ "k3y with spaces", "old", 27, '+',
		  "srs0+abcd=AB=orig.com=joe@fw.net",
		  "SRS1+HC5G0YaqRq+QtkhGP1xcxwEF/2I=fw.net=+abcd=AB=orig.com=joe"
		  "@bounce.org" },
		{ "Jqc0Ctl8wl7u4rOp", NULL, 8, '-', "a=b+c@x.org",
		  "SRS0-MHZt68Gn=G3=x.org=a=b+c@bounce.org" },
		{ "Jqc0Ctl8wl7u4rOp", NULL, 8, '-',
		  "SRS1=zzzz=fw.net==abcd=AB=orig.com=joe@fw2.net",
		  "SRS1-CURq5iwv=fw.net==abcd=AB=orig.com=joe@bounce.org" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct srs *srs = mk(t[i].secret, t[i].secret2, t[i].hash, 21,
		    t[i].sep);

		CHECK_STR(fwd(srs, t[i].sender, "bounce.org", T0, SRS_OK),
		    t[i].want);
		srs_free(srs);
	}
}

/* Plain addresses go to SRS0 and back, with each separator. */
static void
test_round_trip(void)
{
	static const char *senders[] = {
		"alice@example.com", "Bob.Smith+tag@Sub.Example.ORG",
		"we=ird=local@x.net", "o'hara/x?y@example.de",
		"\xc3\xa9t\xc3\xa9@example.fr", "srs0@not-srs.example",
		"SRS2=x=y@example.com",
	};
	static const char seps[] = "=+-";
	char out[OUT], why[256];
	const char *f;
	size_t i, j;

	for (j = 0; j < 3; j++) {
		struct srs *srs = mk("secret", NULL, 6, 21, seps[j]);

		for (i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
			f = fwd(srs, senders[i], "fw.example", T0, SRS_OK);
			CHECK(f != NULL && strncmp(f, "SRS0", 4) == 0 &&
			    f[4] == seps[j]);
			if (f == NULL)
				continue;
			CHECK_INT(rev(srs, f, T0 + 3 * DAY, out, why), SRS_OK);
			CHECK_STR(out, senders[i]);
		}
		srs_free(srs);
	}
}

/*
 * orig -> SRS0 at fw1 -> SRS1 at fw2 -> SRS1 at fw3 (first hop kept);
 * fw3 reverses to the SRS0 at fw1, which fw1 reverses to orig.
 */
static void
test_srs1_chain(void)
{
	struct srs *a = mk("secret-a", NULL, 4, 21, '=');
	struct srs *b = mk("secret-b", NULL, 6, 21, '+');
	struct srs *c = mk("secret-c", NULL, 8, 21, '-');
	char s0[OUT], s1[OUT], s1c[OUT], out[OUT], why[256];
	const char *f;

	f = fwd(a, "joe@orig.example", "fw1.example", T0, SRS_OK);
	snprintf(s0, sizeof(s0), "%s", f ? f : "");
	f = fwd(b, s0, "fw2.example", T0, SRS_OK);
	snprintf(s1, sizeof(s1), "%s", f ? f : "");
	CHECK(strncmp(s1, "SRS1+", 5) == 0);
	CHECK(strstr(s1, "=fw1.example==") != NULL);
	CHECK(strstr(s1, "@fw2.example") != NULL);
	f = fwd(c, s1, "fw3.example", T0, SRS_OK);
	snprintf(s1c, sizeof(s1c), "%s", f ? f : "");
	CHECK(strncmp(s1c, "SRS1-", 5) == 0);
	CHECK(strstr(s1c, "=fw1.example==") != NULL);
	/* fw3 and fw2 both send the bounce straight to the first hop. */
	CHECK_INT(rev(c, s1c, T0, out, why), SRS_OK);
	CHECK_STR(out, s0);
	CHECK_INT(rev(b, s1, T0, out, why), SRS_OK);
	CHECK_STR(out, s0);
	/* SRS1 carries no timestamp of its own: 100 days later still fine. */
	CHECK_INT(rev(c, s1c, T0 + 100 * DAY, out, why), SRS_OK);
	CHECK_INT(rev(a, s0, T0 + DAY, out, why), SRS_OK);
	CHECK_STR(out, "joe@orig.example");
	/* Someone else's SRS1 does not verify with our secret. */
	CHECK_INT(rev(a, s1, T0, out, why), SRS_ERROR);
	CHECK(strstr(why, "does not verify") != NULL);
	srs_free(a);
	srs_free(b);
	srs_free(c);
}

/* Senders left alone, and senders that are no addresses. */
static void
test_forward_edges(void)
{
	struct srs *srs = mk("secret", NULL, 4, 21, '=');
	char big[SRS_ADDR_MAX + 10], out[8], why[256];
	const char *f;

	CHECK_STR(fwd(srs, "", "bounce.example", T0, SRS_UNCHANGED), "");
	CHECK_STR(fwd(srs, "joe@Bounce.EXAMPLE", "bounce.example", T0,
	    SRS_UNCHANGED), "joe@Bounce.EXAMPLE");
	CHECK_STR(fwd(srs, "SRS0=abcd=AB=x.org=joe@bounce.example",
	    "BOUNCE.example", T0, SRS_UNCHANGED),
	    "SRS0=abcd=AB=x.org=joe@bounce.example");
	CHECK(fwd(srs, "joe", "b.example", T0, SRS_ERROR) != NULL);
	CHECK(fwd(srs, "@x.org", "b.example", T0, SRS_ERROR) != NULL);
	CHECK(fwd(srs, "joe@", "b.example", T0, SRS_ERROR) != NULL);
	CHECK(fwd(srs, "a@b@x.org", "b.example", T0, SRS_ERROR) != NULL);
	CHECK(fwd(srs, "joe@x=y.org", "b.example", T0, SRS_ERROR) != NULL);
	CHECK(fwd(srs, "jo e@x.org", "b.example", T0, SRS_ERROR) != NULL);
	CHECK(fwd(srs, "jo\re@x.org", "b.example", T0, SRS_ERROR) != NULL);
	CHECK(fwd(srs, "joe@x.org", "", T0, SRS_ERROR) != NULL);
	CHECK(fwd(srs, "joe@x.org", "a@b.example", T0, SRS_ERROR) != NULL);
	CHECK(fwd(srs, "joe@x.org", "a=b.example", T0, SRS_ERROR) != NULL);
	memset(big, 'a', sizeof(big));
	memcpy(big + SRS_ADDR_MAX - 6, "@x.org", 7);	/* exactly the limit */
	CHECK_INT(strlen(big), SRS_ADDR_MAX);
	CHECK(fwd(srs, big, "b.example", T0, SRS_OK) != NULL);
	big[SRS_ADDR_MAX - 6] = 'a';
	memcpy(big + SRS_ADDR_MAX - 5, "@x.org", 7);	/* one over */
	CHECK(fwd(srs, big, "b.example", T0, SRS_ERROR) != NULL);
	/* The output buffer is too small: an error, never a cut address. */
	CHECK_INT(srs_forward(srs, "joe@x.org", "b.example", T0, out,
	    sizeof(out), why, sizeof(why)), SRS_ERROR);
	CHECK_STR(out, "");
	CHECK(strstr(why, "longer than") != NULL);
	/* A malformed SRS1 sender is wrapped in SRS0 and stays reversible. */
	f = fwd(srs, "SRS1=nohost@x.org", "b.example", T0, SRS_OK);
	CHECK(f != NULL && strncmp(f, "SRS0=", 5) == 0);
	if (f != NULL) {
		char o[OUT], w[256], addr[OUT];

		snprintf(addr, sizeof(addr), "%s", f);
		CHECK_INT(rev(srs, addr, T0, o, w), SRS_OK);
		CHECK_STR(o, "SRS1=nohost@x.org");
	}
	f = fwd(srs, "SRS1=h==u@x.org", "b.example", T0, SRS_OK);
	CHECK(f != NULL && strncmp(f, "SRS0=", 5) == 0);
	srs_free(srs);
}

/* Reversal of things that are not, or not quite, SRS addresses. */
static void
test_reverse_edges(void)
{
	struct srs *srs = mk("secret", NULL, 4, 21, '=');
	char out[OUT], why[256], small[8];
	const char *f;

	strcpy(out, "untouched");
	CHECK_INT(srs_reverse(srs, "joe@x.org", T0, out, sizeof(out), why,
	    sizeof(why)), SRS_NOT_SRS);
	CHECK_STR(out, "untouched");
	CHECK_INT(rev(srs, "SRS2=abcd=AB=x.org=joe@b.example", T0, out, why),
	    SRS_NOT_SRS);
	CHECK_INT(rev(srs, "SRS0xabcd=AB=x.org=joe@b.example", T0, out, why),
	    SRS_NOT_SRS);
	CHECK_INT(rev(srs, "SRS0=abcd=AB=x.org@b.example", T0, out, why),
	    SRS_ERROR);
	CHECK(strstr(why, "malformed") != NULL);
	CHECK_INT(rev(srs, "SRS0==AB=x.org=joe@b.example", T0, out, why),
	    SRS_ERROR);
	CHECK_INT(rev(srs, "SRS0=abcd=AB=x.org=@b.example", T0, out, why),
	    SRS_ERROR);
	CHECK_INT(rev(srs, "SRS0=abcd=AB=x.org=joe", T0, out, why),
	    SRS_ERROR);
	CHECK_INT(rev(srs, "SRS1=abcd=x.org@b.example", T0, out, why),
	    SRS_ERROR);
	CHECK_INT(rev(srs, "SRS0=ab.d=AB=x.org=joe@b.example", T0, out, why),
	    SRS_ERROR);
	CHECK(strstr(why, "outside base64") != NULL);
	f = fwd(srs, "joe@x.org", "b.example", T0, SRS_OK);
	CHECK_INT(srs_reverse(srs, f, T0, small, sizeof(small), why,
	    sizeof(why)), SRS_ERROR);
	CHECK(strstr(why, "longer than") != NULL);
	CHECK_INT(srs_is_srs("SRS0=x"), 1);
	CHECK_INT(srs_is_srs("srs1+x@y"), 1);
	CHECK_INT(srs_is_srs("Srs0-"), 1);
	CHECK_INT(srs_is_srs("SRS0"), 0);
	CHECK_INT(srs_is_srs("SRS0x"), 0);
	CHECK_INT(srs_is_srs("SRS3=x"), 0);
	CHECK_INT(srs_is_srs(""), 0);
	CHECK_INT(srs_is_srs(NULL), 0);
	srs_free(srs);
}

/* Copies addr into buf with the character at offset i replaced by c. */
static const char *
with_char(char *buf, const char *addr, size_t i, char c)
{
	snprintf(buf, OUT, "%s", addr);
	buf[i] = c;
	return buf;
}

/* Any change to a signed field breaks the hash. */
static void
test_tampering(void)
{
	struct srs *srs = mk("secret", NULL, 4, 21, '=');
	char a[OUT], t[OUT], out[OUT], why[256];
	const char *f = fwd(srs, "joe@orig.example", "b.example", T0, SRS_OK);
	char *p;

	snprintf(a, sizeof(a), "%s", f ? f : "");
	/* SRS0=HHHH=TT=orig.example=joe@b.example */
	CHECK_INT(rev(srs, with_char(t, a, 5, a[5] == 'Q' ? 'R' : 'Q'), T0,
	    out, why), SRS_ERROR);
	CHECK(strstr(why, "does not verify") != NULL);
	CHECK_INT(rev(srs, with_char(t, a, 10, a[10] == 'A' ? 'B' : 'A'), T0,
	    out, why), SRS_ERROR);
	p = strstr(a, "orig");
	CHECK_INT(rev(srs, with_char(t, a, (size_t)(p - a), 'O' + 1), T0, out,
	    why), SRS_ERROR);
	p = strstr(a, "joe");
	CHECK_INT(rev(srs, with_char(t, a, (size_t)(p - a), 'x'), T0, out,
	    why), SRS_ERROR);
	/* The domain of the SRS address itself is not signed. */
	p = strstr(a, "@b.");
	CHECK_INT(rev(srs, with_char(t, a, (size_t)(p - a) + 1, 'c'), T0, out,
	    why), SRS_OK);
	srs_free(srs);
}

/* Reverses the address made at day offset 0 at now; returns the rc. */
static int
rev_at(const struct srs *srs, const char *a, time_t now, char *why)
{
	char out[OUT];

	return rev(srs, a, now, out, why);
}

/*
 * Timestamps: valid through max_age days, then expired; a stamp from the
 * future is refused; across the 1024-day cycle the age is computed
 * modulo 1024, so an address made 1024 + N days ago looks N days old.
 */
static void
test_timestamps(void)
{
	struct srs *srs = mk("secret", NULL, 4, 21, '=');
	struct srs *wide = mk("secret", NULL, 4, SRS_MAX_AGE_MAX, '=');
	/* Made one second before midnight of a day that ends a cycle. */
	time_t made = (20480 * DAY) - 1, end_of_day = made, start;
	char a[OUT], why[256];
	const char *f = fwd(srs, "joe@orig.example", "b.example", made,
	    SRS_OK);

	snprintf(a, sizeof(a), "%s", f ? f : "");
	CHECK(strstr(a, "=77=") != NULL);	/* day 1023 of the cycle */
	start = end_of_day + 1;			/* next day: 0 of the next */
	CHECK_INT(rev_at(srs, a, made, why), SRS_OK);
	CHECK_INT(rev_at(srs, a, start, why), SRS_OK);	/* across the wrap */
	CHECK_INT(rev_at(srs, a, start + 20 * DAY, why), SRS_OK);
	CHECK_INT(rev_at(srs, a, start + 20 * DAY + DAY - 1, why), SRS_OK);
	CHECK_INT(rev_at(srs, a, start + 21 * DAY, why), SRS_ERROR);
	CHECK(strstr(why, "expired: 22 days old") != NULL);
	/* From the future: made tomorrow, checked today. */
	CHECK_INT(rev_at(srs, a, made - DAY, why), SRS_ERROR);
	CHECK(strstr(why, "1 day(s) in the future") != NULL);
	CHECK_INT(rev_at(wide, a, made - DAY, why), SRS_ERROR);
	/* 511 is the widest max age: 511 days old passes, 512 never. */
	CHECK_INT(rev_at(wide, a, made + 511 * DAY, why), SRS_OK);
	CHECK_INT(rev_at(wide, a, made + 512 * DAY, why), SRS_ERROR);
	/* Wrap-around: 1024 + 22 and 1024 + 500 days old are refused ... */
	CHECK_INT(rev_at(srs, a, made + (1024 + 22) * DAY, why), SRS_ERROR);
	CHECK_INT(rev_at(srs, a, made + (1024 + 500) * DAY, why), SRS_ERROR);
	CHECK_INT(rev_at(srs, a, made + (2048 - 1) * DAY, why), SRS_ERROR);
	/*
	 * ... but 1024 + 21 days old reads as 21 days old: ten bits of
	 * days cannot tell.  Only retiring the secret ends such an address
	 * for good (docs/srs.md); this pins the documented limit down.
	 */
	CHECK_INT(rev_at(srs, a, made + (1024 + 21) * DAY, why), SRS_OK);
	srs_free(srs);
	srs_free(wide);
}

/* Case smashed by some MTA on the way, and the URL-safe alphabet. */
static void
test_case_and_alphabet(void)
{
	struct srs *srs = mk("secret", NULL, 27, 21, '=');
	char a[OUT], t[OUT], out[OUT], why[256];
	const char *f;
	size_t i, j;
	int found = 0;

	f = fwd(srs, "Joe.Bloggs@Orig.Example", "b.example", T0, SRS_OK);
	snprintf(a, sizeof(a), "%s", f ? f : "");
	for (i = 0; a[i] != '\0'; i++)
		t[i] = (char)(a[i] >= 'a' && a[i] <= 'z' ? a[i] - 32 : a[i]);
	t[i] = '\0';
	CHECK_INT(rev(srs, t, T0, out, why), SRS_OK);
	CHECK_STR(out, "JOE.BLOGGS@ORIG.EXAMPLE");
	for (i = 0; a[i] != '\0'; i++)
		t[i] = (char)(a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i]);
	t[i] = '\0';
	CHECK_INT(rev(srs, t, T0, out, why), SRS_OK);
	CHECK_STR(out, "joe.bloggs@orig.example");
	/* Find a sender whose hash has '+' or '/' (bounded search). */
	for (j = 0; j < 200 && !found; j++) {
		char sender[64];

		snprintf(sender, sizeof(sender), "user%zu@x.example", j);
		f = fwd(srs, sender, "b.example", T0, SRS_OK);
		snprintf(a, sizeof(a), "%s", f ? f : "");
		for (i = 5; i < 5 + 27; i++)
			if (a[i] == '+' || a[i] == '/') {
				found = 1;
				a[i] = a[i] == '+' ? '-' : '_';
			}
		if (found) {
			CHECK_INT(rev(srs, a, T0, out, why), SRS_OK);
			CHECK_STR(out, sender);
		}
	}
	CHECK(found);
	srs_free(srs);
}

/*
 * hash_length 10: a hash cut to 4 characters must not verify; a longer
 * hash than configured verifies only if every character is right.
 */
static void
test_hash_lengths(void)
{
	struct srs *s10 = mk("secret", NULL, 10, 21, '=');
	struct srs *s4 = mk("secret", NULL, 4, 21, '=');
	char a[OUT], cut[OUT], out[OUT], why[256];
	const char *f = fwd(s10, "joe@orig.example", "b.example", T0, SRS_OK);

	snprintf(a, sizeof(a), "%s", f ? f : "");
	CHECK_INT(strcspn(a + 5, "="), 10);
	/* SRS0=HHHHHHHHHH=... -> SRS0=HHHH=... */
	snprintf(cut, sizeof(cut), "%.9s%s", a, a + 15);
	CHECK_INT(rev(s10, a, T0, out, why), SRS_OK);
	CHECK_INT(rev(s10, cut, T0, out, why), SRS_ERROR);
	CHECK(strstr(why, "hash has 4 characters") != NULL);
	CHECK_INT(rev(s4, cut, T0, out, why), SRS_OK);
	CHECK_INT(rev(s4, a, T0, out, why), SRS_OK);
	/* The 10th character wrong: the 4-character rewriter sees it too. */
	a[14] = a[14] == 'Q' ? 'R' : 'Q';
	CHECK_INT(rev(s4, a, T0, out, why), SRS_ERROR);
	CHECK_INT(rev(s10, a, T0, out, why), SRS_ERROR);
	srs_free(s10);
	srs_free(s4);
}

/* The first secret signs, every one verifies. */
static void
test_rotation(void)
{
	struct srs *both = mk("new", "old", 4, 21, '=');
	struct srs *old = mk("old", NULL, 4, 21, '=');
	struct srs *newonly = mk("new", NULL, 4, 21, '=');
	char a[OUT], b[OUT], out[OUT], why[256];
	const char *f;

	f = fwd(old, "joe@orig.example", "b.example", T0, SRS_OK);
	snprintf(a, sizeof(a), "%s", f ? f : "");
	CHECK_INT(rev(both, a, T0, out, why), SRS_OK);
	CHECK_STR(out, "joe@orig.example");
	CHECK_INT(rev(newonly, a, T0, out, why), SRS_ERROR);
	f = fwd(both, "joe@orig.example", "b.example", T0, SRS_OK);
	snprintf(b, sizeof(b), "%s", f ? f : "");
	CHECK_STR(fwd(newonly, "joe@orig.example", "b.example", T0, SRS_OK),
	    b);
	CHECK_INT(rev(old, b, T0, out, why), SRS_ERROR);
	srs_free(both);
	srs_free(old);
	srs_free(newonly);
}

/* srs_new() refuses bad parameters with a reason. */
static void
test_new_params(void)
{
	const char *ok[1] = { "s" }, *empty[1] = { "" }, *null[1] = { NULL };
	char why[256];

	CHECK(srs_new(ok, 1, 3, 21, '=', why, sizeof(why)) == NULL);
	CHECK(strstr(why, "hash length") != NULL);
	CHECK(srs_new(ok, 1, 28, 21, '=', why, sizeof(why)) == NULL);
	CHECK(srs_new(ok, 1, 4, 0, '=', why, sizeof(why)) == NULL);
	CHECK(srs_new(ok, 1, 4, 512, '=', why, sizeof(why)) == NULL);
	CHECK(strstr(why, "max age") != NULL);
	CHECK(srs_new(ok, 1, 4, 21, '.', why, sizeof(why)) == NULL);
	CHECK(srs_new(ok, 0, 4, 21, '=', why, sizeof(why)) == NULL);
	CHECK(srs_new(empty, 1, 4, 21, '=', why, sizeof(why)) == NULL);
	CHECK(srs_new(null, 1, 4, 21, '=', why, sizeof(why)) == NULL);
	CHECK(srs_new(NULL, 1, 4, 21, '=', NULL, 0) == NULL);
	srs_free(NULL);
	srs_free_secrets(NULL, 0);
}

/* Writes len bytes to tmpdir/name with mode; returns the path. */
static const char *
put_file(const char *name, const char *data, size_t len, mode_t mode)
{
	static char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0 ||
	    chmod(path, mode) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return path;
}

/* Loads path; returns the count or -1, reason in why. */
static int
load(const char *path, char ***v, char *why)
{
	int n = 0;

	why[0] = '\0';
	if (srs_load_secrets(path, v, &n, why, 256) < 0) {
		CHECK(*v == NULL);
		return -1;
	}
	return n;
}

/* A good file: CRLF, empty lines skipped, spaces kept, order kept. */
static void
test_secrets_good(void)
{
	static const char text[] = "\nfirst\r\n\n  spaced secret \nlast";
	char **v = NULL, why[256];
	const char *p = put_file("good", text, sizeof(text) - 1, 0600);

	CHECK_INT(load(p, &v, why), 3);
	if (v != NULL) {
		CHECK_STR(v[0], "first");
		CHECK_STR(v[1], "  spaced secret ");
		CHECK_STR(v[2], "last");
		CHECK(v[3] == NULL);
		srs_free_secrets(v, 3);
	}
	/* Group-readable is fine: the daemon may read it through a group. */
	p = put_file("group", "s\n", 2, 0640);
	CHECK_INT(load(p, &v, why), 1);
	srs_free_secrets(v, 1);
}

/* Loads a file that must be refused with a reason containing want. */
static void
refused(const char *name, const char *data, size_t len, mode_t mode,
    const char *want)
{
	char **v = NULL, why[256];
	const char *p = put_file(name, data, len, mode);

	CHECK_INT(load(p, &v, why), -1);
	if (strstr(why, want) == NULL)
		fprintf(stderr, "    %s: got \"%s\", want \"%s\"\n", name, why,
		    want);
	CHECK(strstr(why, want) != NULL);
}

/* Files the loader refuses, each with a clear reason. */
static void
test_secrets_bad(void)
{
	char **v = NULL, why[256], path[512];
	size_t big = SRS_SECRET_LINE_MAX + 1, i;
	char *buf = malloc(SRS_SECRETS_FILE_MAX + 2);

	if (buf == NULL)
		exit(1);
	refused("empty", "", 0, 0600, "holds no secret");
	refused("blanklines", "\n\r\n\n", 4, 0600, "holds no secret");
	refused("world", "s\n", 2, 0644, "readable or writable by other");
	refused("worldw", "s\n", 2, 0602, "readable or writable by other");
	refused("nul", "ab\0cd\n", 6, 0600, ":1: the line holds a NUL");
	refused("cr", "ok\nab\rcd\n", 9, 0600, ":2: the line holds a carriage");
	refused("blank", "ok\n  \t\n", 7, 0600, ":2: the line holds only white");
	memset(buf, 'x', big);
	refused("longline", buf, big, 0600, "longer than 65536 bytes");
	put_file("maxline", buf, big - 1, 0600);
	snprintf(path, sizeof(path), "%s/maxline", tmpdir);
	CHECK_INT(load(path, &v, why), 1);
	srs_free_secrets(v, 1);
	for (i = 0; i < 2 * (SRS_SECRETS_MAX + 1); i += 2)
		memcpy(buf + i, "s\n", 2);
	refused("many", buf, i, 0600, "more than 256 secrets");
	memset(buf, 'x', SRS_SECRETS_FILE_MAX + 1);
	refused("huge", buf, SRS_SECRETS_FILE_MAX + 1, 0600, "larger than");
	free(buf);
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	CHECK_INT(load(path, &v, why), -1);
	CHECK(strstr(why, "cannot open") != NULL);
	CHECK_INT(load(tmpdir, &v, why), -1);	/* a directory */
	CHECK(strstr(why, "not a regular file") != NULL);
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	CHECK(mkfifo(path, 0600) == 0);
	CHECK_INT(load(path, &v, why), -1);	/* must not hang */
	CHECK(strstr(why, "not a regular file") != NULL);
}

/* Removes the scratch directory (files named by the tests only). */
static void
cleanup(void)
{
	static const char *names[] = { "good", "group", "empty", "blanklines",
	    "world", "worldw", "nul", "cr", "blank", "longline", "maxline",
	    "many", "huge", "fifo" };
	char path[512];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
}

int
main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/srs_test.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_known_answers();
	test_round_trip();
	test_srs1_chain();
	test_forward_edges();
	test_reverse_edges();
	test_tampering();
	test_timestamps();
	test_case_and_alphabet();
	test_hash_lengths();
	test_rotation();
	test_new_params();
	test_secrets_good();
	test_secrets_bad();
	cleanup();
	return check_report();
}
