/*
 * test_smtp_client.c - scripted conversations with the backend SMTP client.
 *
 * A fake owner records one transcript per step: the bytes the client
 * writes, verbatim, and its callbacks as "{...}" events.  Each script
 * alternates backend bytes fed to the client and owner actions, with the
 * transcript each step must produce, written by hand.  Every script runs
 * with the backend bytes fed whole and in chunks of 1, 2, 3 and 7 octets.
 * Focused tests follow: parameters, capabilities, end of data, limits,
 * re-entrancy and free-from-callback (run under ASan to catch misuse).
 */
#include "smtp/smtp_client.h"
#include "tests/check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>

#define HELO_NAME "relay.example"

/*
 * Fake owner
 */

struct owner {
	struct smtp_client *c;
	char	tr[65536];		/* transcript of the current step */
	size_t	tr_len;
	char	trace[4096];		/* "FROM>TO " per state change */
	size_t	trace_len;
	int	write_fail;		/* write() returns -1 */
	const char *free_on;		/* free the client at this event kind */
	int	freed;
	int	after_free;		/* callbacks after the free (must be 0) */
	int	drive;			/* answer each event with the next command */
	int	rcpts;			/* recipients sent while driving */
};

static void log_add(char *, size_t, size_t *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends to a bounded log; a test bug if it overflows. */
static void
log_add(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len) {
		fprintf(stderr, "test log overflow\n");
		abort();
	}
	*len += (size_t)n;
}

/* Appends raw bytes to the transcript. */
static void
tr_raw(struct owner *o, const char *data, size_t len)
{
	if (len >= sizeof(o->tr) - o->tr_len) {
		fprintf(stderr, "transcript overflow\n");
		abort();
	}
	memcpy(o->tr + o->tr_len, data, len);
	o->tr_len += len;
	o->tr[o->tr_len] = '\0';
}

/* Frees the client if this event kind was chosen. */
static void
maybe_free(struct owner *o, const char *kind)
{
	if (o->free_on != NULL && !o->freed && strcmp(o->free_on, kind) == 0) {
		smtp_client_free(o->c);
		o->freed = 1;
	}
}

/* 1 if the callback came after the owner freed the client. */
static int
late(struct owner *o)
{
	if (o->freed)
		o->after_free++;
	return o->freed;
}

static int
cb_write(void *ctx, const char *data, size_t len)
{
	struct owner *o = ctx;

	if (late(o))
		return -1;
	if (o->write_fail)
		return -1;
	tr_raw(o, data, len);
	maybe_free(o, "write");
	return 0;
}

/* While driving: the next command after each event. */
static void
drive_next(struct owner *o, const char *kind, int code)
{
	if (!o->drive || o->freed)
		return;
	if (strcmp(kind, "ready") == 0)
		smtp_client_mail(o->c, "a@b.example", NULL);
	else if (strcmp(kind, "reply MAIL") == 0 && code == 250)
		smtp_client_rcpt(o->c, "r1@c.example", NULL);
	else if (strcmp(kind, "reply RCPT") == 0 && o->rcpts++ == 0)
		smtp_client_rcpt(o->c, "r2@c.example", NULL);
	else if (strcmp(kind, "reply RCPT") == 0)
		smtp_client_data(o->c);
	else if (strcmp(kind, "reply DATA") == 0 && code == 354) {
		smtp_client_data_write(o->c, "Subject: x\r\n\r\nhi", 16);
		smtp_client_data_end(o->c);
	} else if (strcmp(kind, "reply DATA_END") == 0)
		smtp_client_quit(o->c);
}

static void
cb_ready(void *ctx)
{
	struct owner *o = ctx;

	if (late(o))
		return;
	log_add(o->tr, sizeof(o->tr), &o->tr_len, "{ready}");
	drive_next(o, "ready", 0);
	maybe_free(o, "ready");
}

/* Formats a reply as "CODE ENH TEXT" (ENH "-" when absent). */
static void
log_reply(struct owner *o, const struct smtp_client_reply *r)
{
	log_add(o->tr, sizeof(o->tr), &o->tr_len, "%d %s %s%s", r->code,
	    r->enhanced[0] ? r->enhanced : "-", r->text,
	    r->local ? " (local)" : "");
	if (strlen(r->text) != r->text_len)
		log_add(o->tr, sizeof(o->tr), &o->tr_len, " BADLEN");
}

static void
cb_reply(void *ctx, enum smtp_client_step step,
    const struct smtp_client_reply *r)
{
	struct owner *o = ctx;
	char kind[64];

	if (late(o))
		return;
	snprintf(kind, sizeof(kind), "reply %s", smtp_client_step_name(step));
	log_add(o->tr, sizeof(o->tr), &o->tr_len, "{%s ", kind);
	log_reply(o, r);
	log_add(o->tr, sizeof(o->tr), &o->tr_len, "}");
	drive_next(o, kind, r->code);
	maybe_free(o, kind);
}

static void
cb_starttls(void *ctx)
{
	struct owner *o = ctx;

	if (late(o))
		return;
	log_add(o->tr, sizeof(o->tr), &o->tr_len, "{starttls}");
	if (o->drive)
		smtp_client_tls_started(o->c);
	maybe_free(o, "starttls");
}

static void
cb_error(void *ctx, const char *why, const struct smtp_client_reply *r)
{
	struct owner *o = ctx;

	if (late(o))
		return;
	log_add(o->tr, sizeof(o->tr), &o->tr_len, "{error %s", why);
	if (r != NULL) {
		log_add(o->tr, sizeof(o->tr), &o->tr_len, "|");
		log_reply(o, r);
	}
	log_add(o->tr, sizeof(o->tr), &o->tr_len, "}");
	maybe_free(o, "error");
}

static void
cb_trace(void *ctx, enum smtp_client_state from, enum smtp_client_state to)
{
	struct owner *o = ctx;

	if (late(o))
		return;
	log_add(o->trace, sizeof(o->trace), &o->trace_len, "%s>%s ",
	    smtp_client_state_name(from), smtp_client_state_name(to));
	maybe_free(o, "trace");
}

static const struct smtp_client_callbacks callbacks = {
	cb_write, cb_ready, cb_reply, cb_starttls, cb_error, cb_trace
};

/* Creates a client for owner o. */
static struct smtp_client *
owner_client(struct owner *o, enum smtp_client_tls_mode tls,
    enum smtp_client_xclient_mode xc, enum smtp_client_xforward_mode xf,
    const struct smtp_client_peer *peer)
{
	struct smtp_client_config cfg = { HELO_NAME, tls, xc, xf, peer };

	memset(o, 0, sizeof(*o));
	o->c = smtp_client_new(&cfg, &callbacks, o);
	return o->c;
}

/* Feeds bytes in chunks of `chunk` octets (0: all at once). */
static void
feed_chunks(struct owner *o, const char *data, size_t len, size_t chunk)
{
	size_t off = 0, n;

	while (off < len && !o->freed) {
		n = chunk == 0 || len - off < chunk ? len - off : chunk;
		smtp_client_feed(o->c, data + off, n);
		off += n;
	}
}

/*
 * Scripts
 */

enum act { A_NONE = 0, A_MAIL, A_RCPT, A_DATA, A_WRITE, A_END, A_RSET,
	A_QUIT, A_TLS, A_EOF, A_TIMEOUT, A_REUSE };

struct step {
	const char *feed;	/* backend bytes, or NULL */
	size_t feed_len;	/* 0: strlen(feed) */
	enum act act;		/* then this owner action */
	const char *arg;
	int rc;			/* its expected return */
	const char *expect;	/* transcript of the step */
};

#define S(feed, expect)			{ feed, 0, A_NONE, NULL, 0, expect }
#define ACT(act, arg, rc, expect)	{ NULL, 0, act, arg, rc, expect }
#define STEPS_MAX 32

struct script {
	const char *name;
	enum smtp_client_tls_mode tls;
	enum smtp_client_xclient_mode xclient;
	enum smtp_client_xforward_mode xforward;
	const struct smtp_client_peer *peer;
	int whole_only;		/* chunking would change the meaning */
	const char *final_state;
	struct step steps[STEPS_MAX];
};

#define G	"220 backend.example ESMTP\r\n"
#define E	"EHLO " HELO_NAME "\r\n"
#define EHLO_PLAIN "250-backend.example\r\n250-PIPELINING\r\n" \
	"250-SIZE 10240000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n" \
	"250 DSN\r\n"
#define EHLO_TLS "250-backend.example\r\n250-PIPELINING\r\n" \
	"250-STARTTLS\r\n250 8BITMIME\r\n"
#define EHLO_X "250-backend.example\r\n" \
	"250-XCLIENT NAME ADDR PORT PROTO HELO DESTADDR DESTPORT LOGIN\r\n" \
	"250-XFORWARD NAME ADDR PROTO HELO SOURCE\r\n250 8BITMIME\r\n"
#define EHLO_XC5 "250-backend.example\r\n" \
	"250 XCLIENT NAME ADDR PORT PROTO HELO\r\n"
#define EHLO_XC5P "250-backend.example\r\n250-PIPELINING\r\n" \
	"250 XCLIENT NAME ADDR PORT PROTO HELO\r\n"
