/*
 * test_smtp_server.c - transcript tests of the server-side SMTP session
 * (smtp/smtp_server.c) driven by a fake owner.
 *
 * The fake owner behaves like the relay will: it keeps the bytes feed()
 * did not consume, answers the asynchronous requests either from inside
 * the callback (MODE_SYNC) or after feed() returned (MODE_LATER), drops
 * buffered plaintext after starttls() and "completes" the handshake at the
 * end of the input segment, and frees the session from close().  Its
 * answers depend on the addresses (see answer_*()).
 *
 * Every table case runs in both modes and with the input cut into chunks
 * of many sizes (1 octet at a time included); the smuggling cases also at
 * every single split position.  The expected reply codes, delivered
 * content and owner events must be the same in every run.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smtp/smtp_server.h"
#include "tests/check.h"

#define HOST		"mx.test"
#define BUF_MAX		16384
#define TEXT_MAX	2048
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* When the owner answers requests. */
enum mode {
	MODE_SYNC,		/* inside the request callback */
	MODE_LATER		/* after feed() returned */
};

/* The request the owner still has to answer. */
enum req {
	REQ_NONE,
	REQ_MAIL,
	REQ_RCPT,
	REQ_DATA,
	REQ_END
};

/* Callback in which the owner frees the session (fault injection). */
enum free_at {
	FREE_CLOSE = 0,		/* the normal case */
	FREE_WRITE,
	FREE_HELO,
	FREE_MAIL,
	FREE_MAIL_REPLIED,	/* after answering synchronously */
	FREE_RCPT,
	FREE_DATA,
	FREE_CHUNK,
	FREE_END,
	FREE_RESET,
	FREE_STARTTLS,
	FREE_ERROR,
	FREE_DEBUG,
	FREE_COUNT
};

/* The fake owner of one session. */
struct owner {
	struct smtp_server		*s;
	struct smtp_server_config	 cfg;
	enum mode	 mode;
	enum free_at	 free_at;
	int		 free_nth;	/* free at this call of free_at */
	int		 calls[FREE_COUNT];
	int		 after_free;	/* callbacks after the free: a bug */
	enum req	 pending;
	char		 sender[SMTP_PATH_MAX + 1];
	char		 rcpt[SMTP_PATH_MAX + 1];
	struct smtp_mail mail;		/* copy of the last mail() */
	struct smtp_rcpt last_rcpt;	/* copy of the last rcpt() */
	char		 out[BUF_MAX];	/* everything written */
	size_t		 outlen;
	char		 data[BUF_MAX];	/* content chunks, concatenated */
	size_t		 datalen;
	char		 ev[TEXT_MAX];	/* event log */
	size_t		 evlen;
	char		 dbg[TEXT_MAX];	/* debug hook log */
	size_t		 dbglen;
	char		 in[BUF_MAX];	/* unconsumed input */
	size_t		 inlen;
	int		 tls_pending;	/* starttls() seen, handshake due */
	int		 errors;	/* error hook calls */
	int		 overflow;	/* a test buffer was too small */
};

/* Appends printf output to a bounded text buffer. */
static void __attribute__((format(printf, 4, 5)))
text_add(struct owner *o, char *buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, TEXT_MAX - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= TEXT_MAX - *len) {
		o->overflow = 1;
		return;
	}
	*len += (size_t)n;
}

/* Adds one event to the log, space-separated. */
#define EV(o, ...) do {							\
	if ((o)->evlen > 0)						\
		text_add((o), (o)->ev, &(o)->evlen, " ");		\
	text_add((o), (o)->ev, &(o)->evlen, __VA_ARGS__);		\
} while (0)

/* Appends octets to a BUF_MAX buffer. */
static void
bytes_add(struct owner *o, char *buf, size_t *len, const char *p, size_t n)
{
	if (BUF_MAX - *len <= n) {
		o->overflow = 1;
		return;
	}
	memcpy(buf + *len, p, n);
	*len += n;
	buf[*len] = '\0';	/* keeps out and data printable */
}

/* Bookkeeping at the start of each callback. */
static struct owner *
cb_enter(void *ctx, enum free_at kind)
{
	struct owner *o = ctx;

	o->calls[kind]++;
	if (o->s == NULL)
		o->after_free++;
	return o;
}

/* Frees the session if this is the injected point. */
static void
cb_leave(struct owner *o, enum free_at kind)
{
	if (o->s != NULL && o->free_at == kind && kind != FREE_CLOSE &&
	    o->calls[kind] == o->free_nth) {
		smtp_server_free(o->s);
		o->s = NULL;
	}
}

/* Answers through the session, which must accept it. */
static void
owner_reply(struct owner *o, int code, const char *enhanced, const char *text)
{
	if (o->s != NULL && smtp_server_reply(o->s, code, enhanced, text) != 0)
		o->overflow = 1;	/* reported as a failure */
}

/* MAIL policy: by words in the sender. */
static void
answer_mail(struct owner *o)
{
	const char *a = o->sender;

	if (strstr(a, "reject"))
		owner_reply(o, 550, "5.7.1", "SPF check failed");
	else if (strstr(a, "temp"))
		owner_reply(o, 451, "4.7.1", "Try again later");
	else if (strstr(a, "bye"))
		owner_reply(o, 421, "4.3.0", HOST " closing");
	else if (strstr(a, "multi"))
		owner_reply(o, 250, "2.1.0", "first\nsecond");
	else if (strstr(a, "badcode"))
		owner_reply(o, 354, NULL, NULL);
	else if (strstr(a, "noenh"))
		owner_reply(o, 250, NULL, NULL);
	else if (strstr(a, "wrongclass"))
		owner_reply(o, 550, "2.1.0", "no");
	else
		owner_reply(o, 250, "2.1.0", "Ok");
}

/* RCPT policy: by words in the recipient. */
static void
answer_rcpt(struct owner *o)
{
	const char *a = o->rcpt;

	if (strstr(a, "bad"))
		owner_reply(o, 550, "5.1.1", "No such user");
	else if (strstr(a, "bye"))
		owner_reply(o, 421, "4.3.0", HOST " closing");
	else
		owner_reply(o, 250, "2.1.5", "Ok");
}

/* DATA policy: refused after a "nodata" recipient. */
static void
answer_data(struct owner *o)
{
	if (strstr(o->rcpt, "nodata"))
		owner_reply(o, 554, "5.7.1", "Not now");
	else
		owner_reply(o, 354, NULL, NULL);
}

/* Final reply policy: refused for a "spam" sender. */
static void
answer_end(struct owner *o)
{
	if (strstr(o->sender, "spam"))
		owner_reply(o, 550, "5.7.1", "Rejected by backend");
	else
		owner_reply(o, 250, "2.0.0", "Ok: queued");
}

/* Answers the pending request. */
static void
owner_answer(struct owner *o)
{
	enum req r = o->pending;

	o->pending = REQ_NONE;
	switch (r) {
	case REQ_MAIL:
		answer_mail(o);
		break;
	case REQ_RCPT:
		answer_rcpt(o);
		break;
	case REQ_DATA:
		answer_data(o);
		break;
	case REQ_END:
		answer_end(o);
		break;
	case REQ_NONE:
		break;
	}
}

/* Records a request; in MODE_SYNC answers it right away. */
static void
owner_request(struct owner *o, enum req r)
{
	o->pending = r;
	if (o->mode == MODE_SYNC)
		owner_answer(o);
}

/* Collects what the session writes. */
static void
cb_write(void *ctx, const char *data, size_t len)
{
	struct owner *o = cb_enter(ctx, FREE_WRITE);

	bytes_add(o, o->out, &o->outlen, data, len);
	cb_leave(o, FREE_WRITE);
}

