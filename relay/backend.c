/*
 * backend.c - a backend MTA connection for one client session (backend.h).
 *
 * Life of a connection: CONNECTING (stream_connect) -> the
 * smtp_client greets/EHLOs -> ready().  Until ready(), any failure moves
 * on to the next configured server; after it, failures are final.
 * One timer serves every wait; its deadline follows the SMTP client's
 * timeout class (connect_timeout for connect + greeting, timeout_command
 * for commands, timeout_data_end for the final dot) and, during a
 * STARTTLS handshake, [tls] handshake_timeout.
 *
 * STARTTLS: the client state machine's starttls() only marks the backend;
 * the read callback, once the 220 has been fed and drained, drops any
 * further plaintext and wraps the connection (relay/tls.h).  The
 * handshake's end arrives as BEV_EVENT_CONNECTED on the TLS bufferevent
 * the stream adopted (relay/stream.h).
 *
 * Connection cache: backend_release() parks a connection that is
 * established and between transactions in its worker's pool (struct
 * backend_pool) instead of closing it.  A parked backend has no owner; any
 * input, EOF, error or its idle deadline closes it.  backend_new() takes
 * the parked connection to the lowest-numbered server (most recently
 * parked first) and restarts it with smtp_client_reuse(); until that
 * succeeds (ready()), a failure of the reused connection is not a failure
 * of its server: the backend connects afresh, from the first server.
 */
#include <errno.h>
#include <sys/queue.h>
#include <time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "certs/certs.h"
#include "relay/backend.h"
#include "relay/log.h"
#include "relay/metrics.h"
#include "relay/session.h"
#include "relay/stream.h"
#include "relay/tls.h"

#define BACKEND_HIGH_WATER (256 * 1024)	/* stop reading the client */
#define BACKEND_LOW_WATER (64 * 1024)	/* resume */
#define BACKEND_READ_CHUNK 16384
#define BACKEND_POOL_MAX 256		/* idle connections per worker */

struct backend {
	struct event_base *base;
	const struct conf *conf;
	const struct backend_events *ev;
	void *ctx;
	struct smtp_client_peer peer;
	struct stream *st;		/* connection to the current server */
	struct smtp_client *client;
	struct certs_client *tls;	/* our reference; NULL: no STARTTLS */
	int tls_pending;		/* 220 to STARTTLS: wrap after feed */
	int tls_handshaking;
	struct event *timer;
	size_t server;			/* index into conf->backend.servers */
	int established;		/* ready() was called */
	int congested;			/* owner was told to stop reading */
	int in_callback;		/* depth of our own dispatch */
	int dead;			/* free requested during dispatch */
	char server_text[64];
	char failure[256];		/* why the last server was skipped */
	struct backend_pool *pool;	/* NULL: never parked */
	TAILQ_ENTRY(backend) idle;	/* in pool->idle while parked */
	int parked;
	int reused;			/* restarting a parked connection */
	int64_t born_ms;		/* when the connection was opened */
};

struct backend_pool {
	const struct conf *conf;
	struct metrics *metrics;	/* NULL: none */
	int worker;
	TAILQ_HEAD(, backend) idle;	/* most recently parked first */
	size_t nidle;
	int closed;			/* stopping: keep nothing more */
};

static void backend_try_server(struct backend *b);
static void backend_pool_drop(struct backend *b);
static void backend_tls_begin(struct backend *b);
static void backend_tls_ready(struct backend *b);

/* Monotonic milliseconds, for the age of connections. */
static int64_t
backend_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Formats the address of server i for logs. */
static void
backend_format_server(struct backend *b)
{
	const struct conf_addr *a = &b->conf->backend.servers.v[b->server];
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
		snprintf(b->server_text, sizeof(b->server_text), "%s:%u", ip,
		    port);
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)&a->ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
		snprintf(b->server_text, sizeof(b->server_text), "[%s]:%u",
		    ip, port);
	}
}

/* Releases the connection to the current server (not the backend). */
static void
backend_disconnect(struct backend *b)
{
	b->tls_pending = 0;
	b->tls_handshaking = 0;
	smtp_client_free(b->client);
	b->client = NULL;
	stream_free(b->st);
	b->st = NULL;
	if (b->timer != NULL)
		evtimer_del(b->timer);
}