#define XC5_PEER4 "XCLIENT NAME=client.example ADDR=192.0.2.1 PORT=40000" \
	" PROTO=ESMTP HELO=client.example\r\n"
#define EHLO_XTLS "250-backend.example\r\n250-STARTTLS\r\n" \
	"250-XCLIENT NAME ADDR PORT PROTO HELO DESTADDR DESTPORT\r\n" \
	"250 8BITMIME\r\n"
#define EHLO_XF "250-backend.example\r\n" \
	"250-XFORWARD NAME ADDR PORT PROTO HELO SOURCE IDENT\r\n" \
	"250 ENHANCEDSTATUSCODES\r\n"
#define OK_MAIL "250 2.1.0 Ok\r\n"
#define OK_RCPT "250 2.1.5 Ok\r\n"
#define GO_DATA "354 End data with <CR><LF>.<CR><LF>\r\n"
#define EV_MAIL "{reply MAIL 250 2.1.0 Ok}"
#define EV_RCPT "{reply RCPT 250 2.1.5 Ok}"
#define EV_DATA "{reply DATA 354 - End data with <CR><LF>.<CR><LF>}"
#define L50 "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeee"
#define L250 L50 L50 L50 L50 L50

/* Steps that bring a plain session to TX with one recipient. */
#define TO_TX \
	S(G, E), S(EHLO_PLAIN, "{ready}"), \
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"), S(OK_MAIL, EV_MAIL), \
	ACT(A_RCPT, "c@d", 0, "RCPT TO:<c@d>\r\n"), S(OK_RCPT, EV_RCPT)

static const struct smtp_client_peer peer4 = {
	"192.0.2.1", 40000, "client.example", "client.example", 1,
	"198.51.100.25", 25
};
static const struct smtp_client_peer peer_b = {
	"192.0.2.77", 41000, "other.example", "other.example", 1,
	"198.51.100.25", 25
};
static const struct smtp_client_peer peer6 = {
	"2001:db8::1", 0, NULL, "bad helo+x=y", 0, NULL, 0
};
static const struct smtp_client_peer peer_long = {
	"192.0.2.1", 40000, L250, L250, 1, NULL, 0
};
static const struct smtp_client_peer peer_huge = {
	"192.0.2.1", 40000,
	L250 L50,			/* 300 octets: unknown */
	"++++++++++" "++++++++++" "++++++++++" "++++++++++" "++++++++++"
	"++++++++++" "++++++++++" "++++++++++" "++++++++++",  /* 90 -> 270 */
	1, NULL, 0
};