/* Records the close and frees the session, as the relay will. */
static void
cb_close(void *ctx)
{
	struct owner *o = cb_enter(ctx, FREE_CLOSE);

	EV(o, "close");
	if (o->free_at == FREE_COUNT)
		return;		/* this owner keeps the closed session */
	if (o->s != NULL)
		smtp_server_free(o->s);
	o->s = NULL;
}

/* Records HELO/EHLO. */
static void
cb_helo(void *ctx, const char *name, int esmtp)
{
	struct owner *o = cb_enter(ctx, FREE_HELO);

	EV(o, "%s(%s)", esmtp ? "ehlo" : "helo", name);
	cb_leave(o, FREE_HELO);
}

/* Records MAIL and answers it (now or later). */
static void
cb_mail(void *ctx, const struct smtp_mail *mail)
{
	struct owner *o = cb_enter(ctx, FREE_MAIL);

	EV(o, "mail(%s)", mail->sender);
	o->mail = *mail;
	snprintf(o->sender, sizeof(o->sender), "%s", mail->sender);
	cb_leave(o, FREE_MAIL);
	if (o->s == NULL)
		return;
	owner_request(o, REQ_MAIL);
	o->calls[FREE_MAIL_REPLIED]++;
	cb_leave(o, FREE_MAIL_REPLIED);
}

/* Records RCPT and answers it (now or later). */
static void
cb_rcpt(void *ctx, const struct smtp_rcpt *rcpt)
{
	struct owner *o = cb_enter(ctx, FREE_RCPT);

	EV(o, "rcpt(%s)", rcpt->rcpt);
	o->last_rcpt = *rcpt;
	snprintf(o->rcpt, sizeof(o->rcpt), "%s", rcpt->rcpt);
	cb_leave(o, FREE_RCPT);
	if (o->s != NULL)
		owner_request(o, REQ_RCPT);
}

/* Records DATA and answers it (now or later). */
static void
cb_data(void *ctx)
{
	struct owner *o = cb_enter(ctx, FREE_DATA);

	EV(o, "data");
	cb_leave(o, FREE_DATA);
	if (o->s != NULL)
		owner_request(o, REQ_DATA);
}

/* Collects message content. */
static void
cb_data_chunk(void *ctx, const char *data, size_t len)
{
	struct owner *o = cb_enter(ctx, FREE_CHUNK);

	if (len == 0)
		o->overflow = 1;	/* empty chunks are not expected */
	bytes_add(o, o->data, &o->datalen, data, len);
	cb_leave(o, FREE_CHUNK);
}

/* Records the end of content; answers OK ones. */
static void
cb_data_end(void *ctx, enum smtp_data_status status)
{
	static const char *const names[] = { "OK", "TOO_BIG", "BARE" };
	struct owner *o = cb_enter(ctx, FREE_END);

	EV(o, "end(%s)", names[status]);
	cb_leave(o, FREE_END);
	if (o->s != NULL && status == SMTP_DATA_OK)
		owner_request(o, REQ_END);
}

/* Records an aborted transaction. */
static void
cb_reset(void *ctx)
{
	struct owner *o = cb_enter(ctx, FREE_RESET);

	EV(o, "reset");
	o->pending = REQ_NONE;
	cb_leave(o, FREE_RESET);
}

/* Records STARTTLS; the handshake follows at segment end. */
static void
cb_starttls(void *ctx)
{
	struct owner *o = cb_enter(ctx, FREE_STARTTLS);

	EV(o, "starttls");
	o->tls_pending = 1;
	cb_leave(o, FREE_STARTTLS);
}

/* Counts the session's own error replies. */
static void
cb_error(void *ctx, int code, const char *enhanced, const char *text)
{
	struct owner *o = cb_enter(ctx, FREE_ERROR);

	if (code < 400 || enhanced == NULL || text == NULL)
		o->overflow = 1;
	o->errors++;
	cb_leave(o, FREE_ERROR);
}

/* Collects state changes. */
static void
cb_debug(void *ctx, const char *msg)
{
	struct owner *o = cb_enter(ctx, FREE_DEBUG);

	text_add(o, o->dbg, &o->dbglen, "%s;", msg);
	cb_leave(o, FREE_DEBUG);
}

static const struct smtp_server_cb owner_cb = {
	.write = cb_write,
	.close = cb_close,
	.helo = cb_helo,
	.mail = cb_mail,
	.rcpt = cb_rcpt,
	.data = cb_data,
	.data_chunk = cb_data_chunk,
	.data_end = cb_data_end,
	.reset = cb_reset,
	.starttls = cb_starttls,
	.error = cb_error,
	.debug = cb_debug,
};

/* Test config flags. */
#define F_TLS		0x01	/* tls_available */
#define F_REQUIRE_TLS	0x02
#define F_NO_GREET	0x04	/* never call greet (pregreet) */
#define F_DATA_PREFIX	0x08	/* content must be a prefix, <= max size */
#define F_SPLIT_ALL	0x10	/* also split at every position */

/* Limits for a test; 0 keeps the default. */
struct limits {
	uint64_t	max_size;
	int		max_rcpt;
	int		max_errors;
	unsigned	flags;
};

/* Sets up an owner and its session (greeted unless F_NO_GREET). */
static void
owner_init(struct owner *o, enum mode mode, const struct limits *l)
{
	memset(o, 0, sizeof(*o));
	o->mode = mode;
	smtp_server_config_init(&o->cfg);
	o->cfg.hostname = HOST;
	if (l->max_size)
		o->cfg.max_message_size = l->max_size;
	if (l->max_rcpt)
		o->cfg.max_recipients = l->max_rcpt;
	if (l->max_errors)
		o->cfg.max_errors = l->max_errors;
	o->cfg.tls_available = (l->flags & F_TLS) != 0;
	o->cfg.require_tls = (l->flags & F_REQUIRE_TLS) != 0;
	o->s = smtp_server_new(&o->cfg, &owner_cb, o);
	if (o->s != NULL && !(l->flags & F_NO_GREET))
		smtp_server_greet(o->s);
}

/* Feeds the buffered input until the session wants nothing more. */
static void
owner_pump(struct owner *o)
{
	size_t n;
	int rounds;

	for (rounds = 0; rounds < 100000 && o->s != NULL; rounds++) {
		n = smtp_server_feed(o->s, o->in, o->inlen);
		if (n > o->inlen) {
			o->overflow = 1;
			return;
		}
		memmove(o->in, o->in + n, o->inlen - n);
		o->inlen -= n;
		if (o->tls_pending)
			o->inlen = 0;	/* CVE-2011-0411: drop plaintext */
		if (o->pending != REQ_NONE && o->s != NULL) {
			owner_answer(o);
			continue;
		}
		if (n == 0)
			return;
	}
	if (rounds == 100000)
		o->overflow = 1;
}

/*
 * Delivers one input segment in pieces of chunk octets (0: whole), or
 * in two pieces cut at split (when chunk is 0).  Bytes after a STARTTLS
 * in the same segment are lost, as plaintext sent before the handshake.
 */
static void
owner_segment(struct owner *o, const char *seg, size_t len, size_t chunk,
    size_t split)
{
	size_t off = 0, n;

	while (off < len && o->s != NULL && !o->tls_pending) {
		if (chunk > 0)
			n = len - off < chunk ? len - off : chunk;
		else if (off == 0 && split > 0 && split < len)
			n = split;
		else
			n = len - off;
		bytes_add(o, o->in, &o->inlen, seg + off, n);
		off += n;
		owner_pump(o);
	}
	if (o->tls_pending && o->s != NULL) {
		o->tls_pending = 0;
		o->inlen = 0;
		smtp_server_tls_started(o->s, "TLSv1.3",
		    "TLS_AES_256_GCM_SHA384");
	}
}

