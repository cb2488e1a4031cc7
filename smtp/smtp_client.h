/*
 * smtp_client.h - the backend side of the relay: an SMTP client state
 * machine without I/O.
 *
 * CONTRACT
 *	One struct smtp_client drives one SMTP session to a backend MTA.  It
 *	never reads, writes or touches sockets or TLS: the owner (relay/)
 *	feeds it the backend's bytes with smtp_client_feed() and receives
 *	command bytes through the write callback.  Pure logic, libc only.
 *
 *	Session set-up runs by itself after smtp_client_new():
 *	  220 greeting -> EHLO (HELO if EHLO gets 5xx)
 *	  -> STARTTLS if the tls mode asks and the backend offers it;
 *	     on 220 the owner starts TLS and calls smtp_client_tls_started(),
 *	     which sends EHLO again (capabilities are read afresh)
 *	  -> XCLIENT if the mode and the backend allow it (one or more
 *	     commands of at most 512 octets; each 2xx answer is a new
 *	     greeting), then EHLO again
 *	  -> ready().
 *	Any failure on the way raises error() once; the owner then closes
 *	the connection and answers its own client 451 4.4.x, or relays the
 *	text when the reply is a 421.
 *
 *	Transactions: smtp_client_mail(), _rcpt(), _data(), _data_write(),
 *	_data_end(), _rset(), _quit().  Commands go one at a time: each
 *	call sends one command and the answer arrives through reply() (the
 *	relay waits for it anyway to relay it to its own client).  PIPELINING
 *	is recorded but never used.  A call in the wrong state, or with
 *	arguments that cannot be put on the wire (CR, LF, NUL, too long),
 *	returns -1 and sends nothing: that is a broken invariant of the owner.
 *	Otherwise it returns 0; a transport failure (write returned -1) is
 *	reported through error(), not through the return value.
 *
 *	A reply with code 421 to any command, an unsolicited reply, a reply
 *	code that makes no sense for the command (354 to MAIL, 250 to DATA),
 *	or a malformed reply (see smtp_replyparse.h) ends the session with
 *	error().  The answer to QUIT is passed to reply() whatever it is.
 *
 * PARAMETERS (what reaches the backend)
 *	MAIL: SIZE=n only if the backend announced SIZE; BODY= only if it
 *	announced 8BITMIME (8-bit content is still sent as is otherwise, as
 *	Postfix does; the relay cannot down-convert); RET= and ENVID= only
 *	with DSN.  SMTPUTF8 requested but not announced: nothing is sent and
 *	reply(MAIL) gets a local (r->local = 1) "553 5.6.7" at once (RFC 6531
 *	3.2 and RFC 6533: the message needs SMTPUTF8 and the next hop lacks
 *	it; the relay cannot downgrade it).  A SIZE above the backend's limit
 *	is still sent: the backend answers 552 itself.
 *	RCPT: NOTIFY= and ORCPT= only with DSN, dropped otherwise (no
 *	"relayed" DSN is generated: the relay has no queue).
 *
 * XCLIENT / XFORWARD (Postfix XCLIENT_README, XFORWARD_README)
 *	The real client's attributes come from struct smtp_client_peer.
 *	Only attributes the backend listed are sent; values are xtext
 *	encoded; an unknown value is sent as [UNAVAILABLE]; a value whose
 *	encoding exceeds 255 octets is sent as [UNAVAILABLE] too (the
 *	READMEs' limit); IPv6 ADDR/DESTADDR get the "IPV6:" prefix.  XCLIENT
 *	is preferred when both are offered and allowed; it is sent once per
 *	session, after STARTTLS.  Any 2xx accepts it (Postfix answers 220,
 *	smtp-sink 250); a refusal is an error() in both modes, so that the
 *	backend never applies its policy to the relay's own address.  Then
 *	the client sends EHLO with the peer's HELO name when it looks like a
 *	domain or address literal, else with its own name.
 *	XFORWARD is sent before each MAIL; a refusal of it is passed to
 *	reply() with step XFORWARD (MAIL was then not sent).
 *
 * DATA
 *	Content passed to smtp_client_data_write() must be in wire form:
 *	dot-stuffed, every line ending with CR LF.  It is passed through
 *	verbatim, but it is also checked, across calls: a bare CR, a bare LF
 *	or a line made of a single "." is refused (-1, nothing of that call
 *	written, the client goes to FAILED without callback) so the client
 *	can never emit an end-of-data sequence other than its own
 *	(SMTP smuggling).  smtp_client_data_end() writes ".\r\n" when the
 *	content ended with CR LF (or was empty), "\n.\r\n" after a final CR,
 *	"\r\n.\r\n" otherwise; content ending in a line that is only "."
 *	or ".\r" is refused the same way (the end would come too early).
 *	Caution: a transaction cannot be aborted in DATA_BODY.  If the
 *	relay's own client aborts (size limit, bare LF, timeout) the owner
 *	must close the backend connection and never call data_end(): that
 *	would deliver a truncated message.
 *
 * TIMEOUTS
 *	The owner keeps the timers.  smtp_client_timeout_class() says which
 *	RFC 5321 4.5.3.2 class applies in the current state;
 *	smtp_client_timeout() reports expiry (raises error()).
 *
 * OWNERSHIP AND RE-ENTRANCY
 *	smtp_client_new() makes the one allocation; smtp_client_free()
 *	(NULL-safe) releases it and may be called at any time, including
 *	from inside any callback: while a client function is running the
 *	free is deferred to its return, and no callback is made after it.
 *	From inside reply()/ready() the owner may issue the next command;
 *	from inside starttls() it may call smtp_client_tls_started().
 *	smtp_client_feed() must not be called from inside a callback.
 *	All pointers passed to callbacks are valid during the callback only.
 */