static const struct script scripts[] = {
{ "happy path", 0, 0, 0, NULL, 0, "CLOSED", {
	S(G, E),
	S(EHLO_PLAIN, "{ready}"),
	ACT(A_MAIL, "alice@a.example", 0, "MAIL FROM:<alice@a.example>\r\n"),
	S(OK_MAIL, EV_MAIL),
	ACT(A_RCPT, "bob@b.example", 0, "RCPT TO:<bob@b.example>\r\n"),
	S(OK_RCPT, EV_RCPT),
	ACT(A_DATA, NULL, 0, "DATA\r\n"),
	S(GO_DATA, EV_DATA),
	ACT(A_WRITE, "Subject: hi\r\n\r\n..dot\r\n", 0,
	    "Subject: hi\r\n\r\n..dot\r\n"),
	ACT(A_END, NULL, 0, ".\r\n"),
	S("250 2.0.0 Ok: queued as 4A1B2\r\n",
	    "{reply DATA_END 250 2.0.0 Ok: queued as 4A1B2}"),
	ACT(A_QUIT, NULL, 0, "QUIT\r\n"),
	S("221 2.0.0 Bye\r\n", "{reply QUIT 221 2.0.0 Bye}"),
	ACT(A_EOF, NULL, 0, ""),
} },
{ "two transactions, null sender", 0, 0, 0, NULL, 0, "TX", {
	TO_TX,
	ACT(A_DATA, NULL, 0, "DATA\r\n"), S(GO_DATA, EV_DATA),
	ACT(A_WRITE, "x\r\n", 0, "x\r\n"), ACT(A_END, NULL, 0, ".\r\n"),
	S("250 2.0.0 Ok\r\n", "{reply DATA_END 250 2.0.0 Ok}"),
	ACT(A_MAIL, "", 0, "MAIL FROM:<>\r\n"), S(OK_MAIL, EV_MAIL),
} },
{ "multi-line greeting", 0, 0, 0, NULL, 0, "READY", {
	S("220-backend.example ESMTP\r\n220-second line\r\n220 third\r\n", E),
	S(EHLO_PLAIN, "{ready}"),
} },
{ "greeting 554", 0, 0, 0, NULL, 0, "FAILED", {
	S("554 5.7.1 No SMTP service here\r\n",
	    "{error backend refused the session|554 5.7.1 No SMTP service here}"),
	ACT(A_MAIL, "a@b", -1, ""),
	ACT(A_EOF, NULL, 0, ""),
	ACT(A_TIMEOUT, NULL, 0, ""),
} },
{ "greeting 421 multi-line", 0, 0, 0, NULL, 0, "FAILED", {
	S("421-backend.example busy\r\n421 try again later\r\n",
	    "{error backend closing the session (421)|"
	    "421 - backend.example busy\ntry again later}"),
} },
{ "greeting 250 is not a greeting", 0, 0, 0, NULL, 0, "FAILED", {
	S("250 hello\r\n", "{error backend refused the session|250 - hello}"),
} },
{ "EHLO 5xx falls back to HELO", 0, 0, 0, NULL, 0, "MAIL", {
	S(G, E),
	S("502 5.5.1 Error: command not implemented\r\n",
	    "HELO " HELO_NAME "\r\n"),
	S("250 backend.example\r\n", "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
} },
{ "EHLO and HELO refused", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E),
	S("500 5.5.2 what\r\n", "HELO " HELO_NAME "\r\n"),
	S("501 5.5.2 go away\r\n",
	    "{error EHLO and HELO refused|501 5.5.2 go away}"),
} },
{ "EHLO 4xx", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E),
	S("451 4.3.0 try later\r\n", "{error EHLO refused|451 4.3.0 try later}"),
} },
{ "EHLO 421", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E),
	S("421 4.7.0 bye\r\n",
	    "{error backend closing the session (421)|421 4.7.0 bye}"),
} },
{ "421 at MAIL", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
	S("421 4.3.2 Shutting down\r\n",
	    "{error backend closing the session (421)|421 4.3.2 Shutting down}"),
	ACT(A_RSET, NULL, -1, ""),
	ACT(A_QUIT, NULL, -1, ""),
} },
{ "421 at RCPT", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"), S(OK_MAIL, EV_MAIL),
	ACT(A_RCPT, "c@d", 0, "RCPT TO:<c@d>\r\n"),
	S("421 4.4.2 timeout\r\n",
	    "{error backend closing the session (421)|421 4.4.2 timeout}"),
} },
{ "421 at DATA", 0, 0, 0, NULL, 0, "FAILED", {
	TO_TX,
	ACT(A_DATA, NULL, 0, "DATA\r\n"),
	S("421 4.3.0 no\r\n",
	    "{error backend closing the session (421)|421 4.3.0 no}"),
} },
{ "421 during content", 0, 0, 0, NULL, 0, "FAILED", {
	TO_TX,
	ACT(A_DATA, NULL, 0, "DATA\r\n"), S(GO_DATA, EV_DATA),
	ACT(A_WRITE, "x\r\n", 0, "x\r\n"),
	S("421 4.4.2 Error: timeout exceeded\r\n",
	    "{error backend closing the session (421)|"
	    "421 4.4.2 Error: timeout exceeded}"),
	ACT(A_WRITE, "y\r\n", -1, ""),
	ACT(A_END, NULL, -1, ""),
} },
{ "421 at end of data", 0, 0, 0, NULL, 0, "FAILED", {
	TO_TX,
	ACT(A_DATA, NULL, 0, "DATA\r\n"), S(GO_DATA, EV_DATA),
	ACT(A_WRITE, "x\r\n", 0, "x\r\n"), ACT(A_END, NULL, 0, ".\r\n"),
	S("421 4.3.0 crash\r\n",
	    "{error backend closing the session (421)|421 4.3.0 crash}"),
} },
{ "421 at RSET", 0, 0, 0, NULL, 0, "FAILED", {
	TO_TX,
	ACT(A_RSET, NULL, 0, "RSET\r\n"),
	S("421 4.3.0 x\r\n",
	    "{error backend closing the session (421)|421 4.3.0 x}"),
} },
{ "421 when idle", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	S("421 4.3.2 Service shutting down\r\n",
	    "{error backend closing the session (421)|"
	    "421 4.3.2 Service shutting down}"),
} },
{ "RCPT 550 relayed with text", 0, 0, 0, NULL, 0, "READY", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"), S(OK_MAIL, EV_MAIL),
	ACT(A_RCPT, "c@d", 0, "RCPT TO:<c@d>\r\n"),
	S("550-5.1.1 <c@d>: Recipient address rejected:\r\n"
	  "550 5.1.1 User unknown in virtual mailbox table\r\n",
	  "{reply RCPT 550 5.1.1 <c@d>: Recipient address rejected:\n"
	  "User unknown in virtual mailbox table}"),
	ACT(A_DATA, NULL, -1, ""),
	ACT(A_RSET, NULL, 0, "RSET\r\n"),
	S("250 2.0.0 Ok\r\n", "{reply RSET 250 2.0.0 Ok}"),
} },
{ "RCPT 450 then 250", 0, 0, 0, NULL, 0, "DATA", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"), S(OK_MAIL, EV_MAIL),
	ACT(A_RCPT, "c@d", 0, "RCPT TO:<c@d>\r\n"),
	S("450 4.2.0 <c@d>: Recipient address rejected: Greylisted\r\n",
	  "{reply RCPT 450 4.2.0 <c@d>: Recipient address rejected: "
	  "Greylisted}"),
	ACT(A_RCPT, "e@f", 0, "RCPT TO:<e@f>\r\n"),
	S(OK_RCPT, EV_RCPT),
	ACT(A_DATA, NULL, 0, "DATA\r\n"),
} },
{ "MAIL 553 leaves no transaction", 0, 0, 0, NULL, 0, "MAIL", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
	S("553 5.7.1 <a@b>: Sender address rejected\r\n",
	  "{reply MAIL 553 5.7.1 <a@b>: Sender address rejected}"),
	ACT(A_RCPT, "c@d", -1, ""),
	ACT(A_MAIL, "x@y", 0, "MAIL FROM:<x@y>\r\n"),
} },
{ "DATA 554", 0, 0, 0, NULL, 0, "READY", {
	TO_TX,
	ACT(A_DATA, NULL, 0, "DATA\r\n"),
	S("554 5.5.1 Error: no valid recipients\r\n",
	  "{reply DATA 554 5.5.1 Error: no valid recipients}"),
	ACT(A_WRITE, "x\r\n", -1, ""),
	ACT(A_RSET, NULL, 0, "RSET\r\n"),
	S("250 2.0.0 Ok\r\n", "{reply RSET 250 2.0.0 Ok}"),
} },
{ "end of data 451", 0, 0, 0, NULL, 0, "READY", {
	TO_TX,
	ACT(A_DATA, NULL, 0, "DATA\r\n"), S(GO_DATA, EV_DATA),
	ACT(A_WRITE, "a", 0, "a"), ACT(A_WRITE, "b", 0, "b"),
	ACT(A_END, NULL, 0, "\r\n.\r\n"),
	S("451 4.3.0 Error: queue file write error\r\n",
	  "{reply DATA_END 451 4.3.0 Error: queue file write error}"),
} },
{ "RSET refused", 0, 0, 0, NULL, 0, "FAILED", {
	TO_TX,
	ACT(A_RSET, NULL, 0, "RSET\r\n"),
	S("500 5.5.1 what\r\n", "{error RSET refused|500 5.5.1 what}"),
} },
{ "QUIT answered with anything", 0, 0, 0, NULL, 0, "CLOSED", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	ACT(A_QUIT, NULL, 0, "QUIT\r\n"),
	S("421 4.3.0 whatever\r\n", "{reply QUIT 421 4.3.0 whatever}"),
	ACT(A_EOF, NULL, 0, ""),
} },
{ "STARTTLS opportunistic, offered", SMTP_CLIENT_TLS_OPPORTUNISTIC, 0, 0,
  NULL, 0, "READY", {
	S(G, E),
	S(EHLO_TLS, "STARTTLS\r\n"),
	S("220 2.0.0 Ready to start TLS\r\n", "{starttls}"),
	ACT(A_TLS, NULL, 0, E),
	S(EHLO_PLAIN, "{ready}"),
	ACT(A_TLS, NULL, -1, ""),
} },
{ "STARTTLS opportunistic, not offered", SMTP_CLIENT_TLS_OPPORTUNISTIC, 0, 0,
  NULL, 0, "READY", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
} },
{ "STARTTLS opportunistic, refused", SMTP_CLIENT_TLS_OPPORTUNISTIC, 0, 0,
  NULL, 0, "MAIL", {
	S(G, E), S(EHLO_TLS, "STARTTLS\r\n"),
	S("454 4.7.0 TLS not available due to local problem\r\n", "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
} },
{ "STARTTLS required, not offered", SMTP_CLIENT_TLS_REQUIRED, 0, 0,
  NULL, 0, "FAILED", {
	S(G, E),
	S(EHLO_PLAIN, "{error STARTTLS required but not offered}"),
} },
{ "STARTTLS required, refused", SMTP_CLIENT_TLS_REQUIRED, 0, 0,
  NULL, 0, "FAILED", {
	S(G, E), S(EHLO_TLS, "STARTTLS\r\n"),
	S("454 4.7.0 TLS not available due to local problem\r\n",
	  "{error STARTTLS refused|"
	  "454 4.7.0 TLS not available due to local problem}"),
} },
{ "STARTTLS required, HELO fallback", SMTP_CLIENT_TLS_REQUIRED, 0, 0,
  NULL, 0, "FAILED", {
	S(G, E), S("502 5.5.2 no\r\n", "HELO " HELO_NAME "\r\n"),
	S("250 ok\r\n", "{error STARTTLS required but not offered}"),
} },
{ "STARTTLS required, offered", SMTP_CLIENT_TLS_REQUIRED, 0, 0,
  NULL, 0, "READY", {
	S(G, E), S(EHLO_TLS, "STARTTLS\r\n"),
	S("220 2.0.0 Ready to start TLS\r\n", "{starttls}"),
	ACT(A_TLS, NULL, 0, E),
	S(EHLO_TLS, "{ready}"),		/* STARTTLS offered again: ignored */
} },
{ "STARTTLS reply followed by injected plaintext", SMTP_CLIENT_TLS_REQUIRED,
  0, 0, NULL, 1, "FAILED", {
	S(G, E), S(EHLO_TLS, "STARTTLS\r\n"),
	S("220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 x\r\n",
	  "{error plaintext after STARTTLS reply|"
	  "220 2.0.0 Ready to start TLS}"),
	ACT(A_TLS, NULL, -1, ""),
} },
{ "plaintext fed while waiting for TLS", SMTP_CLIENT_TLS_OPPORTUNISTIC, 0, 0,
  NULL, 0, "FAILED", {
	S(G, E), S(EHLO_TLS, "STARTTLS\r\n"),
	S("220 2.0.0 Ready to start TLS\r\n", "{starttls}"),
	S("250 injected\r\n", "{error plaintext after STARTTLS reply}"),
} },
{ "XCLIENT, then EHLO again", 0, SMTP_CLIENT_XCLIENT_AUTO,
  SMTP_CLIENT_XFORWARD_AUTO, &peer4, 0, "MAIL", {
	S(G, E),
	S(EHLO_X, "XCLIENT NAME=client.example ADDR=192.0.2.1 PORT=40000"
	  " PROTO=ESMTP HELO=client.example DESTADDR=198.51.100.25"
	  " DESTPORT=25\r\n"),
	S("220 backend.example ESMTP\r\n", "EHLO client.example\r\n"),
	S(EHLO_X, "{ready}"),
	/* XCLIENT done: no XFORWARD although offered */
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
} },
{ "STARTTLS before XCLIENT", SMTP_CLIENT_TLS_OPPORTUNISTIC,
  SMTP_CLIENT_XCLIENT_REQUIRED, 0, &peer4, 0, "READY", {
	S(G, E),
	S(EHLO_XTLS, "STARTTLS\r\n"),
	S("220 2.0.0 Ready to start TLS\r\n", "{starttls}"),
	ACT(A_TLS, NULL, 0, E),
	S(EHLO_X, "XCLIENT NAME=client.example ADDR=192.0.2.1 PORT=40000"
	  " PROTO=ESMTP HELO=client.example DESTADDR=198.51.100.25"
	  " DESTPORT=25\r\n"),
	S("220 backend.example ESMTP\r\n", "EHLO client.example\r\n"),
	S(EHLO_XTLS, "{ready}"),
} },
{ "XCLIENT IPv6, unknown values, xtext", 0, SMTP_CLIENT_XCLIENT_AUTO, 0,
  &peer6, 0, "READY", {
	S(G, E),
	S(EHLO_XC5, "XCLIENT NAME=[UNAVAILABLE] ADDR=IPV6:2001:db8::1"
	  " PORT=[UNAVAILABLE] PROTO=SMTP HELO=bad+20helo+2Bx+3Dy\r\n"),
	/* the peer's HELO is not a plain token: our own name */
	S("220 backend.example ESMTP\r\n", E),
	S(EHLO_XC5, "{ready}"),
} },
{ "XCLIENT split at 512 octets", 0, SMTP_CLIENT_XCLIENT_AUTO, 0,
  &peer_long, 0, "READY", {
	S(G, E),
	S(EHLO_XC5, "XCLIENT NAME=" L250 " ADDR=192.0.2.1 PORT=40000"
	  " PROTO=ESMTP\r\n"),
	S("220 backend.example ESMTP\r\n", "XCLIENT HELO=" L250 "\r\n"),
	S("220 backend.example ESMTP\r\n", "EHLO " L250 "\r\n"),
	S("250 backend.example\r\n", "{ready}"),
} },
{ "XCLIENT oversize values", 0, SMTP_CLIENT_XCLIENT_AUTO, 0,
  &peer_huge, 0, "READY", {
	S(G, E),
	S(EHLO_XC5, "XCLIENT NAME=[UNAVAILABLE] ADDR=192.0.2.1 PORT=40000"
	  " PROTO=ESMTP HELO=[UNAVAILABLE]\r\n"),
	S("220 backend.example ESMTP\r\n", E),
	S("250 backend.example\r\n", "{ready}"),
} },
{ "XCLIENT answered 250 (smtp-sink style)", 0, SMTP_CLIENT_XCLIENT_AUTO, 0,
  &peer4, 0, "READY", {
	S(G, E),
	S("250-x\r\n250 XCLIENT ADDR\r\n", "XCLIENT ADDR=192.0.2.1\r\n"),
	S("250 2.0.0 Ok\r\n", "EHLO client.example\r\n"),
	S("250 x\r\n", "{ready}"),
} },
{ "XCLIENT pipelined with its EHLO", 0, SMTP_CLIENT_XCLIENT_AUTO,
  SMTP_CLIENT_XFORWARD_AUTO, &peer4, 0, "MAIL", {
	S(G, E),
	S(EHLO_XC5P, XC5_PEER4 "EHLO client.example\r\n"),
	S("220 backend.example ESMTP\r\n", ""),
	S(EHLO_XC5P, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
} },
{ "XCLIENT pipelined, both replies in one read", 0, SMTP_CLIENT_XCLIENT_AUTO,
  0, &peer4, 0, "READY", {
	S(G, E),
	S(EHLO_XC5P, XC5_PEER4 "EHLO client.example\r\n"),
	S("220 backend.example ESMTP\r\n" EHLO_XC5P, "{ready}"),
} },
{ "XCLIENT pipelined, refused", 0, SMTP_CLIENT_XCLIENT_AUTO, 0, &peer4, 0,
  "FAILED", {
	S(G, E),
	S(EHLO_XC5P, XC5_PEER4 "EHLO client.example\r\n"),
	S("550 5.7.0 Error: insufficient authorization\r\n",
	  "{error XCLIENT refused|550 5.7.0 Error: insufficient authorization}"),
} },
{ "XCLIENT split at 512 octets, pipelined", 0, SMTP_CLIENT_XCLIENT_AUTO, 0,
  &peer_long, 0, "READY", {
	S(G, E),
	S(EHLO_XC5P, "XCLIENT NAME=" L250 " ADDR=192.0.2.1 PORT=40000"
	  " PROTO=ESMTP\r\n"),
	S("220 backend.example ESMTP\r\n", "XCLIENT HELO=" L250 "\r\n"
	  "EHLO " L250 "\r\n"),
	S("220 backend.example ESMTP\r\n", ""),
	S("250 backend.example\r\n", "{ready}"),
} },
{ "reuse: XCLIENT for the next client, EHLO pipelined", 0,
  SMTP_CLIENT_XCLIENT_AUTO, 0, &peer4, 0, "READY", {
	S(G, E),
	S(EHLO_XC5P, XC5_PEER4 "EHLO client.example\r\n"),
	S("220 backend.example ESMTP\r\n", ""),
	S(EHLO_XC5P, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"), S(OK_MAIL, EV_MAIL),
	ACT(A_RCPT, "c@d", 0, "RCPT TO:<c@d>\r\n"), S(OK_RCPT, EV_RCPT),
	ACT(A_DATA, NULL, 0, "DATA\r\n"), S(GO_DATA, EV_DATA),
	ACT(A_WRITE, "x\r\n", 0, "x\r\n"), ACT(A_END, NULL, 0, ".\r\n"),
	S("250 2.0.0 Ok\r\n", "{reply DATA_END 250 2.0.0 Ok}"),
	ACT(A_REUSE, "b", 0, "XCLIENT NAME=other.example ADDR=192.0.2.77"
	    " PORT=41000 PROTO=ESMTP HELO=other.example\r\n"
	    "EHLO other.example\r\n"),
	S("220 backend.example ESMTP\r\n", ""),
	S(EHLO_XC5P, "{ready}"),
} },
{ "reuse: RSET proves a connection without XCLIENT", 0,
  SMTP_CLIENT_XCLIENT_AUTO, SMTP_CLIENT_XFORWARD_AUTO, &peer4, 0, "MAIL", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	ACT(A_REUSE, "b", 0, "RSET\r\n"),
	ACT(A_REUSE, "b", -1, ""),	/* not READY while probing */
	ACT(A_MAIL, "a@b", -1, ""),
	S("250 2.0.0 Ok\r\n", "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
} },
{ "reuse: probe refused", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	ACT(A_REUSE, NULL, 0, "RSET\r\n"),
	S("554 no\r\n", "{error RSET refused|554 - no}"),
} },
{ "reuse: connection closed while probing", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	ACT(A_REUSE, NULL, 0, "RSET\r\n"),
	ACT(A_EOF, NULL, 0, "{error connection closed by backend}"),
} },
{ "reuse: not during a transaction", 0, 0, 0, NULL, 0, "TX", {
	TO_TX,
	ACT(A_REUSE, "b", -1, ""),
} },
{ "reuse: refused when XCLIENT can no longer replace the identity", 0,
  SMTP_CLIENT_XCLIENT_AUTO, 0, &peer4, 0, "READY", {
	S(G, E),
	S(EHLO_XC5, XC5_PEER4),
	S("220 backend.example ESMTP\r\n", "EHLO client.example\r\n"),
	S(EHLO_PLAIN, "{ready}"),	/* XCLIENT not offered any more */
	ACT(A_REUSE, "b", -1, ""),
} },
{ "reuse: refused after XCLIENT without a new peer", 0,
  SMTP_CLIENT_XCLIENT_AUTO, 0, &peer4, 0, "READY", {
	S(G, E),
	S(EHLO_XC5, XC5_PEER4),
	S("220 backend.example ESMTP\r\n", "EHLO client.example\r\n"),
	S(EHLO_XC5, "{ready}"),
	ACT(A_REUSE, NULL, -1, ""),
	ACT(A_REUSE, "6", 0, "XCLIENT NAME=[UNAVAILABLE] ADDR=IPV6:2001:db8::1"
	    " PORT=[UNAVAILABLE] PROTO=SMTP HELO=bad+20helo+2Bx+3Dy\r\n"),
	S("220 backend.example ESMTP\r\n", E),
	S(EHLO_XC5, "{ready}"),
} },
{ "XCLIENT refused", 0, SMTP_CLIENT_XCLIENT_AUTO, 0, &peer4, 0, "FAILED", {
	S(G, E),
	S(EHLO_XC5, "XCLIENT NAME=client.example ADDR=192.0.2.1 PORT=40000"
	  " PROTO=ESMTP HELO=client.example\r\n"),
	S("550 5.7.0 Error: insufficient authorization\r\n",
	  "{error XCLIENT refused|550 5.7.0 Error: insufficient authorization}"),
} },
{ "XCLIENT required, not offered", 0, SMTP_CLIENT_XCLIENT_REQUIRED, 0,
  &peer4, 0, "FAILED", {
	S(G, E),
	S(EHLO_PLAIN, "{error XCLIENT required but not offered}"),
} },
{ "XCLIENT required, ADDR not listed", 0, SMTP_CLIENT_XCLIENT_REQUIRED, 0,
  &peer4, 0, "FAILED", {
	S(G, E),
	S("250-x\r\n250 XCLIENT NAME HELO\r\n",
	  "{error XCLIENT required but not offered}"),
} },
{ "XCLIENT required, no peer", 0, SMTP_CLIENT_XCLIENT_REQUIRED, 0,
  NULL, 0, "FAILED", {
	S(G, E),
	S(EHLO_X, "{error XCLIENT required but no peer set}"),
} },
{ "XCLIENT and XFORWARD offered, no peer", 0, SMTP_CLIENT_XCLIENT_AUTO,
  SMTP_CLIENT_XFORWARD_AUTO, NULL, 0, "MAIL", {
	S(G, E), S(EHLO_X, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
} },
{ "XCLIENT never: XFORWARD before each MAIL", 0, SMTP_CLIENT_XCLIENT_NEVER,
  SMTP_CLIENT_XFORWARD_AUTO, &peer4, 0, "XFORWARD", {
	S(G, E), S(EHLO_X, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "XFORWARD NAME=client.example ADDR=192.0.2.1"
	    " PROTO=ESMTP HELO=client.example SOURCE=REMOTE\r\n"),
	S("250 2.0.0 Ok\r\n", "MAIL FROM:<a@b>\r\n"),
	S(OK_MAIL, EV_MAIL),
	ACT(A_RCPT, "c@d", 0, "RCPT TO:<c@d>\r\n"), S(OK_RCPT, EV_RCPT),
	ACT(A_DATA, NULL, 0, "DATA\r\n"), S(GO_DATA, EV_DATA),
	ACT(A_END, NULL, 0, ".\r\n"),
	S("250 2.0.0 Ok\r\n", "{reply DATA_END 250 2.0.0 Ok}"),
	ACT(A_MAIL, "x@y", 0, "XFORWARD NAME=client.example ADDR=192.0.2.1"
	    " PROTO=ESMTP HELO=client.example SOURCE=REMOTE\r\n"),
} },
{ "XFORWARD split at 512 octets", 0, 0, SMTP_CLIENT_XFORWARD_AUTO, &peer_long, 0,
  "MAIL", {
	S(G, E), S(EHLO_XF, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "XFORWARD NAME=" L250 " ADDR=192.0.2.1"
	    " PORT=40000 PROTO=ESMTP\r\n"),
	S("250 2.0.0 Ok\r\n", "XFORWARD HELO=" L250 " SOURCE=REMOTE\r\n"),
	S("250 2.0.0 Ok\r\n", "MAIL FROM:<a@b>\r\n"),
} },
{ "XFORWARD refused", 0, 0, SMTP_CLIENT_XFORWARD_AUTO, &peer6, 0, "XFORWARD", {
	S(G, E), S(EHLO_XF, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "XFORWARD NAME=[UNAVAILABLE]"
	    " ADDR=IPV6:2001:db8::1 PORT=[UNAVAILABLE] PROTO=SMTP"
	    " HELO=bad+20helo+2Bx+3Dy SOURCE=REMOTE\r\n"),
	S("550 5.7.0 Error: insufficient authorization\r\n",
	  "{reply XFORWARD 550 5.7.0 Error: insufficient authorization}"),
	ACT(A_RCPT, "c@d", -1, ""),
	ACT(A_MAIL, "a@b", 0, "XFORWARD NAME=[UNAVAILABLE]"
	    " ADDR=IPV6:2001:db8::1 PORT=[UNAVAILABLE] PROTO=SMTP"
	    " HELO=bad+20helo+2Bx+3Dy SOURCE=REMOTE\r\n"),
} },
{ "XFORWARD never", 0, 0, SMTP_CLIENT_XFORWARD_NEVER, &peer4, 0, "MAIL", {
	S(G, E), S(EHLO_XF, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
} },
{ "malformed code at greeting", 0, 0, 0, NULL, 0, "FAILED", {
	S("2x0 hello\r\n",
	  "{error malformed reply from backend: malformed reply code}"),
	S("220 too late\r\n", ""),
} },
{ "mixed codes in EHLO reply", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E),
	S("250-backend.example\r\n251 PIPELINING\r\n",
	  "{error malformed reply from backend: "
	  "inconsistent codes in multi-line reply}"),
} },
{ "NUL in reply", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E),
	{ "250 a\0b\r\n", 9, A_NONE, NULL, 0,
	  "{error malformed reply from backend: NUL in reply}" },
} },
{ "unsolicited reply when idle", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	S("250 surprise\r\n", "{error unexpected reply from backend|"
	  "250 - surprise}"),
} },
{ "unsolicited reply in a transaction", 0, 0, 0, NULL, 0, "FAILED", {
	TO_TX,
	S("550 5.0.0 extra\r\n", "{error unexpected reply from backend|"
	  "550 5.0.0 extra}"),
} },
{ "354 to MAIL", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
	S("354 go ahead\r\n",
	  "{error unexpected reply to MAIL|354 - go ahead}"),
} },
{ "250 to DATA", 0, 0, 0, NULL, 0, "FAILED", {
	TO_TX,
	ACT(A_DATA, NULL, 0, "DATA\r\n"),
	S("250 2.0.0 ok\r\n", "{error unexpected reply to DATA|250 2.0.0 ok}"),
} },
{ "timeout waiting for greeting", 0, 0, 0, NULL, 0, "FAILED", {
	ACT(A_TIMEOUT, NULL, 0, "{error timeout waiting for greeting}"),
	ACT(A_TIMEOUT, NULL, 0, ""),
} },
{ "timeout waiting for MAIL reply", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E), S(EHLO_PLAIN, "{ready}"),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
	ACT(A_TIMEOUT, NULL, 0, "{error timeout waiting for reply}"),
} },
{ "timeout during content", 0, 0, 0, NULL, 0, "FAILED", {
	TO_TX,
	ACT(A_DATA, NULL, 0, "DATA\r\n"), S(GO_DATA, EV_DATA),
	ACT(A_TIMEOUT, NULL, 0, "{error timeout sending message content}"),
} },
{ "connection closed mid-reply", 0, 0, 0, NULL, 0, "FAILED", {
	S(G, E),
	S("250-backend.example\r\n250-PIPE", ""),
	ACT(A_EOF, NULL, 0, "{error connection closed by backend}"),
} },
{ "calls in the wrong state", 0, 0, 0, NULL, 0, "DATA_BODY", {
	ACT(A_MAIL, "a@b", -1, ""), ACT(A_RSET, NULL, -1, ""),
	S(G, E),
	ACT(A_MAIL, "a@b", -1, ""), ACT(A_QUIT, NULL, -1, ""),
	ACT(A_TLS, NULL, -1, ""),
	S(EHLO_PLAIN, "{ready}"),
	ACT(A_RCPT, "c@d", -1, ""), ACT(A_DATA, NULL, -1, ""),
	ACT(A_WRITE, "x", -1, ""), ACT(A_END, NULL, -1, ""),
	ACT(A_MAIL, "a@b", 0, "MAIL FROM:<a@b>\r\n"),
	ACT(A_MAIL, "a@b", -1, ""), ACT(A_RSET, NULL, -1, ""),
	ACT(A_QUIT, NULL, -1, ""), ACT(A_RCPT, "c@d", -1, ""),
	S(OK_MAIL, EV_MAIL),
	ACT(A_WRITE, "x", -1, ""), ACT(A_DATA, NULL, -1, ""),
	ACT(A_RCPT, "c@d", 0, "RCPT TO:<c@d>\r\n"), S(OK_RCPT, EV_RCPT),
	ACT(A_DATA, NULL, 0, "DATA\r\n"), ACT(A_DATA, NULL, -1, ""),
	S(GO_DATA, EV_DATA),
	ACT(A_RSET, NULL, -1, ""), ACT(A_QUIT, NULL, -1, ""),
	ACT(A_MAIL, "a@b", -1, ""), ACT(A_RCPT, "c@d", -1, ""),
} },
};