/* Releases the session if the test left it open. */
static void
owner_done(struct owner *o)
{
	smtp_server_free(o->s);
	o->s = NULL;
}

/* Extracts the code of each complete reply: "220 250 354". */
static void
reply_codes(const char *out, size_t len, char *codes, size_t size)
{
	size_t i = 0, n = 0;
	const char *lf;

	codes[0] = '\0';
	while (i < len && (lf = memchr(out + i, '\n', len - i)) != NULL) {
		size_t linelen = (size_t)(lf - (out + i));

		if (linelen >= 4 && out[i + 3] != '-' && n + 5 < size) {
			n += (size_t)snprintf(codes + n, size - n, "%s%.3s",
			    n > 0 ? " " : "", out + i);
		}
		i += linelen + 1;
	}
}

/* One transcript case. */
struct scase {
	const char	*name;
	const char	*seg[4];
	size_t		 seglen[4];	/* 0: strlen */
	const char	*codes;
	const char	*data;		/* NULL: not checked */
	const char	*events;	/* NULL: not checked */
	struct limits	 lim;
};

/* Runs one case once; returns 1 if everything matched. */
static int
run_case(const struct scase *c, enum mode mode, size_t chunk, size_t split)
{
	static struct owner o;
	char codes[TEXT_MAX];
	size_t i, len;
	int ok = 1;

	owner_init(&o, mode, &c->lim);
	for (i = 0; i < 4 && c->seg[i] != NULL; i++) {
		len = c->seglen[i] ? c->seglen[i] : strlen(c->seg[i]);
		owner_segment(&o, c->seg[i], len, chunk, split);
	}
	owner_done(&o);
	reply_codes(o.out, o.outlen, codes, sizeof(codes));
	if (strcmp(codes, c->codes) != 0) {
		fprintf(stderr, "  codes: got \"%s\" want \"%s\"\n", codes,
		    c->codes);
		ok = 0;
	}
	if (c->data != NULL && (c->lim.flags & F_DATA_PREFIX)) {
		if (o.datalen > strlen(c->data) || o.datalen > c->lim.max_size ||
		    memcmp(o.data, c->data, o.datalen) != 0) {
			fprintf(stderr, "  data is no prefix (%zu octets)\n",
			    o.datalen);
			ok = 0;
		}
	} else if (c->data != NULL && (o.datalen != strlen(c->data) ||
	    memcmp(o.data, c->data, o.datalen) != 0)) {
		fprintf(stderr, "  data: got \"%.*s\" want \"%s\"\n",
		    (int)o.datalen, o.data, c->data);
		ok = 0;
	}
	if (c->events != NULL && strcmp(o.ev, c->events) != 0) {
		fprintf(stderr, "  events: got \"%s\" want \"%s\"\n", o.ev,
		    c->events);
		ok = 0;
	}
	if (o.overflow || o.after_free) {
		fprintf(stderr, "  harness: overflow %d after_free %d\n",
		    o.overflow, o.after_free);
		ok = 0;
	}
	if (!ok)
		fprintf(stderr, "  in case \"%s\" mode %s chunk %zu split %zu\n",
		    c->name, mode == MODE_SYNC ? "sync" : "later", chunk, split);
	return ok;
}

/* Runs a case in every mode and chunking. */
static void
run_everywhere(const struct scase *c)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 5, 7, 13, 64 };
	size_t i, len, p;
	int m;

	for (m = MODE_SYNC; m <= MODE_LATER; m++) {
		for (i = 0; i < ARRAY_LEN(chunks); i++)
			CHECK(run_case(c, (enum mode)m, chunks[i], 0));
		if (!(c->lim.flags & F_SPLIT_ALL))
			continue;
		len = c->seglen[0] ? c->seglen[0] : strlen(c->seg[0]);
		for (p = 1; p < len; p++)
			CHECK(run_case(c, (enum mode)m, 0, p));
	}
}

#define EHLO	"EHLO client.example\r\n"
#define MAILOK	"MAIL FROM:<alice@example.org>\r\n"
#define RCPTOK	"RCPT TO:<bob@example.net>\r\n"
#define EV_TX	"ehlo(client.example) mail(alice@example.org) rcpt(bob@example.net)"

static char long512[600], long513[600], nolf[1600], longdata[5300];
static char longdata_content[5200];
static char size100[300], size101[300], size100_content[200];
static char size101_content[200];

/* Builds the case inputs that are too long to write out. */
static void
make_inputs(void)
{
	/* "NOOP " + x... + CR LF: 512 and 513 octets. */
	snprintf(long512, sizeof(long512), "NOOP %0505d\r\nNOOP\r\n", 0);
	snprintf(long513, sizeof(long513), "NOOP %0506d\r\nNOOP\r\n", 0);
	memset(nolf, 'A', 1500);
	nolf[1500] = '\0';
	memset(longdata_content, 'y', 5000);
	memcpy(longdata_content + 5000, "\r\n", 3);
	snprintf(longdata, sizeof(longdata), "DATA\r\n%s.\r\nQUIT\r\n",
	    longdata_content);
	/* Message content of exactly 100 and 101 octets. */
	memset(size100_content, 'z', 98);
	memcpy(size100_content + 98, "\r\n", 3);
	memset(size101_content, 'z', 99);
	memcpy(size101_content + 99, "\r\n", 3);
	snprintf(size100, sizeof(size100), "DATA\r\n%s.\r\nNOOP\r\nQUIT\r\n",
	    size100_content);
	snprintf(size101, sizeof(size101), "DATA\r\n%s.\r\nNOOP\r\nQUIT\r\n",
	    size101_content);
}