#ifndef SMTP_SMTP_CLIENT_H
#define SMTP_SMTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* States; see smtp_client_state_name(). */
enum smtp_client_state {
	SMTP_CLIENT_GREETING = 0,	/* waiting for the 220 greeting */
	SMTP_CLIENT_EHLO,		/* EHLO sent */
	SMTP_CLIENT_HELO,		/* HELO sent (EHLO got 5xx) */
	SMTP_CLIENT_STARTTLS,		/* STARTTLS sent */
	SMTP_CLIENT_TLS_WAIT,		/* 220 to STARTTLS: owner runs the handshake */
	SMTP_CLIENT_XCLIENT,		/* XCLIENT sent */
	SMTP_CLIENT_READY,		/* established, no transaction */
	SMTP_CLIENT_XFORWARD,		/* XFORWARD sent, MAIL pending */
	SMTP_CLIENT_MAIL,		/* MAIL sent */
	SMTP_CLIENT_TX,			/* MAIL accepted, no command outstanding */
	SMTP_CLIENT_RCPT,		/* RCPT sent */
	SMTP_CLIENT_DATA,		/* DATA sent, 354 expected */
	SMTP_CLIENT_DATA_BODY,		/* 354 received: owner writes content */
	SMTP_CLIENT_DATA_END,		/* end of data sent, final reply expected */
	SMTP_CLIENT_RSET,		/* RSET sent */
	SMTP_CLIENT_QUIT,		/* QUIT sent */
	SMTP_CLIENT_CLOSED,		/* QUIT answered or connection closed after it */
	SMTP_CLIENT_FAILED		/* error() raised (or content refused) */
};

/* Which owner command a reply() answers. */
enum smtp_client_step {
	SMTP_CLIENT_STEP_XFORWARD = 0,	/* refusal of the XFORWARD before MAIL */
	SMTP_CLIENT_STEP_MAIL,
	SMTP_CLIENT_STEP_RCPT,
	SMTP_CLIENT_STEP_DATA,		/* 354 or refusal of DATA */
	SMTP_CLIENT_STEP_DATA_END,	/* final reply after the content */
	SMTP_CLIENT_STEP_RSET,
	SMTP_CLIENT_STEP_QUIT
};

