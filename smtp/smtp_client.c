/*
 * smtp_client.c - backend SMTP client state machine (no I/O).
 *
 * CONTRACT
 *	See smtp_client.h.  One switch over the state dispatches each
 *	complete reply; every transition goes through client_enter_state().
 *	Commands are formatted into fixed buffers inside the client with a
 *	bounded builder (struct client_buf): an overflow refuses the command.
 *
 * RE-ENTRANCY
 *	Every public function that can make a callback runs inside a frame
 *	(client_frame_enter/leave).  smtp_client_free() inside a frame only
 *	marks the client dead; the outermost frame frees it on the way out.
 *	Code after a callback checks c->dead (through client_alive() or the
 *	callback helpers, which do nothing once dead) and never touches
 *	anything but the struct, which is still allocated.
 */
#include "smtp/smtp_client.h"
#include "smtp/smtp_replyparse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CLIENT_CMD_MAX		2048	/* MAIL/RCPT with DSN params (RFC 3461) */
#define CLIENT_XCMD_MAX		512	/* XCLIENT/XFORWARD line, CR LF included */
#define CLIENT_ATTR_MAX		255	/* encoded attribute value (READMEs) */
#define CLIENT_NAME_MAX		255	/* host names, HELO arguments */
#define CLIENT_ADDR_MAX		64	/* numeric address text */
#define CLIENT_WHY_MAX		160

#define CLIENT_XCLIENT_SENDABLE	(SMTP_CLIENT_ATTR_NAME | SMTP_CLIENT_ATTR_ADDR | \
	SMTP_CLIENT_ATTR_PORT | SMTP_CLIENT_ATTR_PROTO | SMTP_CLIENT_ATTR_HELO | \
	SMTP_CLIENT_ATTR_DESTADDR | SMTP_CLIENT_ATTR_DESTPORT)
#define CLIENT_XFORWARD_SENDABLE (SMTP_CLIENT_ATTR_NAME | SMTP_CLIENT_ATTR_ADDR | \
	SMTP_CLIENT_ATTR_PORT | SMTP_CLIENT_ATTR_PROTO | SMTP_CLIENT_ATTR_HELO | \
	SMTP_CLIENT_ATTR_SOURCE)

/* Where the content check is inside the current line (see data_write). */
enum client_scan {
	CLIENT_SCAN_BOL = 0,		/* at the start of a line */
	CLIENT_SCAN_DOT,		/* "." at the start of a line */
	CLIENT_SCAN_TEXT,		/* inside a line */
	CLIENT_SCAN_CR,			/* after CR */
	CLIENT_SCAN_DOTCR,		/* ".\r" at the start of a line */
	CLIENT_SCAN_BAD			/* not wire form */
};

/* Copy of struct smtp_client_peer; "" and 0 mean unknown. */
struct client_peer {
	int	set;
	char	addr[CLIENT_ADDR_MAX];
	unsigned port;
	char	name[CLIENT_NAME_MAX + 1];
	char	helo[CLIENT_NAME_MAX + 1];
	int	esmtp;
	char	destaddr[CLIENT_ADDR_MAX];
	unsigned destport;
};

struct smtp_client {
	enum smtp_client_state state;
	const struct smtp_client_callbacks *cb;
	void	*ctx;
	int	frames;			/* client calls running */
	int	dead;			/* freed by the owner inside a frame */
	int	in_feed;

	char	helo_name[CLIENT_NAME_MAX + 1];
	enum smtp_client_tls_mode tls;
	enum smtp_client_xclient_mode xclient;
	enum smtp_client_xforward_mode xforward;
	struct client_peer peer;

	/* Session: reset by each EHLO. */
	unsigned caps;
	unsigned xclient_attrs;
	unsigned xforward_attrs;
	uint64_t size_max;
	int	esmtp;
	char	ehlo_arg[CLIENT_NAME_MAX + 1];	/* argument of the last EHLO */
	int	tls_active;
	int	tls_decided;		/* STARTTLS considered once */
	int	xclient_done;
	int	ehlo_queued;		/* EHLO pipelined behind the XCLIENT */
	int	probing;		/* RSET of smtp_client_reuse() */
	unsigned attr_sent;		/* attributes of the X-command sequence */

	/* Transaction. */
	int	rcpt_ok;
	enum client_scan scan;
	char	mail_cmd[CLIENT_CMD_MAX];	/* MAIL waiting behind XFORWARD */
	size_t	mail_len;

	char	cmd[CLIENT_CMD_MAX];
	char	why[CLIENT_WHY_MAX];
	struct smtp_replyparse parser;
};

/* Bounded output builder; overflow is sticky. */
struct client_buf {
	char	*p;
	size_t	cap;
	size_t	len;
	int	overflow;
};

/* One XCLIENT/XFORWARD attribute, in sending order. */
struct client_attr_def {
	unsigned bit;
	const char *name;
};

static const struct client_attr_def client_attr_defs[] = {
	{ SMTP_CLIENT_ATTR_NAME, "NAME" },
	{ SMTP_CLIENT_ATTR_ADDR, "ADDR" },
	{ SMTP_CLIENT_ATTR_PORT, "PORT" },
	{ SMTP_CLIENT_ATTR_PROTO, "PROTO" },
	{ SMTP_CLIENT_ATTR_HELO, "HELO" },
	{ SMTP_CLIENT_ATTR_DESTADDR, "DESTADDR" },
	{ SMTP_CLIENT_ATTR_DESTPORT, "DESTPORT" },
	{ SMTP_CLIENT_ATTR_SOURCE, "SOURCE" },
};
#define CLIENT_NATTR (sizeof(client_attr_defs) / sizeof(client_attr_defs[0]))

/* EHLO keywords without arguments we care about. */
struct client_cap_def {
	unsigned bit;
	const char *name;
};

static const struct client_cap_def client_cap_defs[] = {
	{ SMTP_CLIENT_CAP_PIPELINING, "PIPELINING" },
	{ SMTP_CLIENT_CAP_SIZE, "SIZE" },
	{ SMTP_CLIENT_CAP_8BITMIME, "8BITMIME" },
	{ SMTP_CLIENT_CAP_SMTPUTF8, "SMTPUTF8" },
	{ SMTP_CLIENT_CAP_DSN, "DSN" },
	{ SMTP_CLIENT_CAP_STARTTLS, "STARTTLS" },
	{ SMTP_CLIENT_CAP_ENHANCEDSTATUSCODES, "ENHANCEDSTATUSCODES" },
	{ SMTP_CLIENT_CAP_XCLIENT, "XCLIENT" },
	{ SMTP_CLIENT_CAP_XFORWARD, "XFORWARD" },
	{ SMTP_CLIENT_CAP_CHUNKING, "CHUNKING" },
};
#define CLIENT_NCAP (sizeof(client_cap_defs) / sizeof(client_cap_defs[0]))