static const struct scase cases[] = {
	{ "happy path, pipelined",
	  { EHLO MAILOK RCPTOK "DATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n" },
	  { 0 }, "220 250 250 250 354 250 221", "Subject: hi\r\n\r\nbody\r\n",
	  EV_TX " data end(OK) close", { 0 } },
	{ "two transactions",
	  { EHLO MAILOK RCPTOK "DATA\r\n", "one\r\n.\r\n",
	    "MAIL FROM:<carol@example.org>\r\nRCPT TO:<dave@example.net>\r\n"
	    "DATA\r\ntwo\r\n.\r\n", "QUIT\r\n" },
	  { 0 }, "220 250 250 250 354 250 250 250 354 250 221",
	  "one\r\ntwo\r\n", EV_TX " data end(OK) mail(carol@example.org) "
	  "rcpt(dave@example.net) data end(OK) close", { 0 } },
	{ "HELO",
	  { "HELO client.example\r\n" MAILOK RCPTOK "DATA\r\nx\r\n.\r\nQUIT\r\n" },
	  { 0 }, "220 250 250 250 354 250 221", "x\r\n",
	  "helo(client.example) mail(alice@example.org) rcpt(bob@example.net) "
	  "data end(OK) close", { 0 } },
	{ "HELO refuses ESMTP parameters",
	  { "HELO c\r\nMAIL FROM:<a@b.example> SIZE=10\r\n"
	    "MAIL FROM:<a@b.example>\r\nRCPT TO:<d@e.example> NOTIFY=NEVER\r\n"
	    "QUIT\r\n" },
	  { 0 }, "220 250 555 250 555 221", NULL,
	  "helo(c) mail(a@b.example) reset close", { 0 } },
	{ "bare LF ends command lines",
	  { "EHLO c\nNOOP\nQUIT\n" }, { 0 }, "220 250 250 221", "",
	  "ehlo(c) close", { 0 } },
	{ "bad sequence",
	  { "MAIL FROM:<a@b.example>\r\nRCPT TO:<a@b.example>\r\nDATA\r\n"
	    "EHLO c\r\nRCPT TO:<a@b.example>\r\nDATA\r\n" MAILOK
	    "MAIL FROM:<x@y.example>\r\nQUIT\r\n" },
	  { 0 }, "220 503 503 503 250 503 503 250 503 221", NULL,
	  "ehlo(c) mail(alice@example.org) reset close", { 0 } },
	{ "no valid recipients",
	  { EHLO MAILOK "RCPT TO:<bad@example.net>\r\nDATA\r\nRSET\r\nQUIT\r\n" },
	  { 0 }, "220 250 250 550 554 250 221", "",
	  "ehlo(client.example) mail(alice@example.org) rcpt(bad@example.net) "
	  "reset close", { 0 } },
	{ "other commands",
	  { "NOOP\r\nNOOP anything\r\nHELP\r\nVRFY bob\r\nVRFY\r\n"
	    "EXPN staff\r\nBDAT 10 LAST\r\nAUTH PLAIN\r\nFOO\r\nRSET\r\n"
	    "RSET x\r\nQUIT x\r\nQUIT\r\n" },
	  { 0 }, "220 250 250 214 252 501 502 502 502 500 250 501 501 221",
	  NULL, "close", { 0 } },
	{ "syntax errors",
	  { "EHLO\r\nHELO\r\nEHLO c\r\nMAIL FROM:a@b.example\r\n"
	    "MAIL FROM:<a@@b.example>\r\nMAIL FROM:<a@b.example> FOO=1\r\n"
	    MAILOK "RCPT TO:<>\r\nRCPT TO:bob@example.net\r\nDATA x\r\n"
	    "QUIT\r\n" },
	  { 0 }, "220 501 501 250 501 501 555 250 501 501 501 221", NULL,
	  "ehlo(c) mail(alice@example.org) reset close", { 0 } },
	{ "too many recipients",
	  { EHLO MAILOK "RCPT TO:<r1@example.net>\r\nRCPT TO:<bad@example.net>\r\n"
	    "RCPT TO:<r2@example.net>\r\nRCPT TO:<r3@example.net>\r\n"
	    "DATA\r\nx\r\n.\r\nQUIT\r\n" },
	  { 0 }, "220 250 250 250 550 250 452 354 250 221", "x\r\n",
	  "ehlo(client.example) mail(alice@example.org) rcpt(r1@example.net) "
	  "rcpt(bad@example.net) rcpt(r2@example.net) data end(OK) close",
	  { 0, 2, 0, 0 } },
	{ "too many errors",
	  { "FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n" }, { 0 }, "220 500 500 421", NULL,
	  "close", { 0, 0, 2, 0 } },
	{ "too many errors abort the transaction",
	  { EHLO MAILOK "X\r\nY\r\nNOOP\r\n" }, { 0 },
	  "220 250 250 500 500 421",
	  NULL, "ehlo(client.example) mail(alice@example.org) reset close",
	  { 0, 0, 2, 0 } },
	{ "452 is not counted as an error",
	  { EHLO MAILOK "RCPT TO:<a@x.example>\r\nRCPT TO:<b@x.example>\r\n"
	    "RCPT TO:<c@x.example>\r\nRCPT TO:<d@x.example>\r\nQUIT\r\n" },
	  { 0 }, "220 250 250 250 452 452 452 221", NULL, NULL, { 0, 1, 2, 0 } },
	{ "RSET mid-transaction",
	  { EHLO MAILOK RCPTOK "RSET\r\nMAIL FROM:<carol@example.org>\r\n"
	    "RCPT TO:<dave@example.net>\r\nDATA\r\nm\r\n.\r\nQUIT\r\n" },
	  { 0 }, "220 250 250 250 250 250 250 354 250 221", "m\r\n",
	  EV_TX " reset mail(carol@example.org) rcpt(dave@example.net) data "
	  "end(OK) close", { 0 } },
	{ "EHLO mid-transaction resets",
	  { EHLO MAILOK "EHLO again.example\r\nRCPT TO:<a@b.example>\r\n"
	    "QUIT\r\n" },
	  { 0 }, "220 250 250 250 503 221", NULL,
	  "ehlo(client.example) mail(alice@example.org) reset "
	  "ehlo(again.example) close", { 0 } },
	{ "QUIT mid-transaction resets",
	  { EHLO MAILOK RCPTOK "QUIT\r\nNOOP\r\n" }, { 0 },
	  "220 250 250 250 221", NULL, EV_TX " reset close", { 0 } },
	{ "line of 512 octets fits", { long512 }, { 0 }, "220 250 250", NULL,
	  "", { 0 } },
	{ "line of 513 octets is too long", { long513 }, { 0 }, "220 500 250",
	  NULL, "", { 0 } },
	{ "no LF over several feeds", { nolf, nolf, "\r\nNOOP\r\n" }, { 0 },
	  "220 500 250", NULL, "", { 0 } },
	{ "NUL in a command", { "NO\0OP\r\nNOOP\r\n" }, { 13 }, "220 500 250",
	  NULL, "", { 0 } },
	{ "bare CR inside a command", { "NO\rOP\r\nNOOP\r\n" }, { 0 },
	  "220 500 250", NULL, "", { 0 } },
	{ "dot-stuffing kept",
	  { EHLO MAILOK RCPTOK "DATA\r\n..foo\r\n.bar\r\n...\r\n. \r\n.\r\n"
	    "QUIT\r\n" },
	  { 0 }, "220 250 250 250 354 250 221", "..foo\r\n.bar\r\n...\r\n. \r\n",
	  EV_TX " data end(OK) close", { 0 } },
	{ "empty message",
	  { EHLO MAILOK RCPTOK "DATA\r\n.\r\nQUIT\r\n" }, { 0 },
	  "220 250 250 250 354 250 221", "", EV_TX " data end(OK) close",
	  { 0 } },
	{ "message of one empty line",
	  { EHLO MAILOK RCPTOK "DATA\r\n\r\n.\r\nQUIT\r\n" }, { 0 },
	  "220 250 250 250 354 250 221", "\r\n", EV_TX " data end(OK) close",
	  { 0 } },
	{ "lines over 1000 octets pass", { EHLO MAILOK RCPTOK, longdata },
	  { 0 }, "220 250 250 250 354 250 221", longdata_content,
	  EV_TX " data end(OK) close", { 0 } },
	{ "bare LF right after 354",
	  { EHLO MAILOK RCPTOK "DATA\r\n\n.\n\r\n.\r\nQUIT\r\n" }, { 0 },
	  "220 250 250 250 354 550 221", "", EV_TX " data end(BARE) close",
	  { 0 } },
	{ "size limit: exactly at the limit", { EHLO MAILOK RCPTOK, size100 },
	  { 0 }, "220 250 250 250 354 250 250 221", size100_content,
	  EV_TX " data end(OK) close", { 100, 0, 0, 0 } },
	{ "size limit: one octet over", { EHLO MAILOK RCPTOK, size101 },
	  { 0 }, "220 250 250 250 354 552 250 221", size101_content,
	  EV_TX " data end(TOO_BIG) close", { 100, 0, 0, F_DATA_PREFIX } },
	{ "SIZE parameter over the limit",
	  { EHLO "MAIL FROM:<a@b.example> SIZE=101\r\n"
	    "MAIL FROM:<a@b.example> SIZE=100\r\nQUIT\r\n" },
	  { 0 }, "220 250 552 250 221", NULL,
	  "ehlo(client.example) mail(a@b.example) reset close",
	  { 100, 0, 0, 0 } },
	{ "STARTTLS command injection",
	  { "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<inject@example.com>\r\n",
	    "MAIL FROM:<a@b.example>\r\nEHLO c\r\nSTARTTLS\r\n"
	    "MAIL FROM:<a@b.example>\r\nQUIT\r\n" },
	  { 0 }, "220 250 220 503 250 503 250 221", NULL,
	  "ehlo(c) starttls ehlo(c) mail(a@b.example) reset close",
	  { 0, 0, 0, F_TLS } },
	{ "STARTTLS not offered", { "EHLO c\r\nSTARTTLS\r\nQUIT\r\n" }, { 0 },
	  "220 250 502 221", NULL, "ehlo(c) close", { 0 } },
	{ "STARTTLS before EHLO, with arguments",
	  { "STARTTLS\r\nSTARTTLS now\r\nQUIT\r\n" }, { 0 }, "220 503 501 221",
	  NULL, "close", { 0, 0, 0, F_TLS } },
	{ "STARTTLS in a transaction",
	  { "EHLO c\r\nMAIL FROM:<a@b.example>\r\nSTARTTLS\r\n",
	    "EHLO c\r\nQUIT\r\n" },
	  { 0 }, "220 250 250 220 250 221", NULL,
	  "ehlo(c) mail(a@b.example) reset starttls ehlo(c) close",
	  { 0, 0, 0, F_TLS } },
	{ "require_tls",
	  { "EHLO c\r\nMAIL FROM:<a@b.example>\r\nSTARTTLS\r\n",
	    "EHLO c\r\nMAIL FROM:<a@b.example>\r\nQUIT\r\n" },
	  { 0 }, "220 250 530 220 250 250 221", NULL,
	  "ehlo(c) starttls ehlo(c) mail(a@b.example) reset close",
	  { 0, 0, 0, F_TLS | F_REQUIRE_TLS } },
	{ "SMTPUTF8",
	  { EHLO "MAIL FROM:<j\xc3\xb6@example.org>\r\n"
	    "MAIL FROM:<j\xc3\xb6@example.org> SMTPUTF8\r\n"
	    "RCPT TO:<b\xc3\xbc@example.net>\r\nRSET\r\n"
	    "MAIL FROM:<a@example.org>\r\nRCPT TO:<b\xc3\xbc@example.net>\r\n"
	    "QUIT\r\n" },
	  { 0 }, "220 250 553 250 250 250 250 553 221", NULL,
	  "ehlo(client.example) mail(j\xc3\xb6@example.org) "
	  "rcpt(b\xc3\xbc@example.net) reset mail(a@example.org) reset close",
	  { 0 } },
	{ "DSN parameters",
	  { EHLO "MAIL FROM:<a@b.example> RET=HDRS ENVID=id+2B1\r\n"
	    "RCPT TO:<c@d.example> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;c@d.example\r\nQUIT\r\n" },
	  { 0 }, "220 250 250 250 221", NULL,
	  "ehlo(client.example) mail(a@b.example) rcpt(c@d.example) reset "
	  "close", { 0 } },
	{ "pregreet", { "EHLO c\r\n" }, { 0 }, "554", NULL, "close",
	  { 0, 0, 0, F_NO_GREET } },
	{ "owner rejects MAIL (not counted)",
	  { EHLO "MAIL FROM:<reject@example.com>\r\nRCPT TO:<a@b.example>\r\n"
	    "MAIL FROM:<temp@example.com>\r\nMAIL FROM:<a@b.example>\r\n"
	    "QUIT\r\n" },
	  { 0 }, "220 250 550 503 451 250 221", NULL,
	  "ehlo(client.example) mail(reject@example.com) mail(temp@example.com) "
	  "mail(a@b.example) reset close", { 0, 0, 2, 0 } },
	{ "owner 421 on MAIL",
	  { EHLO "MAIL FROM:<bye@example.com>\r\nNOOP\r\n" }, { 0 },
	  "220 250 421", NULL, "ehlo(client.example) mail(bye@example.com) close",
	  { 0 } },
	{ "owner 421 on RCPT",
	  { EHLO MAILOK "RCPT TO:<bye@example.net>\r\nNOOP\r\n" }, { 0 },
	  "220 250 250 421", NULL,
	  "ehlo(client.example) mail(alice@example.org) rcpt(bye@example.net) "
	  "reset close", { 0 } },
	{ "owner refuses DATA",
	  { EHLO MAILOK "RCPT TO:<nodata@example.net>\r\nDATA\r\nRSET\r\n"
	    "QUIT\r\n" },
	  { 0 }, "220 250 250 250 554 250 221", "",
	  "ehlo(client.example) mail(alice@example.org) "
	  "rcpt(nodata@example.net) data reset close", { 0 } },
	{ "owner refuses the message",
	  { EHLO "MAIL FROM:<spam@example.com>\r\n" RCPTOK
	    "DATA\r\nx\r\n.\r\nQUIT\r\n" },
	  { 0 }, "220 250 250 250 354 550 221", "x\r\n",
	  "ehlo(client.example) mail(spam@example.com) rcpt(bob@example.net) "
	  "data end(OK) close", { 0 } },
	{ "owner answers with an invalid code",
	  { EHLO "MAIL FROM:<badcode@example.com>\r\nQUIT\r\n" }, { 0 },
	  "220 250 451 221", NULL,
	  "ehlo(client.example) mail(badcode@example.com) close", { 0 } },
	{ "input after QUIT is ignored", { "QUIT\r\nNOOP\r\n" }, { 0 },
	  "220 221", NULL, "close", { 0 } },
};