/* RFC 5321 4.5.3.2 timeout classes. */
enum smtp_client_timeout {
	SMTP_CLIENT_TIMEOUT_NONE = 0,	/* nothing outstanding (idle, TLS_WAIT, ended) */
	SMTP_CLIENT_TIMEOUT_GREETING,	/* connect + 220: 5 min */
	SMTP_CLIENT_TIMEOUT_COMMAND,	/* EHLO ... MAIL, RCPT, RSET, QUIT: 5 min */
	SMTP_CLIENT_TIMEOUT_DATA_INIT,	/* reply to DATA: 2 min */
	SMTP_CLIENT_TIMEOUT_DATA_BLOCK,	/* each content write: 3 min */
	SMTP_CLIENT_TIMEOUT_DATA_END	/* reply to the final dot: 10 min */
};

/* Capabilities from the last EHLO reply (bit mask). */
enum smtp_client_cap {
	SMTP_CLIENT_CAP_PIPELINING = 1 << 0,
	SMTP_CLIENT_CAP_SIZE = 1 << 1,
	SMTP_CLIENT_CAP_8BITMIME = 1 << 2,
	SMTP_CLIENT_CAP_SMTPUTF8 = 1 << 3,
	SMTP_CLIENT_CAP_DSN = 1 << 4,
	SMTP_CLIENT_CAP_STARTTLS = 1 << 5,
	SMTP_CLIENT_CAP_ENHANCEDSTATUSCODES = 1 << 6,
	SMTP_CLIENT_CAP_XCLIENT = 1 << 7,
	SMTP_CLIENT_CAP_XFORWARD = 1 << 8,
	SMTP_CLIENT_CAP_CHUNKING = 1 << 9
};

/* XCLIENT / XFORWARD attributes (bit mask) the backend listed. */
enum smtp_client_attr {
	SMTP_CLIENT_ATTR_NAME = 1 << 0,
	SMTP_CLIENT_ATTR_ADDR = 1 << 1,
	SMTP_CLIENT_ATTR_PORT = 1 << 2,
	SMTP_CLIENT_ATTR_PROTO = 1 << 3,
	SMTP_CLIENT_ATTR_HELO = 1 << 4,
	SMTP_CLIENT_ATTR_DESTADDR = 1 << 5,	/* XCLIENT only */
	SMTP_CLIENT_ATTR_DESTPORT = 1 << 6,	/* XCLIENT only */
	SMTP_CLIENT_ATTR_SOURCE = 1 << 7	/* XFORWARD only: sent as REMOTE */
};

enum smtp_client_tls_mode {
	SMTP_CLIENT_TLS_NONE = 0,	/* never STARTTLS */
	SMTP_CLIENT_TLS_OPPORTUNISTIC,	/* STARTTLS if offered; a refusal is tolerated */
	SMTP_CLIENT_TLS_REQUIRED	/* not offered or refused -> error() */
};

enum smtp_client_xclient_mode {
	SMTP_CLIENT_XCLIENT_NEVER = 0,
	SMTP_CLIENT_XCLIENT_AUTO,	/* if offered and a peer is set */
	SMTP_CLIENT_XCLIENT_REQUIRED	/* XCLIENT with ADDR must be offered and
					   accepted, else error(): for backends
					   whose policy depends on the client */
};

enum smtp_client_xforward_mode {
	SMTP_CLIENT_XFORWARD_NEVER = 0,
	SMTP_CLIENT_XFORWARD_AUTO	/* before each MAIL if offered, a peer is
					   set and XCLIENT was not used */
};