static const char *const client_state_names[] = {
	"GREETING", "EHLO", "HELO", "STARTTLS", "TLS_WAIT", "XCLIENT",
	"READY", "XFORWARD", "MAIL", "TX", "RCPT", "DATA", "DATA_BODY",
	"DATA_END", "RSET", "QUIT", "CLOSED", "FAILED"
};

static const char *const client_step_names[] = {
	"XFORWARD", "MAIL", "RCPT", "DATA", "DATA_END", "RSET", "QUIT"
};

static void client_next_setup(struct smtp_client *);

/*
 * Bounded builder
 */

/* Starts an empty builder over p[0..cap). */
static void
client_buf_init(struct client_buf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	b->overflow = 0;
}

/* Appends n octets, or marks the builder overflowed. */
static void
client_buf_add(struct client_buf *b, const char *s, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Appends a C string. */
static void
client_buf_str(struct client_buf *b, const char *s)
{
	client_buf_add(b, s, strlen(s));
}

/* Appends an unsigned decimal number. */
static void
client_buf_u64(struct client_buf *b, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->overflow = 1;
		return;
	}
	client_buf_add(b, tmp, (size_t)n);
}

/* Appends s xtext-encoded (RFC 3461 4: "+XX" outside 33..126, '+', '='). */
static void
client_buf_xtext(struct client_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		char enc[3] = { '+', hex[ch >> 4], hex[ch & 15] };

		if (ch >= 33 && ch <= 126 && ch != '+' && ch != '=')
			client_buf_add(b, s, 1);
		else
			client_buf_add(b, enc, 3);
	}
}

/*
 * Small checks on owner-supplied strings
 */

/* 1 if s is a printable ASCII token (33..126) of 1..max octets. */
static int
client_token_ok(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 33 || (unsigned char)s[n] > 126)
			return 0;
	return n > 0 && n <= max;
}

/* 1 if a path has no control octet (CR, LF, ... would inject commands). */
static int
client_path_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* 1 if s looks like an xtext parameter value: 33..126 without '='. */
static int
client_xtext_ok(const char *s)
{
	return client_token_ok(s, CLIENT_CMD_MAX) && strchr(s, '=') == NULL;
}

/* 1 if s is a numeric address text (hex digits, '.', ':'). */
static int
client_addr_ok(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF.:");

	return s[n] == '\0' && n < CLIENT_ADDR_MAX;
}

/* Copies s (NULL = unknown) into dst[cap] if it fits, else leaves "". */
static void
client_copy_opt(char *dst, size_t cap, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	dst[0] = '\0';
	if (n > 0 && n < cap) {
		memcpy(dst, s, n);
		dst[n] = '\0';
	}
}