/*
 * Smuggling: content "line1" + V + a smuggled transaction, then the real
 * end.  None of the V may end the message; the content must stop before
 * the first bare CR or LF (want is what reaches data_chunk()).
 */
struct smuggle {
	const char	*v;
	const char	*want;
};

static const struct smuggle smuggles[] = {
	{ "\n.\n", "Subject: x\r\n\r\nline1" },
	{ "\n.\r\n", "Subject: x\r\n\r\nline1" },
	{ "\r.\r", "Subject: x\r\n\r\nline1" },
	{ "\r\n.\r", "Subject: x\r\n\r\nline1\r\n" },
	{ "\r.\n", "Subject: x\r\n\r\nline1" },
	{ "\r\n.\n", "Subject: x\r\n\r\nline1\r\n" },
	{ "\n.\r", "Subject: x\r\n\r\nline1" },
	{ "\r.\r\n", "Subject: x\r\n\r\nline1" },
	{ "\n", "Subject: x\r\n\r\nline1" },
	{ "\r", "Subject: x\r\n\r\nline1" },
	{ "\r\r\n", "Subject: x\r\n\r\nline1" },
	{ "\r\n\n", "Subject: x\r\n\r\nline1\r\n" },
	{ "\r\n..\n", "Subject: x\r\n\r\nline1\r\n.." },
};

/* Runs every smuggling variant at every split position. */
static void
test_smuggling(void)
{
	static char input[1024];
	struct scase c;
	size_t i;

	for (i = 0; i < ARRAY_LEN(smuggles); i++) {
		snprintf(input, sizeof(input), "%s%s%s%s", EHLO MAILOK RCPTOK
		    "DATA\r\nSubject: x\r\n\r\nline1", smuggles[i].v,
		    "MAIL FROM:<evil@example.com>\r\n"
		    "RCPT TO:<victim@example.net>\r\nDATA\r\nsmuggled\r\n",
		    "\r\n.\r\nNOOP\r\nQUIT\r\n");
		memset(&c, 0, sizeof(c));
		c.name = "smuggling";
		c.seg[0] = input;
		c.codes = "220 250 250 250 354 550 250 221";
		c.data = smuggles[i].want;
		c.events = EV_TX " data end(BARE) close";
		c.lim.flags = F_SPLIT_ALL;
		run_everywhere(&c);
	}
}

/* Runs the whole table. */
static void
test_table(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		run_everywhere(&cases[i]);
}