/* Runs one owner action; returns its return value. */
static int
run_act(struct owner *o, const struct step *st)
{
	switch (st->act) {
	case A_MAIL:	return smtp_client_mail(o->c, st->arg, NULL);
	case A_RCPT:	return smtp_client_rcpt(o->c, st->arg, NULL);
	case A_DATA:	return smtp_client_data(o->c);
	case A_WRITE:	return smtp_client_data_write(o->c, st->arg,
			    strlen(st->arg));
	case A_END:	return smtp_client_data_end(o->c);
	case A_RSET:	return smtp_client_rset(o->c);
	case A_QUIT:	return smtp_client_quit(o->c);
	case A_TLS:	return smtp_client_tls_started(o->c);
	case A_EOF:	smtp_client_eof(o->c); return 0;
	case A_TIMEOUT:	smtp_client_timeout(o->c); return 0;
	case A_REUSE:	return smtp_client_reuse(o->c, st->arg == NULL ? NULL :
			    strcmp(st->arg, "6") == 0 ? &peer6 : &peer_b);
	case A_NONE:	break;
	}
	return 0;
}

/* Runs a script with one chunk size; returns 1 if every step matched. */
static int
run_script(const struct script *sc, size_t chunk)
{
	struct owner *o = malloc(sizeof(*o));
	const struct step *st;
	int i, rc, ok = 1;

	if (!CHECK(owner_client(o, sc->tls, sc->xclient, sc->xforward,
	    sc->peer) != NULL)) {
		free(o);
		return 0;
	}
	for (i = 0; i < STEPS_MAX; i++) {
		st = &sc->steps[i];
		if (st->feed == NULL && st->act == A_NONE && st->expect == NULL)
			break;
		o->tr_len = 0;
		o->tr[0] = '\0';
		rc = 0;
		if (st->feed != NULL)
			feed_chunks(o, st->feed, st->feed_len ? st->feed_len :
			    strlen(st->feed), chunk);
		else
			rc = run_act(o, st);
		if (rc != st->rc || strcmp(o->tr, st->expect) != 0) {
			fprintf(stderr, "script \"%s\" chunk %zu step %d:\n"
			    "  got rc %d \"%s\"\n  want rc %d \"%s\"\n",
			    sc->name, chunk, i, rc, o->tr, st->rc, st->expect);
			ok = 0;
		}
	}
	if (strcmp(smtp_client_state_name(smtp_client_state(o->c)),
	    sc->final_state) != 0) {
		fprintf(stderr, "script \"%s\" chunk %zu: state %s, want %s\n",
		    sc->name, chunk,
		    smtp_client_state_name(smtp_client_state(o->c)),
		    sc->final_state);
		ok = 0;
	}
	smtp_client_free(o->c);
	free(o);
	return ok;
}