/* 1 if two words match case-insensitively (w is NUL-terminated). */
static int
client_word_eq(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/*
 * Frames, callbacks, states
 */

/* A client call starts: frees are deferred until it ends. */
static void
client_frame_enter(struct smtp_client *c)
{
	c->frames++;
}

/* A client call ends: performs a free requested inside it. */
static void
client_frame_leave(struct smtp_client *c)
{
	if (--c->frames == 0 && c->dead)
		free(c);
}

/* 1 while input may still be processed. */
static int
client_alive(const struct smtp_client *c)
{
	return !c->dead && c->state != SMTP_CLIENT_FAILED &&
	    c->state != SMTP_CLIENT_CLOSED && c->state != SMTP_CLIENT_TLS_WAIT;
}

/* The one place where the state changes. */
static void
client_enter_state(struct smtp_client *c, enum smtp_client_state to)
{
	enum smtp_client_state from = c->state;

	c->state = to;
	if (c->cb->trace != NULL && !c->dead && from != to)
		c->cb->trace(c->ctx, from, to);
}

/* Ends the session: FAILED, then error() once. */
static void
client_fail(struct smtp_client *c, const char *why,
    const struct smtp_client_reply *r)
{
	if (c->state == SMTP_CLIENT_FAILED)
		return;
	client_enter_state(c, SMTP_CLIENT_FAILED);
	if (!c->dead)
		c->cb->error(c->ctx, why, r);
}

/* Sends bytes; a write failure ends the session. */
static void
client_write(struct smtp_client *c, const char *data, size_t len)
{
	if (c->dead || c->state == SMTP_CLIENT_FAILED)
		return;
	if (c->cb->write(c->ctx, data, len) == -1)
		client_fail(c, "write to backend failed", NULL);
}

/* Enters state `to`, then sends cmd[0..len). */
static void
client_send(struct smtp_client *c, enum smtp_client_state to,
    const char *cmd, size_t len)
{
	client_enter_state(c, to);
	client_write(c, cmd, len);
}

/* Passes a reply to the owner. */
static void
client_answer(struct smtp_client *c, enum smtp_client_step step,
    const struct smtp_client_reply *r)
{
	if (!c->dead)
		c->cb->reply(c->ctx, step, r);
}

/* Fails with a formatted reason "<what>: <detail>". */
static void
client_failf(struct smtp_client *c, const char *what, const char *detail,
    const struct smtp_client_reply *r)
{
	int n = snprintf(c->why, sizeof(c->why), "%s: %s", what, detail);

	client_fail(c, n < 0 || (size_t)n >= sizeof(c->why) ? what : c->why, r);
}

/*
 * Session set-up
 */

/* Forgets what the last EHLO said. */
static void
client_caps_reset(struct smtp_client *c)
{
	c->caps = 0;
	c->xclient_attrs = 0;
	c->xforward_attrs = 0;
	c->size_max = 0;
	c->esmtp = 0;
}

/* Writes "<verb> <ehlo_arg>" (EHLO or HELO) without a state change. */
static void
client_hello_write(struct smtp_client *c, const char *verb)
{
	struct client_buf b;

	client_buf_init(&b, c->cmd, sizeof(c->cmd));
	client_buf_str(&b, verb);
	client_buf_str(&b, " ");
	client_buf_str(&b, c->ehlo_arg);
	client_buf_str(&b, "\r\n");
	client_write(c, b.p, b.len);		/* cannot overflow: 255 + 7 */
}

/* Sends "<verb> <name>" for EHLO or HELO. */
static void
client_send_hello(struct smtp_client *c, const char *verb,
    enum smtp_client_state to)
{
	client_enter_state(c, to);
	client_hello_write(c, verb);
}

/* Sends EHLO name, first resetting the capabilities. */
static void
client_send_ehlo(struct smtp_client *c, const char *name)
{
	client_caps_reset(c);
	client_copy_opt(c->ehlo_arg, sizeof(c->ehlo_arg), name);
	client_send_hello(c, "EHLO", SMTP_CLIENT_EHLO);
}

/* Parses "SIZE [n]": n = 0 when absent or unparsable (no known limit). */
static uint64_t
client_size_arg(const char *s, size_t len)
{
	uint64_t v = 0;
	size_t i = 0;

	while (i < len && s[i] == ' ')
		i++;
	if (i == len)
		return 0;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return v;
}

/* Reads the attribute names listed after XCLIENT / XFORWARD. */
static unsigned
client_attr_list(const char *s, size_t len)
{
	unsigned bits = 0;
	size_t i = 0, start, k;

	while (i < len) {
		while (i < len && s[i] == ' ')
			i++;
		start = i;
		while (i < len && s[i] != ' ')
			i++;
		for (k = 0; k < CLIENT_NATTR; k++)
			if (client_word_eq(s + start, i - start,
			    client_attr_defs[k].name))
				bits |= client_attr_defs[k].bit;
	}
	return bits;
}

/* Records one EHLO keyword line ("SIZE 1000", "XCLIENT NAME ADDR"). */
static void
client_capability(struct smtp_client *c, const char *s, size_t len)
{
	size_t kw = 0, k;

	while (kw < len && s[kw] != ' ')
		kw++;
	for (k = 0; k < CLIENT_NCAP; k++)
		if (client_word_eq(s, kw, client_cap_defs[k].name))
			break;
	if (k == CLIENT_NCAP)
		return;
	c->caps |= client_cap_defs[k].bit;
	if (client_cap_defs[k].bit == SMTP_CLIENT_CAP_SIZE)
		c->size_max = client_size_arg(s + kw, len - kw);
	else if (client_cap_defs[k].bit == SMTP_CLIENT_CAP_XCLIENT)
		c->xclient_attrs = client_attr_list(s + kw, len - kw);
	else if (client_cap_defs[k].bit == SMTP_CLIENT_CAP_XFORWARD)
		c->xforward_attrs = client_attr_list(s + kw, len - kw);
}

/* Called for each complete reply line: EHLO keywords (lines 2..n). */
static void
client_line(struct smtp_client *c)
{
	if (c->state == SMTP_CLIENT_EHLO && c->parser.lines >= 2 &&
	    c->parser.code / 100 == 2)
		client_capability(c, c->parser.last, c->parser.last_len);
}

/*
 * Encodes one attribute value of the peer into b (at most 255 octets,
 * [UNAVAILABLE] when unknown or too long once encoded).
 */
static void
client_attr_value(const struct smtp_client *c, unsigned bit,
    struct client_buf *out)
{
	const struct client_peer *p = &c->peer;
	char tmp[CLIENT_ATTR_MAX];
	struct client_buf b;
	const char *addr = NULL;
	unsigned port = 0;

	client_buf_init(&b, tmp, sizeof(tmp));
	if (bit == SMTP_CLIENT_ATTR_ADDR || bit == SMTP_CLIENT_ATTR_DESTADDR) {
		addr = bit == SMTP_CLIENT_ATTR_ADDR ? p->addr : p->destaddr;
		if (addr[0] != '\0' && strchr(addr, ':') != NULL)
			client_buf_str(&b, "IPV6:");
		client_buf_str(&b, addr);
	} else if (bit == SMTP_CLIENT_ATTR_PORT ||
	    bit == SMTP_CLIENT_ATTR_DESTPORT) {
		port = bit == SMTP_CLIENT_ATTR_PORT ? p->port : p->destport;
		if (port != 0)
			client_buf_u64(&b, port);
	} else if (bit == SMTP_CLIENT_ATTR_NAME)
		client_buf_xtext(&b, p->name);
	else if (bit == SMTP_CLIENT_ATTR_HELO)
		client_buf_xtext(&b, p->helo);
	else if (bit == SMTP_CLIENT_ATTR_PROTO)
		client_buf_str(&b, p->esmtp ? "ESMTP" : "SMTP");
	else if (bit == SMTP_CLIENT_ATTR_SOURCE)
		client_buf_str(&b, "REMOTE");
	if (b.overflow || b.len == 0)
		client_buf_str(out, "[UNAVAILABLE]");
	else
		client_buf_add(out, b.p, b.len);
}

/*
 * Formats into c->cmd the next "<verb> A=v ..." command (at most 512
 * octets) with the attributes of `want` not sent yet in this sequence.
 * Returns its length, 0 when every attribute has been sent.
 */
static size_t
client_xcmd(struct smtp_client *c, const char *verb, unsigned want)
{
	char piece[CLIENT_ATTR_MAX + 16];
	struct client_buf b, pb;
	size_t k;
	int count = 0;

	client_buf_init(&b, c->cmd, CLIENT_XCMD_MAX);
	client_buf_str(&b, verb);
	for (k = 0; k < CLIENT_NATTR; k++) {
		unsigned bit = client_attr_defs[k].bit;

		if (!(want & bit) || (c->attr_sent & bit))
			continue;
		client_buf_init(&pb, piece, sizeof(piece));
		client_buf_str(&pb, " ");
		client_buf_str(&pb, client_attr_defs[k].name);
		client_buf_str(&pb, "=");
		client_attr_value(c, bit, &pb);
		if (b.len + pb.len + 2 > CLIENT_XCMD_MAX)
			break;		/* next command; one always fits */
		client_buf_add(&b, pb.p, pb.len);
		c->attr_sent |= bit;
		count++;
	}
	client_buf_str(&b, "\r\n");
	return count > 0 && !b.overflow ? b.len : 0;
}

/* Attributes the next XCLIENT sequence would carry. */
static unsigned
client_xclient_want(const struct smtp_client *c)
{
	return c->xclient_attrs & CLIENT_XCLIENT_SENDABLE;
}

/*
 * Decides about XCLIENT: 1 send it, 0 skip it, -1 the mode requires it
 * and it cannot be done (error already raised).
 */
static int
client_xclient_check(struct smtp_client *c)
{
	int offered = (c->caps & SMTP_CLIENT_CAP_XCLIENT) != 0;

	if (c->xclient == SMTP_CLIENT_XCLIENT_NEVER || c->xclient_done)
		return 0;
	if (c->xclient == SMTP_CLIENT_XCLIENT_REQUIRED) {
		if (!offered || !(c->xclient_attrs & SMTP_CLIENT_ATTR_ADDR)) {
			client_fail(c, "XCLIENT required but not offered", NULL);
			return -1;
		}
		if (!c->peer.set) {
			client_fail(c, "XCLIENT required but no peer set", NULL);
			return -1;
		}
		return 1;
	}
	return offered && c->peer.set && client_xclient_want(c) != 0;
}

/* The argument of the EHLO that follows XCLIENT. */
static const char *client_xclient_ehlo_name(const struct smtp_client *c);

/*
 * Sends the next XCLIENT command of the sequence; 0 if none is left.
 * The last one carries the EHLO that must follow it in the same write
 * when the backend pipelines (XCLIENT_README: XCLIENT may be pipelined;
 * RFC 2920: EHLO ends a group), saving a round trip per connection.
 */
static int
client_send_xclient(struct smtp_client *c)
{
	size_t len = client_xcmd(c, "XCLIENT", client_xclient_want(c));

	if (len == 0)
		return 0;
	client_send(c, SMTP_CLIENT_XCLIENT, c->cmd, len);
	if ((c->caps & SMTP_CLIENT_CAP_PIPELINING) && !c->dead &&
	    (client_xclient_want(c) & ~c->attr_sent) == 0) {
		c->ehlo_queued = 1;
		client_copy_opt(c->ehlo_arg, sizeof(c->ehlo_arg),
		    client_xclient_ehlo_name(c));
		client_hello_write(c, "EHLO");
	}
	return 1;
}

/*
 * Decides about STARTTLS: 1 send it, 0 go on without, -1 required and
 * not offered (error raised).  Considered once per session.
 */
static int
client_tls_check(struct smtp_client *c)
{
	if (c->tls == SMTP_CLIENT_TLS_NONE || c->tls_active || c->tls_decided)
		return 0;
	c->tls_decided = 1;
	if (c->caps & SMTP_CLIENT_CAP_STARTTLS)
		return 1;
	if (c->tls == SMTP_CLIENT_TLS_REQUIRED) {
		client_fail(c, "STARTTLS required but not offered", NULL);
		return -1;
	}
	return 0;
}

/* After EHLO/HELO succeeded: STARTTLS, XCLIENT or ready. */
static void
client_next_setup(struct smtp_client *c)
{
	int rc;

	if ((rc = client_tls_check(c)) != 0) {
		if (rc > 0)
			client_send(c, SMTP_CLIENT_STARTTLS, "STARTTLS\r\n", 10);
		return;
	}
	if ((rc = client_xclient_check(c)) != 0) {
		c->attr_sent = 0;
		if (rc > 0 && !client_send_xclient(c))
			client_fail(c, "XCLIENT: nothing to send", NULL);
		return;
	}
	client_enter_state(c, SMTP_CLIENT_READY);
	if (!c->dead)
		c->cb->ready(c->ctx);
}

/*
 * Reply handlers, one per state that waits for a reply
 */

/* Greeting: 220 -> EHLO; anything else (554, ...) ends the session. */
static void
client_on_greeting(struct smtp_client *c, const struct smtp_client_reply *r)
{
	if (r->code != 220) {
		client_fail(c, "backend refused the session", r);
		return;
	}
	client_send_ehlo(c, c->helo_name);
}

/* EHLO: 2xx -> next set-up step; 5xx -> HELO; else fail. */
static void
client_on_ehlo(struct smtp_client *c, const struct smtp_client_reply *r)
{
	if (r->code / 100 == 2) {
		c->esmtp = 1;
		client_next_setup(c);
	} else if (r->code / 100 == 5) {
		client_caps_reset(c);
		client_send_hello(c, "HELO", SMTP_CLIENT_HELO);
	} else
		client_fail(c, "EHLO refused", r);
}

/* HELO: 2xx -> next set-up step without extensions. */
static void
client_on_helo(struct smtp_client *c, const struct smtp_client_reply *r)
{
	if (r->code / 100 != 2) {
		client_fail(c, "EHLO and HELO refused", r);
		return;
	}
	client_next_setup(c);
}

/* STARTTLS: 220 -> owner starts TLS; refusal fatal only if required. */
static void
client_on_starttls(struct smtp_client *c, const struct smtp_client_reply *r,
    int more)
{
	if (r->code == 220) {
		if (more) {
			client_fail(c, "plaintext after STARTTLS reply", r);
			return;
		}
		client_enter_state(c, SMTP_CLIENT_TLS_WAIT);
		if (!c->dead)
			c->cb->starttls(c->ctx);
	} else if (r->code / 100 == 2 || r->code / 100 == 3)
		client_fail(c, "unexpected reply to STARTTLS", r);
	else if (c->tls == SMTP_CLIENT_TLS_REQUIRED)
		client_fail(c, "STARTTLS refused", r);
	else
		client_next_setup(c);
}

/*
 * 1 if the peer's HELO name may be used as our EHLO argument: only the
 * characters of a domain or an address literal, so that the backend
 * never sees junk from us.
 */
static int
client_peer_helo_ok(const struct smtp_client *c)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._[]:";
	size_t n = strspn(c->peer.helo, ok);

	return n > 0 && c->peer.helo[n] == '\0';
}

