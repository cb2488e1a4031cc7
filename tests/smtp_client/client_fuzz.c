/*
 * client_fuzz.c - fuzz entry point for the reply parser and the backend
 * SMTP client, shared by the libFuzzer target and the replay test.
 *
 * CONTRACT
 *	client_fuzz_one(data, size) treats data as: one settings octet
 *	(tls/xclient/xforward modes, peer or not, chunk size, when to free),
 *	then backend bytes.  An owner that answers every event with the next
 *	command (MAIL, RCPT, DATA, content, end, QUIT; STARTTLS accepted at
 *	once) drives the client while the bytes are fed in chunks.  The owner
 *	checks invariants and abort()s on a violation, so the fuzzer and the
 *	sanitizers see it:
 *	  - every command written ends with CR LF and holds no other CR/LF
 *	    (content excepted, which is the owner's own) and no NUL;
 *	  - error() is raised at most once and no callback follows it;
 *	  - no callback follows the owner's free;
 *	  - reply texts have the advertised length, no control octets except
 *	    HT and '\n', codes 200..559.
 *	The same bytes also go through the bare parser with its own checks.
 */
#include "tests/smtp_client/client_fuzz.h"

#include "smtp/smtp_client.h"
#include "smtp/smtp_replyparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct client_fuzz_stats client_fuzz_stats;

struct fuzz_owner {
	struct smtp_client *c;
	int	in_data;		/* writes are content, not commands */
	int	errors;
	int	freed;
	int	free_at;		/* free at the n-th callback (0: never) */
	int	calls;
	int	rcpts;
};

/* Reports a broken invariant loudly. */
static void
fuzz_violation(const char *what)
{
	fprintf(stderr, "client_fuzz: invariant broken: %s\n", what);
	abort();
}

