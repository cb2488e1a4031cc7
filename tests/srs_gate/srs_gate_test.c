/*
 * srs_gate_test.c - the relay's SRS policy (relay/srs_gate.c) over real
 * configuration text: who is rewritten, which bounces are reversed, and
 * every refusal with its reply code.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "relay/srs.h"
#include "relay/srs_gate.h"
#include "tests/check.h"

#define DAY 86400

static char secrets_path[256];
static const unsigned char client[4] = { 192, 0, 2, 7 };

/* Writes a private secrets file; returns its path. */
static const char *
write_secrets(void)
{
	FILE *f;

	snprintf(secrets_path, sizeof(secrets_path), "%s/srs-gate-%ld",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp",
	    (long)getpid());
	f = fopen(secrets_path, "w");
	if (f == NULL)
		return NULL;
	fputs("first-secret\nolder-secret\n", f);
	fclose(f);
	chmod(secrets_path, 0600);
	return secrets_path;
}

/* A gate over "[backend]...[srs]..." plus extra sections. */
static struct srs_gate *
gate_for(const char *extra, struct conf **confp)
{
	struct conf_errors errs;
	char text[2048], err[256];
	struct srs_gate *gate;

	snprintf(text, sizeof(text),
	    "[backend]\nservers = 127.0.0.1:2526\n"
	    "[srs]\nenabled = yes\ndomain = bounce.example\n"
	    "secrets_file = %s\nexclude_domains = own.example\n%s",
	    secrets_path, extra);
	memset(&errs, 0, sizeof(errs));
	*confp = NULL;
	*confp = conf_parse_string("test.conf", text, strlen(text), &errs);
	if (*confp == NULL) {
		conf_errors_print(&errs, stderr);
		return NULL;
	}
	gate = srs_gate_new(*confp, err, sizeof(err));
	if (gate == NULL) {
		fprintf(stderr, "srs_gate_new: %s\n", err);
		conf_free(*confp);
		*confp = NULL;
	}
	return gate;
}

/* Senders: rewritten, excluded, null, already ours, per-domain domain. */
static void
test_sender(void)
{
	struct srs_gate_result r;
	struct srs_gate *gate;
	struct conf *conf;
	time_t now = 1790000000;

	gate = gate_for("[domain special.example]\nsrs_domain = "
	    "srs.special.example\n[domain quiet.example]\nsrs = no\n", &conf);
	CHECK(gate != NULL && srs_gate_active(gate));
	if (gate == NULL)
		return;
	CHECK_INT(srs_gate_sender(gate, "alice@example.org", now, &r), 1);
	CHECK(strncmp(r.address, "SRS0=", 5) == 0);
	CHECK(strstr(r.address, "=example.org=alice@bounce.example") != NULL);
	CHECK_INT(srs_gate_sender(gate, "bob@own.example", now, &r), 0);
	CHECK_INT(srs_gate_sender(gate, "bob@sub.own.example", now, &r), 0);
	CHECK_INT(srs_gate_sender(gate, "", now, &r), 0);
	CHECK_INT(srs_gate_sender(gate, "x@bounce.example", now, &r), 0);
	CHECK_INT(srs_gate_sender(gate, "eve@quiet.example", now, &r), 0);
	CHECK_INT(srs_gate_sender(gate, "carol@special.example", now, &r), 1);
	CHECK(strstr(r.address, "@srs.special.example") != NULL);
	/* A sender in any bounce domain is never wrapped into another. */
	CHECK_INT(srs_gate_sender(gate, "postmaster@srs.special.example", now,
	    &r), 0);
	srs_gate_free(gate);
	conf_free(conf);
}

/* Rewrites sender at time t and returns the SRS address in buf. */
static void
rewrite(struct srs_gate *gate, const char *sender, time_t t, char *buf,
    size_t len)
{
	struct srs_gate_result r;

	buf[0] = '\0';
	if (srs_gate_sender(gate, sender, t, &r) == 1)
		snprintf(buf, len, "%s", r.address);
}