/* Really frees; only outside our own dispatch. */
static void
backend_destroy(struct backend *b)
{
	backend_disconnect(b);
	if (b->timer != NULL)
		event_free(b->timer);
	certs_client_free(b->tls);
	free(b);
}

void
backend_free(struct backend *b)
{
	if (b == NULL)
		return;
	if (b->in_callback > 0) {
		/* Caution: our caller's frame still uses b; just go quiet. */
		b->dead = 1;
		backend_disconnect(b);
		return;
	}
	backend_destroy(b);
}

/* Enters one of our dispatch frames. */
static void
backend_enter(struct backend *b)
{
	b->in_callback++;
}

/* Leaves a frame; returns 1 if b was freed meanwhile (do not touch it). */
static int
backend_leave(struct backend *b)
{
	if (--b->in_callback == 0 && b->dead) {
		backend_destroy(b);
		return 1;
	}
	return 0;
}

/* Milliseconds allowed for the client's current wait; 0 = none. */
static int64_t
backend_deadline_ms(const struct backend *b)
{
	if (b->parked)
		return b->conf->backend.connection_cache_time;
	if (b->reused && !b->established)
		return b->conf->backend.connect_timeout;
	if (b->tls_handshaking)
		return b->conf->tls.handshake_timeout;
	if (b->client == NULL)
		return b->conf->backend.connect_timeout;
	switch (smtp_client_timeout_class(b->client)) {
	case SMTP_CLIENT_TIMEOUT_NONE:
		return 0;
	case SMTP_CLIENT_TIMEOUT_GREETING:
		return b->conf->backend.connect_timeout;
	case SMTP_CLIENT_TIMEOUT_DATA_END:
		return b->conf->backend.timeout_data_end;
	case SMTP_CLIENT_TIMEOUT_COMMAND:
	case SMTP_CLIENT_TIMEOUT_DATA_INIT:
	case SMTP_CLIENT_TIMEOUT_DATA_BLOCK:
		break;
	}
	return b->conf->backend.timeout_command;
}

