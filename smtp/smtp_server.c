/*
 * smtp_server.c - the server-side SMTP session state machine.
 *
 * CONTRACT
 *	See smtp_server.h.  One struct smtp_server per client connection,
 *	allocated once; the per-transaction data (MAIL to end of DATA) lives
 *	in the embedded struct smtp_tx and is wiped on RSET, HELO/EHLO,
 *	STARTTLS and at the end of DATA.
 *
 * STRUCTURE
 *	- Every state change goes through smtp_server_enter_state().
 *	- Command lines are dispatched through smtp_server_commands[], one
 *	  entry per verb with a check function (sequence, syntax, policy;
 *	  writes the error reply itself) and a proceed function (does it).
 *	- Message content runs through a byte scanner (struct smtp_tx.scan)
 *	  that survives arbitrary chunk boundaries without buffering.
 *
 * RE-ENTRANCY
 *	Every public entry point holds the session (depth counter) while it
 *	runs; smtp_server_free() during a hold only marks it freed, and the
 *	outermost release frees it.  Callbacks are never made once freed.
 *	So the owner may free from inside any callback and may answer
 *	requests synchronously from inside them.
 */
#include "smtp/smtp_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_reply.h"

#define SMTP_SERVER_MAX_LINE_MIN	512	/* RFC 5321 4.5.3.1.4 */
#define SMTP_SERVER_MAX_LINE_MAX	65536
#define SMTP_SERVER_TLS_NAME_MAX	128

/* Position of the DATA scanner relative to the end-of-data sequence. */
enum smtp_server_scan {
	SMTP_SERVER_SCAN_BOL = 0,	/* at a line start (after CR LF) */
	SMTP_SERVER_SCAN_MID,		/* inside a line */
	SMTP_SERVER_SCAN_CR,		/* after a CR: only LF may follow */
	SMTP_SERVER_SCAN_DOT,		/* "." at a line start */
	SMTP_SERVER_SCAN_DOT_CR		/* ".\r" at a line start */
};

/* What one content octet meant to the scanner. */
enum smtp_server_octet {
	SMTP_SERVER_OCTET_MORE = 0,
	SMTP_SERVER_OCTET_BARE,		/* a bare CR or LF was found */
	SMTP_SERVER_OCTET_END		/* CR LF "." CR LF completed */
};

/* One mail transaction. */
struct smtp_tx {
	int			active;	/* mail() called, not ended yet */
	struct smtp_mail	mail;
	struct smtp_rcpt	rcpt;	/* the RCPT being decided */
	int			rcpts;	/* accepted recipients */
	uint64_t		size;	/* content octets forwarded */
	enum smtp_data_status	status;	/* first reason to stop forwarding */
	enum smtp_server_scan	scan;
};

struct smtp_server {
	const struct smtp_server_config	*cfg;
	const struct smtp_server_cb	*cb;
	void				*ctx;
	enum smtp_server_state		 state;
	char		helo[SMTP_HELO_MAX + 1];
	int		esmtp;
	int		tls_active;
	char		tls_version[SMTP_SERVER_TLS_NAME_MAX];
	char		tls_cipher[SMTP_SERVER_TLS_NAME_MAX];
	int		errors;		/* counted protocol errors */
	int		discard;	/* skipping an overlong line to its LF */
	int		shutdown;	/* 421 at the next command boundary */
	int		depth;		/* public calls in progress */
	int		freed;		/* free requested during a hold */
	int		in_feed;
	uint64_t	last_size;	/* content octets of the last DATA */
	struct smtp_tx	tx;
};

/* Checks a command; 0 to proceed, -1 if it already replied with an error. */
typedef int smtp_server_check_fn(struct smtp_server *, const struct smtp_cmd *);
/* Carries a checked command out. */
typedef void smtp_server_proceed_fn(struct smtp_server *,
    const struct smtp_cmd *);

/* One entry of the command table. */
struct smtp_server_command {
	smtp_server_check_fn	*check;
	smtp_server_proceed_fn	*proceed;
};

static const char *const smtp_server_state_names[] = {
	"GREETING_WAIT", "INIT", "HELO_DONE", "MAIL_WAIT", "MAIL_DONE",
	"RCPT_WAIT", "DATA_WAIT", "DATA_BODY", "DATA_END_WAIT",
	"STARTTLS_WAIT", "CLOSING", "CLOSED"
};

/* A broken invariant in the owner's use of the API: abort loudly. */
static void
smtp_server_bug(const char *what)
{
	fprintf(stderr, "smtp_server: broken invariant: %s\n", what);
	abort();
}

/* Fills cfg with the defaults. */
void
smtp_server_config_init(struct smtp_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_line = 512;
	cfg->max_message_size = 10 * 1024 * 1024;
	cfg->max_recipients = 100;
	cfg->max_errors = 10;
}

/* 1 if the hostname can go into replies: 1..255 printable, no spaces. */
static int
smtp_server_hostname_ok(const char *name)
{
	size_t i, len;

	if (name == NULL || (len = strlen(name)) == 0 || len > SMTP_DOMAIN_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] <= 0x20 ||
		    (unsigned char)name[i] >= 0x7f)
			return 0;
	return 1;
}

