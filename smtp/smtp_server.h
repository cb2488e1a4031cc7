/*
 * smtp_server.h - server side of one SMTP session (RFC 5321), as a pure
 * state machine: bytes in, bytes and events out.
 *
 * CONTRACT
 *	No sockets, no timers, no TLS, libc only.  The owner (the relay)
 *	feeds the client's bytes with smtp_server_feed(), sends what the
 *	write() callback hands it, answers the asynchronous requests mail(),
 *	rcpt(), data() and data_end(OK) with smtp_server_reply(), keeps the
 *	timers (smtp_server_timeout_class() says which deadline applies) and
 *	runs the TLS handshake after starttls().
 *
 * INPUT
 *	smtp_server_feed() consumes what it can and returns the count; it
 *	never buffers input.  The owner keeps the unconsumed bytes and calls
 *	feed again with them (plus anything newer) when more bytes arrive or
 *	after it answered a request.  Feed consumes nothing while a request is
 *	pending, so pipelined commands are answered strictly in order.  The
 *	owner must be able to offer at least cfg->max_line octets at once and
 *	should stop reading from the socket (watermark) while
 *	smtp_server_reading() is 0 or its buffer is large.
 *	- Command lines end with LF; a CR before it is dropped.  A bare LF is
 *	  accepted as a command line end (as Postfix does): it is harmless in
 *	  commands, only message content is subject to smuggling rules.
 *	- A line longer than max_line octets (LF and CR included) gets one
 *	  "500 5.5.2 Error: line too long" as soon as max_line octets without
 *	  LF are seen; the rest of it, up to and including the next LF, is
 *	  consumed and ignored.  A NUL octet in a command line gives
 *	  "500 5.5.2".
 *	- Before smtp_server_greet() (a greeting delay), any input is a
 *	  pregreet violation: "554 5.5.0 HOST Error: data before greeting"
 *	  and the session closes.
 *
 * MESSAGE CONTENT (DATA)
 *	data_chunk() gets the content in wire form, exactly as received (dot
 *	stuffing kept, CR LF line ends), never the terminating ".\r\n"; the
 *	CR LF ending the last line is content.  Chunks split lines anywhere.
 *	The owner forwards them verbatim and appends ".\r\n" itself.  The end
 *	of data is only CR LF "." CR LF (or "." CR LF right after the 354).
 *	To decide it, feed may leave up to 2 trailing octets ("\r", "." or
 *	".\r" at a line start) unconsumed until the next octets arrive.
 *	- SMTP smuggling: a bare CR or bare LF anywhere in the content stops
 *	  forwarding at once (that octet and everything after it never reach
 *	  data_chunk()); the session reads on to the real end of data, then
 *	  calls data_end(SMTP_DATA_BARE_NEWLINE) and itself replies
 *	  "550 5.6.11 Error: bare CR or LF in message data".  Sequences such
 *	  as "\n.\n", "\r.\r", "\n.\r\n" or "\r\n.\n" never end the message.
 *	- Size: the content octets (wire form, final CR LF included, the
 *	  terminating ".\r\n" excluded) are counted; once the total would
 *	  exceed max_message_size, forwarding stops, the session reads on to
 *	  the end and calls data_end(SMTP_DATA_TOO_BIG), then replies
 *	  "552 5.3.4 Error: message too big".  Long lines are passed through.
 *	- Caution: after data_end() with a status other than OK the owner must
 *	  abort its backend transaction (never send the final ".\r\n"); the
 *	  session has already chosen and written the reply, so the owner must
 *	  not reply.  When both problems occur, the first one seen counts.
 *
 * TRANSACTIONS AND reset()
 *	A transaction begins when mail() is called and ends when the owner
 *	rejects the MAIL, answers the final data_end(OK), or data_end()
 *	reports a failure.  When it ends any other way (RSET, HELO/EHLO,
 *	STARTTLS, QUIT, too many errors, timeout, shutdown, a 421 from the
 *	owner) reset() is called once so the owner drops its backend
 *	transaction.  Owner replies of class 2 open the transaction (MAIL) or
 *	count the recipient (RCPT); anything else leaves it unchanged.
 *
 * REPLIES FROM THE OWNER
 *	smtp_server_reply(s, code, enhanced, text): text may hold '\n' for a
 *	multi-line reply; enhanced may be NULL (a class default such as
 *	"5.0.0" is used; an enhanced code of the wrong class is replaced by
 *	the default).  MAIL, RCPT and the final reply accept classes 2, 4, 5;
 *	DATA accepts 354 (go on) or 4xx/5xx.  Any other code is replaced with
 *	"451 4.3.0 Error: internal error".  A 421 reply closes the session.
 *	The owner may reply from inside the request callback (synchronous
 *	answer, e.g. from a cache) or any time later.  Replying when nothing
 *	is pending is a bug and aborts, except after the session closed
 *	(then it returns -1 and does nothing).
 *
 * STARTTLS (RFC 3207, CVE-2011-0411)
 *	After the STARTTLS line the session writes "220 2.0.0 Ready to start
 *	TLS", calls starttls() and feed returns right after that line.
 *	Caution: the owner must discard every plaintext byte it still holds
 *	or receives before the handshake; then it calls
 *	smtp_server_tls_started().  That resets the session to the state
 *	after the greeting: EHLO is required again and STARTTLS is no longer
 *	offered (a second STARTTLS gets 503).
 *
 * ERRORS
 *	Replies: unknown command 500 5.5.1; bad sequence 503 5.5.1; syntax
 *	501 (5.5.2, 5.5.4, 5.1.7, 5.1.3), 553 5.6.7, 555 5.5.4 (smtp_cmd.h);
 *	DATA without accepted recipients 554 5.5.1 (RFC 5321 3.3, RFC 2920);
 *	too many recipients 452 4.5.3; MAIL before STARTTLS with require_tls
 *	530 5.7.0; EXPN, BDAT, AUTH 502 5.5.1; STARTTLS unavailable 502 5.5.1;
 *	VRFY 252 2.5.0; HELP 214 2.0.0; NOOP and RSET 250 2.0.0; QUIT 221.
 *	Error counting: the session counts the client's protocol errors, i.e.
 *	the 5xx replies it produces itself except 552 (size) and 554 (no
 *	valid recipients); 452 (too many recipients) is not counted either,
 *	since a pipelining client legitimately collects many of them.
 *	Rejections decided by the owner are never counted.  When the count
 *	reaches max_errors (0: no limit) the session writes
 *	"421 4.7.0 HOST Error: too many errors" and closes.
 *
 * OWNERSHIP AND RE-ENTRANCY
 *	smtp_server_new() allocates once; smtp_server_free() releases.  The
 *	owner may call smtp_server_free() from inside any callback, close()
 *	included: every public function holds the session while it runs and
 *	the free is deferred to the outermost return; once freed, no further
 *	callback is made.  After close() the owner should free the session.
 *	Caution: smtp_server_feed() must not be called from inside a callback
 *	(aborts); smtp_server_reply() may be.
 *	The config and callbacks are referenced, not copied: the owner keeps
 *	them alive and unchanged for the session's lifetime.
 */