/* The relay's own client, for XCLIENT / XFORWARD. Strings are copied. */
struct smtp_client_peer {
	const char *addr;	/* numeric IPv4 or IPv6, no brackets/prefix; NULL: unknown */
	unsigned port;		/* 0: unknown */
	const char *name;	/* verified host name, "[TEMPUNAVAIL]"; NULL: unknown */
	const char *helo;	/* HELO/EHLO argument; NULL: unknown */
	int esmtp;		/* 1: client said EHLO (PROTO=ESMTP), 0: HELO */
	const char *destaddr;	/* address the client connected to; NULL: unknown */
	unsigned destport;	/* 0: unknown */
};

/* Creation-time settings; copied, the owner need not keep them. */
struct smtp_client_config {
	const char *helo_name;	/* our EHLO name: a domain or address literal */
	enum smtp_client_tls_mode tls;
	enum smtp_client_xclient_mode xclient;
	enum smtp_client_xforward_mode xforward;
	const struct smtp_client_peer *peer;	/* may be NULL; see set_peer */
};

/* A complete backend reply, valid during the callback only. */
struct smtp_client_reply {
	int code;		/* 200..559 */
	const char *enhanced;	/* "5.1.1" or "" */
	const char *text;	/* lines without code/enhanced code, joined by '\n' */
	size_t text_len;
	int lines;
	int truncated;		/* 1: some lines did not fit the text buffer */
	int local;		/* 1: made up by the client, never sent by the backend */
};

/* Owner callbacks; all but trace are mandatory. */
struct smtp_client_callbacks {
	/* Bytes for the backend; -1 on failure (the client then fails). */
	int (*write)(void *ctx, const char *data, size_t len);
	/* The session is established; transactions may start. */
	void (*ready)(void *ctx);
	/* The backend answered an owner command. */
	void (*reply)(void *ctx, enum smtp_client_step step,
	    const struct smtp_client_reply *r);
	/* 220 to STARTTLS: discard unread input, start TLS, then tls_started(). */
	void (*starttls)(void *ctx);
	/* The session failed; r is the backend reply that caused it or NULL. */
	void (*error)(void *ctx, const char *why, const struct smtp_client_reply *r);
	/* Optional: every state change (for debug logs). */
	void (*trace)(void *ctx, enum smtp_client_state from,
	    enum smtp_client_state to);
};

/* MAIL parameters as received from the relay's client. */
enum smtp_client_body { SMTP_CLIENT_BODY_NONE = 0, SMTP_CLIENT_BODY_7BIT,
	SMTP_CLIENT_BODY_8BITMIME };
enum smtp_client_ret { SMTP_CLIENT_RET_NONE = 0, SMTP_CLIENT_RET_FULL,
	SMTP_CLIENT_RET_HDRS };

struct smtp_client_mail_params {
	uint64_t size;		/* SIZE=, 0: not given */
	enum smtp_client_body body;
	int smtputf8;		/* 1: SMTPUTF8 given */
	enum smtp_client_ret ret;
	const char *envid;	/* ENVID= value, xtext as received; NULL: none */
};

/* RCPT parameters. */
enum smtp_client_notify {
	SMTP_CLIENT_NOTIFY_NEVER = 1 << 0,
	SMTP_CLIENT_NOTIFY_SUCCESS = 1 << 1,
	SMTP_CLIENT_NOTIFY_FAILURE = 1 << 2,
	SMTP_CLIENT_NOTIFY_DELAY = 1 << 3
};

struct smtp_client_rcpt_params {
	unsigned notify;	/* smtp_client_notify bits, 0: not given */
	const char *orcpt;	/* ORCPT= value "type;xtext" as received; NULL: none */
};

struct smtp_client;

/*
 * Creates a client waiting for the greeting.  cb must stay valid for the
 * client's life; config is copied.  Returns NULL on a bad config (empty or
 * unsafe helo_name, bad peer) or out of memory.  Makes no callback.
 */
struct smtp_client *smtp_client_new(const struct smtp_client_config *config,
    const struct smtp_client_callbacks *cb, void *ctx);

/* Releases the client (NULL-safe); deferred while a client call runs. */
void smtp_client_free(struct smtp_client *c);