/* (Re)arms the timer for the current wait. */
static void
backend_arm(struct backend *b)
{
	struct timeval tv;
	int64_t ms;

	if (b->timer == NULL || b->dead)
		return;
	ms = backend_deadline_ms(b);
	if (ms <= 0) {
		evtimer_del(b->timer);
		return;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(b->timer, &tv);
}

/* Before ready(): skip to the next server; after: report failure. */
static void
backend_fail(struct backend *b, const char *why,
    const struct smtp_client_reply *r)
{
	if (b->dead)
		return;
	if (!b->established && b->reused) {
		/* A kept connection died while idle: not its server's fault. */
		log_msg(LOG_INFO, "event=backend_reuse_failed server=%s "
		    "reason=\"%s\" action=reconnect", b->server_text, why);
		b->reused = 0;
		backend_disconnect(b);
		b->server = 0;
		backend_try_server(b);
		return;
	}
	if (!b->established) {
		snprintf(b->failure, sizeof(b->failure), "%s: %s",
		    b->server_text, why);
		log_msg(LOG_WARNING, "event=backend_skip server=%s reason=\"%s\"",
		    b->server_text, why);
		backend_disconnect(b);
		b->server++;
		backend_try_server(b);
		return;
	}
	backend_disconnect(b);
	b->dead = b->in_callback > 0;
	b->ev->failed(b->ctx, why, r);
}

/* smtp_client write callback: queue bytes on the connection. */
static int
backend_client_write(void *ctx, const char *data, size_t len)
{
	struct backend *b = ctx;

	if (b->st == NULL)
		return -1;
	return stream_write(b->st, data, len) < 0 ? -1 : 0;
}

/* smtp_client: session established. */
static void
backend_client_ready(void *ctx)
{
	struct backend *b = ctx;

	b->established = 1;
	if (b->reused && b->pool != NULL && b->pool->metrics != NULL)
		metrics_inc(b->pool->metrics, b->pool->worker,
		    METRIC_BACKEND_REUSED);
	b->reused = 0;
	backend_arm(b);
	b->ev->ready(b->ctx);
}

/* smtp_client: answer to an owner command. */
static void
backend_client_reply(void *ctx, enum smtp_client_step step,
    const struct smtp_client_reply *r)
{
	struct backend *b = ctx;

	backend_arm(b);
	b->ev->reply(b->ctx, step, r);
}

/* smtp_client: 220 to STARTTLS; the read callback wraps after feed. */
static void
backend_client_starttls(void *ctx)
{
	struct backend *b = ctx;

	b->tls_pending = 1;
}

/* smtp_client: the session failed. */
static void
backend_client_error(void *ctx, const char *why,
    const struct smtp_client_reply *r)
{
	backend_fail(ctx, why, r);
}

static const struct smtp_client_callbacks backend_client_cb = {
	.write = backend_client_write,
	.ready = backend_client_ready,
	.reply = backend_client_reply,
	.starttls = backend_client_starttls,
	.error = backend_client_error,
	.trace = NULL,
};

/* Bytes from the backend: feed the client state machine. */
static void
backend_read_cb(struct stream *st, void *arg)
{
	struct backend *b = arg;
	struct evbuffer *in = stream_input(st);
	unsigned char *data;
	size_t len;

	if (b->parked) {
		backend_pool_drop(b);	/* nothing may arrive while idle */
		return;
	}
	backend_enter(b);
	/* Caution: a failure may replace b->st (fail-over) or free it. */
	while (!b->dead && b->st == st && b->client != NULL &&
	    (len = evbuffer_get_length(in)) > 0) {
		if (len > BACKEND_READ_CHUNK)
			len = BACKEND_READ_CHUNK;
		data = evbuffer_pullup(in, (ev_ssize_t)len);
		if (smtp_client_feed(b->client, (const char *)data, len) < 0)
			break;
		evbuffer_drain(in, len);
		if (b->tls_pending) {
			/* Caution: swaps the stream's input buffer. */
			backend_tls_begin(b);
			break;
		}
	}
	backend_leave(b);
}

/* Output drained below the low watermark: let the owner read again. */
static void
backend_drained_cb(struct stream *st, void *arg)
{
	struct backend *b = arg;

	(void)st;
	if (!b->congested)
		return;
	b->congested = 0;
	backend_enter(b);
	b->ev->drained(b->ctx);
	backend_leave(b);
}

/* Connected, closed or failed. */
static void
backend_event_cb(struct stream *st, short what, void *arg)
{
	struct backend *b = arg;
	char why[320], reason[256];

	if (b->parked) {
		backend_pool_drop(b);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		if (b->tls_handshaking) {
			backend_tls_ready(b);
			return;
		}
		session_set_nodelay(stream_fd(st));
		backend_arm(b);
		return;
	}
	backend_enter(b);
	if (b->tls_handshaking) {
		tls_failure(stream_bufferevent(st), reason, sizeof(reason));
		snprintf(why, sizeof(why), "STARTTLS handshake failed: %s",
		    reason);
		backend_fail(b, why, NULL);
	} else if (what & BEV_EVENT_EOF) {
		if (b->client != NULL)
			smtp_client_eof(b->client);
		if (!b->dead && b->client != NULL &&
		    smtp_client_state(b->client) == SMTP_CLIENT_CLOSED)
			backend_disconnect(b);
	} else {
		snprintf(why, sizeof(why), "connection error: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		backend_fail(b, why, NULL);
	}
	backend_leave(b);
}

static const struct stream_callbacks backend_stream_cb = {
	.read = backend_read_cb,
	.drained = backend_drained_cb,
	.event = backend_event_cb,
};

/* The current wait's deadline passed. */
static void
backend_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct backend *b = arg;

	(void)fd;
	(void)what;
	if (b->parked) {
		backend_pool_drop(b);	/* idle too long */
		return;
	}
	backend_enter(b);
	if (b->tls_handshaking)
		backend_fail(b, "STARTTLS handshake timeout", NULL);
	else if (b->client != NULL &&
	    smtp_client_timeout_class(b->client) != SMTP_CLIENT_TIMEOUT_GREETING)
		smtp_client_timeout(b->client);
	else
		backend_fail(b, "timeout connecting or waiting for the "
		    "greeting", NULL);
	backend_leave(b);
}

/*
 * STARTTLS
 */

/* The current server's address without the port, for verification. */
static void
backend_server_ip(const struct backend *b, char *ip, size_t iplen)
{
	const struct conf_addr *a = &b->conf->backend.servers.v[b->server];

	if (a->ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)&a->ss)->sin6_addr, ip, (socklen_t)iplen);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)&a->ss)->sin_addr, ip, (socklen_t)iplen);
}