static const char *
client_xclient_ehlo_name(const struct smtp_client *c)
{
	return client_peer_helo_ok(c) ? c->peer.helo : c->helo_name;
}

/*
 * XCLIENT: 2xx (a new greeting) -> next XCLIENT or EHLO again (already
 * sent when pipelined: then only its reply is awaited).
 */
static void
client_on_xclient(struct smtp_client *c, const struct smtp_client_reply *r)
{
	if (r->code / 100 != 2) {
		client_fail(c, "XCLIENT refused", r);
		return;
	}
	if (c->ehlo_queued) {
		c->ehlo_queued = 0;
		c->xclient_done = 1;
		client_caps_reset(c);
		client_enter_state(c, SMTP_CLIENT_EHLO);
		return;
	}
	if (client_send_xclient(c))
		return;
	c->xclient_done = 1;
	client_send_ehlo(c, client_xclient_ehlo_name(c));
}

/*
 * Transaction reply handlers
 */

/* XFORWARD: 2xx -> next XFORWARD or the pending MAIL. */
static void
client_on_xforward(struct smtp_client *c, const struct smtp_client_reply *r)
{
	size_t len;

	if (r->code / 100 == 2) {
		len = client_xcmd(c, "XFORWARD",
		    c->xforward_attrs & CLIENT_XFORWARD_SENDABLE);
		if (len > 0)
			client_send(c, SMTP_CLIENT_XFORWARD, c->cmd, len);
		else
			client_send(c, SMTP_CLIENT_MAIL, c->mail_cmd,
			    c->mail_len);
	} else if (r->code / 100 == 3)
		client_fail(c, "unexpected reply to XFORWARD", r);
	else {
		client_enter_state(c, SMTP_CLIENT_READY);
		client_answer(c, SMTP_CLIENT_STEP_XFORWARD, r);
	}
}

/* MAIL: 2xx opens the transaction. */
static void
client_on_mail(struct smtp_client *c, const struct smtp_client_reply *r)
{
	if (r->code / 100 == 3) {
		client_fail(c, "unexpected reply to MAIL", r);
		return;
	}
	c->rcpt_ok = 0;
	client_enter_state(c, r->code / 100 == 2 ? SMTP_CLIENT_TX :
	    SMTP_CLIENT_READY);
	client_answer(c, SMTP_CLIENT_STEP_MAIL, r);
}