/*
 * Replaces the peer attributes (NULL: none).  XCLIENT uses those set
 * when it is sent; XFORWARD those set at each smtp_client_mail().
 * Returns -1 (peer unchanged) if a value cannot be put on the wire.
 */
int smtp_client_set_peer(struct smtp_client *c,
    const struct smtp_client_peer *peer);

/*
 * Backend bytes, any chunking.  Consumes everything.  Bytes after the 220
 * to STARTTLS in the same call, or fed before tls_started(), fail the
 * session ("plaintext after STARTTLS reply"); at starttls() the owner
 * must drop whatever it has buffered but not fed.  Returns -1 if the
 * client is already CLOSED/FAILED or when called from a callback.
 */
int smtp_client_feed(struct smtp_client *c, const char *data, size_t len);

/* The backend closed the connection: error() unless QUIT was answered. */
void smtp_client_eof(struct smtp_client *c);

/* The owner's timer for the current class expired: error(). */
void smtp_client_timeout(struct smtp_client *c);

/* TLS is up after starttls(): sends EHLO again. -1 if not in TLS_WAIT. */
int smtp_client_tls_started(struct smtp_client *c);

/* Sends [XFORWARD...] MAIL FROM:<sender> (sender "" = null path). READY. */
int smtp_client_mail(struct smtp_client *c, const char *sender,
    const struct smtp_client_mail_params *params);

/* Sends RCPT TO:<rcpt>. TX. */
int smtp_client_rcpt(struct smtp_client *c, const char *rcpt,
    const struct smtp_client_rcpt_params *params);

/* Sends DATA. TX with at least one recipient accepted (2xx). */
int smtp_client_data(struct smtp_client *c);

/* Content in wire form, passed through verbatim. DATA_BODY. */
int smtp_client_data_write(struct smtp_client *c, const char *data,
    size_t len);

/* Ends the content (see DATA above). DATA_BODY; then a final reply. */
int smtp_client_data_end(struct smtp_client *c);

/* Sends RSET. READY or TX. A non-2xx answer is an error(). */
int smtp_client_rset(struct smtp_client *c);

/*
 * Starts a new session over this established connection (READY), for a
 * new peer: XCLIENT with its attributes when XCLIENT applies (the EHLO
 * after it pipelined when offered), else an RSET that proves the
 * connection alive.  ready() follows success; a refusal, a timeout or a
 * closed connection is error().  Returns -1 (nothing sent, nothing
 * changed) if not READY, if the peer cannot be put on the wire, or if an
 * earlier XCLIENT gave the connection an identity that cannot be
 * replaced now (the connection must then not be reused).
 */
int smtp_client_reuse(struct smtp_client *c,
    const struct smtp_client_peer *peer);

/* Sends QUIT. READY or TX. */
int smtp_client_quit(struct smtp_client *c);

/* Accessors. */
enum smtp_client_state smtp_client_state(const struct smtp_client *c);
const char *smtp_client_state_name(enum smtp_client_state state);
const char *smtp_client_step_name(enum smtp_client_step step);
enum smtp_client_timeout smtp_client_timeout_class(const struct smtp_client *c);
unsigned smtp_client_timeout_seconds(enum smtp_client_timeout t);
unsigned smtp_client_caps(const struct smtp_client *c);	/* smtp_client_cap bits */
int smtp_client_has(const struct smtp_client *c, enum smtp_client_cap cap);
uint64_t smtp_client_size_max(const struct smtp_client *c);	/* 0: no limit given */
unsigned smtp_client_xclient_attrs(const struct smtp_client *c);
unsigned smtp_client_xforward_attrs(const struct smtp_client *c);
int smtp_client_esmtp(const struct smtp_client *c);	/* 1: EHLO accepted */
int smtp_client_tls_active(const struct smtp_client *c);
int smtp_client_xclient_done(const struct smtp_client *c);
int smtp_client_rcpt_accepted(const struct smtp_client *c);	/* in this tx */

#endif /* SMTP_SMTP_CLIENT_H */