#ifndef SMTP_SMTP_SERVER_H
#define SMTP_SMTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "smtp/smtp_cmd.h"

/* Session states; see smtp_server_state_name(). */
enum smtp_server_state {
	SMTP_SERVER_GREETING_WAIT = 0,	/* created, greeting not sent yet */
	SMTP_SERVER_INIT,		/* greeted (or TLS started), no HELO */
	SMTP_SERVER_HELO_DONE,		/* HELO/EHLO seen, no transaction */
	SMTP_SERVER_MAIL_WAIT,		/* mail() pending */
	SMTP_SERVER_MAIL_DONE,		/* transaction open */
	SMTP_SERVER_RCPT_WAIT,		/* rcpt() pending */
	SMTP_SERVER_DATA_WAIT,		/* data() pending */
	SMTP_SERVER_DATA_BODY,		/* reading message content */
	SMTP_SERVER_DATA_END_WAIT,	/* data_end(OK) pending */
	SMTP_SERVER_STARTTLS_WAIT,	/* 220 sent, waiting for tls_started */
	SMTP_SERVER_CLOSING,		/* final reply sent, in close() */
	SMTP_SERVER_CLOSED
};

/* Which of the owner's deadlines applies now. */
enum smtp_server_timeout_class {
	SMTP_SERVER_TIMEOUT_NONE = 0,	/* the owner is the one to act */
	SMTP_SERVER_TIMEOUT_COMMAND,	/* waiting for a command line */
	SMTP_SERVER_TIMEOUT_DATA	/* waiting for message content */
};

/* How the message content ended, for data_end(). */
enum smtp_data_status {
	SMTP_DATA_OK = 0,
	SMTP_DATA_TOO_BIG,		/* over max_message_size */
	SMTP_DATA_BARE_NEWLINE		/* bare CR or LF: smuggling attempt */
};

/* Listener policy and limits; set defaults with smtp_server_config_init(). */
struct smtp_server_config {
	const char	*hostname;	/* greeting, EHLO, 421; required */
	size_t		 max_line;	/* command line octets incl. CR LF, 512..65536 */
	uint64_t	 max_message_size; /* content octets; 0 = no limit */
	int		 max_recipients; /* accepted per transaction, >= 1 */
	int		 max_errors;	/* protocol errors per session; 0 = no limit */
	int		 tls_available;	/* offer STARTTLS */
	int		 require_tls;	/* MAIL only after STARTTLS */
};