/* RCPT: 2xx counts the recipient. */
static void
client_on_rcpt(struct smtp_client *c, const struct smtp_client_reply *r)
{
	if (r->code / 100 == 3) {
		client_fail(c, "unexpected reply to RCPT", r);
		return;
	}
	if (r->code / 100 == 2)
		c->rcpt_ok++;
	client_enter_state(c, SMTP_CLIENT_TX);
	client_answer(c, SMTP_CLIENT_STEP_RCPT, r);
}

/* DATA: 354 -> content; 4xx/5xx leave the transaction open (RSET it). */
static void
client_on_data(struct smtp_client *c, const struct smtp_client_reply *r)
{
	if (r->code == 354) {
		c->scan = CLIENT_SCAN_BOL;
		client_enter_state(c, SMTP_CLIENT_DATA_BODY);
	} else if (r->code / 100 == 4 || r->code / 100 == 5)
		client_enter_state(c, SMTP_CLIENT_TX);
	else {
		client_fail(c, "unexpected reply to DATA", r);
		return;
	}
	client_answer(c, SMTP_CLIENT_STEP_DATA, r);
}

/* End of data: any final reply ends the transaction. */
static void
client_on_data_end(struct smtp_client *c, const struct smtp_client_reply *r)
{
	if (r->code / 100 == 3) {
		client_fail(c, "unexpected reply to end of data", r);
		return;
	}
	c->rcpt_ok = 0;
	client_enter_state(c, SMTP_CLIENT_READY);
	client_answer(c, SMTP_CLIENT_STEP_DATA_END, r);
}

/* RSET: 2xx -> READY; a refused RSET leaves an unknown state: fail. */
static void
client_on_rset(struct smtp_client *c, const struct smtp_client_reply *r)
{
	if (r->code / 100 != 2) {
		client_fail(c, "RSET refused", r);
		return;
	}
	c->rcpt_ok = 0;
	client_enter_state(c, SMTP_CLIENT_READY);
	if (c->probing) {
		c->probing = 0;
		if (!c->dead)
			c->cb->ready(c->ctx);
		return;
	}
	client_answer(c, SMTP_CLIENT_STEP_RSET, r);
}

/* QUIT: whatever the answer, the session is over. */
static void
client_on_quit(struct smtp_client *c, const struct smtp_client_reply *r)
{
	client_enter_state(c, SMTP_CLIENT_CLOSED);
	client_answer(c, SMTP_CLIENT_STEP_QUIT, r);
}

/* Fills the owner's view of the reply the parser just completed. */
static void
client_view(const struct smtp_client *c, struct smtp_client_reply *r)
{
	r->code = c->parser.code;
	r->enhanced = c->parser.enhanced;
	r->text = c->parser.text;
	r->text_len = c->parser.text_len;
	r->lines = c->parser.lines;
	r->truncated = c->parser.truncated;
	r->local = 0;
}

/* Dispatches a complete reply; more = unread bytes follow it. */
static void
client_reply(struct smtp_client *c, int more)
{
	struct smtp_client_reply r;

	client_view(c, &r);
	if (r.code == 421 && c->state != SMTP_CLIENT_QUIT) {
		client_fail(c, "backend closing the session (421)", &r);
		return;
	}
	switch (c->state) {
	case SMTP_CLIENT_GREETING:	client_on_greeting(c, &r); break;
	case SMTP_CLIENT_EHLO:		client_on_ehlo(c, &r); break;
	case SMTP_CLIENT_HELO:		client_on_helo(c, &r); break;
	case SMTP_CLIENT_STARTTLS:	client_on_starttls(c, &r, more); break;
	case SMTP_CLIENT_XCLIENT:	client_on_xclient(c, &r); break;
	case SMTP_CLIENT_XFORWARD:	client_on_xforward(c, &r); break;
	case SMTP_CLIENT_MAIL:		client_on_mail(c, &r); break;
	case SMTP_CLIENT_RCPT:		client_on_rcpt(c, &r); break;
	case SMTP_CLIENT_DATA:		client_on_data(c, &r); break;
	case SMTP_CLIENT_DATA_END:	client_on_data_end(c, &r); break;
	case SMTP_CLIENT_RSET:		client_on_rset(c, &r); break;
	case SMTP_CLIENT_QUIT:		client_on_quit(c, &r); break;
	case SMTP_CLIENT_READY:
	case SMTP_CLIENT_TX:
	case SMTP_CLIENT_DATA_BODY:
	case SMTP_CLIENT_TLS_WAIT:
	case SMTP_CLIENT_CLOSED:
	case SMTP_CLIENT_FAILED:
		client_fail(c, "unexpected reply from backend", &r);
		break;
	}
}

/*
 * Life cycle
 */

/* 1 if the callbacks and modes are usable. */
static int
client_config_ok(const struct smtp_client_config *cfg,
    const struct smtp_client_callbacks *cb)
{
	if (cfg == NULL || cb == NULL || cb->write == NULL ||
	    cb->ready == NULL || cb->reply == NULL || cb->starttls == NULL ||
	    cb->error == NULL || cfg->helo_name == NULL)
		return 0;
	if ((unsigned)cfg->tls > SMTP_CLIENT_TLS_REQUIRED ||
	    (unsigned)cfg->xclient > SMTP_CLIENT_XCLIENT_REQUIRED ||
	    (unsigned)cfg->xforward > SMTP_CLIENT_XFORWARD_AUTO)
		return 0;
	return client_token_ok(cfg->helo_name, CLIENT_NAME_MAX);
}

/* Creates a client waiting for the greeting (see smtp_client.h). */
struct smtp_client *
smtp_client_new(const struct smtp_client_config *config,
    const struct smtp_client_callbacks *cb, void *ctx)
{
	struct smtp_client *c = NULL;

	if (!client_config_ok(config, cb))
		goto fail;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->cb = cb;
	c->ctx = ctx;
	c->state = SMTP_CLIENT_GREETING;
	client_copy_opt(c->helo_name, sizeof(c->helo_name), config->helo_name);
	c->tls = config->tls;
	c->xclient = config->xclient;
	c->xforward = config->xforward;
	smtp_replyparse_init(&c->parser);
	if (smtp_client_set_peer(c, config->peer) == -1)
		goto fail;
	return c;
fail:
	free(c);
	return NULL;
}

/* Releases the client (NULL-safe); deferred while a client call runs. */
void
smtp_client_free(struct smtp_client *c)
{
	if (c == NULL)
		return;
	if (c->frames > 0) {
		c->dead = 1;
		return;
	}
	free(c);
}