/* 1 if everything written so far ends with tail. */
static int
ends_with(const struct owner *o, const char *tail)
{
	size_t n = strlen(tail);

	return o->outlen >= n && memcmp(o->out + o->outlen - n, tail, n) == 0;
}

/* Runs one case and returns the owner for exact-output checks. */
static struct owner *
run_once(const char *in, unsigned flags, enum mode mode)
{
	static struct owner o;
	struct limits l = { 0, 0, 0, flags };

	owner_init(&o, mode, &l);
	owner_segment(&o, in, strlen(in), 0, 0);
	return &o;
}

/* Exact bytes of the greeting, HELO and EHLO, with and without TLS. */
static void
test_exact_replies(void)
{
	struct owner *o;

	o = run_once("HELO c\r\n", 0, MODE_SYNC);
	CHECK_STR(o->out, "220 mx.test ESMTP spfgate\r\n250 mx.test\r\n");
	owner_done(o);

	o = run_once("EHLO c\r\n", 0, MODE_SYNC);
	CHECK_STR(o->out, "220 mx.test ESMTP spfgate\r\n250-mx.test\r\n"
	    "250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250 DSN\r\n");
	owner_done(o);

	o = run_once("EHLO c\r\n", F_TLS, MODE_SYNC);
	CHECK_STR(o->out, "220 mx.test ESMTP spfgate\r\n250-mx.test\r\n"
	    "250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-DSN\r\n"
	    "250 STARTTLS\r\n");
	owner_done(o);

	o = run_once("EHLO c\r\nSTARTTLS\r\n", F_TLS, MODE_SYNC);
	o->outlen = 0;
	owner_segment(o, "EHLO c\r\nSTARTTLS\r\n", 18, 0, 0);
	o->out[o->outlen] = '\0';
	CHECK_STR(o->out, "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10485760"
	    "\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n"
	    "250 DSN\r\n503 5.5.1 Error: TLS already active\r\n");
	owner_done(o);

}