/* Every script, whole and in small chunks. */
static void
test_scripts(void)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 7 };
	size_t i, k;

	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			if (scripts[i].whole_only && chunks[k] != 0)
				continue;
			CHECK(run_script(&scripts[i], chunks[k]));
		}
}

/*
 * Focused tests
 */

/* Brings a fresh client to READY with the given EHLO reply. */
static struct smtp_client *
ready_client(struct owner *o, const char *ehlo)
{
	owner_client(o, 0, 0, 0, NULL);
	smtp_client_feed(o->c, G, strlen(G));
	smtp_client_feed(o->c, ehlo, strlen(ehlo));
	CHECK_INT(smtp_client_state(o->c), SMTP_CLIENT_READY);
	o->tr_len = 0;
	o->tr[0] = '\0';
	return o->c;
}

/* Clears the transcript. */
static void
tr_reset(struct owner *o)
{
	o->tr_len = 0;
	o->tr[0] = '\0';
}

/* Parameters reach the backend only when it announced them. */
static void
test_params(void)
{
	struct owner *o = malloc(sizeof(*o));
	struct smtp_client_mail_params mp = { 1000, SMTP_CLIENT_BODY_8BITMIME,
	    1, SMTP_CLIENT_RET_HDRS, "abc+2Bd" };
	struct smtp_client_mail_params mp7 = { 0, SMTP_CLIENT_BODY_7BIT, 0,
	    SMTP_CLIENT_RET_FULL, NULL };
	struct smtp_client_rcpt_params rp = { SMTP_CLIENT_NOTIFY_SUCCESS |
	    SMTP_CLIENT_NOTIFY_DELAY, "rfc822;c+40d" };
	struct smtp_client_rcpt_params never = { SMTP_CLIENT_NOTIFY_NEVER |
	    SMTP_CLIENT_NOTIFY_FAILURE, NULL };
	struct smtp_client_rcpt_params all = { SMTP_CLIENT_NOTIFY_FAILURE |
	    SMTP_CLIENT_NOTIFY_SUCCESS | SMTP_CLIENT_NOTIFY_DELAY, NULL };
	struct smtp_client_mail_params bad_envid = { 0, 0, 0, 0, "a b" };
	struct smtp_client_mail_params bad_envid2 = { 0, 0, 0, 0, "a=b" };
	struct smtp_client_rcpt_params bad_orcpt = { 0, "rfc822;a\r\nb" };
	struct smtp_client_rcpt_params bad_notify = { 1u << 4, NULL };

	/* everything announced */
	ready_client(o, "250-x\r\n250-SIZE 5000\r\n250-8BITMIME\r\n"
	    "250-SMTPUTF8\r\n250 DSN\r\n");
	CHECK_INT(smtp_client_mail(o->c, "a@b", &mp), 0);
	CHECK_STR(o->tr, "MAIL FROM:<a@b> SIZE=1000 BODY=8BITMIME SMTPUTF8"
	    " RET=HDRS ENVID=abc+2Bd\r\n");
	tr_reset(o);
	smtp_client_feed(o->c, OK_MAIL, strlen(OK_MAIL));
	tr_reset(o);
	CHECK_INT(smtp_client_rcpt(o->c, "c@d", &rp), 0);
	CHECK_STR(o->tr, "RCPT TO:<c@d> NOTIFY=SUCCESS,DELAY"
	    " ORCPT=rfc822;c+40d\r\n");
	smtp_client_feed(o->c, OK_RCPT, strlen(OK_RCPT));
	tr_reset(o);
	CHECK_INT(smtp_client_rcpt(o->c, "e@f", &never), 0);
	CHECK_STR(o->tr, "RCPT TO:<e@f> NOTIFY=NEVER\r\n");
	smtp_client_feed(o->c, OK_RCPT, strlen(OK_RCPT));
	tr_reset(o);
	CHECK_INT(smtp_client_rcpt(o->c, "g@h", &all), 0);
	CHECK_STR(o->tr, "RCPT TO:<g@h> NOTIFY=SUCCESS,FAILURE,DELAY\r\n");
	smtp_client_feed(o->c, OK_RCPT, strlen(OK_RCPT));
	tr_reset(o);
	/* invalid values: refused, nothing written */
	CHECK_INT(smtp_client_rcpt(o->c, "x@y", &bad_orcpt), -1);
	CHECK_INT(smtp_client_rcpt(o->c, "x@y", &bad_notify), -1);
	CHECK_INT(smtp_client_rcpt(o->c, "x\r\nQUIT", NULL), -1);
	CHECK_INT(smtp_client_rcpt(o->c, "", NULL), -1);
	CHECK_STR(o->tr, "");
	smtp_client_free(o->c);

	/* nothing announced: every parameter dropped */
	ready_client(o, "250 x\r\n");
	CHECK_INT(smtp_client_mail(o->c, "a@b", &mp7), 0);
	CHECK_STR(o->tr, "MAIL FROM:<a@b>\r\n");
	smtp_client_feed(o->c, OK_MAIL, strlen(OK_MAIL));
	tr_reset(o);
	CHECK_INT(smtp_client_rcpt(o->c, "c@d", &rp), 0);
	CHECK_STR(o->tr, "RCPT TO:<c@d>\r\n");
	smtp_client_free(o->c);

	/* SMTPUTF8 requested, not announced: local 553 5.6.7, nothing sent */
	ready_client(o, "250-x\r\n250-SIZE\r\n250-8BITMIME\r\n250 DSN\r\n");
	CHECK_INT(smtp_client_mail(o->c, "a@b", &mp), 0);
	CHECK_STR(o->tr, "{reply MAIL 553 5.6.7 SMTPUTF8 is required but not"
	    " supported by the next hop (local)}");
	CHECK_INT(smtp_client_state(o->c), SMTP_CLIENT_READY);
	tr_reset(o);
	/* SIZE without a number is still SIZE */
	CHECK_INT(smtp_client_mail(o->c, "a@b", &mp7), 0);
	CHECK_STR(o->tr, "MAIL FROM:<a@b> BODY=7BIT RET=FULL\r\n");
	smtp_client_free(o->c);

	/* bad sender or ENVID: refused */
	ready_client(o, "250-x\r\n250 DSN\r\n");
	CHECK_INT(smtp_client_mail(o->c, "a@b", &bad_envid), -1);
	CHECK_INT(smtp_client_mail(o->c, "a@b", &bad_envid2), -1);
	CHECK_INT(smtp_client_mail(o->c, "a\rb", NULL), -1);
	CHECK_INT(smtp_client_mail(o->c, NULL, NULL), -1);
	CHECK_STR(o->tr, "");
	CHECK_INT(smtp_client_state(o->c), SMTP_CLIENT_READY);
	smtp_client_free(o->c);
	free(o);
}