/* Bounces: valid, invalid, not ours, wrong sender, expired, tampered. */
static void
test_bounces(void)
{
	struct srs_gate_result r;
	struct srs_gate *gate;
	struct conf *conf;
	time_t now = 1790000000;
	char srs[1100], tampered[1100];
	char *hash;

	gate = gate_for("", &conf);
	CHECK(gate != NULL);
	if (gate == NULL)
		return;
	rewrite(gate, "alice@example.org", now - 3 * DAY, srs, sizeof(srs));
	CHECK(srs[0] != '\0');
	CHECK_INT(srs_gate_rcpt(gate, "bob@elsewhere.example", "", AF_INET,
	    client, now, 0, &r), SRS_GATE_NOT_BOUNCE);
	CHECK_INT(srs_gate_rcpt(gate, srs, "", AF_INET, client, now, 0, &r),
	    SRS_GATE_FORWARD);
	CHECK_STR(r.address, "alice@example.org");
	/* Case mangled by some MTA on the way back. */
	for (hash = srs; *hash != '\0'; hash++)
		if (*hash >= 'a' && *hash <= 'z')
			*hash = (char)(*hash - 'a' + 'A');
	CHECK_INT(srs_gate_rcpt(gate, srs, "", AF_INET, client, now, 0, &r),
	    SRS_GATE_FORWARD);
	rewrite(gate, "alice@example.org", now - 3 * DAY, srs, sizeof(srs));
	CHECK_INT(srs_gate_rcpt(gate, srs, "mailer@example.net", AF_INET,
	    client, now, 0, &r), SRS_GATE_REFUSE);
	CHECK_INT(r.code, 550);
	CHECK_STR(r.enhanced, "5.7.1");
	CHECK_INT(srs_gate_rcpt(gate, "postmaster@bounce.example", "", AF_INET,
	    client, now, 0, &r), SRS_GATE_REFUSE);
	CHECK_INT(r.code, 550);
	CHECK_STR(r.enhanced, "5.1.1");
	snprintf(tampered, sizeof(tampered), "%s", srs);
	/* First hash character; a digit, since case does not count. */
	tampered[5] = tampered[5] == '0' ? '1' : '0';
	CHECK_INT(srs_gate_rcpt(gate, tampered, "", AF_INET, client, now, 0,
	    &r), SRS_GATE_REFUSE);
	CHECK_STR(r.enhanced, "5.1.1");
	CHECK(strstr(r.text, "invalid SRS address") != NULL);
	rewrite(gate, "alice@example.org", now - 30 * DAY, srs, sizeof(srs));
	CHECK_INT(srs_gate_rcpt(gate, srs, "", AF_INET, client, now, 0, &r),
	    SRS_GATE_REFUSE);
	CHECK_STR(r.enhanced, "5.1.1");
	srs_gate_free(gate);
	conf_free(conf);
}

/* A bounce that decodes into a bounce domain is refused (no loop). */
static void
test_no_loop(void)
{
	struct srs_gate_result r;
	struct srs_gate *gate;
	struct conf *conf;
	const char *secret = "first-secret";
	struct srs *srs;
	time_t now = 1790000000;
	char addr[1100], why[128];

	gate = gate_for("[domain other.example]\nsrs_domain = "
	    "srs.other.example\n", &conf);
	CHECK(gate != NULL);
	if (gate == NULL)
		return;
	/* Forge what an unprotected relay would have made of a sender in
	 * the other bounce domain, with the real secret. */
	srs = srs_new(&secret, 1, 4, 21, '=', why, sizeof(why));
	CHECK(srs != NULL);
	CHECK_INT(srs_forward(srs, "postmaster@srs.other.example",
	    "bounce.example", now, addr, sizeof(addr), why, sizeof(why)), 0);
	CHECK_INT(srs_gate_rcpt(gate, addr, "", AF_INET, client, now, 0, &r),
	    SRS_GATE_REFUSE);
	CHECK_STR(r.enhanced, "5.1.1");
	srs_free(srs);
	srs_gate_free(gate);
	conf_free(conf);
}