/* Exact bytes of the session's own error replies and owner replies. */
static void
test_exact_errors(void)
{
	struct owner *o;

	o = run_once("FOO\r\nBDAT 1\r\nMAIL FROM:<a@b.example>\r\nDATA\r\n"
	    "VRFY x\r\nRSET\r\nNOOP\r\n", 0, MODE_SYNC);
	CHECK_STR(o->out, "220 mx.test ESMTP spfgate\r\n"
	    "500 5.5.1 Error: command not recognized\r\n"
	    "502 5.5.1 Error: command not implemented\r\n"
	    "503 5.5.1 Error: send HELO/EHLO first\r\n"
	    "503 5.5.1 Error: need MAIL command\r\n"
	    "252 2.5.0 Cannot VRFY user, but will accept message and attempt "
	    "delivery\r\n250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
	owner_done(o);

	o = run_once("A\r\nB\r\nC\r\nD\r\nE\r\nF\r\nG\r\nH\r\nI\r\nJ\r\nK\r\n", 0,
	    MODE_SYNC);
	CHECK(ends_with(o, "\r\n421 4.7.0 mx.test Error: too many errors\r\n"));
	CHECK_INT(o->errors, 11);	/* ten 500 and the 421 */
	CHECK_STR(o->ev, "close");
	owner_done(o);

	o = run_once(EHLO "MAIL FROM:<multi@example.org>\r\n"
	    "MAIL FROM:<x@y.example>\r\nRSET\r\nMAIL FROM:<noenh@example.org>\r\n"
	    "RSET\r\nMAIL FROM:<wrongclass@example.org>\r\n", 0, MODE_LATER);
	CHECK(strstr(o->out, "\r\n250-2.1.0 first\r\n250 2.1.0 second\r\n"
	    "503 5.5.1 Error: nested MAIL command\r\n250 2.0.0 Ok\r\n"
	    "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n550 5.0.0 no\r\n") != NULL);
	owner_done(o);

	o = run_once(EHLO MAILOK RCPTOK "DATA\r\na\nb\r\n.\r\n", 0, MODE_SYNC);
	CHECK(strstr(o->out, "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "550 5.6.11 Error: bare CR or LF in message data\r\n") != NULL);
	owner_done(o);

	o = run_once("x", F_NO_GREET, MODE_SYNC);
	CHECK_STR(o->out, "554 5.5.0 mx.test Error: data before greeting\r\n");
	CHECK(o->s == NULL);
}

/* The size limit reply and an unlimited configuration. */
static void
test_size_limits(void)
{
	static struct owner o;
	struct limits big = { 10, 0, 0, 0 }, none = { 0, 0, 0, 0 };
	char body[3000];

	owner_init(&o, MODE_SYNC, &big);
	owner_segment(&o, EHLO MAILOK RCPTOK "DATA\r\n0123456789\r\n.\r\n",
	    strlen(EHLO MAILOK RCPTOK "DATA\r\n0123456789\r\n.\r\n"), 0, 0);
	CHECK(strstr(o.out, "552 5.3.4 Error: message too big\r\n") != NULL);
	CHECK_INT(o.datalen, 0);
	owner_done(&o);

	owner_init(&o, MODE_SYNC, &none);
	o.cfg.max_message_size = 0;	/* no limit; read at EHLO time */
	memset(body, 'q', sizeof(body));
	owner_segment(&o, EHLO MAILOK RCPTOK "DATA\r\n",
	    strlen(EHLO MAILOK RCPTOK "DATA\r\n"), 0, 0);
	CHECK(strstr(o.out, "250-SIZE 0\r\n") != NULL);
	owner_segment(&o, body, sizeof(body), 0, 0);
	CHECK_INT(smtp_server_message_size(o.s), sizeof(body));
	owner_segment(&o, "\r\n.\r\n", 5, 0, 0);
	CHECK_INT(o.datalen, sizeof(body) + 2);
	CHECK_INT(smtp_server_message_size(o.s), sizeof(body) + 2);
	CHECK_STR(o.ev, EV_TX " data end(OK)");
	owner_done(&o);
}

/* Feed stops right after STARTTLS; TLS resets the session. */
static void
test_starttls_feed(void)
{
	static struct owner o;
	struct limits l = { 0, 0, 0, F_TLS };
	const char *in = "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<x@y.example>\r\n";
	size_t n;

	owner_init(&o, MODE_SYNC, &l);
	n = smtp_server_feed(o.s, in, strlen(in));
	CHECK_INT(n, strlen("EHLO c\r\nSTARTTLS\r\n"));
	CHECK_INT(smtp_server_state(o.s), SMTP_SERVER_STARTTLS_WAIT);
	CHECK_INT(smtp_server_timeout_class(o.s), SMTP_SERVER_TIMEOUT_NONE);
	CHECK_INT(smtp_server_reading(o.s), 0);
	CHECK_INT(smtp_server_feed(o.s, in + n, strlen(in) - n), 0);
	CHECK_INT(smtp_server_tls_active(o.s), 0);
	CHECK_STR(smtp_server_helo_name(o.s), "c");
	o.tls_pending = 0;	/* this test completes the handshake itself */
	smtp_server_tls_started(o.s, "TLSv1.3", "TLS_AES_128_GCM_SHA256");
	CHECK_INT(smtp_server_state(o.s), SMTP_SERVER_INIT);
	CHECK_INT(smtp_server_tls_active(o.s), 1);
	CHECK_STR(smtp_server_tls_version(o.s), "TLSv1.3");
	CHECK_STR(smtp_server_tls_cipher(o.s), "TLS_AES_128_GCM_SHA256");
	CHECK_STR(smtp_server_helo_name(o.s), "");
	CHECK_INT(smtp_server_esmtp(o.s), 0);
	o.outlen = 0;
	owner_segment(&o, "MAIL FROM:<x@y.example>\r\n", 25, 0, 0);
	o.out[o.outlen] = '\0';
	CHECK_STR(o.out, "503 5.5.1 Error: send HELO/EHLO first\r\n");
	CHECK_STR(o.ev, "ehlo(c) starttls");
	owner_done(&o);
}

/* Async requests: feed consumes nothing while one is pending. */
static void
test_feed_while_waiting(void)
{
	static struct owner o;
	struct limits l = { 0 };
	const char *in = "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n";
	size_t n;

	owner_init(&o, MODE_LATER, &l);
	n = smtp_server_feed(o.s, in, strlen(in));
	CHECK_INT(n, strlen("EHLO c\r\nMAIL FROM:<a@b.example>\r\n"));
	CHECK_INT(smtp_server_state(o.s), SMTP_SERVER_MAIL_WAIT);
	CHECK_INT(smtp_server_reading(o.s), 0);
	CHECK_INT(smtp_server_timeout_class(o.s), SMTP_SERVER_TIMEOUT_NONE);
	CHECK_INT(smtp_server_feed(o.s, in + n, strlen(in) - n), 0);
	CHECK_INT(o.pending, REQ_MAIL);
	CHECK_INT(smtp_server_reply(o.s, 250, "2.1.0", "Ok"), 0);
	CHECK_INT(smtp_server_state(o.s), SMTP_SERVER_MAIL_DONE);
	CHECK_INT(smtp_server_timeout_class(o.s), SMTP_SERVER_TIMEOUT_COMMAND);
	/* reply() does not feed: the RCPT waits for the owner's next feed. */
	CHECK_STR(o.ev, "ehlo(c) mail(a@b.example)");
	CHECK_INT(smtp_server_feed(o.s, in + n, strlen(in) - n), strlen(in) - n);
	CHECK_INT(smtp_server_state(o.s), SMTP_SERVER_RCPT_WAIT);
	owner_done(&o);
}

/* DATA keeps a possible terminator start unconsumed. */
static void
test_data_holdback(void)
{
	static struct owner o;
	struct limits l = { 0 };

	owner_init(&o, MODE_SYNC, &l);
	owner_segment(&o, EHLO MAILOK RCPTOK "DATA\r\n",
	    strlen(EHLO MAILOK RCPTOK "DATA\r\n"), 0, 0);
	CHECK_INT(smtp_server_state(o.s), SMTP_SERVER_DATA_BODY);
	CHECK_INT(smtp_server_timeout_class(o.s), SMTP_SERVER_TIMEOUT_DATA);
	CHECK_INT(smtp_server_reading(o.s), 1);
	CHECK_INT(smtp_server_feed(o.s, "abc\r\n.", 6), 5);
	CHECK_INT(smtp_server_feed(o.s, ".\r", 2), 0);
	CHECK_INT(smtp_server_feed(o.s, "abc\r", 4), 3);
	CHECK_INT(smtp_server_feed(o.s, "\r\n.\r", 4), 2);
	CHECK_INT(o.datalen, 10);
	CHECK(memcmp(o.data, "abc\r\nabc\r\n", 10) == 0);
	CHECK_INT(smtp_server_feed(o.s, ".\r\nNOOP\r\n", 9), 9);
	CHECK_STR(o.ev, EV_TX " data end(OK)");
	CHECK_INT(smtp_server_state(o.s), SMTP_SERVER_HELO_DONE);
	owner_done(&o);
}

/* Timeouts in several states. */
static void
test_timeout(void)
{
	static struct owner o;
	struct limits l = { 0 };

	owner_init(&o, MODE_SYNC, &l);
	CHECK_INT(smtp_server_timeout_class(o.s), SMTP_SERVER_TIMEOUT_COMMAND);
	owner_segment(&o, EHLO MAILOK, strlen(EHLO MAILOK), 0, 0);
	smtp_server_timeout(o.s);
	CHECK(o.s == NULL);
	CHECK(strstr(o.out, "\r\n421 4.4.2 mx.test Error: timeout exceeded\r\n")
	    != NULL);
	CHECK_STR(o.ev, "ehlo(client.example) mail(alice@example.org) reset "
	    "close");

	/* While the owner still decides on MAIL. */
	owner_init(&o, MODE_LATER, &l);
	CHECK_INT(smtp_server_feed(o.s, EHLO MAILOK, strlen(EHLO MAILOK)),
	    strlen(EHLO MAILOK));
	CHECK_INT(o.pending, REQ_MAIL);
	smtp_server_timeout(o.s);
	CHECK(o.s == NULL);
	CHECK_STR(o.ev, "ehlo(client.example) mail(alice@example.org) reset "
	    "close");

	/* Before the greeting: the 421 needs no greeting. */
	owner_init(&o, MODE_SYNC, &(struct limits){ 0, 0, 0, F_NO_GREET });
	CHECK_INT(smtp_server_timeout_class(o.s), SMTP_SERVER_TIMEOUT_NONE);
	CHECK_INT(smtp_server_reading(o.s), 1);
	smtp_server_timeout(o.s);
	CHECK_STR(o.out, "421 4.4.2 mx.test Error: timeout exceeded\r\n");
}

/* Graceful shutdown when idle, while waiting, and during DATA. */
static void
test_shutdown(void)
{
	static struct owner o;
	struct limits l = { 0 };

	owner_init(&o, MODE_SYNC, &l);
	owner_segment(&o, EHLO, strlen(EHLO), 0, 0);
	smtp_server_shutdown(o.s);
	CHECK(o.s == NULL);
	CHECK(strstr(o.out, "\r\n421 4.3.2 mx.test Service shutting down, "
	    "closing transmission channel\r\n") != NULL);

	owner_init(&o, MODE_LATER, &l);
	CHECK_INT(smtp_server_feed(o.s, EHLO MAILOK, strlen(EHLO MAILOK)),
	    strlen(EHLO MAILOK));
	smtp_server_shutdown(o.s);
	CHECK(o.s != NULL);
	CHECK_STR(o.ev, "ehlo(client.example) mail(alice@example.org)");
	owner_answer(&o);	/* 250: the transaction opens and is aborted */
	CHECK(o.s == NULL);
	CHECK_STR(o.ev, "ehlo(client.example) mail(alice@example.org) reset "
	    "close");

	owner_init(&o, MODE_SYNC, &l);
	owner_segment(&o, EHLO MAILOK RCPTOK "DATA\r\nabc",
	    strlen(EHLO MAILOK RCPTOK "DATA\r\nabc"), 0, 0);
	smtp_server_shutdown(o.s);
	CHECK(o.s != NULL);
	owner_segment(&o, "\r\n.\r\nNOOP\r\n", 11, 0, 0);
	CHECK(o.s == NULL);
	CHECK(strstr(o.out, "354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued\r\n421 4.3.2 ") != NULL);
	CHECK_STR(o.ev, EV_TX " data end(OK) close");

	owner_init(&o, MODE_SYNC, &(struct limits){ 0, 0, 0, F_NO_GREET });
	smtp_server_shutdown(o.s);
	CHECK(o.s == NULL);
	CHECK_STR(o.out, "421 4.3.2 mx.test Service shutting down, closing "
	    "transmission channel\r\n");
}

/* Getters, the debug and error hooks, and reply after close. */
static void
test_hooks_and_getters(void)
{
	static struct owner o;
	static const char in[] = EHLO "NOOP x\r\nFOO\r\n"
	    "MAIL FROM:<a@b.example> SIZE=10 RET=FULL ENVID=e1\r\n"
	    "RCPT TO:<c@d.example> NOTIFY=DELAY ORCPT=rfc822;c@d.example\r\n";
	struct limits l = { 0 };
	struct smtp_server *s;

	owner_init(&o, MODE_SYNC, &l);
	owner_segment(&o, in, strlen(in), 0, 0);
	CHECK_STR(o.dbg, "GREETING_WAIT -> INIT;INIT -> HELO_DONE;"
	    "HELO_DONE -> MAIL_WAIT;MAIL_WAIT -> MAIL_DONE;"
	    "MAIL_DONE -> RCPT_WAIT;RCPT_WAIT -> MAIL_DONE;");
	CHECK_INT(o.errors, 1);
	CHECK_INT(smtp_server_errors(o.s), 1);
	CHECK_STR(smtp_server_helo_name(o.s), "client.example");
	CHECK_INT(smtp_server_esmtp(o.s), 1);
	CHECK(o.mail.has_size && o.mail.size == 10);
	CHECK_INT(o.mail.ret, SMTP_RET_FULL);
	CHECK_STR(o.mail.envid, "e1");
	CHECK_INT(o.last_rcpt.notify, SMTP_NOTIFY_DELAY);
	CHECK_STR(o.last_rcpt.orcpt, "rfc822;c@d.example");
	owner_done(&o);

	/* Without freeing in close, the session stays CLOSED and inert. */
	owner_init(&o, MODE_LATER, &l);
	s = o.s;
	o.free_at = FREE_COUNT;		/* never free in a callback */
	CHECK_INT(smtp_server_feed(s, EHLO MAILOK, strlen(EHLO MAILOK)),
	    strlen(EHLO MAILOK));
	smtp_server_timeout(s);
	CHECK_INT(smtp_server_state(s), SMTP_SERVER_CLOSED);
	CHECK_INT(smtp_server_reply(s, 250, NULL, NULL), -1);
	CHECK_INT(smtp_server_feed(s, "NOOP\r\n", 6), 0);
	smtp_server_greet(s);
	smtp_server_shutdown(s);
	CHECK_INT(smtp_server_reading(s), 0);
	smtp_server_free(s);

	CHECK_STR(smtp_server_state_name(SMTP_SERVER_DATA_END_WAIT),
	    "DATA_END_WAIT");
	CHECK_STR(smtp_server_state_name((enum smtp_server_state)42),
	    "INVALID");
	smtp_server_free(NULL);
}

/* smtp_server_new() refuses bad configs and missing callbacks. */
static void
test_new_validation(void)
{
	struct smtp_server_config cfg;
	struct smtp_server_cb cb = owner_cb;
	struct smtp_server *s;

	smtp_server_config_init(&cfg);
	CHECK_INT(cfg.max_line, 512);
	CHECK_INT(cfg.max_recipients, 100);
	CHECK_INT(cfg.max_errors, 10);
	errno = 0;
	CHECK(smtp_server_new(&cfg, &cb, NULL) == NULL && errno == EINVAL);
	cfg.hostname = "bad host";
	CHECK(smtp_server_new(&cfg, &cb, NULL) == NULL);
	cfg.hostname = HOST;
	cfg.max_line = 100;
	CHECK(smtp_server_new(&cfg, &cb, NULL) == NULL);
	cfg.max_line = 512;
	cfg.max_recipients = 0;
	CHECK(smtp_server_new(&cfg, &cb, NULL) == NULL);
	cfg.max_recipients = 1;
	cb.starttls = NULL;
	cfg.tls_available = 1;
	CHECK(smtp_server_new(&cfg, &cb, NULL) == NULL);
	cfg.tls_available = 0;
	cb.mail = NULL;
	CHECK(smtp_server_new(&cfg, &cb, NULL) == NULL);
	cb.mail = owner_cb.mail;
	cb.helo = NULL;
	cb.error = NULL;
	cb.debug = NULL;
	s = smtp_server_new(&cfg, &cb, NULL);
	CHECK(s != NULL);
	smtp_server_free(s);
}

/* A larger max_line is honoured. */
static void
test_max_line(void)
{
	static struct owner o;
	struct limits l = { 0 };
	char line[1100];

	owner_init(&o, MODE_SYNC, &l);
	smtp_server_free(o.s);
	o.cfg.max_line = 1000;
	o.s = smtp_server_new(&o.cfg, &owner_cb, &o);
	smtp_server_greet(o.s);
	snprintf(line, sizeof(line), "NOOP %0993d\r\n", 0);	/* 1000 */
	owner_segment(&o, line, strlen(line), 7, 0);
	snprintf(line, sizeof(line), "NOOP %0994d\r\n", 0);	/* 1001 */
	owner_segment(&o, line, strlen(line), 0, 0);
	o.out[o.outlen] = '\0';
	CHECK(strstr(o.out, "\r\n250 2.0.0 Ok\r\n500 5.5.2 Error: line too "
	    "long\r\n") != NULL);
	owner_done(&o);
}

/* Runs the fault-injection transcript once. */
static int
run_free_at(enum free_at kind, int nth, enum mode mode)
{
	static struct owner o;
	struct limits l = { 0, 0, 0, F_TLS };
	static const char *const seg[] = {
		"EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
		"DATA\r\nhello\r\n.\r\nMAIL FROM:<a@b.example>\r\n"
		"RCPT TO:<c@d.example>\r\nDATA\r\nbad\nline\r\n.\r\nRSET\r\n"
		"FOO\r\nMAIL FROM:<a@b.example>\r\nSTARTTLS\r\n",
		"EHLO c\r\nMAIL FROM:<a@b.example>\r\nQUIT\r\n"
	};
	size_t i;

	owner_init(&o, mode, &l);
	o.free_at = kind;
	o.free_nth = nth;
	for (i = 0; i < ARRAY_LEN(seg); i++)
		owner_segment(&o, seg[i], strlen(seg[i]), (size_t)nth % 4, 0);
	owner_done(&o);
	if (o.after_free != 0 || o.overflow)
		fprintf(stderr, "  free at %d #%d mode %d: after_free %d\n",
		    kind, nth, mode, o.after_free);
	return o.after_free == 0 && !o.overflow;
}

/* Freeing from inside every callback, at many points: ASan must stay quiet. */
static void
test_free_from_callbacks(void)
{
	int kind, nth, m;

	for (kind = FREE_WRITE; kind < FREE_COUNT; kind++)
		for (nth = 1; nth <= 30; nth++)
			for (m = MODE_SYNC; m <= MODE_LATER; m++)
				CHECK(run_free_at((enum free_at)kind, nth,
				    (enum mode)m));
}

/* Child side of the abort tests: the misuse must abort(). */
static void
misuse(int which)
{
	static struct owner o;
	struct limits l = { 0 };

	owner_init(&o, MODE_LATER, &l);
	if (which == 0)
		(void)smtp_server_reply(o.s, 250, NULL, NULL);
	else if (which == 1)
		smtp_server_tls_started(o.s, "x", "y");
	else
		smtp_server_greet(o.s);
	_exit(0);
}

/* Broken invariants abort loudly (checked in a child process). */
static void
test_misuse_aborts(void)
{
	int which, status;
	pid_t pid;

	for (which = 0; which < 3; which++) {
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			/* Keep the expected abort message out of the log. */
			if (freopen("/dev/null", "w", stderr) == NULL)
				_exit(2);
			misuse(which);
		}
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	}
}

int
main(void)
{
	make_inputs();
	test_table();
	test_smuggling();
	test_exact_replies();
	test_exact_errors();
	test_size_limits();
	test_starttls_feed();
	test_feed_while_waiting();
	test_data_holdback();
	test_timeout();
	test_shutdown();
	test_hooks_and_getters();
	test_new_validation();
	test_max_line();
	test_free_from_callbacks();
	test_misuse_aborts();
	return check_report();
}