/*
 * The owner's callbacks; ctx is the owner's pointer.  Optional ones may be
 * NULL; all others are required (starttls only with tls_available).
 * Pointers passed to callbacks are valid during the call only, except
 * that mail and rcpt stay valid until the owner's reply to them.
 */
struct smtp_server_cb {
	/* Bytes for the client. */
	void	(*write)(void *ctx, const char *data, size_t len);
	/* The final 221/421 was written: flush, close, free the session. */
	void	(*close)(void *ctx);
	/* Optional, informational: HELO (esmtp 0) or EHLO (esmtp 1). */
	void	(*helo)(void *ctx, const char *name, int esmtp);
	/* Sender ("" for <>) and parameters; answer with smtp_server_reply. */
	void	(*mail)(void *ctx, const struct smtp_mail *mail);
	/* One recipient; answer with smtp_server_reply. */
	void	(*rcpt)(void *ctx, const struct smtp_rcpt *rcpt);
	/* DATA with >= 1 accepted recipient; answer 354 or an error. */
	void	(*data)(void *ctx);
	/* Message content in wire form (see MESSAGE CONTENT). */
	void	(*data_chunk)(void *ctx, const char *data, size_t len);
	/* End of content; for OK answer with the final reply, else abort. */
	void	(*data_end)(void *ctx, enum smtp_data_status status);
	/* The transaction was aborted: drop the backend transaction. */
	void	(*reset)(void *ctx);
	/* 220 written: discard buffered input, start the TLS handshake. */
	void	(*starttls)(void *ctx);
	/* Optional: the session itself replied 4xx/5xx (for an info log). */
	void	(*error)(void *ctx, int code, const char *enhanced,
		    const char *text);
	/* Optional: a state change "OLD -> NEW" (for a debug log). */
	void	(*debug)(void *ctx, const char *msg);
};

struct smtp_server;

/* Fills cfg with the defaults (hostname NULL: the caller must set it). */
void smtp_server_config_init(struct smtp_server_config *cfg);

/*
 * Creates a session in GREETING_WAIT.  Returns NULL with errno EINVAL for
 * an invalid config or missing callback, ENOMEM without memory.
 */
struct smtp_server *smtp_server_new(const struct smtp_server_config *cfg,
    const struct smtp_server_cb *cb, void *ctx);

/* Releases the session (NULL-safe); deferred if called from a callback. */
void smtp_server_free(struct smtp_server *s);

/* Writes the "220 HOST ESMTP spfgate" greeting. */
void smtp_server_greet(struct smtp_server *s);

/* Consumes client bytes; returns how many (see INPUT). */
size_t smtp_server_feed(struct smtp_server *s, const char *data, size_t len);

/* Answers the pending request; 0, or -1 if the session is closed. */
int smtp_server_reply(struct smtp_server *s, int code, const char *enhanced,
    const char *text);

/* The TLS handshake after STARTTLS succeeded: reset to the initial state. */
void smtp_server_tls_started(struct smtp_server *s, const char *version,
    const char *cipher);

/* The owner's deadline expired: 421 4.4.2, reset(), close(). */
void smtp_server_timeout(struct smtp_server *s);

/*
 * Graceful stop: "421 4.3.2 HOST Service shutting down" and close, at
 * once if the session waits for a command (an open transaction that has
 * not reached DATA is aborted), else as soon as the pending request or
 * the message content in progress has been answered.
 */
void smtp_server_shutdown(struct smtp_server *s);

/* Current state. */
enum smtp_server_state smtp_server_state(const struct smtp_server *s);

/* Name of a state ("HELO_DONE"). */
const char *smtp_server_state_name(enum smtp_server_state state);

/* Which deadline the owner should run now. */
enum smtp_server_timeout_class smtp_server_timeout_class(
    const struct smtp_server *s);

/* 1 if feed would consume input now (read from the client), else 0. */
int smtp_server_reading(const struct smtp_server *s);

/* HELO/EHLO name ("" before), and 1 if it was EHLO. */
const char *smtp_server_helo_name(const struct smtp_server *s);
int smtp_server_esmtp(const struct smtp_server *s);

/* 1 after smtp_server_tls_started(); its version and cipher ("" before). */
int smtp_server_tls_active(const struct smtp_server *s);
const char *smtp_server_tls_version(const struct smtp_server *s);
const char *smtp_server_tls_cipher(const struct smtp_server *s);

/* Protocol errors counted so far. */
int smtp_server_errors(const struct smtp_server *s);

/* Content octets forwarded in the current or last DATA. */
uint64_t smtp_server_message_size(const struct smtp_server *s);

#endif /* SMTP_SMTP_SERVER_H */
