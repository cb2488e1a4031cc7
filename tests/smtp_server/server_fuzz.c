/*
 * server_fuzz.c - fuzz entry point: an auto-answering owner around one
 * SMTP server session, with invariant checks on everything it sees.
 *
 * CONTRACT
 *	See server_fuzz.h.  Input layout: byte 0 = flags (bit 0 answer
 *	synchronously, bit 1 TLS available, bit 2 require TLS, bit 3 no
 *	error limit, bit 4 time out at the end, bits 4+5 shut down halfway,
 *	bits 6-7 chunk size class), byte 1 = seed of the owner's answers;
 *	when its low three bits are 0 the greeting is skipped (pregreet).
 *
 * INVARIANTS
 *	- feed() never claims more than it was given;
 *	- every written line is a well-formed reply line of <= 512 octets;
 *	- content reaches data_chunk() only in DATA_BODY, never holds a bare
 *	  CR or LF, never holds CR LF "." CR LF, never starts with "." CR LF,
 *	  ends with CR LF when data_end(OK) comes, never exceeds the limit;
 *	- no callback after close() or after the owner freed the session.
 */
#include "tests/smtp_server/server_fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_cmd.h"
#include "smtp/smtp_server.h"

#define FUZZ_IN_MAX	4096	/* the owner's input buffer */
#define FUZZ_MAX_SIZE	1000	/* max_message_size */

/* The auto-answering owner. */
struct fuzz_owner {
	struct smtp_server		*s;
	struct smtp_server_config	 cfg;
	int		 sync;
	unsigned	 seed;
	int		 pending;	/* a request awaits its answer */
	int		 tls_pending;
	int		 closed;
	char		 in[FUZZ_IN_MAX];
	size_t		 inlen;
	uint64_t	 content;	/* octets of the current message */
	char		 tail[5];	/* last content octets, for the checks */
	size_t		 taillen;
};

struct smtp_server_fuzz_stats smtp_server_fuzz_stats;

/* Reports a broken invariant. */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "server_fuzz: invariant broken: %s\n", what);
	abort();
}

/* Next pseudo-random answer choice. */
static unsigned
fuzz_pick(struct fuzz_owner *o, unsigned n)
{
	o->seed = o->seed * 1103515245u + 12345u;
	return (o->seed >> 16) % n;
}

/* Bookkeeping common to every callback. */
static struct fuzz_owner *
fuzz_enter(void *ctx)
{
	struct fuzz_owner *o = ctx;

	if (o->closed || o->s == NULL)
		fuzz_fail("callback after close or free");
	return o;
}

