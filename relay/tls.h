/*
 * tls.h - TLS for the relay's connections: libevent's bufferevent_openssl
 * over the certs/ contexts, and those contexts built from spfgate.conf.
 *
 * CONTRACT
 *	STARTTLS (client side of the relay, and towards the backend) wraps
 *	the connection's existing socket bufferevent in a TLS filter; an
 *	implicit-TLS listener gets a TLS bufferevent straight on the socket.
 *	The caller must have drained the plaintext input of the socket
 *	bufferevent before wrapping it (bytes pipelined after STARTTLS are
 *	discarded, never fed into TLS: CVE-2011-0411).  The handshake starts
 *	at once; the caller's event callback then gets BEV_EVENT_CONNECTED
 *	(done: tls_info() describes it) or BEV_EVENT_ERROR (failed:
 *	tls_failure() says why).  The caller keeps the handshake deadline
 *	([tls] handshake_timeout).  Callbacks of TLS bufferevents are
 *	deferred (BEV_OPT_DEFER_CALLBACKS): a write never calls back into the
 *	writer.  A peer that closes without close_notify is a plain EOF.
 *
 *	tls_close() takes over a TLS bufferevent at the end of a session:
 *	everything queued (the final 221/421) is encrypted and flushed, a
 *	close_notify follows, then the connection is closed; at most
 *	TLS_CLOSE_LINGER_MS later it is closed regardless.
 *
 * OWNERSHIP
 *	struct tls_contexts holds one reference to each context; a session
 *	or backend that wraps a connection needs no reference of its own
 *	(the SSL holds what it needs until it is freed with its
 *	bufferevent), so a reload may replace and clear the worker's
 *	contexts while connections live.  Wrapped bufferevents own their
 *	underlying one (BEV_OPT_CLOSE_ON_FREE).
 */
#ifndef RELAY_TLS_H
#define RELAY_TLS_H

#include <stddef.h>

#include <event2/bufferevent.h>

#include "conf/conf.h"

#define TLS_CLOSE_LINGER_MS 10000	/* longest flush at close */

/*
 * TLS 1.2 ciphers when [tls] ciphers is empty: forward secrecy and AEAD
 * only (what Mozilla's "intermediate" profile allows).  OpenSSL's own
 * default adds CBC and static-RSA suites; a site that must talk to peers
 * that have nothing else sets "ciphers = DEFAULT".
 */
#define TLS_DEFAULT_CIPHERS \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20"
#define TLS_UNDER_HIGH_WATER (64 * 1024)	/* TLS records queued at most */
#define TLS_READ_MAX 4096		/* plaintext bytes per TLS read */

struct certs_server;
struct certs_client;

/* The contexts of one configuration: NULL when not configured. */
struct tls_contexts {
	struct certs_server *server;	/* [certificate] sections */
	struct certs_client *client;	/* [backend] tls != none */
};

/* What a finished handshake agreed on (strings never NULL). */
struct tls_info {
	char version[16];		/* "TLSv1.3" */
	char cipher[80];		/* "TLS_AES_256_GCM_SHA384" */
	int bits;			/* secret bits of the cipher */
	char sni[256];			/* server name the client sent, or "" */
	char cert[256];			/* our certificate's CN (server side) */
	int verified;			/* client side: peer verified */
};

/*
 * Builds every context the configuration asks for.  0, or -1 with a
 * message naming the section and the file in err (out untouched).
 */
int tls_contexts_load(const struct conf *conf, struct tls_contexts *out,
    char *err, size_t errlen);

/* Drops the references and zeroes t; NULL-safe. */
void tls_contexts_clear(struct tls_contexts *t);

/* Logs one line per certificate group (event=EVENT worker=ID ...). */
void tls_contexts_log(const struct tls_contexts *t, const char *event,
    int worker);

/*
 * STARTTLS from a client: a TLS filter (accepting) over under.  NULL +
 * err on failure; under is then released: the caller must neither use
 * nor free it.
 */
struct bufferevent *tls_server_wrap(struct event_base *base,
    struct bufferevent *under, struct certs_server *certs, char *err,
    size_t errlen);

/*
 * Implicit TLS: a TLS bufferevent (accepting) without a socket yet; the
 * caller sets it with bufferevent_setfd() and enables it.
 */
struct bufferevent *tls_server_socket(struct event_base *base,
    struct certs_server *certs, char *err, size_t errlen);

/*
 * STARTTLS to the backend: a TLS filter (connecting) over under, with
 * SNI and verification per the client context (name, or ip without a
 * name; see certs_client_ssl_new()).  Failure as for tls_server_wrap().
 */
struct bufferevent *tls_client_wrap(struct event_base *base,
    struct bufferevent *under, struct certs_client *client,
    const char *name, const char *ip, char *err, size_t errlen);

/* Describes the handshake of a TLS bufferevent (zeroes when not TLS). */
void tls_get_info(struct bufferevent *bev, struct tls_info *info);

/* Why the handshake of a TLS bufferevent failed, for logs. */
void tls_failure(struct bufferevent *bev, char *out, size_t outlen);

/* Flushes, sends close_notify and frees bev (see CONTRACT). */
void tls_close(struct bufferevent *bev);

/* Frees connections still lingering in tls_close() (worker exit). */
void tls_close_all(void);

#endif /* RELAY_TLS_H */