/* Per-domain settings: stricter max_age, bounce forwarding off. */
static void
test_per_domain(void)
{
	struct srs_gate_result r;
	struct srs_gate *gate;
	struct conf *conf;
	time_t now = 1790000000;
	char srs[1100];

	gate = gate_for("[domain strict.example]\nmax_age = 5d\n"
	    "hash_length = 8\n[domain nobounce.example]\n"
	    "forward_bounces = no\n", &conf);
	CHECK(gate != NULL);
	if (gate == NULL)
		return;
	rewrite(gate, "a@strict.example", now - 3 * DAY, srs, sizeof(srs));
	CHECK(strchr(srs + 5, '=') - (srs + 5) == 8);	/* 8-char hash */
	CHECK_INT(srs_gate_rcpt(gate, srs, "", AF_INET, client, now, 0, &r),
	    SRS_GATE_FORWARD);
	rewrite(gate, "a@strict.example", now - 10 * DAY, srs, sizeof(srs));
	CHECK_INT(srs_gate_rcpt(gate, srs, "", AF_INET, client, now, 0, &r),
	    SRS_GATE_REFUSE);	/* 10 days: fine globally, not for strict */
	rewrite(gate, "a@nobounce.example", now, srs, sizeof(srs));
	CHECK(srs[0] != '\0');
	CHECK_INT(srs_gate_rcpt(gate, srs, "", AF_INET, client, now, 0, &r),
	    SRS_GATE_REFUSE);
	CHECK_INT(r.code, 550);
	CHECK_STR(r.enhanced, "5.7.1");
	CHECK(strstr(r.text, "not forwarded") != NULL);
	srs_gate_free(gate);
	conf_free(conf);
}

/* Reversals are rate-limited per client address. */
static void
test_rate_limit(void)
{
	static const unsigned char other[4] = { 192, 0, 2, 8 };
	struct srs_gate_result r;
	struct srs_gate *gate;
	struct conf *conf;
	time_t now = 1790000000;
	char srs[1100];
	int i, ok = 0;

	gate = gate_for("reverse_rate_limit = 3/1m\n", &conf);
	CHECK(gate != NULL);
	if (gate == NULL)
		return;
	rewrite(gate, "alice@example.org", now, srs, sizeof(srs));
	for (i = 0; i < 5; i++)
		ok += srs_gate_rcpt(gate, srs, "", AF_INET, client, now, 1000,
		    &r) == SRS_GATE_FORWARD;
	CHECK_INT(ok, 3);
	CHECK_INT(r.code, 450);
	CHECK_STR(r.enhanced, "4.7.1");
	CHECK_INT(srs_gate_rcpt(gate, srs, "", AF_INET, other, now, 1000, &r),
	    SRS_GATE_FORWARD);
	CHECK_INT(srs_gate_rcpt(gate, srs, "", AF_INET, client, now, 62000,
	    &r), SRS_GATE_FORWARD);
	srs_gate_free(gate);
	conf_free(conf);
}

/* SRS off: the gate does nothing, even for addresses that look like SRS. */
static void
test_inactive(void)
{
	struct conf_errors errs;
	struct srs_gate_result r;
	struct srs_gate *gate;
	struct conf *conf;
	const char *text = "[backend]\nservers = 127.0.0.1:2526\n";
	char err[128];

	memset(&errs, 0, sizeof(errs));
	conf = conf_parse_string("t", text, strlen(text), &errs);
	CHECK(conf != NULL);
	if (conf == NULL)
		return;
	gate = srs_gate_new(conf, err, sizeof(err));
	CHECK(gate != NULL && !srs_gate_active(gate));
	CHECK_INT(srs_gate_sender(gate, "a@example.org", 0, &r), 0);
	CHECK_INT(srs_gate_rcpt(gate, "SRS0=abcd=AA=x.org=a@y.example", "",
	    AF_INET, client, 0, 0, &r), SRS_GATE_NOT_BOUNCE);
	srs_gate_free(gate);
	conf_free(conf);
}

/* A missing or world-readable secrets file stops the gate from starting. */
static void
test_bad_secrets(void)
{
	struct srs_gate *gate;
	struct conf *conf;

	chmod(secrets_path, 0644);
	gate = gate_for("", &conf);
	CHECK(gate == NULL);
	srs_gate_free(gate);
	conf_free(conf);
	chmod(secrets_path, 0600);
}

int
main(void)
{
	if (write_secrets() == NULL) {
		perror("secrets file");
		return 1;
	}
	test_sender();
	test_bounces();
	test_per_domain();
	test_no_loop();
	test_rate_limit();
	test_inactive();
	test_bad_secrets();
	unlink(secrets_path);
	return check_report();
}