/* Replaces the peer attributes; -1 if an address is not numeric. */
int
smtp_client_set_peer(struct smtp_client *c,
    const struct smtp_client_peer *peer)
{
	struct client_peer *p = &c->peer;

	if (peer == NULL) {
		memset(p, 0, sizeof(*p));
		return 0;
	}
	if ((peer->addr != NULL && !client_addr_ok(peer->addr)) ||
	    (peer->destaddr != NULL && !client_addr_ok(peer->destaddr)) ||
	    peer->port > 65535 || peer->destport > 65535)
		return -1;
	p->set = 1;
	client_copy_opt(p->addr, sizeof(p->addr), peer->addr);
	client_copy_opt(p->destaddr, sizeof(p->destaddr), peer->destaddr);
	client_copy_opt(p->name, sizeof(p->name), peer->name);
	client_copy_opt(p->helo, sizeof(p->helo), peer->helo);
	p->port = peer->port;
	p->destport = peer->destport;
	p->esmtp = peer->esmtp != 0;
	return 0;
}

/* Feeds backend bytes (see smtp_client.h). */
int
smtp_client_feed(struct smtp_client *c, const char *data, size_t len)
{
	enum smtp_replyparse_status st;
	size_t off = 0, used;

	if (c == NULL || c->dead || c->in_feed ||
	    c->state == SMTP_CLIENT_FAILED || c->state == SMTP_CLIENT_CLOSED)
		return -1;
	client_frame_enter(c);
	c->in_feed = 1;
	if (c->state == SMTP_CLIENT_TLS_WAIT && len > 0)
		client_fail(c, "plaintext after STARTTLS reply", NULL);
	while (off < len && client_alive(c)) {
		st = smtp_replyparse_feed(&c->parser, data + off, len - off,
		    &used);
		off += used;
		if (st == SMTP_REPLYPARSE_LINE || st == SMTP_REPLYPARSE_DONE)
			client_line(c);
		if (st == SMTP_REPLYPARSE_DONE)
			client_reply(c, off < len);
		else if (st == SMTP_REPLYPARSE_ERROR)
			client_failf(c, "malformed reply from backend",
			    c->parser.error, NULL);
	}
	c->in_feed = 0;
	client_frame_leave(c);
	return 0;
}

/* The backend closed the connection. */
void
smtp_client_eof(struct smtp_client *c)
{
	if (c == NULL || c->dead || c->state == SMTP_CLIENT_FAILED)
		return;
	client_frame_enter(c);
	if (c->state == SMTP_CLIENT_QUIT || c->state == SMTP_CLIENT_CLOSED)
		client_enter_state(c, SMTP_CLIENT_CLOSED);
	else
		client_fail(c, "connection closed by backend", NULL);
	client_frame_leave(c);
}

/* The owner's timer for the current class expired. */
void
smtp_client_timeout(struct smtp_client *c)
{
	static const char *const why[] = {
		"idle timeout",
		"timeout waiting for greeting",
		"timeout waiting for reply",
		"timeout waiting for reply to DATA",
		"timeout sending message content",
		"timeout waiting for reply to end of data"
	};

	if (c == NULL || c->dead || c->state == SMTP_CLIENT_FAILED ||
	    c->state == SMTP_CLIENT_CLOSED)
		return;
	client_frame_enter(c);
	client_fail(c, why[smtp_client_timeout_class(c)], NULL);
	client_frame_leave(c);
}

/* TLS is up: everything learned before is forgotten, EHLO again. */
int
smtp_client_tls_started(struct smtp_client *c)
{
	if (c == NULL || c->dead || c->state != SMTP_CLIENT_TLS_WAIT)
		return -1;
	client_frame_enter(c);
	c->tls_active = 1;
	smtp_replyparse_init(&c->parser);
	client_send_ehlo(c, c->helo_name);
	client_frame_leave(c);
	return 0;
}

/*
 * Transaction commands
 */

/* Appends the MAIL parameters the backend supports; -1 if one is bad. */
static int
client_mail_params(const struct smtp_client *c, struct client_buf *b,
    const struct smtp_client_mail_params *mp)
{
	if (mp->envid != NULL && !client_xtext_ok(mp->envid))
		return -1;
	if (mp->size > 0 && (c->caps & SMTP_CLIENT_CAP_SIZE)) {
		client_buf_str(b, " SIZE=");
		client_buf_u64(b, mp->size);
	}
	if (mp->body != SMTP_CLIENT_BODY_NONE &&
	    (c->caps & SMTP_CLIENT_CAP_8BITMIME))
		client_buf_str(b, mp->body == SMTP_CLIENT_BODY_7BIT ?
		    " BODY=7BIT" : " BODY=8BITMIME");
	if (mp->smtputf8)
		client_buf_str(b, " SMTPUTF8");
	if (c->caps & SMTP_CLIENT_CAP_DSN) {
		if (mp->ret != SMTP_CLIENT_RET_NONE)
			client_buf_str(b, mp->ret == SMTP_CLIENT_RET_FULL ?
			    " RET=FULL" : " RET=HDRS");
		if (mp->envid != NULL) {
			client_buf_str(b, " ENVID=");
			client_buf_str(b, mp->envid);
		}
	}
	return 0;
}

/* Answers MAIL locally: SMTPUTF8 needed, next hop lacks it. */
static void
client_refuse_smtputf8(struct smtp_client *c)
{
	static const char text[] =
	    "SMTPUTF8 is required but not supported by the next hop";
	struct smtp_client_reply r = { 553, "5.6.7", text, sizeof(text) - 1,
	    1, 0, 1 };

	client_answer(c, SMTP_CLIENT_STEP_MAIL, &r);
}

/* 1 if XFORWARD goes before this MAIL. */
static int
client_xforward_check(const struct smtp_client *c)
{
	return c->xforward == SMTP_CLIENT_XFORWARD_AUTO && c->peer.set &&
	    !c->xclient_done && (c->caps & SMTP_CLIENT_CAP_XFORWARD) &&
	    (c->xforward_attrs & CLIENT_XFORWARD_SENDABLE) != 0;
}

/* MAIL body: formats, then sends XFORWARD first or MAIL directly. */
static int
client_mail(struct smtp_client *c, const char *sender,
    const struct smtp_client_mail_params *mp)
{
	static const struct smtp_client_mail_params none;
	struct client_buf b;
	size_t len;

	if (c->state != SMTP_CLIENT_READY || sender == NULL ||
	    !client_path_ok(sender))
		return -1;
	if (mp == NULL)
		mp = &none;
	client_buf_init(&b, c->mail_cmd, sizeof(c->mail_cmd));
	client_buf_str(&b, "MAIL FROM:<");
	client_buf_str(&b, sender);
	client_buf_str(&b, ">");
	if (client_mail_params(c, &b, mp) == -1)
		return -1;
	client_buf_str(&b, "\r\n");
	if (b.overflow)
		return -1;
	if (mp->smtputf8 && !(c->caps & SMTP_CLIENT_CAP_SMTPUTF8)) {
		client_refuse_smtputf8(c);
		return 0;
	}
	c->mail_len = b.len;
	c->attr_sent = 0;
	if (client_xforward_check(c) && (len = client_xcmd(c, "XFORWARD",
	    c->xforward_attrs & CLIENT_XFORWARD_SENDABLE)) > 0)
		client_send(c, SMTP_CLIENT_XFORWARD, c->cmd, len);
	else
		client_send(c, SMTP_CLIENT_MAIL, c->mail_cmd, c->mail_len);
	return 0;
}