/* Capabilities from a varied EHLO reply, split at every boundary. */
static void
test_capabilities(void)
{
	static const char ehlo[] = "250-backend.example says hi\r\n"
	    "250-pipelining\r\n250-Size 52428800\r\n250-AUTH PLAIN LOGIN\r\n"
	    "250-XCLIENT name addr proto helo login\r\n"
	    "250-XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-CHUNKING\r\n"
	    "250-SMTPUTF8\r\n250-DSN\r\n250 STARTTLSX\r\n";
	struct owner *o = malloc(sizeof(*o));
	size_t cut, len = strlen(ehlo);
	unsigned want = SMTP_CLIENT_CAP_PIPELINING | SMTP_CLIENT_CAP_SIZE |
	    SMTP_CLIENT_CAP_XCLIENT | SMTP_CLIENT_CAP_XFORWARD |
	    SMTP_CLIENT_CAP_ENHANCEDSTATUSCODES | SMTP_CLIENT_CAP_8BITMIME |
	    SMTP_CLIENT_CAP_CHUNKING | SMTP_CLIENT_CAP_SMTPUTF8 |
	    SMTP_CLIENT_CAP_DSN;
	int bad = 0;

	for (cut = 0; cut < len; cut++) {
		owner_client(o, 0, 0, 0, NULL);
		smtp_client_feed(o->c, G, strlen(G));
		smtp_client_feed(o->c, ehlo, cut);
		smtp_client_feed(o->c, ehlo + cut, len - cut);
		if (smtp_client_caps(o->c) != want ||
		    smtp_client_size_max(o->c) != 52428800 ||
		    smtp_client_xclient_attrs(o->c) != (SMTP_CLIENT_ATTR_NAME |
		    SMTP_CLIENT_ATTR_ADDR | SMTP_CLIENT_ATTR_PROTO |
		    SMTP_CLIENT_ATTR_HELO) ||
		    smtp_client_xforward_attrs(o->c) != (SMTP_CLIENT_ATTR_NAME |
		    SMTP_CLIENT_ATTR_ADDR | SMTP_CLIENT_ATTR_PROTO |
		    SMTP_CLIENT_ATTR_HELO | SMTP_CLIENT_ATTR_SOURCE |
		    SMTP_CLIENT_ATTR_PORT) || !smtp_client_esmtp(o->c) ||
		    strcmp(o->tr, "EHLO " HELO_NAME "\r\n{ready}") != 0) {
			fprintf(stderr, "caps cut %zu: %#x size %" PRIu64
			    " tr %s\n", cut, smtp_client_caps(o->c),
			    smtp_client_size_max(o->c), o->tr);
			bad++;
		}
		smtp_client_free(o->c);
	}
	CHECK_INT(bad, 0);

	/* the first line is the server name, not a keyword; huge SIZE */
	ready_client(o, "250-DSN\r\n250-SIZE 99999999999999999999999\r\n"
	    "250 SIZE12\r\n");
	CHECK_INT(smtp_client_caps(o->c), SMTP_CLIENT_CAP_SIZE);
	CHECK_INT(smtp_client_size_max(o->c), 0);
	CHECK(smtp_client_has(o->c, SMTP_CLIENT_CAP_SIZE));
	CHECK(!smtp_client_has(o->c, SMTP_CLIENT_CAP_DSN));
	smtp_client_free(o->c);

	/* HELO fallback: no extensions, esmtp 0 */
	owner_client(o, 0, 0, 0, NULL);
	smtp_client_feed(o->c, G, strlen(G));
	smtp_client_feed(o->c, "500-x\r\n500 SIZE 10\r\n", 20);
	smtp_client_feed(o->c, "250 ok\r\n", 8);
	CHECK_INT(smtp_client_state(o->c), SMTP_CLIENT_READY);
	CHECK_INT(smtp_client_caps(o->c), 0);
	CHECK_INT(smtp_client_esmtp(o->c), 0);
	smtp_client_free(o->c);
	free(o);
}