/* 220 fed and drained: drop any plaintext after it, wrap in TLS. */
static void
backend_tls_begin(struct backend *b)
{
	struct evbuffer *in = stream_input(b->st);
	char ip[INET6_ADDRSTRLEN] = "", err[320] = "out of memory", why[400];
	struct bufferevent *under, *bev = NULL;

	b->tls_pending = 0;
	/* The client already failed if anything followed the 220. */
	evbuffer_drain(in, evbuffer_get_length(in));
	backend_server_ip(b, ip, sizeof(ip));
	under = stream_hand_over(b->st);
	if (under != NULL)
		bev = tls_client_wrap(b->base, under, b->tls,
		    b->conf->backend.tls_name, ip, err, sizeof(err));
	if (bev == NULL) {
		snprintf(why, sizeof(why), "STARTTLS: %s", err);
		backend_fail(b, why, NULL);
		return;
	}
	b->tls_handshaking = 1;
	stream_adopt(b->st, bev);
	backend_arm(b);
}

/* Handshake done (certificate verified if asked): EHLO again. */
static void
backend_tls_ready(struct backend *b)
{
	struct tls_info info;

	b->tls_handshaking = 0;
	tls_get_info(stream_bufferevent(b->st), &info);
	log_msg(LOG_INFO, "event=backend_tls server=%s version=%s cipher=%s "
	    "bits=%d verified=%s", b->server_text, info.version, info.cipher,
	    info.bits, info.verified ? "yes" : "no");
	backend_enter(b);
	if (smtp_client_tls_started(b->client) < 0)
		backend_fail(b, "STARTTLS: client not waiting for TLS", NULL);
	backend_arm(b);
	backend_leave(b);
}

/* Maps [backend] settings to the SMTP client's configuration. */
static void
backend_client_config(const struct backend *b, struct smtp_client_config *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->helo_name = b->conf->backend.helo;
	cc->tls = b->tls == NULL ? SMTP_CLIENT_TLS_NONE :
	    b->conf->backend.tls == CONF_BTLS_REQUIRED ?
	    SMTP_CLIENT_TLS_REQUIRED : SMTP_CLIENT_TLS_OPPORTUNISTIC;
	cc->xclient = b->conf->backend.xclient == CONF_AUTO_AUTO ?
	    SMTP_CLIENT_XCLIENT_AUTO : SMTP_CLIENT_XCLIENT_NEVER;
	cc->xforward = b->conf->backend.xforward == CONF_AUTO_AUTO ?
	    SMTP_CLIENT_XFORWARD_AUTO : SMTP_CLIENT_XFORWARD_NEVER;
	cc->peer = &b->peer;
}

/* Starts connecting to server b->server, or fails when none is left. */
static void
backend_try_server(struct backend *b)
{
	const struct conf_addr_list *servers = &b->conf->backend.servers;
	struct smtp_client_config cc;
	char why[320];

	if (b->server >= servers->n) {
		snprintf(why, sizeof(why), "no backend server usable (last: "
		    "%s)", b->failure[0] != '\0' ? b->failure : "none");
		b->established = 1;	/* failures are final now */
		backend_fail(b, why, NULL);
		return;
	}
	backend_format_server(b);
	backend_client_config(b, &cc);
	b->client = smtp_client_new(&cc, &backend_client_cb, b);
	b->st = stream_new(b->base, -1, &backend_stream_cb, b);
	if (b->client == NULL || b->st == NULL) {
		backend_fail(b, "out of memory", NULL);
		return;
	}
	stream_set_marks(b->st, 0, BACKEND_LOW_WATER);
	b->born_ms = backend_now_ms();
	backend_arm(b);
	if (stream_connect(b->st,
	    (const struct sockaddr *)&servers->v[b->server].ss,
	    (socklen_t)servers->v[b->server].len) < 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		backend_fail(b, why, NULL);
	}
}

/* Copies the peer's strings into storage owned by b. */
struct backend_peer_copy {
	char addr[INET6_ADDRSTRLEN];
	char helo[256];
	char destaddr[INET6_ADDRSTRLEN];
};