/* Sends [XFORWARD ...] MAIL FROM:<sender> [params]. */
int
smtp_client_mail(struct smtp_client *c, const char *sender,
    const struct smtp_client_mail_params *params)
{
	int rc;

	if (c == NULL || c->dead)
		return -1;
	client_frame_enter(c);
	rc = client_mail(c, sender, params);
	client_frame_leave(c);
	return rc;
}

/* Appends NOTIFY= (RFC 3461 order) to b. */
static void
client_notify(struct client_buf *b, unsigned notify)
{
	static const struct { unsigned bit; const char *name; } n[] = {
		{ SMTP_CLIENT_NOTIFY_SUCCESS, "SUCCESS" },
		{ SMTP_CLIENT_NOTIFY_FAILURE, "FAILURE" },
		{ SMTP_CLIENT_NOTIFY_DELAY, "DELAY" },
	};
	size_t k;
	const char *sep = "=";

	client_buf_str(b, " NOTIFY");
	if (notify & SMTP_CLIENT_NOTIFY_NEVER) {
		client_buf_str(b, "=NEVER");
		return;
	}
	for (k = 0; k < sizeof(n) / sizeof(n[0]); k++)
		if (notify & n[k].bit) {
			client_buf_str(b, sep);
			client_buf_str(b, n[k].name);
			sep = ",";
		}
}

/* RCPT body: formats and sends RCPT TO:<rcpt> [params]. */
static int
client_rcpt(struct smtp_client *c, const char *rcpt,
    const struct smtp_client_rcpt_params *rp)
{
	struct client_buf b;

	if (c->state != SMTP_CLIENT_TX || rcpt == NULL || rcpt[0] == '\0' ||
	    !client_path_ok(rcpt))
		return -1;
	if (rp != NULL && rp->orcpt != NULL && !client_xtext_ok(rp->orcpt))
		return -1;
	if (rp != NULL && (rp->notify & ~15u) != 0)
		return -1;
	client_buf_init(&b, c->cmd, sizeof(c->cmd));
	client_buf_str(&b, "RCPT TO:<");
	client_buf_str(&b, rcpt);
	client_buf_str(&b, ">");
	if (rp != NULL && (c->caps & SMTP_CLIENT_CAP_DSN)) {
		if (rp->notify != 0)
			client_notify(&b, rp->notify);
		if (rp->orcpt != NULL) {
			client_buf_str(&b, " ORCPT=");
			client_buf_str(&b, rp->orcpt);
		}
	}
	client_buf_str(&b, "\r\n");
	if (b.overflow)
		return -1;
	client_send(c, SMTP_CLIENT_RCPT, b.p, b.len);
	return 0;
}

/* Sends RCPT TO:<rcpt> [params]. */
int
smtp_client_rcpt(struct smtp_client *c, const char *rcpt,
    const struct smtp_client_rcpt_params *params)
{
	int rc;

	if (c == NULL || c->dead)
		return -1;
	client_frame_enter(c);
	rc = client_rcpt(c, rcpt, params);
	client_frame_leave(c);
	return rc;
}

/* Sends a fixed command if the caller found the state right. */
static int
client_simple(struct smtp_client *c, int allowed, const char *cmd,
    enum smtp_client_state to)
{
	if (c == NULL || c->dead || !allowed)
		return -1;
	client_frame_enter(c);
	client_send(c, to, cmd, strlen(cmd));
	client_frame_leave(c);
	return 0;
}

/* Sends DATA once a recipient was accepted. */
int
smtp_client_data(struct smtp_client *c)
{
	return client_simple(c, c != NULL && c->state == SMTP_CLIENT_TX &&
	    c->rcpt_ok > 0, "DATA\r\n", SMTP_CLIENT_DATA);
}

/* Sends RSET. */
int
smtp_client_rset(struct smtp_client *c)
{
	return client_simple(c, c != NULL && (c->state == SMTP_CLIENT_READY ||
	    c->state == SMTP_CLIENT_TX), "RSET\r\n", SMTP_CLIENT_RSET);
}

/*
 * 1 if the identity XCLIENT gave the connection can be replaced for a new
 * peer: XCLIENT still offered with attributes we send, and a peer to send.
 */
static int
client_xclient_replaceable(const struct smtp_client *c,
    const struct smtp_client_peer *peer)
{
	return peer != NULL && (c->caps & SMTP_CLIENT_CAP_XCLIENT) &&
	    client_xclient_want(c) != 0 &&
	    c->xclient != SMTP_CLIENT_XCLIENT_NEVER;
}

/* A new session over this established connection (see the header). */
int
smtp_client_reuse(struct smtp_client *c, const struct smtp_client_peer *peer)
{
	int rc;

	if (c == NULL || c->dead || c->frames > 0 ||
	    c->state != SMTP_CLIENT_READY)
		return -1;
	if (c->xclient_done && !client_xclient_replaceable(c, peer))
		return -1;	/* the backend would keep the old identity */
	if (smtp_client_set_peer(c, peer) == -1)
		return -1;
	c->xclient_done = 0;
	c->rcpt_ok = 0;
	client_frame_enter(c);
	rc = client_xclient_check(c);
	if (rc > 0) {
		c->attr_sent = 0;
		if (!client_send_xclient(c))
			client_fail(c, "XCLIENT: nothing to send", NULL);
	} else if (rc == 0) {
		c->probing = 1;
		client_send(c, SMTP_CLIENT_RSET, "RSET\r\n", 6);
	}
	client_frame_leave(c);
	return 0;
}

/* Sends QUIT. */
int
smtp_client_quit(struct smtp_client *c)
{
	return client_simple(c, c != NULL && (c->state == SMTP_CLIENT_READY ||
	    c->state == SMTP_CLIENT_TX), "QUIT\r\n", SMTP_CLIENT_QUIT);
}

/* Advances the content check over one octet. */
static enum client_scan
client_scan_octet(enum client_scan s, char ch)
{
	switch (s) {
	case CLIENT_SCAN_BOL:
		return ch == '.' ? CLIENT_SCAN_DOT : ch == '\r' ?
		    CLIENT_SCAN_CR : ch == '\n' ? CLIENT_SCAN_BAD :
		    CLIENT_SCAN_TEXT;
	case CLIENT_SCAN_DOT:
	case CLIENT_SCAN_TEXT:
		return ch == '\r' ? (s == CLIENT_SCAN_DOT ? CLIENT_SCAN_DOTCR :
		    CLIENT_SCAN_CR) : ch == '\n' ? CLIENT_SCAN_BAD :
		    CLIENT_SCAN_TEXT;
	case CLIENT_SCAN_CR:
		return ch == '\n' ? CLIENT_SCAN_BOL : CLIENT_SCAN_BAD;
	case CLIENT_SCAN_DOTCR:		/* "." CR LF would end the message */
	case CLIENT_SCAN_BAD:
		break;
	}
	return CLIENT_SCAN_BAD;
}