/* Brings a client to DATA_BODY. */
static void
to_data_body(struct owner *o)
{
	ready_client(o, EHLO_PLAIN);
	smtp_client_mail(o->c, "a@b", NULL);
	smtp_client_feed(o->c, OK_MAIL, strlen(OK_MAIL));
	smtp_client_rcpt(o->c, "c@d", NULL);
	smtp_client_feed(o->c, OK_RCPT, strlen(OK_RCPT));
	smtp_client_data(o->c);
	smtp_client_feed(o->c, GO_DATA, strlen(GO_DATA));
	CHECK_INT(smtp_client_state(o->c), SMTP_CLIENT_DATA_BODY);
	tr_reset(o);
}

/* Content chunks and the end-of-data sequence the client must add. */
struct end_case {
	const char *chunks[4];
	int write_rc;		/* rc of the last write */
	const char *wire;	/* everything written, end included; NULL: refused */
};

static const struct end_case end_cases[] = {
	{ { "abc\r\n" }, 0, "abc\r\n.\r\n" },
	{ { "abc" }, 0, "abc\r\n.\r\n" },
	{ { "" }, 0, ".\r\n" },
	{ { NULL }, 0, ".\r\n" },
	{ { "abc\r" }, 0, "abc\r\n.\r\n" },
	{ { "ab", "c\r", "\n" }, 0, "abc\r\n.\r\n" },
	{ { "a\r\n", "\r\n" }, 0, "a\r\n\r\n.\r\n" },
	{ { "..\r\n" }, 0, "..\r\n.\r\n" },
	{ { ".hidden\r\n" }, 0, ".hidden\r\n.\r\n" },
	{ { "x\r\n..", "\r\n" }, 0, "x\r\n..\r\n.\r\n" },
	{ { "x\r\n" "..." }, 0, "x\r\n...\r\n.\r\n" },
	/* smuggling and malformed content: refused */
	{ { "a\nb" }, -1, NULL },
	{ { "a\rb" }, -1, NULL },
	{ { "a\r", "b" }, -1, NULL },
	{ { "x\r\n.\r\nMAIL FROM:<e@f>\r\n" }, -1, NULL },
	{ { ".\r\n" }, -1, NULL },
	{ { "x\r\n.", "\r\n" }, -1, NULL },
	{ { "x\r\n.\n" }, -1, NULL },
	{ { "x\n.\r\n" }, -1, NULL },
	{ { "x\r\n." }, 0, NULL },		/* data_end refuses */
	{ { "x\r\n.\r" }, 0, NULL },		/* data_end refuses */
};

/* data_end adds CR LF only when needed; bad content never goes out. */
static void
test_data_end(void)
{
	struct owner *o = malloc(sizeof(*o));
	size_t i, k;
	int rc, end_rc;

	for (i = 0; i < sizeof(end_cases) / sizeof(end_cases[0]); i++) {
		const struct end_case *ec = &end_cases[i];
		size_t written;

		to_data_body(o);
		rc = 0;
		for (k = 0; k < 4 && ec->chunks[k] != NULL && rc == 0; k++)
			rc = smtp_client_data_write(o->c, ec->chunks[k],
			    strlen(ec->chunks[k]));
		written = o->tr_len;
		end_rc = smtp_client_data_end(o->c);
		if (ec->wire != NULL) {
			if (!CHECK(rc == 0 && end_rc == 0 &&
			    strcmp(o->tr, ec->wire) == 0))
				fprintf(stderr, "    end case %zu: rc %d/%d "
				    "wire \"%s\"\n", i, rc, end_rc, o->tr);
			CHECK_INT(smtp_client_state(o->c),
			    SMTP_CLIENT_DATA_END);
		} else {
			/* refused: no end sequence, client FAILED, no event */
			if (!CHECK(rc == ec->write_rc && end_rc == -1 &&
			    o->tr_len == written &&
			    strstr(o->tr, "{") == NULL &&
			    smtp_client_state(o->c) == SMTP_CLIENT_FAILED))
				fprintf(stderr, "    end case %zu: rc %d/%d "
				    "wire \"%s\" state %s\n", i, rc, end_rc,
				    o->tr, smtp_client_state_name(
				    smtp_client_state(o->c)));
		}
		smtp_client_free(o->c);
	}
	free(o);
}

/* An overlong reply line or too many lines end the session. */
static void
test_reply_limits(void)
{
	struct owner *o = malloc(sizeof(*o));
	char *line = malloc(3000);
	int i;

	owner_client(o, 0, 0, 0, NULL);
	smtp_client_feed(o->c, G, strlen(G));
	tr_reset(o);
	memcpy(line, "250-", 4);
	memset(line + 4, 'x', 3000 - 4);
	/* no LF in sight: fails once 2048 octets are buffered */
	smtp_client_feed(o->c, line, 1000);
	smtp_client_feed(o->c, line + 1000, 1000);
	CHECK_INT(smtp_client_state(o->c), SMTP_CLIENT_EHLO);
	CHECK_STR(o->tr, "");
	smtp_client_feed(o->c, line + 2000, 1000);
	CHECK_INT(smtp_client_state(o->c), SMTP_CLIENT_FAILED);
	CHECK_STR(o->tr, "{error malformed reply from backend: "
	    "reply line too long}");
	CHECK_INT(smtp_client_feed(o->c, "250 x\r\n", 7), -1);
	smtp_client_free(o->c);

	owner_client(o, 0, 0, 0, NULL);
	smtp_client_feed(o->c, G, strlen(G));
	tr_reset(o);
	for (i = 0; i < 101; i++)
		smtp_client_feed(o->c, "250-x\r\n", 7);
	CHECK_STR(o->tr, "{error malformed reply from backend: "
	    "too many lines in reply}");
	smtp_client_free(o->c);
	free(line);
	free(o);
}

/* Timeout classes follow the state; RFC 5321 4.5.3.2 values. */
static void
test_timeouts(void)
{
	struct owner *o = malloc(sizeof(*o));

	owner_client(o, 0, 0, 0, NULL);
	CHECK_INT(smtp_client_timeout_class(o->c), SMTP_CLIENT_TIMEOUT_GREETING);
	smtp_client_feed(o->c, G, strlen(G));
	CHECK_INT(smtp_client_timeout_class(o->c), SMTP_CLIENT_TIMEOUT_COMMAND);
	smtp_client_feed(o->c, EHLO_PLAIN, strlen(EHLO_PLAIN));
	CHECK_INT(smtp_client_timeout_class(o->c), SMTP_CLIENT_TIMEOUT_NONE);
	smtp_client_mail(o->c, "a@b", NULL);
	CHECK_INT(smtp_client_timeout_class(o->c), SMTP_CLIENT_TIMEOUT_COMMAND);
	smtp_client_feed(o->c, OK_MAIL, strlen(OK_MAIL));
	CHECK_INT(smtp_client_timeout_class(o->c), SMTP_CLIENT_TIMEOUT_NONE);
	smtp_client_rcpt(o->c, "c@d", NULL);
	smtp_client_feed(o->c, OK_RCPT, strlen(OK_RCPT));
	CHECK_INT(smtp_client_rcpt_accepted(o->c), 1);
	smtp_client_data(o->c);
	CHECK_INT(smtp_client_timeout_class(o->c),
	    SMTP_CLIENT_TIMEOUT_DATA_INIT);
	smtp_client_feed(o->c, GO_DATA, strlen(GO_DATA));
	CHECK_INT(smtp_client_timeout_class(o->c),
	    SMTP_CLIENT_TIMEOUT_DATA_BLOCK);
	smtp_client_data_end(o->c);
	CHECK_INT(smtp_client_timeout_class(o->c), SMTP_CLIENT_TIMEOUT_DATA_END);
	smtp_client_timeout(o->c);
	CHECK(strstr(o->tr, "{error timeout waiting for reply to end of data}")
	    != NULL);
	CHECK_INT(smtp_client_timeout_class(o->c), SMTP_CLIENT_TIMEOUT_NONE);
	smtp_client_free(o->c);
	CHECK_INT(smtp_client_timeout_seconds(SMTP_CLIENT_TIMEOUT_GREETING), 300);
	CHECK_INT(smtp_client_timeout_seconds(SMTP_CLIENT_TIMEOUT_COMMAND), 300);
	CHECK_INT(smtp_client_timeout_seconds(SMTP_CLIENT_TIMEOUT_DATA_INIT), 120);
	CHECK_INT(smtp_client_timeout_seconds(SMTP_CLIENT_TIMEOUT_DATA_BLOCK),
	    180);
	CHECK_INT(smtp_client_timeout_seconds(SMTP_CLIENT_TIMEOUT_DATA_END), 600);
	CHECK_INT(smtp_client_timeout_seconds(SMTP_CLIENT_TIMEOUT_NONE), 0);
	free(o);
}