/* Takes the owner's peer into storage owned by b (NULL: none). */
static void
backend_set_peer(struct backend *b, const struct smtp_client_peer *peer)
{
	struct backend_peer_copy *copy = (struct backend_peer_copy *)(b + 1);

	memset(&b->peer, 0, sizeof(b->peer));
	if (peer != NULL) {
		b->peer = *peer;
		if (peer->addr != NULL) {
			snprintf(copy->addr, sizeof(copy->addr), "%s",
			    peer->addr);
			b->peer.addr = copy->addr;
		}
		if (peer->helo != NULL) {
			snprintf(copy->helo, sizeof(copy->helo), "%s",
			    peer->helo);
			b->peer.helo = copy->helo;
		}
		if (peer->destaddr != NULL) {
			snprintf(copy->destaddr, sizeof(copy->destaddr), "%s",
			    peer->destaddr);
			b->peer.destaddr = copy->destaddr;
		}
		b->peer.name = NULL;
	}
}

/*
 * Connection cache
 */

struct backend_pool *
backend_pool_new(const struct conf *conf, struct metrics *metrics,
    int worker)
{
	struct backend_pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->conf = conf;
	p->metrics = metrics;
	p->worker = worker;
	TAILQ_INIT(&p->idle);
	return p;
}

void
backend_pool_free(struct backend_pool *p)
{
	if (p == NULL)
		return;
	backend_pool_clear(p);
	free(p);
}

void
backend_pool_clear(struct backend_pool *p)
{
	p->closed = 1;
	while (!TAILQ_EMPTY(&p->idle))
		backend_pool_drop(TAILQ_FIRST(&p->idle));
}

/* Counts a connection in or out of the pool. */
static void
backend_pool_count(struct backend_pool *p, int delta)
{
	p->nidle = (size_t)((long)p->nidle + delta);
	if (p->metrics != NULL)
		metrics_gauge_add(p->metrics, p->worker, METRIC_BACKEND_IDLE,
		    delta);
}

/* Closes a parked connection. */
static void
backend_pool_drop(struct backend *b)
{
	TAILQ_REMOVE(&b->pool->idle, b, idle);
	backend_pool_count(b->pool, -1);
	b->parked = 0;
	backend_destroy(b);
}

/* The parked connection to the lowest-numbered server, unlinked. */
static struct backend *
backend_pool_take(struct backend_pool *p)
{
	struct backend *b, *best = NULL;

	TAILQ_FOREACH(b, &p->idle, idle) {
		if (best == NULL || b->server < best->server)
			best = b;
		if (best->server == 0)
			break;		/* none can come before it */
	}
	if (best == NULL)
		return NULL;
	TAILQ_REMOVE(&p->idle, best, idle);
	backend_pool_count(p, -1);
	best->parked = 0;
	return best;
}

/* 1 if b's connection may wait in the pool for the next session. */
static int
backend_parkable(const struct backend *b)
{
	const struct conf_backend *cb = &b->conf->backend;

	return b->pool != NULL && !b->pool->closed && cb->connection_cache &&
	    !b->dead &&
	    b->in_callback == 0 && b->established && b->client != NULL &&
	    smtp_client_state(b->client) == SMTP_CLIENT_READY &&
	    !b->tls_pending && !b->tls_handshaking && b->st != NULL &&
	    evbuffer_get_length(stream_input(b->st)) == 0 &&
	    b->pool->nidle < BACKEND_POOL_MAX &&
	    backend_now_ms() - b->born_ms < cb->connection_reuse_time;
}

void
backend_release(struct backend *b)
{
	if (b == NULL)
		return;
	if (!backend_parkable(b)) {
		backend_free(b);
		return;
	}
	b->ev = NULL;
	b->ctx = NULL;
	b->congested = 0;
	b->parked = 1;
	TAILQ_INSERT_HEAD(&b->pool->idle, b, idle);
	backend_pool_count(b->pool, 1);
	backend_arm(b);
}

/*
 * Restarts a parked connection for a new owner: 0; 1 when it failed at
 * once with no server left (failed() was called; b is gone); -1 when the
 * connection cannot serve this owner (b untouched, still to be freed).
 */
static int
backend_reuse(struct backend *b, struct certs_client *tls,
    const struct smtp_client_peer *peer, const struct backend_events *ev,
    void *ctx)
{
	/* A reconnect must use the current client context (SIGHUP). */
	if (tls != b->tls) {
		certs_client_free(b->tls);
		b->tls = tls != NULL ? certs_client_ref(tls) : NULL;
	}
	backend_set_peer(b, peer);
	b->ev = ev;
	b->ctx = ctx;
	b->established = 0;
	b->reused = 1;
	b->failure[0] = '\0';
	backend_enter(b);
	if (smtp_client_reuse(b->client, &b->peer) < 0) {
		b->in_callback--;
		return -1;
	}
	backend_arm(b);
	return backend_leave(b);
}