/* Checks a content chunk; the new scan state or CLIENT_SCAN_BAD. */
static enum client_scan
client_scan(enum client_scan s, const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len && s != CLIENT_SCAN_BAD; i++)
		s = client_scan_octet(s, data[i]);
	return s;
}

/* Passes content through after checking it is in wire form. */
int
smtp_client_data_write(struct smtp_client *c, const char *data, size_t len)
{
	enum client_scan s;

	if (c == NULL || c->dead || c->state != SMTP_CLIENT_DATA_BODY ||
	    (data == NULL && len > 0))
		return -1;
	client_frame_enter(c);
	s = client_scan(c->scan, data, len);
	if (s == CLIENT_SCAN_BAD)
		client_enter_state(c, SMTP_CLIENT_FAILED);
	else {
		c->scan = s;
		if (len > 0)
			client_write(c, data, len);
	}
	client_frame_leave(c);
	return s == CLIENT_SCAN_BAD ? -1 : 0;
}

/* Writes the end-of-data sequence, completing the last line if needed. */
int
smtp_client_data_end(struct smtp_client *c)
{
	const char *tail;
	enum client_scan s;

	if (c == NULL || c->dead || c->state != SMTP_CLIENT_DATA_BODY)
		return -1;
	s = c->scan;
	if (s == CLIENT_SCAN_BOL)
		tail = ".\r\n";
	else if (s == CLIENT_SCAN_CR)
		tail = "\n.\r\n";
	else if (s == CLIENT_SCAN_TEXT)
		tail = "\r\n.\r\n";
	else
		tail = NULL;		/* ends in "." or ".\r": refused */
	client_frame_enter(c);
	if (tail == NULL)
		client_enter_state(c, SMTP_CLIENT_FAILED);
	else
		client_send(c, SMTP_CLIENT_DATA_END, tail, strlen(tail));
	client_frame_leave(c);
	return tail == NULL ? -1 : 0;
}

/*
 * Accessors
 */

/* Current state. */
enum smtp_client_state
smtp_client_state(const struct smtp_client *c)
{
	return c->state;
}

/* Upper-case name of a state, for logs. */
const char *
smtp_client_state_name(enum smtp_client_state state)
{
	if ((unsigned)state >= sizeof(client_state_names) /
	    sizeof(client_state_names[0]))
		return "?";
	return client_state_names[state];
}

/* Upper-case name of a step, for logs. */
const char *
smtp_client_step_name(enum smtp_client_step step)
{
	if ((unsigned)step >= sizeof(client_step_names) /
	    sizeof(client_step_names[0]))
		return "?";
	return client_step_names[step];
}

/* Which RFC 5321 4.5.3.2 timeout applies now. */
enum smtp_client_timeout
smtp_client_timeout_class(const struct smtp_client *c)
{
	switch (c->state) {
	case SMTP_CLIENT_GREETING:
		return SMTP_CLIENT_TIMEOUT_GREETING;
	case SMTP_CLIENT_EHLO:
	case SMTP_CLIENT_HELO:
	case SMTP_CLIENT_STARTTLS:
	case SMTP_CLIENT_XCLIENT:
	case SMTP_CLIENT_XFORWARD:
	case SMTP_CLIENT_MAIL:
	case SMTP_CLIENT_RCPT:
	case SMTP_CLIENT_RSET:
	case SMTP_CLIENT_QUIT:
		return SMTP_CLIENT_TIMEOUT_COMMAND;
	case SMTP_CLIENT_DATA:
		return SMTP_CLIENT_TIMEOUT_DATA_INIT;
	case SMTP_CLIENT_DATA_BODY:
		return SMTP_CLIENT_TIMEOUT_DATA_BLOCK;
	case SMTP_CLIENT_DATA_END:
		return SMTP_CLIENT_TIMEOUT_DATA_END;
	case SMTP_CLIENT_TLS_WAIT:
	case SMTP_CLIENT_READY:
	case SMTP_CLIENT_TX:
	case SMTP_CLIENT_CLOSED:
	case SMTP_CLIENT_FAILED:
		break;
	}
	return SMTP_CLIENT_TIMEOUT_NONE;
}

/* RFC 5321 4.5.3.2 minimum for a timeout class, in seconds. */
unsigned
smtp_client_timeout_seconds(enum smtp_client_timeout t)
{
	switch (t) {
	case SMTP_CLIENT_TIMEOUT_GREETING:	return 300;
	case SMTP_CLIENT_TIMEOUT_COMMAND:	return 300;
	case SMTP_CLIENT_TIMEOUT_DATA_INIT:	return 120;
	case SMTP_CLIENT_TIMEOUT_DATA_BLOCK:	return 180;
	case SMTP_CLIENT_TIMEOUT_DATA_END:	return 600;
	case SMTP_CLIENT_TIMEOUT_NONE:		break;
	}
	return 0;
}

/* Capability bits of the last EHLO. */
unsigned
smtp_client_caps(const struct smtp_client *c)
{
	return c->caps;
}

/* 1 if the last EHLO announced cap. */
int
smtp_client_has(const struct smtp_client *c, enum smtp_client_cap cap)
{
	return (c->caps & (unsigned)cap) != 0;
}

/* SIZE limit of the last EHLO, 0 if none given. */
uint64_t
smtp_client_size_max(const struct smtp_client *c)
{
	return c->size_max;
}

/* XCLIENT attributes listed by the last EHLO. */
unsigned
smtp_client_xclient_attrs(const struct smtp_client *c)
{
	return c->xclient_attrs;
}

/* XFORWARD attributes listed by the last EHLO. */
unsigned
smtp_client_xforward_attrs(const struct smtp_client *c)
{
	return c->xforward_attrs;
}

/* 1 if the last EHLO was accepted (0 after the HELO fallback). */
int
smtp_client_esmtp(const struct smtp_client *c)
{
	return c->esmtp;
}

/* 1 once smtp_client_tls_started() was called. */
int
smtp_client_tls_active(const struct smtp_client *c)
{
	return c->tls_active;
}

/* 1 once the backend accepted every XCLIENT command. */
int
smtp_client_xclient_done(const struct smtp_client *c)
{
	return c->xclient_done;
}

/* Recipients accepted in the current transaction. */
int
smtp_client_rcpt_accepted(const struct smtp_client *c)
{
	return c->rcpt_ok;
}