/* Bad configurations are refused; free(NULL) is harmless. */
static void
test_config(void)
{
	struct owner o;
	struct smtp_client_config cfg = { HELO_NAME, 0, 0, 0, NULL };
	struct smtp_client_callbacks nocb = callbacks;
	struct smtp_client_peer badpeer = peer4;
	struct smtp_client *c;

	smtp_client_free(NULL);
	CHECK((c = smtp_client_new(&cfg, &callbacks, &o)) != NULL);
	smtp_client_free(c);
	cfg.helo_name = "";
	CHECK(smtp_client_new(&cfg, &callbacks, &o) == NULL);
	cfg.helo_name = "two words";
	CHECK(smtp_client_new(&cfg, &callbacks, &o) == NULL);
	cfg.helo_name = "crlf\r\nQUIT";
	CHECK(smtp_client_new(&cfg, &callbacks, &o) == NULL);
	cfg.helo_name = L250 L50;
	CHECK(smtp_client_new(&cfg, &callbacks, &o) == NULL);
	cfg.helo_name = "[192.0.2.7]";
	CHECK((c = smtp_client_new(&cfg, &callbacks, &o)) != NULL);
	badpeer.addr = "192.0.2.1\r\nQUIT";
	CHECK_INT(smtp_client_set_peer(c, &badpeer), -1);
	badpeer.addr = "192.0.2.1";
	badpeer.port = 70000;
	CHECK_INT(smtp_client_set_peer(c, &badpeer), -1);
	CHECK_INT(smtp_client_set_peer(c, &peer4), 0);
	CHECK_INT(smtp_client_set_peer(c, NULL), 0);
	smtp_client_free(c);
	cfg.peer = &badpeer;
	CHECK(smtp_client_new(&cfg, &callbacks, &o) == NULL);
	cfg.peer = NULL;
	nocb.error = NULL;
	CHECK(smtp_client_new(&cfg, &nocb, &o) == NULL);
	cfg.tls = (enum smtp_client_tls_mode)7;
	CHECK(smtp_client_new(&cfg, &callbacks, &o) == NULL);
	CHECK(smtp_client_new(NULL, &callbacks, &o) == NULL);
}

/* The whole conversation in one feed, each command sent from a callback. */
#define ALL_REPLIES G EHLO_PLAIN OK_MAIL OK_RCPT OK_RCPT GO_DATA \
	"250 2.0.0 Ok: queued\r\n" "221 2.0.0 Bye\r\n"
#define UPTO_QUIT E "{ready}MAIL FROM:<a@b.example>\r\n" EV_MAIL \
	"RCPT TO:<r1@c.example>\r\n" EV_RCPT "RCPT TO:<r2@c.example>\r\n" \
	EV_RCPT "DATA\r\n" EV_DATA "Subject: x\r\n\r\nhi\r\n.\r\n" \
	"{reply DATA_END 250 2.0.0 Ok: queued}QUIT\r\n"
#define ALL_TRANSCRIPT UPTO_QUIT "{reply QUIT 221 2.0.0 Bye}"

/* Re-entrancy: the owner issues every next command from the callbacks. */
static void
test_reentrant(void)
{
	static const size_t chunks[] = { 0, 1, 5 };
	struct owner *o = malloc(sizeof(*o));
	size_t k;

	for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		owner_client(o, 0, 0, 0, NULL);
		o->drive = 1;
		feed_chunks(o, ALL_REPLIES, strlen(ALL_REPLIES), chunks[k]);
		CHECK_STR(o->tr, ALL_TRANSCRIPT);
		CHECK_INT(smtp_client_state(o->c), SMTP_CLIENT_CLOSED);
		CHECK_STR(o->trace, "GREETING>EHLO EHLO>READY READY>MAIL "
		    "MAIL>TX TX>RCPT RCPT>TX TX>RCPT RCPT>TX TX>DATA "
		    "DATA>DATA_BODY DATA_BODY>DATA_END DATA_END>READY "
		    "READY>QUIT QUIT>CLOSED ");
		CHECK_INT(smtp_client_feed(o->c, "x", 1), -1);
		smtp_client_free(o->c);
	}
	/* STARTTLS handled from inside the starttls callback */
	owner_client(o, SMTP_CLIENT_TLS_REQUIRED, 0, 0, NULL);
	o->drive = 1;
	feed_chunks(o, G EHLO_TLS "220 go\r\n", strlen(G EHLO_TLS "220 go\r\n"),
	    0);
	CHECK_STR(o->tr, E "STARTTLS\r\n{starttls}" E);
	CHECK(smtp_client_tls_active(o->c));
	smtp_client_free(o->c);
	free(o);
}

/* Free points: event kind, and the transcript up to and including it. */
struct free_case {
	const char *kind;
	const char *transcript;
	int tls;
};

static const struct free_case free_cases[] = {
	{ "write", E, 0 },
	{ "trace", "", 0 },
	{ "ready", E "{ready}MAIL FROM:<a@b.example>\r\n", 0 },
	{ "reply MAIL", E "{ready}MAIL FROM:<a@b.example>\r\n" EV_MAIL
	  "RCPT TO:<r1@c.example>\r\n", 0 },
	{ "reply DATA", E "{ready}MAIL FROM:<a@b.example>\r\n" EV_MAIL
	  "RCPT TO:<r1@c.example>\r\n" EV_RCPT "RCPT TO:<r2@c.example>\r\n"
	  EV_RCPT "DATA\r\n" EV_DATA "Subject: x\r\n\r\nhi\r\n.\r\n", 0 },
	{ "reply DATA_END", UPTO_QUIT, 0 },
	{ "reply QUIT", ALL_TRANSCRIPT, 0 },
	{ "starttls", E "STARTTLS\r\n{starttls}" E, 1 },
};

/*
 * The owner frees the client inside each kind of callback, in the middle
 * of a feed that holds more replies: no callback may follow, and ASan
 * reports any access to the freed client.
 */
static void
test_free_from_callback(void)
{
	static const size_t chunks[] = { 0, 1 };
	struct owner *o = malloc(sizeof(*o));
	size_t i, k;
	const char *in;

	for (i = 0; i < sizeof(free_cases) / sizeof(free_cases[0]); i++)
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			const struct free_case *fc = &free_cases[i];

			owner_client(o, fc->tls ? SMTP_CLIENT_TLS_REQUIRED : 0,
			    0, 0, NULL);
			o->drive = 1;
			o->free_on = fc->kind;
			in = fc->tls ? G EHLO_TLS "220 go\r\n" :
			    ALL_REPLIES;
			feed_chunks(o, in, strlen(in), chunks[k]);
			if (!CHECK(o->freed && o->after_free == 0 &&
			    strcmp(o->tr, fc->transcript) == 0))
				fprintf(stderr, "    free at %s chunk %zu: "
				    "freed %d late %d tr \"%s\"\n", fc->kind,
				    chunks[k], o->freed, o->after_free, o->tr);
		}

	/* inside error(), raised from a write failure inside mail() */
	ready_client(o, EHLO_PLAIN);
	o->write_fail = 1;
	o->free_on = "error";
	CHECK_INT(smtp_client_mail(o->c, "a@b", NULL), 0);
	CHECK(o->freed);
	CHECK_STR(o->tr, "{error write to backend failed}");

	/* inside error() raised by eof and timeout */
	ready_client(o, EHLO_PLAIN);
	o->free_on = "error";
	smtp_client_eof(o->c);
	CHECK(o->freed);
	ready_client(o, EHLO_PLAIN);
	o->free_on = "error";
	smtp_client_timeout(o->c);
	CHECK(o->freed);

	/* inside error() for a malformed reply followed by more bytes */
	ready_client(o, EHLO_PLAIN);
	o->free_on = "error";
	smtp_client_feed(o->c, "9xx\r\n250 a\r\n250 b\r\n", 20);
	CHECK(o->freed && o->after_free == 0);

	/* inside write() during data_write */
	to_data_body(o);
	o->free_on = "write";
	CHECK_INT(smtp_client_data_write(o->c, "x\r\n", 3), 0);
	CHECK(o->freed);
	free(o);
}

/* A write failure ends the session through error(). */
static void
test_write_failure(void)
{
	struct owner *o = malloc(sizeof(*o));

	owner_client(o, 0, 0, 0, NULL);
	o->write_fail = 1;
	smtp_client_feed(o->c, G EHLO_PLAIN, strlen(G EHLO_PLAIN));
	CHECK_STR(o->tr, "{error write to backend failed}");
	CHECK_INT(smtp_client_state(o->c), SMTP_CLIENT_FAILED);
	smtp_client_free(o->c);
	free(o);
}

int
main(void)
{
	test_scripts();
	test_params();
	test_capabilities();
	test_data_end();
	test_reply_limits();
	test_timeouts();
	test_config();
	test_reentrant();
	test_free_from_callback();
	test_write_failure();
	return check_report();
}