struct backend *
backend_new(struct backend_pool *pool, struct event_base *base,
    const struct conf *conf, struct certs_client *tls,
    const struct smtp_client_peer *peer, const struct backend_events *ev,
    void *ctx)
{
	struct backend *b;
	struct backend_peer_copy *copy;

	while (pool != NULL && (b = backend_pool_take(pool)) != NULL) {
		switch (backend_reuse(b, tls, peer, ev, ctx)) {
		case 0:
			return b;	/* perhaps reconnecting already */
		case 1:
			return NULL;	/* as when connecting fails at once */
		default:
			backend_destroy(b);
		}
	}
	b = calloc(1, sizeof(*b) + sizeof(*copy));
	if (b == NULL)
		return NULL;
	b->base = base;
	b->conf = conf;
	b->ev = ev;
	b->ctx = ctx;
	b->pool = pool;
	backend_set_peer(b, peer);
	b->timer = evtimer_new(base, backend_timer_cb, b);
	if (b->timer == NULL) {
		free(b);
		return NULL;
	}
	if (tls != NULL)
		b->tls = certs_client_ref(tls);
	backend_enter(b);
	backend_try_server(b);
	if (backend_leave(b))
		return NULL;
	return b;
}

const char *
backend_server(const struct backend *b)
{
	return b->server_text;
}

enum smtp_client_state
backend_state(const struct backend *b)
{
	return b->client != NULL ? smtp_client_state(b->client) :
	    SMTP_CLIENT_FAILED;
}

int
backend_congested(const struct backend *b)
{
	return b->congested;
}

/*
 * Every command wrapper runs in a frame: a failure inside the call (a
 * write refused) reports failed() at once, and the owner may free b there.
 */
static int
backend_begin(struct backend *b)
{
	if (b->client == NULL)
		return -1;
	backend_enter(b);
	return 0;
}

/*
 * Ends the frame and arms the timer for the new wait.  When failed()
 * already told the owner inside the call, 0: the owner must not answer
 * the failure a second time.
 */
static int
backend_end(struct backend *b, int rc)
{
	int reported = b->dead;

	if (rc == 0 && !b->dead)
		backend_arm(b);
	if (backend_leave(b) || reported)
		return 0;
	return rc;
}

int
backend_mail(struct backend *b, const char *sender,
    const struct smtp_client_mail_params *params)
{
	if (backend_begin(b) < 0)
		return -1;
	return backend_end(b, smtp_client_mail(b->client, sender, params));
}

int
backend_rcpt(struct backend *b, const char *rcpt,
    const struct smtp_client_rcpt_params *params)
{
	if (backend_begin(b) < 0)
		return -1;
	return backend_end(b, smtp_client_rcpt(b->client, rcpt, params));
}

int
backend_data(struct backend *b)
{
	if (backend_begin(b) < 0)
		return -1;
	return backend_end(b, smtp_client_data(b->client));
}

int
backend_data_headers(struct backend *b, const char *data, size_t len)
{
	int rc;

	if (backend_begin(b) < 0)
		return -1;
	rc = smtp_client_data_write(b->client, data, len);
	if (rc == 0 && !b->dead && b->st != NULL)
		stream_hold(b->st, 1);	/* leave with the first content */
	return backend_end(b, rc);
}

int
backend_data_write(struct backend *b, const char *data, size_t len)
{
	int rc;

	if (backend_begin(b) < 0)
		return -1;
	if (b->st != NULL)
		stream_hold(b->st, 0);
	rc = smtp_client_data_write(b->client, data, len);
	if (rc == 0 && !b->dead && b->st != NULL &&
	    stream_output_length(b->st) > BACKEND_HIGH_WATER)
		b->congested = 1;
	return backend_end(b, rc);
}

int
backend_data_end(struct backend *b)
{
	if (backend_begin(b) < 0)
		return -1;
	if (b->st != NULL)
		stream_hold(b->st, 0);
	return backend_end(b, smtp_client_data_end(b->client));
}

int
backend_rset(struct backend *b)
{
	if (backend_begin(b) < 0)
		return -1;
	return backend_end(b, smtp_client_rset(b->client));
}
