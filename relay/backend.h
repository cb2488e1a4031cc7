/*
 * backend.h - one connection to the backend MTA, for one client session.
 *
 * CONTRACT
 *	backend_new() connects to the configured servers in order and drives
 *	the SMTP client state machine (smtp/smtp_client.h) over a stream
 *	(relay/stream.h), or restarts a connection kept in the worker's pool
 *	(see the connection cache below).  A server that cannot be reached, does not greet with
 *	220, or fails before the session is established is skipped for the
 *	next one (fail-over).  Once established, ready() is called; from then
 *	on each command's answer comes through reply(), and any failure
 *	through failed() (once).  Every wait has a deadline from [backend].
 *
 *	STARTTLS follows [backend] tls through the client context tls
 *	(relay/tls.h; NULL = never): after the backend's 220 the connection
 *	is wrapped in TLS (verification, SNI and expected name per the
 *	context), the handshake has [tls] handshake_timeout, and the SMTP
 *	client then says EHLO again.  A handshake that fails, a refused
 *	certificate, or (tls = required) a server without STARTTLS counts as
 *	a server that failed before the session was established.
 *
 *	Commands go through the backend_* wrappers so the right timer is
 *	armed.  Content written with backend_data_write() is queued in the
 *	stream; backend_congested() says when the owner should stop reading
 *	its client, and drained() when it may read again.
 *
 *	Connection cache ([backend] connection_cache): backend_release() at
 *	the end of a client session keeps a connection that is established
 *	and between transactions (and younger than connection_reuse_time)
 *	in the pool, idle for at most connection_cache_time.  backend_new()
 *	takes one from the pool when there is one and restarts it with
 *	smtp_client_reuse() (XCLIENT for the new client, or RSET); if that
 *	fails, it connects afresh as if the pool had been empty, so a dead
 *	kept connection never reaches the owner as a failure.
 *
 * OWNERSHIP
 *	backend_free() closes the connection at once (without QUIT: a
 *	transaction in DATA is thereby aborted and nothing is delivered) and
 *	may be called from inside any callback of this module.
 *	backend_release() is backend_free() for a session that is over: the
 *	connection goes to the pool when it can serve another session.  The
 *	pool owns parked connections; backend_pool_free() closes them.
 */
#ifndef RELAY_BACKEND_H
#define RELAY_BACKEND_H

#include <stddef.h>

#include "conf/conf.h"
#include "smtp/smtp_client.h"

struct event_base;
struct backend;
struct backend_pool;
struct certs_client;

struct backend_events {
	void (*ready)(void *ctx);
	void (*reply)(void *ctx, enum smtp_client_step step,
	    const struct smtp_client_reply *r);
	/* No server usable, or the session broke; r: backend reply or NULL. */
	void (*failed)(void *ctx, const char *why,
	    const struct smtp_client_reply *r);
	/* Queued content fell below the low watermark after congestion. */
	void (*drained)(void *ctx);
};

/*
 * Connects; NULL on immediate resource failure (no callback made).  tls
 * is the client context for STARTTLS (NULL: none); the backend holds its
 * own reference.
 */
struct backend *backend_new(struct backend_pool *pool,
    struct event_base *base, const struct conf *conf,
    struct certs_client *tls, const struct smtp_client_peer *peer,
    const struct backend_events *ev, void *ctx);
void backend_free(struct backend *b);
void backend_release(struct backend *b);

/* One worker's kept connections (conf must outlive the pool). */
struct metrics;
struct backend_pool *backend_pool_new(const struct conf *conf,
    struct metrics *metrics, int worker);
void backend_pool_free(struct backend_pool *p);	/* NULL-safe */
/* Closes the idle connections and keeps no more (worker stopping). */
void backend_pool_clear(struct backend_pool *p);

/* Server address in use ("127.0.0.1:10025") for logs. */
const char *backend_server(const struct backend *b);

int backend_mail(struct backend *b, const char *sender,
    const struct smtp_client_mail_params *params);
int backend_rcpt(struct backend *b, const char *rcpt,
    const struct smtp_client_rcpt_params *params);
int backend_data(struct backend *b);
/* Our own headers at 354: held back to leave with the first content. */
int backend_data_headers(struct backend *b, const char *data, size_t len);
int backend_data_write(struct backend *b, const char *data, size_t len);
int backend_data_end(struct backend *b);
int backend_rset(struct backend *b);

/* State of the underlying SMTP client. */
enum smtp_client_state backend_state(const struct backend *b);

/* 1 when so much content is queued that the owner should stop reading. */
int backend_congested(const struct backend *b);

#endif /* RELAY_BACKEND_H */