/* Checks one written reply line. */
static void
fuzz_check_line(const char *p, size_t len)
{
	size_t i;

	if (len < 5 || len > 512 || p[len - 2] != '\r' || p[len - 1] != '\n')
		fuzz_fail("reply line framing");
	if (p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '5' ||
	    p[2] < '0' || p[2] > '9')
		fuzz_fail("reply code");
	if (p[3] != ' ' && p[3] != '-' && p[3] != '\r')
		fuzz_fail("reply separator");
	for (i = 0; i < len - 2; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			fuzz_fail("reply text octet");
}

/* Checks every reply line. */
static void
fuzz_write(void *ctx, const char *data, size_t len)
{
	(void)fuzz_enter(ctx);
	fuzz_check_line(data, len);
}

/* Marks the session closed. */
static void
fuzz_close(void *ctx)
{
	struct fuzz_owner *o = fuzz_enter(ctx);

	o->closed = 1;
	smtp_server_fuzz_stats.closed++;
}

/* Answers the pending request with a rotating choice of replies. */
static void
fuzz_answer(struct fuzz_owner *o)
{
	/* Mostly accepting, so that transactions reach DATA often. */
	static const int mail[8] = { 250, 250, 250, 250, 250, 550, 451, 421 };
	static const int rcpt[8] = { 250, 250, 250, 250, 250, 550, 452, 421 };
	static const int data[8] = { 354, 354, 354, 354, 354, 354, 554, 451 };
	static const int end[8] = { 250, 250, 250, 250, 250, 250, 550, 451 };
	int code;

	o->pending = 0;
	switch (smtp_server_state(o->s)) {
	case SMTP_SERVER_MAIL_WAIT:
		code = mail[fuzz_pick(o, 8)];
		break;
	case SMTP_SERVER_RCPT_WAIT:
		code = rcpt[fuzz_pick(o, 8)];
		break;
	case SMTP_SERVER_DATA_WAIT:
		code = data[fuzz_pick(o, 8)];
		break;
	case SMTP_SERVER_DATA_END_WAIT:
		code = end[fuzz_pick(o, 8)];
		break;
	default:
		fuzz_fail("answer without a pending request");
		return;
	}
	if (code == 354)
		smtp_server_fuzz_stats.data_body++;
	if (smtp_server_reply(o->s, code, NULL, fuzz_pick(o, 4) == 0 ?
	    "first line\nsecond line" : "text") != 0)
		fuzz_fail("reply refused");
}

/* Records a request; answers it now in synchronous mode. */
static void
fuzz_request(struct fuzz_owner *o)
{
	o->pending = 1;
	if (o->sync)
		fuzz_answer(o);
}

/* Checks the sender and answers. */
static void
fuzz_mail(void *ctx, const struct smtp_mail *mail)
{
	struct fuzz_owner *o = fuzz_enter(ctx);

	if (strlen(mail->sender) > SMTP_PATH_MAX - 2)
		fuzz_fail("sender too long");
	fuzz_request(o);
}

/* Checks the recipient and answers. */
static void
fuzz_rcpt(void *ctx, const struct smtp_rcpt *rcpt)
{
	struct fuzz_owner *o = fuzz_enter(ctx);

	if (rcpt->rcpt[0] == '\0')
		fuzz_fail("empty recipient");
	fuzz_request(o);
}

/* Starts a message and answers. */
static void
fuzz_data(void *ctx)
{
	struct fuzz_owner *o = fuzz_enter(ctx);

	o->content = 0;
	o->taillen = 0;
	fuzz_request(o);
}

/* Checks content octet by octet against the smuggling rules. */
static void
fuzz_data_chunk(void *ctx, const char *data, size_t len)
{
	struct fuzz_owner *o = fuzz_enter(ctx);
	size_t i;
	char prev;

	if (smtp_server_state(o->s) != SMTP_SERVER_DATA_BODY || len == 0)
		fuzz_fail("content outside DATA or empty");
	for (i = 0; i < len; i++) {
		prev = o->taillen > 0 ? o->tail[o->taillen - 1] : '\0';
		if (data[i] == '\n' && prev != '\r')
			fuzz_fail("bare LF forwarded");
		if (prev == '\r' && data[i] != '\n')
			fuzz_fail("bare CR forwarded");
		if (o->taillen == sizeof(o->tail)) {
			memmove(o->tail, o->tail + 1, sizeof(o->tail) - 1);
			o->taillen--;
		}
		o->tail[o->taillen++] = data[i];
		if (++o->content > FUZZ_MAX_SIZE)
			fuzz_fail("content over the limit");
		if (o->taillen == 5 && memcmp(o->tail, "\r\n.\r\n", 5) == 0)
			fuzz_fail("terminator inside content");
		if (o->content == 3 && memcmp(o->tail, ".\r\n", 3) == 0)
			fuzz_fail("content starts with the terminator");
	}
}

/* Checks how the content ended; answers OK ones. */
static void
fuzz_data_end(void *ctx, enum smtp_data_status status)
{
	struct fuzz_owner *o = fuzz_enter(ctx);

	if (status == SMTP_DATA_OK && o->taillen > 0 &&
	    (o->taillen < 2 || memcmp(o->tail + o->taillen - 2, "\r\n", 2)))
		fuzz_fail("content does not end with CR LF");
	if (status == SMTP_DATA_OK)
		smtp_server_fuzz_stats.data_ok++;
	else if (status == SMTP_DATA_BARE_NEWLINE)
		smtp_server_fuzz_stats.data_bare++;
	else
		smtp_server_fuzz_stats.data_too_big++;
	if (status == SMTP_DATA_OK)
		fuzz_request(o);
}

/* Drops the pending request. */
static void
fuzz_reset(void *ctx)
{
	struct fuzz_owner *o = fuzz_enter(ctx);

	o->pending = 0;
}

/* Schedules the handshake. */
static void
fuzz_starttls(void *ctx)
{
	struct fuzz_owner *o = fuzz_enter(ctx);

	o->tls_pending = 1;
}

static const struct smtp_server_cb fuzz_cb = {
	.write = fuzz_write,
	.close = fuzz_close,
	.mail = fuzz_mail,
	.rcpt = fuzz_rcpt,
	.data = fuzz_data,
	.data_chunk = fuzz_data_chunk,
	.data_end = fuzz_data_end,
	.reset = fuzz_reset,
	.starttls = fuzz_starttls,
};

/* Feeds the owner's buffer until nothing moves. */
static void
fuzz_pump(struct fuzz_owner *o)
{
	size_t n;
	int rounds;

	for (rounds = 0; rounds < 10000 && !o->closed; rounds++) {
		n = smtp_server_feed(o->s, o->in, o->inlen);
		if (n > o->inlen)
			fuzz_fail("feed consumed too much");
		memmove(o->in, o->in + n, o->inlen - n);
		o->inlen -= n;
		if (o->tls_pending) {
			o->tls_pending = 0;
			o->inlen = 0;
			smtp_server_tls_started(o->s, "TLSv1.3", "FUZZ");
			smtp_server_fuzz_stats.starttls++;
			continue;
		}
		if (o->pending && !o->closed) {
			fuzz_answer(o);
			continue;
		}
		if (n == 0)
			return;
	}
}

/* Adds input; an owner whose buffer stays full drops the client. */
static int
fuzz_input(struct fuzz_owner *o, const uint8_t *p, size_t n)
{
	if (FUZZ_IN_MAX - o->inlen < n)
		return -1;
	memcpy(o->in + o->inlen, p, n);
	o->inlen += n;
	fuzz_pump(o);
	return 0;
}

/* Round trip of one line through the MAIL/RCPT parsers and formatters. */
static void
fuzz_parser_line(const char *line, size_t len)
{
	unsigned all = SMTP_CMD_EXT_SIZE | SMTP_CMD_EXT_8BITMIME |
	    SMTP_CMD_EXT_SMTPUTF8 | SMTP_CMD_EXT_DSN;
	struct smtp_cmd_error err;
	struct smtp_cmd cmd;
	struct smtp_mail m, m2;
	struct smtp_rcpt r, r2;
	char buf[1400];
	int n;

	smtp_cmd_parse(line, len, &cmd);
	if (cmd.verb == SMTP_VERB_MAIL && smtp_cmd_parse_mail(cmd.args,
	    cmd.args_len, 1, &m, &err) == 0) {
		n = smtp_cmd_format_mail(&m, all, buf, sizeof(buf));
		if (n < 7 || smtp_cmd_parse_mail(buf + 5, (size_t)n - 7, 1,
		    &m2, &err) != 0 || strcmp(m.sender, m2.sender) != 0 ||
		    m.size != m2.size || m.body != m2.body ||
		    m.ret != m2.ret || strcmp(m.envid, m2.envid) != 0)
			fuzz_fail("MAIL round trip");
	}
	if (cmd.verb == SMTP_VERB_RCPT && smtp_cmd_parse_rcpt(cmd.args,
	    cmd.args_len, 1, 1, &r, &err) == 0) {
		n = smtp_cmd_format_rcpt(&r, all, buf, sizeof(buf));
		if (n < 7 || smtp_cmd_parse_rcpt(buf + 5, (size_t)n - 7, 1, 1,
		    &r2, &err) != 0 || strcmp(r.rcpt, r2.rcpt) != 0 ||
		    r.notify != r2.notify || strcmp(r.orcpt, r2.orcpt) != 0)
			fuzz_fail("RCPT round trip");
	}
}

/* Runs every line of the input through fuzz_parser_line(). */
static void
fuzz_parsers(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *lf;
	size_t left = size, len;

	while (left > 0) {
		lf = memchr(p, '\n', left);
		len = lf ? (size_t)(lf - p) : left;
		fuzz_parser_line(p, len > 0 && p[len - 1] == '\r' ? len - 1 :
		    len);
		if (lf == NULL)
			break;
		left -= len + 1;
		p = lf + 1;
	}
}

/* Runs one fuzz input. */
int
smtp_server_fuzz_one(const uint8_t *data, size_t size)
{
	static const size_t chunks[] = { 1, 7, 64, 100000 };
	struct fuzz_owner *o;
	size_t off = 2, n, chunk;
	unsigned flags;

	if (size < 2)
		return 0;
	fuzz_parsers(data + 2, size - 2);
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return 0;
	flags = data[0];
	o->seed = data[1];
	o->sync = flags & 1;
	smtp_server_config_init(&o->cfg);
	o->cfg.hostname = "fuzz.test";
	o->cfg.max_message_size = FUZZ_MAX_SIZE;
	o->cfg.max_recipients = 3;
	o->cfg.tls_available = (flags & 2) != 0;
	o->cfg.require_tls = (flags & 4) != 0;
	if (flags & 8)
		o->cfg.max_errors = 0;
	chunk = chunks[(flags >> 6) & 3];
	if ((o->s = smtp_server_new(&o->cfg, &fuzz_cb, o)) == NULL)
		fuzz_fail("smtp_server_new");
	if ((data[1] & 7) != 0)
		smtp_server_greet(o->s);
	while (off < size && !o->closed) {
		n = size - off < chunk ? size - off : chunk;
		if (fuzz_input(o, data + off, n) != 0)
			break;
		off += n;
		if ((flags & 48) == 48 && off >= size / 2 && !o->closed)
			smtp_server_shutdown(o->s);
	}
	if ((flags & 16) && !o->closed)
		smtp_server_timeout(o->s);
	smtp_server_free(o->s);
	free(o);
	return 0;
}