/* 1 if the config and callbacks are usable. */
static int
smtp_server_setup_ok(const struct smtp_server_config *cfg,
    const struct smtp_server_cb *cb)
{
	if (cfg == NULL || cb == NULL || !smtp_server_hostname_ok(cfg->hostname))
		return 0;
	if (cfg->max_line < SMTP_SERVER_MAX_LINE_MIN ||
	    cfg->max_line > SMTP_SERVER_MAX_LINE_MAX ||
	    cfg->max_recipients < 1 || cfg->max_errors < 0)
		return 0;
	if (!cb->write || !cb->close || !cb->mail || !cb->rcpt || !cb->data ||
	    !cb->data_chunk || !cb->data_end || !cb->reset)
		return 0;
	return !cfg->tls_available || cb->starttls;
}

/* Creates a session waiting for smtp_server_greet(). */
struct smtp_server *
smtp_server_new(const struct smtp_server_config *cfg,
    const struct smtp_server_cb *cb, void *ctx)
{
	struct smtp_server *s;

	if (!smtp_server_setup_ok(cfg, cb)) {
		errno = EINVAL;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->cfg = cfg;
	s->cb = cb;
	s->ctx = ctx;
	s->state = SMTP_SERVER_GREETING_WAIT;
	return s;
}

/* Releases the session now or, during a hold, at the outermost release. */
void
smtp_server_free(struct smtp_server *s)
{
	if (s == NULL)
		return;
	if (s->depth > 0) {
		s->freed = 1;
		return;
	}
	free(s);
}

/* Marks a public call in progress. */
static void
smtp_server_hold(struct smtp_server *s)
{
	s->depth++;
}

/* Ends a public call; Caution: s may be freed on return. */
static void
smtp_server_release(struct smtp_server *s)
{
	if (--s->depth == 0 && s->freed)
		free(s);
}

/* Name of a state. */
const char *
smtp_server_state_name(enum smtp_server_state state)
{
	if ((unsigned)state > SMTP_SERVER_CLOSED)
		return "INVALID";
	return smtp_server_state_names[state];
}

/* The one place where the state changes; tells the debug hook. */
static void
smtp_server_enter_state(struct smtp_server *s, enum smtp_server_state state)
{
	enum smtp_server_state old = s->state;
	char msg[64];

	s->state = state;
	if (s->cb->debug == NULL || s->freed || old == state)
		return;
	snprintf(msg, sizeof(msg), "%s -> %s", smtp_server_state_name(old),
	    smtp_server_state_name(state));	/* names are short: fits */
	s->cb->debug(s->ctx, msg);
}

/* Output function for smtp_reply_emit(): one line to the client. */
static void
smtp_server_out(void *arg, const char *line, size_t len)
{
	struct smtp_server *s = arg;

	if (!s->freed)
		s->cb->write(s->ctx, line, len);
}

/* Writes a validated reply. */
static void
smtp_server_send(struct smtp_server *s, int code, const char *enhanced,
    const char *text)
{
	if (smtp_reply_emit(code, enhanced, text, smtp_server_out, s) < 0)
		smtp_server_bug("invalid reply code");
}

/* Writes a reply of the session's own; tells the error hook about 4xx/5xx. */
static void
smtp_server_own(struct smtp_server *s, int code, const char *enhanced,
    const char *text)
{
	smtp_server_send(s, code, enhanced, text);
	if (code >= 400 && s->cb->error != NULL && !s->freed)
		s->cb->error(s->ctx, code, enhanced, text);
}

/* Same, with the hostname before the text ("421 4.4.2 HOST text"). */
static void
smtp_server_own_host(struct smtp_server *s, int code, const char *enhanced,
    const char *text)
{
	char buf[SMTP_REPLY_LINE_MAX];
	int n;

	n = snprintf(buf, sizeof(buf), "%s %s", s->cfg->hostname, text);
	if (n < 0 || (size_t)n >= sizeof(buf))
		smtp_server_bug("reply text too long");
	smtp_server_own(s, code, enhanced, buf);
}

/* Wipes the transaction without telling the owner. */
static void
smtp_server_tx_clear(struct smtp_server *s)
{
	memset(&s->tx, 0, sizeof(s->tx));
}

/* Ends the transaction; if the owner knew it, calls reset(). */
static void
smtp_server_tx_abort(struct smtp_server *s)
{
	int active = s->tx.active;

	smtp_server_tx_clear(s);
	if (active && !s->freed)
		s->cb->reset(s->ctx);
}

/* After a final reply: abort the transaction and let the owner close. */
static void
smtp_server_close(struct smtp_server *s)
{
	smtp_server_tx_abort(s);
	smtp_server_enter_state(s, SMTP_SERVER_CLOSING);
	if (!s->freed)
		s->cb->close(s->ctx);
	smtp_server_enter_state(s, SMTP_SERVER_CLOSED);
}

/* Writes a final 421/554 with the hostname and closes. */
static void
smtp_server_finish(struct smtp_server *s, int code, const char *enhanced,
    const char *text)
{
	smtp_server_own_host(s, code, enhanced, text);
	smtp_server_close(s);
}

/* Writes an error reply; a counted one may end the session. */
static void
smtp_server_error(struct smtp_server *s, int counted, int code,
    const char *enhanced, const char *text)
{
	smtp_server_own(s, code, enhanced, text);
	if (!counted)
		return;
	s->errors++;
	if (s->cfg->max_errors > 0 && s->errors >= s->cfg->max_errors)
		smtp_server_finish(s, 421, "4.7.0", "Error: too many errors");
}

/* Writes the reply a smtp_cmd parser chose; all of them are counted. */
static int
smtp_server_parse_error(struct smtp_server *s, const struct smtp_cmd_error *e)
{
	smtp_server_error(s, 1, e->code, e->enhanced, e->text);
	return -1;
}

/* 1 in the states where the session reads command lines. */
static int
smtp_server_at_command(const struct smtp_server *s)
{
	return s->state == SMTP_SERVER_INIT ||
	    s->state == SMTP_SERVER_HELO_DONE ||
	    s->state == SMTP_SERVER_MAIL_DONE;
}

/* Carries out a pending shutdown once the session waits for a command. */
static void
smtp_server_boundary(struct smtp_server *s)
{
	if (s->shutdown && !s->freed && smtp_server_at_command(s))
		smtp_server_finish(s, 421, "4.3.2",
		    "Service shutting down, closing transmission channel");
}

/*
 * Commands: check functions return 0 to go on or reply with an error and
 * return -1; proceed functions do the work.
 */

/* Refuses anything: unknown verbs. */
static int
smtp_server_check_unknown(struct smtp_server *s, const struct smtp_cmd *c)
{
	(void)c;
	smtp_server_error(s, 1, 500, "5.5.1", "Error: command not recognized");
	return -1;
}

/* Refuses commands this server does not implement (EXPN, BDAT, AUTH). */
static int
smtp_server_check_unimplemented(struct smtp_server *s,
    const struct smtp_cmd *c)
{
	(void)c;
	smtp_server_error(s, 1, 502, "5.5.1", "Error: command not implemented");
	return -1;
}

/* Refuses arguments for commands that take none. */
static int
smtp_server_check_noargs(struct smtp_server *s, const struct smtp_cmd *c)
{
	char text[64];

	if (c->args_len == 0)
		return 0;
	snprintf(text, sizeof(text), "Syntax: %s", smtp_cmd_verb_name(c->verb));
	smtp_server_error(s, 1, 501, "5.5.4", text);
	return -1;
}

/* Accepts anything (NOOP, HELP). */
static int
smtp_server_check_any(struct smtp_server *s, const struct smtp_cmd *c)
{
	(void)s;
	(void)c;
	return 0;
}

/* HELO/EHLO: the argument must be acceptable. */
static int
smtp_server_check_helo(struct smtp_server *s, const struct smtp_cmd *c)
{
	struct smtp_cmd_error err;
	char name[SMTP_HELO_MAX + 1];

	if (smtp_cmd_parse_helo(c->args, c->args_len, name, &err) != 0)
		return smtp_server_parse_error(s, &err);
	return 0;
}

/* Stores the HELO/EHLO name and resets the transaction. */
static void
smtp_server_greeted(struct smtp_server *s, const struct smtp_cmd *c,
    int esmtp)
{
	struct smtp_cmd_error err;

	smtp_server_tx_abort(s);
	(void)smtp_cmd_parse_helo(c->args, c->args_len, s->helo, &err);
	s->esmtp = esmtp;
	smtp_server_enter_state(s, SMTP_SERVER_HELO_DONE);
	if (s->cb->helo != NULL && !s->freed)
		s->cb->helo(s->ctx, s->helo, esmtp);
}

/* HELO: plain 250, no extensions. */
static void
smtp_server_proceed_helo(struct smtp_server *s, const struct smtp_cmd *c)
{
	smtp_server_greeted(s, c, 0);
	smtp_server_own(s, 250, NULL, s->cfg->hostname);
}

/* EHLO: multi-line 250 listing the extensions. */
static void
smtp_server_proceed_ehlo(struct smtp_server *s, const struct smtp_cmd *c)
{
	char text[SMTP_DOMAIN_MAX + 160];
	int starttls = s->cfg->tls_available && !s->tls_active, n;

	smtp_server_greeted(s, c, 1);
	n = snprintf(text, sizeof(text), "%s\nPIPELINING\nSIZE %llu\n"
	    "8BITMIME\nENHANCEDSTATUSCODES\nSMTPUTF8\nDSN%s",
	    s->cfg->hostname, (unsigned long long)s->cfg->max_message_size,
	    starttls ? "\nSTARTTLS" : "");
	if (n < 0 || (size_t)n >= sizeof(text))
		smtp_server_bug("EHLO reply too long");
	smtp_server_own(s, 250, NULL, text);
}

/* MAIL: sequence, TLS policy, syntax, declared size. */
static int
smtp_server_check_mail(struct smtp_server *s, const struct smtp_cmd *c)
{
	struct smtp_cmd_error err;
	uint64_t max = s->cfg->max_message_size;

	if (s->state == SMTP_SERVER_INIT) {
		smtp_server_error(s, 1, 503, "5.5.1",
		    "Error: send HELO/EHLO first");
		return -1;
	}
	if (s->state == SMTP_SERVER_MAIL_DONE) {
		smtp_server_error(s, 1, 503, "5.5.1",
		    "Error: nested MAIL command");
		return -1;
	}
	if (s->cfg->require_tls && !s->tls_active) {
		smtp_server_error(s, 1, 530, "5.7.0",
		    "Must issue a STARTTLS command first");
		return -1;
	}
	if (smtp_cmd_parse_mail(c->args, c->args_len, s->esmtp, &s->tx.mail,
	    &err) != 0)
		return smtp_server_parse_error(s, &err);
	if (max > 0 && s->tx.mail.has_size && s->tx.mail.size > max) {
		smtp_server_error(s, 0, 552, "5.3.4",
		    "Error: message size exceeds fixed limit");
		return -1;
	}
	return 0;
}

/* MAIL: open the transaction and ask the owner. */
static void
smtp_server_proceed_mail(struct smtp_server *s, const struct smtp_cmd *c)
{
	(void)c;
	s->tx.active = 1;
	smtp_server_enter_state(s, SMTP_SERVER_MAIL_WAIT);
	if (!s->freed)
		s->cb->mail(s->ctx, &s->tx.mail);
}

/* RCPT: sequence, recipient limit, syntax. */
static int
smtp_server_check_rcpt(struct smtp_server *s, const struct smtp_cmd *c)
{
	struct smtp_cmd_error err;

	if (s->state != SMTP_SERVER_MAIL_DONE) {
		smtp_server_error(s, 1, 503, "5.5.1",
		    "Error: need MAIL command");
		return -1;
	}
	if (s->tx.rcpts >= s->cfg->max_recipients) {
		smtp_server_error(s, 0, 452, "4.5.3",
		    "Error: too many recipients");
		return -1;
	}
	if (smtp_cmd_parse_rcpt(c->args, c->args_len, s->esmtp,
	    s->tx.mail.smtputf8, &s->tx.rcpt, &err) != 0)
		return smtp_server_parse_error(s, &err);
	return 0;
}

/* RCPT: ask the owner. */
static void
smtp_server_proceed_rcpt(struct smtp_server *s, const struct smtp_cmd *c)
{
	(void)c;
	smtp_server_enter_state(s, SMTP_SERVER_RCPT_WAIT);
	if (!s->freed)
		s->cb->rcpt(s->ctx, &s->tx.rcpt);
}

/* DATA: no arguments, a transaction with an accepted recipient. */
static int
smtp_server_check_data(struct smtp_server *s, const struct smtp_cmd *c)
{
	if (smtp_server_check_noargs(s, c) != 0)
		return -1;
	if (s->state != SMTP_SERVER_MAIL_DONE) {
		smtp_server_error(s, 1, 503, "5.5.1",
		    "Error: need MAIL command");
		return -1;
	}
	if (s->tx.rcpts == 0) {
		smtp_server_error(s, 0, 554, "5.5.1",
		    "Error: no valid recipients");
		return -1;
	}
	return 0;
}

/* DATA: ask the owner whether to go on. */
static void
smtp_server_proceed_data(struct smtp_server *s, const struct smtp_cmd *c)
{
	(void)c;
	smtp_server_enter_state(s, SMTP_SERVER_DATA_WAIT);
	if (!s->freed)
		s->cb->data(s->ctx);
}

/* RSET: drop the transaction. */
static void
smtp_server_proceed_rset(struct smtp_server *s, const struct smtp_cmd *c)
{
	(void)c;
	smtp_server_tx_abort(s);
	smtp_server_enter_state(s, s->helo[0] != '\0' ?
	    SMTP_SERVER_HELO_DONE : SMTP_SERVER_INIT);
	smtp_server_own(s, 250, "2.0.0", "Ok");
}

/* NOOP. */
static void
smtp_server_proceed_noop(struct smtp_server *s, const struct smtp_cmd *c)
{
	(void)c;
	smtp_server_own(s, 250, "2.0.0", "Ok");
}

/* QUIT: 221 and close. */
static void
smtp_server_proceed_quit(struct smtp_server *s, const struct smtp_cmd *c)
{
	(void)c;
	smtp_server_own_host(s, 221, "2.0.0",
	    "Service closing transmission channel");
	smtp_server_close(s);
}

/* VRFY needs an argument. */
static int
smtp_server_check_vrfy(struct smtp_server *s, const struct smtp_cmd *c)
{
	if (c->args_len > 0)
		return 0;
	smtp_server_error(s, 1, 501, "5.5.4", "Syntax: VRFY address");
	return -1;
}

/* VRFY: never verifies (RFC 5321 3.5.3). */
static void
smtp_server_proceed_vrfy(struct smtp_server *s, const struct smtp_cmd *c)
{
	(void)c;
	smtp_server_own(s, 252, "2.5.0",
	    "Cannot VRFY user, but will accept message and attempt delivery");
}

/* HELP. */
static void
smtp_server_proceed_help(struct smtp_server *s, const struct smtp_cmd *c)
{
	(void)c;
	smtp_server_own(s, 214, "2.0.0", "Commands: HELO EHLO MAIL RCPT DATA "
	    "RSET NOOP QUIT VRFY HELP STARTTLS; see RFC 5321");
}

/* STARTTLS: offered, not active yet, after HELO/EHLO. */
static int
smtp_server_check_starttls(struct smtp_server *s, const struct smtp_cmd *c)
{
	if (smtp_server_check_noargs(s, c) != 0)
		return -1;
	if (!s->cfg->tls_available) {
		smtp_server_error(s, 1, 502, "5.5.1",
		    "Error: command not implemented");
		return -1;
	}
	if (s->tls_active) {
		smtp_server_error(s, 1, 503, "5.5.1",
		    "Error: TLS already active");
		return -1;
	}
	if (s->state == SMTP_SERVER_INIT) {
		smtp_server_error(s, 1, 503, "5.5.1",
		    "Error: send EHLO first");
		return -1;
	}
	return 0;
}

/* STARTTLS: 220, then the owner runs the handshake. */
static void
smtp_server_proceed_starttls(struct smtp_server *s, const struct smtp_cmd *c)
{
	(void)c;
	smtp_server_tx_abort(s);
	smtp_server_own(s, 220, "2.0.0", "Ready to start TLS");
	smtp_server_enter_state(s, SMTP_SERVER_STARTTLS_WAIT);
	if (!s->freed)
		s->cb->starttls(s->ctx);
}

static const struct smtp_server_command
smtp_server_commands[SMTP_VERB_COUNT] = {
	[SMTP_VERB_UNKNOWN] = { smtp_server_check_unknown, NULL },
	[SMTP_VERB_HELO] = { smtp_server_check_helo, smtp_server_proceed_helo },
	[SMTP_VERB_EHLO] = { smtp_server_check_helo, smtp_server_proceed_ehlo },
	[SMTP_VERB_MAIL] = { smtp_server_check_mail, smtp_server_proceed_mail },
	[SMTP_VERB_RCPT] = { smtp_server_check_rcpt, smtp_server_proceed_rcpt },
	[SMTP_VERB_DATA] = { smtp_server_check_data, smtp_server_proceed_data },
	[SMTP_VERB_RSET] =
	    { smtp_server_check_noargs, smtp_server_proceed_rset },
	[SMTP_VERB_NOOP] = { smtp_server_check_any, smtp_server_proceed_noop },
	[SMTP_VERB_QUIT] =
	    { smtp_server_check_noargs, smtp_server_proceed_quit },
	[SMTP_VERB_VRFY] = { smtp_server_check_vrfy, smtp_server_proceed_vrfy },
	[SMTP_VERB_EXPN] = { smtp_server_check_unimplemented, NULL },
	[SMTP_VERB_HELP] = { smtp_server_check_any, smtp_server_proceed_help },
	[SMTP_VERB_STARTTLS] =
	    { smtp_server_check_starttls, smtp_server_proceed_starttls },
	[SMTP_VERB_BDAT] = { smtp_server_check_unimplemented, NULL },
	[SMTP_VERB_AUTH] = { smtp_server_check_unimplemented, NULL },
};

/* Runs one complete command line (without its line end). */
static void
smtp_server_command(struct smtp_server *s, const char *line, size_t len)
{
	const struct smtp_server_command *c;
	struct smtp_cmd cmd;

	if (memchr(line, '\0', len) != NULL) {
		smtp_server_error(s, 1, 500, "5.5.2",
		    "Error: NUL character in command");
		return;
	}
	smtp_cmd_parse(line, len, &cmd);
	c = &smtp_server_commands[cmd.verb];
	if (c->check(s, &cmd) == 0 && c->proceed != NULL)
		c->proceed(s, &cmd);
}

/*
 * Command mode: consumes one line (or an overlong line's pieces) and
 * runs it; returns the octets consumed, 0 if a line is incomplete.
 */
static size_t
smtp_server_read_line(struct smtp_server *s, const char *data, size_t len)
{
	size_t max = s->cfg->max_line, linelen;
	const char *lf;

	if (s->discard) {
		if ((lf = memchr(data, '\n', len)) == NULL)
			return len;
		s->discard = 0;
		return (size_t)(lf - data) + 1;
	}
	if ((lf = memchr(data, '\n', len < max ? len : max)) == NULL) {
		if (len < max)
			return 0;
		s->discard = 1;
		smtp_server_error(s, 1, 500, "5.5.2", "Error: line too long");
		return max;
	}
	linelen = (size_t)(lf - data);
	if (linelen > 0 && data[linelen - 1] == '\r')
		linelen--;
	smtp_server_command(s, data, linelen);
	return (size_t)(lf - data) + 1;
}

/* 1 for scanner states whose last octets may still be the terminator. */
static int
smtp_server_scan_pending(enum smtp_server_scan scan)
{
	return scan == SMTP_SERVER_SCAN_CR || scan == SMTP_SERVER_SCAN_DOT ||
	    scan == SMTP_SERVER_SCAN_DOT_CR;
}

/* Advances the DATA scanner over one octet. */
static enum smtp_server_octet
smtp_server_scan_octet(enum smtp_server_scan *scan, char c)
{
	switch (*scan) {
	case SMTP_SERVER_SCAN_BOL:
		if (c == '.') {
			*scan = SMTP_SERVER_SCAN_DOT;
			return SMTP_SERVER_OCTET_MORE;
		}
		/* FALLTHROUGH */
	case SMTP_SERVER_SCAN_MID:
		*scan = c == '\r' ? SMTP_SERVER_SCAN_CR : SMTP_SERVER_SCAN_MID;
		return c == '\n' ? SMTP_SERVER_OCTET_BARE :
		    SMTP_SERVER_OCTET_MORE;
	case SMTP_SERVER_SCAN_DOT:
		*scan = c == '\r' ? SMTP_SERVER_SCAN_DOT_CR :
		    SMTP_SERVER_SCAN_MID;
		return c == '\n' ? SMTP_SERVER_OCTET_BARE :
		    SMTP_SERVER_OCTET_MORE;
	case SMTP_SERVER_SCAN_CR:
	case SMTP_SERVER_SCAN_DOT_CR:
		if (c == '\n') {
			int end = *scan == SMTP_SERVER_SCAN_DOT_CR;

			*scan = SMTP_SERVER_SCAN_BOL;
			return end ? SMTP_SERVER_OCTET_END :
			    SMTP_SERVER_OCTET_MORE;
		}
		/* The CR was bare; c starts afresh inside a line. */
		*scan = c == '\r' ? SMTP_SERVER_SCAN_CR : SMTP_SERVER_SCAN_MID;
		return SMTP_SERVER_OCTET_BARE;
	}
	smtp_server_bug("bad scanner state");
	return SMTP_SERVER_OCTET_BARE;
}

/* Hands decided content to the owner, unless forwarding has stopped. */
static void
smtp_server_data_out(struct smtp_server *s, const char *p, size_t n)
{
	uint64_t max = s->cfg->max_message_size;

	if (n == 0 || s->tx.status != SMTP_DATA_OK)
		return;
	if (max > 0 && (n > max || s->tx.size > max - n)) {
		s->tx.status = SMTP_DATA_TOO_BIG;
		return;
	}
	s->tx.size += n;
	if (!s->freed)
		s->cb->data_chunk(s->ctx, p, n);
}

/* End of content: ask the owner for the final reply, or reject. */
static void
smtp_server_data_done(struct smtp_server *s)
{
	enum smtp_data_status status = s->tx.status;

	s->last_size = s->tx.size;
	if (status == SMTP_DATA_OK) {
		smtp_server_enter_state(s, SMTP_SERVER_DATA_END_WAIT);
		if (!s->freed)
			s->cb->data_end(s->ctx, status);
		return;
	}
	if (!s->freed)
		s->cb->data_end(s->ctx, status);
	smtp_server_tx_clear(s);
	smtp_server_enter_state(s, SMTP_SERVER_HELO_DONE);
	if (status == SMTP_DATA_TOO_BIG)
		smtp_server_error(s, 0, 552, "5.3.4",
		    "Error: message too big");
	else
		smtp_server_error(s, 1, 550, "5.6.11",
		    "Error: bare CR or LF in message data");
}

/*
 * DATA mode: scans data[0..len), forwards the decided content and
 * returns the octets consumed.  Octets that may begin the terminator
 * ("\r", ".", ".\r") at the end of the chunk are left unconsumed, with
 * the scanner set back to the state before them.
 */
static size_t
smtp_server_data_step(struct smtp_server *s, const char *data, size_t len)
{
	enum smtp_server_scan at_mark = s->tx.scan;
	size_t i, start = 0, mark = 0;

	for (i = 0; i < len; i++) {
		switch (smtp_server_scan_octet(&s->tx.scan, data[i])) {
		case SMTP_SERVER_OCTET_END:
			smtp_server_data_out(s, data + start, mark - start);
			smtp_server_data_done(s);
			return i + 1;
		case SMTP_SERVER_OCTET_BARE:
			smtp_server_data_out(s, data + start, mark - start);
			start = mark;
			if (s->tx.status == SMTP_DATA_OK)
				s->tx.status = SMTP_DATA_BARE_NEWLINE;
			break;
		case SMTP_SERVER_OCTET_MORE:
			break;
		}
		if (!smtp_server_scan_pending(s->tx.scan)) {
			mark = i + 1;
			at_mark = s->tx.scan;
		}
	}
	smtp_server_data_out(s, data + start, mark - start);
	s->tx.scan = at_mark;
	return mark;
}

/* Input before the greeting: reject and close. */
static size_t
smtp_server_pregreet(struct smtp_server *s, size_t len)
{
	smtp_server_finish(s, 554, "5.5.0", "Error: data before greeting");
	return len;
}

/* Consumes what the current state allows; 0 if nothing. */
static size_t
smtp_server_feed_step(struct smtp_server *s, const char *data, size_t len)
{
	switch (s->state) {
	case SMTP_SERVER_GREETING_WAIT:
		return smtp_server_pregreet(s, len);
	case SMTP_SERVER_INIT:
	case SMTP_SERVER_HELO_DONE:
	case SMTP_SERVER_MAIL_DONE:
		return smtp_server_read_line(s, data, len);
	case SMTP_SERVER_DATA_BODY:
		return smtp_server_data_step(s, data, len);
	default:
		return 0;
	}
}

/* Consumes client bytes as far as the protocol allows. */
size_t
smtp_server_feed(struct smtp_server *s, const char *data, size_t len)
{
	size_t off = 0, n;

	if (s->in_feed)
		smtp_server_bug("smtp_server_feed() called from a callback");
	if (s->freed)
		return 0;
	smtp_server_hold(s);
	s->in_feed = 1;
	while (off < len && !s->freed) {
		smtp_server_boundary(s);
		if ((n = smtp_server_feed_step(s, data + off, len - off)) == 0)
			break;
		off += n;
	}
	smtp_server_boundary(s);
	s->in_feed = 0;
	smtp_server_release(s);
	return off;
}

/* Writes the greeting. */
void
smtp_server_greet(struct smtp_server *s)
{
	char text[SMTP_REPLY_LINE_MAX];

	if (s->freed || s->state == SMTP_SERVER_CLOSING ||
	    s->state == SMTP_SERVER_CLOSED)
		return;
	if (s->state != SMTP_SERVER_GREETING_WAIT)
		smtp_server_bug("smtp_server_greet() called twice");
	smtp_server_hold(s);
	snprintf(text, sizeof(text), "%s ESMTP spfgate", s->cfg->hostname);
	smtp_server_enter_state(s, SMTP_SERVER_INIT);	/* hostname <= 255: fits */
	smtp_server_own(s, 220, NULL, text);
	smtp_server_release(s);
}

/* 1 if code is an acceptable owner answer in a waiting state. */
static int
smtp_server_answer_ok(enum smtp_server_state state, int code)
{
	int class = code / 100;

	if (!smtp_reply_code_valid(code))
		return 0;
	if (state == SMTP_SERVER_DATA_WAIT)
		return code == 354 || class == 4 || class == 5;
	return class == 2 || class == 4 || class == 5;
}

/* Moves on after the owner's answer to the pending request. */
static void
smtp_server_answered(struct smtp_server *s, enum smtp_server_state was,
    int code)
{
	int ok = code / 100 == 2;

	switch (was) {
	case SMTP_SERVER_MAIL_WAIT:
		if (!ok)
			smtp_server_tx_clear(s);
		smtp_server_enter_state(s, ok ? SMTP_SERVER_MAIL_DONE :
		    SMTP_SERVER_HELO_DONE);
		break;
	case SMTP_SERVER_RCPT_WAIT:
		if (ok)
			s->tx.rcpts++;
		smtp_server_enter_state(s, SMTP_SERVER_MAIL_DONE);
		break;
	case SMTP_SERVER_DATA_WAIT:
		if (code == 354) {
			s->tx.scan = SMTP_SERVER_SCAN_BOL;
			s->tx.size = 0;
			s->tx.status = SMTP_DATA_OK;
		}
		smtp_server_enter_state(s, code == 354 ?
		    SMTP_SERVER_DATA_BODY : SMTP_SERVER_MAIL_DONE);
		break;
	default:	/* SMTP_SERVER_DATA_END_WAIT */
		smtp_server_tx_clear(s);
		smtp_server_enter_state(s, SMTP_SERVER_HELO_DONE);
		break;
	}
}

/* Writes the owner's answer, normalized, and follows it. */
static void
smtp_server_answer(struct smtp_server *s, int code, const char *enhanced,
    const char *text)
{
	enum smtp_server_state was = s->state;
	static const char *const defaults[] = { "2.0.0", "4.0.0", "5.0.0" };

	if (!smtp_server_answer_ok(was, code)) {
		code = 451;
		enhanced = "4.3.0";
		text = "Error: internal error";
	}
	if (code / 100 == 3)
		enhanced = NULL;
	else if (!smtp_reply_enhanced_valid(code, enhanced))
		enhanced = defaults[code / 100 == 2 ? 0 : code / 100 - 3];
	if (text == NULL)
		text = code == 354 ? "End data with <CR><LF>.<CR><LF>" :
		    code < 400 ? "Ok" : "Error";
	smtp_server_send(s, code, enhanced, text);
	smtp_server_answered(s, was, code);
	if (code == 421)
		smtp_server_close(s);
}

/* 1 in the states that wait for the owner's reply. */
static int
smtp_server_waiting(const struct smtp_server *s)
{
	return s->state == SMTP_SERVER_MAIL_WAIT ||
	    s->state == SMTP_SERVER_RCPT_WAIT ||
	    s->state == SMTP_SERVER_DATA_WAIT ||
	    s->state == SMTP_SERVER_DATA_END_WAIT;
}

/* Answers the pending request. */
int
smtp_server_reply(struct smtp_server *s, int code, const char *enhanced,
    const char *text)
{
	if (s->freed || s->state == SMTP_SERVER_CLOSING ||
	    s->state == SMTP_SERVER_CLOSED)
		return -1;
	if (!smtp_server_waiting(s))
		smtp_server_bug("smtp_server_reply() without a pending request");
	smtp_server_hold(s);
	smtp_server_answer(s, code, enhanced, text);
	smtp_server_boundary(s);
	smtp_server_release(s);
	return 0;
}

/* Copies a TLS detail for the getters; cut if absurdly long. */
static void
smtp_server_tls_copy(char *dst, const char *src)
{
	/* Caution: deliberately cut at SMTP_SERVER_TLS_NAME_MAX - 1. */
	snprintf(dst, SMTP_SERVER_TLS_NAME_MAX, "%s", src ? src : "");
}

/* The handshake succeeded: back to the state after the greeting. */
void
smtp_server_tls_started(struct smtp_server *s, const char *version,
    const char *cipher)
{
	if (s->freed || s->state == SMTP_SERVER_CLOSING ||
	    s->state == SMTP_SERVER_CLOSED)
		return;
	if (s->state != SMTP_SERVER_STARTTLS_WAIT)
		smtp_server_bug("smtp_server_tls_started() without STARTTLS");
	smtp_server_hold(s);
	s->tls_active = 1;
	smtp_server_tls_copy(s->tls_version, version);
	smtp_server_tls_copy(s->tls_cipher, cipher);
	s->helo[0] = '\0';
	s->esmtp = 0;
	s->discard = 0;
	smtp_server_tx_clear(s);
	smtp_server_enter_state(s, SMTP_SERVER_INIT);
	smtp_server_boundary(s);
	smtp_server_release(s);
}

/* The owner's deadline expired. */
void
smtp_server_timeout(struct smtp_server *s)
{
	if (s->freed || s->state == SMTP_SERVER_CLOSING ||
	    s->state == SMTP_SERVER_CLOSED)
		return;
	smtp_server_hold(s);
	smtp_server_finish(s, 421, "4.4.2", "Error: timeout exceeded");
	smtp_server_release(s);
}

/* Graceful stop: now if waiting for a command, else at the next one. */
void
smtp_server_shutdown(struct smtp_server *s)
{
	if (s->freed || s->state == SMTP_SERVER_CLOSING ||
	    s->state == SMTP_SERVER_CLOSED)
		return;
	smtp_server_hold(s);
	s->shutdown = 1;
	if (s->state == SMTP_SERVER_GREETING_WAIT)
		smtp_server_finish(s, 421, "4.3.2",
		    "Service shutting down, closing transmission channel");
	else
		smtp_server_boundary(s);
	smtp_server_release(s);
}

/* Current state. */
enum smtp_server_state
smtp_server_state(const struct smtp_server *s)
{
	return s->state;
}

/* Which deadline applies now. */
enum smtp_server_timeout_class
smtp_server_timeout_class(const struct smtp_server *s)
{
	if (smtp_server_at_command(s))
		return SMTP_SERVER_TIMEOUT_COMMAND;
	if (s->state == SMTP_SERVER_DATA_BODY)
		return SMTP_SERVER_TIMEOUT_DATA;
	return SMTP_SERVER_TIMEOUT_NONE;
}

/* 1 if feed would consume input now. */
int
smtp_server_reading(const struct smtp_server *s)
{
	return s->state == SMTP_SERVER_GREETING_WAIT ||
	    smtp_server_at_command(s) || s->state == SMTP_SERVER_DATA_BODY;
}

/* HELO/EHLO name, "" before. */
const char *
smtp_server_helo_name(const struct smtp_server *s)
{
	return s->helo;
}

/* 1 if the client said EHLO. */
int
smtp_server_esmtp(const struct smtp_server *s)
{
	return s->esmtp;
}

/* 1 after the TLS handshake. */
int
smtp_server_tls_active(const struct smtp_server *s)
{
	return s->tls_active;
}

/* TLS protocol version as the owner reported it. */
const char *
smtp_server_tls_version(const struct smtp_server *s)
{
	return s->tls_version;
}

/* TLS cipher as the owner reported it. */
const char *
smtp_server_tls_cipher(const struct smtp_server *s)
{
	return s->tls_cipher;
}

/* Protocol errors counted so far. */
int
smtp_server_errors(const struct smtp_server *s)
{
	return s->errors;
}

/* Content octets forwarded in the current or last DATA. */
uint64_t
smtp_server_message_size(const struct smtp_server *s)
{
	return s->state == SMTP_SERVER_DATA_BODY ? s->tx.size : s->last_size;
}