/* Checks a reply as the owner sees it. */
static void
fuzz_check_reply(const struct smtp_client_reply *r)
{
	size_t i;

	if (r->code < 200 || r->code > 559 || strlen(r->text) != r->text_len)
		fuzz_violation("reply code or text length");
	for (i = 0; i < r->text_len; i++) {
		unsigned char ch = (unsigned char)r->text[i];

		if ((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7f)
			fuzz_violation("control octet in reply text");
	}
}

/* Counts a callback; frees the client when its turn has come. */
static int
fuzz_enter(struct fuzz_owner *o)
{
	if (o->freed || o->errors > 0)
		fuzz_violation("callback after free or error");
	if (++o->calls == o->free_at) {
		smtp_client_free(o->c);
		o->freed = 1;
		client_fuzz_stats.freed++;
		return 0;
	}
	return 1;
}

static int
fuzz_write(void *ctx, const char *data, size_t len)
{
	struct fuzz_owner *o = ctx;
	const char *cr;

	if (o->freed || o->errors > 0)
		fuzz_violation("write after free or error");
	if (memchr(data, '\0', len) != NULL)
		fuzz_violation("NUL written");
	if (!o->in_data) {
		cr = memchr(data, '\r', len);
		if (len < 2 || cr != data + len - 2 || data[len - 1] != '\n' ||
		    memchr(data, '\n', len - 1) != NULL)
			fuzz_violation("command not a single CRLF line");
	}
	return 0;
}

static void
fuzz_ready(void *ctx)
{
	struct fuzz_owner *o = ctx;
	static const struct smtp_client_mail_params mp = { 100,
	    SMTP_CLIENT_BODY_8BITMIME, 0, SMTP_CLIENT_RET_HDRS, "id+2B1" };

	client_fuzz_stats.ready++;
	if (fuzz_enter(o))
		smtp_client_mail(o->c, "a@b.example", &mp);
}

/* The next command after a reply. */
static void
fuzz_next(struct fuzz_owner *o, enum smtp_client_step step, int code)
{
	static const struct smtp_client_rcpt_params rp = {
	    SMTP_CLIENT_NOTIFY_FAILURE, "rfc822;r+40c" };

	switch (step) {
	case SMTP_CLIENT_STEP_MAIL:
		if (code / 100 == 2)
			smtp_client_rcpt(o->c, "r@c.example", &rp);
		else
			smtp_client_quit(o->c);
		break;
	case SMTP_CLIENT_STEP_RCPT:
		if (o->rcpts++ == 0)
			smtp_client_rcpt(o->c, "s@c.example", NULL);
		else if (smtp_client_data(o->c) == -1)
			smtp_client_rset(o->c);
		break;
	case SMTP_CLIENT_STEP_DATA:
		if (code != 354) {
			smtp_client_rset(o->c);
			break;
		}
		o->in_data = 1;		/* content and its end: not commands */
		smtp_client_data_write(o->c, "Subject: t\r\n\r\n..x\r\ny", 20);
		smtp_client_data_end(o->c);
		o->in_data = 0;
		break;
	case SMTP_CLIENT_STEP_DATA_END:
	case SMTP_CLIENT_STEP_RSET:
	case SMTP_CLIENT_STEP_XFORWARD:
		o->rcpts = 0;
		smtp_client_quit(o->c);
		break;
	case SMTP_CLIENT_STEP_QUIT:
		break;
	}
}

static void
fuzz_reply(void *ctx, enum smtp_client_step step,
    const struct smtp_client_reply *r)
{
	struct fuzz_owner *o = ctx;

	fuzz_check_reply(r);
	if (step == SMTP_CLIENT_STEP_DATA_END)
		client_fuzz_stats.data_end++;
	if (fuzz_enter(o))
		fuzz_next(o, step, r->code);
}

static void
fuzz_starttls(void *ctx)
{
	struct fuzz_owner *o = ctx;

	if (fuzz_enter(o))
		smtp_client_tls_started(o->c);
}

static void
fuzz_error(void *ctx, const char *why, const struct smtp_client_reply *r)
{
	struct fuzz_owner *o = ctx;

	if (why == NULL || why[0] == '\0')
		fuzz_violation("error without reason");
	if (r != NULL)
		fuzz_check_reply(r);
	fuzz_enter(o);
	o->errors++;
	client_fuzz_stats.errors++;
}

static const struct smtp_client_callbacks fuzz_callbacks = {
	fuzz_write, fuzz_ready, fuzz_reply, fuzz_starttls, fuzz_error, NULL
};

/* Runs the bare parser over the bytes and checks what it produces. */
static void
fuzz_parser(const char *data, size_t size)
{
	static struct smtp_replyparse p;
	enum smtp_replyparse_status st;
	size_t off = 0, used;

	smtp_replyparse_init(&p);
	while (off < size) {
		st = smtp_replyparse_feed(&p, data + off, size - off, &used);
		if (used > size - off || (used == 0 &&
		    st != SMTP_REPLYPARSE_ERROR))
			fuzz_violation("parser consumed a wrong count");
		if (st == SMTP_REPLYPARSE_ERROR)
			break;
		off += used;
		if (st == SMTP_REPLYPARSE_DONE &&
		    (p.code < 200 || p.code > 559 ||
		    strlen(p.text) != p.text_len ||
		    p.text_len > SMTP_REPLYPARSE_TEXT_MAX ||
		    p.lines < 1 || p.lines > SMTP_REPLYPARSE_LINES_MAX))
			fuzz_violation("parser reply fields");
	}
}

/* One fuzz input; see the contract above. Returns 0. */
int
client_fuzz_one(const unsigned char *data, size_t size)
{
	static const struct smtp_client_peer peer = { "2001:db8::7", 2525,
	    "client.example", "helo with space", 1, "192.0.2.25", 25 };
	struct smtp_client_config cfg = { "relay.example", 0, 0, 0, NULL };
	struct fuzz_owner o;
	size_t off = 0, chunk, n;
	unsigned s;

	if (size < 1)
		return 0;
	s = data[0];
	client_fuzz_stats.runs++;
	fuzz_parser((const char *)data + 1, size - 1);
	cfg.tls = (enum smtp_client_tls_mode)(s % 3);
	cfg.xclient = (enum smtp_client_xclient_mode)((s / 3) % 3);
	cfg.xforward = (enum smtp_client_xforward_mode)((s / 9) % 2);
	cfg.peer = (s & 0x20) ? &peer : NULL;
	chunk = (s & 0x40) ? 1 : (s & 0x80) ? 7 : size;
	memset(&o, 0, sizeof(o));
	o.free_at = (s & 0x10) ? (int)(size % 13) : 0;
	if ((o.c = smtp_client_new(&cfg, &fuzz_callbacks, &o)) == NULL)
		fuzz_violation("client_new failed");
	data++;
	size--;
	while (off < size && !o.freed && o.errors == 0 &&
	    smtp_client_state(o.c) != SMTP_CLIENT_CLOSED) {
		n = size - off < chunk ? size - off : chunk;
		smtp_client_feed(o.c, (const char *)data + off, n);
		off += n;
	}
	if (!o.freed && o.errors == 0)
		smtp_client_eof(o.c);
	if (!o.freed)
		smtp_client_free(o.c);
	return 0;
}
