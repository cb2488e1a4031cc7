/*
 * worker.c - a worker's event loop: accept, limits, sessions, signals.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "certs/certs.h"
#include "relay/connlimit.h"
#include "relay/backend.h"
#include "relay/log.h"
#include "relay/metrics.h"
#include "relay/session.h"
#include "relay/tls.h"
#include "relay/worker.h"
#include "spf/spf_unbound.h"

#define WORKER_MAX_FORWARDERS 16

/* One listening socket as seen by this worker's loop. */
struct worker_listener {
	struct worker *worker;
	const struct worker_socket *sock;
	struct evconnlistener *ev;
};

/* Per-worker loop state that only this file needs. */
struct worker_loop {
	struct worker worker;
	struct worker_listener *listeners;
	int nlisteners;
	struct event *sigterm, *sigint, *sighup, *grace;
	struct metrics_http *metrics_http;	/* worker 0 only */
};

void
worker_peer_octets(const struct sockaddr *sa, int *family,
    const unsigned char **addr)
{
	if (sa->sa_family == AF_INET6) {
		*family = AF_INET6;
		*addr = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
	} else {
		*family = AF_INET;
		*addr = (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	}
}

/* Refuses a connection over a limit with a 421 written right away. */
static void
worker_refuse(struct worker *w, evutil_socket_t fd, const char *why)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof(line), "421 4.7.0 %s Error: %s\r\n",
	    w->conf->server.hostname, why);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	evutil_closesocket(fd);
}

/*
 * A connection on a proxy_protocol listener: only trusted proxies may
 * connect; the limits are applied once the PROXY header names the client.
 */
static void
worker_accept_proxied(struct worker *w, evutil_socket_t fd,
    struct sockaddr *sa, int salen, const struct conf_listener *listener)
{
	const unsigned char *octets;
	int family;

	worker_peer_octets(sa, &family, &octets);
	if (!conf_net_match(&listener->trusted_proxies, family, octets)) {
		log_msg(LOG_NOTICE, "event=connection_refused "
		    "reason=untrusted_proxy listener=%s", listener->name);
		metrics_inc(w->setup->metrics, w->id, METRIC_REFUSED_PROXY);
		worker_refuse(w, fd, "this port takes connections from "
		    "trusted proxies only");
		return;
	}
	if (session_new(w, fd, sa, (socklen_t)salen, listener) == NULL) {
		metrics_inc(w->setup->metrics, w->id,
		    METRIC_REFUSED_RESOURCES);
		worker_refuse(w, fd, "out of resources");
	}
}

/* A client connected on one of the listening sockets. */
static void
worker_accept_cb(struct evconnlistener *ev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct worker_listener *wl = arg;
	struct worker *w = wl->worker;
	const unsigned char *octets;
	int family, rc;

	(void)ev;
	worker_peer_octets(sa, &family, &octets);
	if (wl->sock->listener->proxy_protocol) {
		worker_accept_proxied(w, fd, sa, salen, wl->sock->listener);
		return;
	}
	rc = connlimit_acquire(w->setup->connlimit, w->id, family, octets);
	if (rc != 0) {
		log_msg(LOG_NOTICE, "event=connection_refused reason=%s",
		    rc == CONNLIMIT_TOTAL ? "max_connections" :
		    "max_connections_per_ip");
		metrics_inc(w->setup->metrics, w->id, rc == CONNLIMIT_TOTAL ?
		    METRIC_REFUSED_MAX_CONNECTIONS : rc == CONNLIMIT_PER_IP ?
		    METRIC_REFUSED_MAX_PER_IP : METRIC_REFUSED_RESOURCES);
		worker_refuse(w, fd, rc == CONNLIMIT_TOTAL ?
		    "too many connections" :
		    "too many connections from your address");
		return;
	}
	if (session_new(w, fd, sa, (socklen_t)salen, wl->sock->listener) ==
	    NULL) {
		connlimit_release(w->setup->connlimit, w->id, family, octets);
		metrics_inc(w->setup->metrics, w->id,
		    METRIC_REFUSED_RESOURCES);
		worker_refuse(w, fd, "out of resources");
	}
}

/* accept() itself failed (EMFILE...): log; libevent keeps listening. */
static void
worker_accept_error_cb(struct evconnlistener *ev, void *arg)
{
	(void)ev;
	(void)arg;
	log_msg(LOG_WARNING, "event=accept_failed error=\"%s\"",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* Stops accepting on every socket. */
static void
worker_close_listeners(struct worker_loop *loop)
{
	int i;

	for (i = 0; i < loop->nlisteners; i++) {
		if (loop->listeners[i].ev != NULL)
			evconnlistener_free(loop->listeners[i].ev);
		loop->listeners[i].ev = NULL;
	}
}

void
worker_session_ended(struct worker *w)
{
	w->nsessions--;
	if (w->stopping && w->nsessions == 0)
		event_base_loopexit(w->base, NULL);
}

/* The grace period after SIGTERM is over: stop whatever remains. */
static void
worker_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker_loop *loop = arg;

	(void)fd;
	(void)what;
	log_msg(LOG_NOTICE, "event=stop_grace_over worker=%d sessions=%d",
	    loop->worker.id, loop->worker.nsessions);
	event_base_loopexit(loop->worker.base, NULL);
}

/* SIGTERM/SIGINT: stop accepting, drain sessions, exit. */
static void
worker_stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker_loop *loop = arg;
	struct worker *w = &loop->worker;
	struct timeval grace = { WORKER_STOP_GRACE, 0 };
	struct session_link *link, *next;

	(void)what;
	if (w->stopping)
		return;
	w->stopping = 1;
	log_msg(LOG_INFO, "event=worker_stopping worker=%d signal=%d "
	    "sessions=%d", w->id, (int)sig, w->nsessions);
	worker_close_listeners(loop);
	backend_pool_clear(w->backend_pool);
	for (link = TAILQ_FIRST(&w->sessions); link != NULL; link = next) {
		next = TAILQ_NEXT(link, entry);
		session_shutdown(link->session);
	}
	if (w->nsessions == 0) {
		event_base_loopexit(w->base, NULL);
		return;
	}
	evtimer_add(loop->grace, &grace);
}

/*
 * Loads the TLS contexts afresh; on success they replace the current ones
 * (live sessions keep theirs: contexts are reference counted).  0, or -1
 * after logging why (the current contexts stay).
 */
static int
worker_tls_reload(struct worker *w)
{
	struct tls_contexts fresh;
	char err[512], quoted[600];

	if (tls_contexts_load(w->conf, &fresh, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "event=tls_reload_failed worker=%d reason=%s "
		    "action=keeping_current_certificates", w->id,
		    log_quote_str(quoted, sizeof(quoted), err));
		return -1;
	}
	tls_contexts_clear(&w->tls);
	w->tls = fresh;
	tls_contexts_log(&w->tls, "tls_certificates", w->id);
	return 0;
}

/* At start: our own load, else references to the master's contexts. */
static void
worker_tls_init(struct worker *w)
{
	const struct tls_contexts *master = &w->setup->tls;

	if (worker_tls_reload(w) == 0)
		return;
	if (master->server != NULL)
		w->tls.server = certs_server_ref(master->server);
	if (master->client != NULL)
		w->tls.client = certs_client_ref(master->client);
}

/* SIGHUP: reload what can be reloaded without dropping sessions. */
static void
worker_reload_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker_loop *loop = arg;

	(void)sig;
	(void)what;
	log_msg(LOG_INFO, "event=worker_reload worker=%d", loop->worker.id);
	(void)worker_tls_reload(&loop->worker);
}

/*
 * The worker's event loop.  With epoll's change list, the add/remove of a
 * socket's write interest around every reply is coalesced within one loop
 * iteration instead of costing two epoll_ctl() calls per write.
 */
static struct event_base *
worker_event_base_new(void)
{
	struct event_config *cfg;
	struct event_base *base;

	cfg = event_config_new();
	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* Builds the libunbound resolver from [dns]; NULL with err on failure. */
static struct spf_resolver *
worker_resolver_new(struct worker *w, char *err, size_t errlen)
{
	const struct conf_dns *dns = &w->conf->dns;
	char fwd_text[WORKER_MAX_FORWARDERS][INET6_ADDRSTRLEN + 8];
	const char *fwd[WORKER_MAX_FORWARDERS];
	struct spf_unbound_config uc;
	size_t i;

	memset(&uc, 0, sizeof(uc));
	uc.no_dnssec = !dns->dnssec;
	uc.trust_anchor_file = dns->dnssec ? dns->trust_anchor : NULL;
	uc.timeout_ms = (int)dns->query_timeout;
	for (i = 0; i < dns->forward.n && i < WORKER_MAX_FORWARDERS; i++) {
		session_format_addr(&dns->forward.v[i].ss, fwd_text[i],
		    sizeof(fwd_text[i]), '@');
		fwd[i] = fwd_text[i];
	}
	uc.forwarders = fwd;
	uc.nforwarders = (int)i;
	uc.outgoing_range = dns->outgoing_range;
	uc.transparent_zones = (const char *const *)dns->transparent_zones.v;
	uc.ntransparent = (int)dns->transparent_zones.n;
	/*
	 * cache_size bounds spf_unbound's answer cache (entries of at most
	 * SPF_UNBOUND_CACHE_ENTRY_MAX octets); 0 turns it off.  The conf
	 * schema caps it at 1G, well under SPF_UNBOUND_CACHE_ENTRIES_MAX.
	 */
	uc.cache_max_entries = dns->cache_size <= 0 ? -1 :
	    dns->cache_size < SPF_UNBOUND_CACHE_ENTRY_MAX ? 1 :
	    (int)(dns->cache_size / SPF_UNBOUND_CACHE_ENTRY_MAX);
	return spf_unbound_new(w->base, &uc, err, errlen);
}

/* Listens on every shared socket. */
static int
worker_listen(struct worker_loop *loop)
{
	const struct worker_setup *setup = loop->worker.setup;
	struct worker_listener *wl;
	int i;

	loop->listeners = calloc((size_t)setup->nsockets,
	    sizeof(*loop->listeners));
	if (loop->listeners == NULL)
		return -1;
	loop->nlisteners = setup->nsockets;
	for (i = 0; i < setup->nsockets; i++) {
		wl = &loop->listeners[i];
		wl->worker = &loop->worker;
		wl->sock = &setup->sockets[i];
		/*
		 * Backlog 0: the master already listens with its own
		 * backlog (serve.c); -1 would make libevent call listen()
		 * again with 128, and a burst of connections would overflow.
		 */
		wl->ev = evconnlistener_new(loop->worker.base,
		    worker_accept_cb, wl, 0, 0, setup->sockets[i].fd);
		if (wl->ev == NULL)
			return -1;
		evconnlistener_set_error_cb(wl->ev, worker_accept_error_cb);
	}
	return 0;
}

/* Installs the signal events. */
static int
worker_signals(struct worker_loop *loop)
{
	struct event_base *base = loop->worker.base;

	signal(SIGPIPE, SIG_IGN);
	loop->sigterm = evsignal_new(base, SIGTERM, worker_stop_cb, loop);
	loop->sigint = evsignal_new(base, SIGINT, worker_stop_cb, loop);
	loop->sighup = evsignal_new(base, SIGHUP, worker_reload_cb, loop);
	loop->grace = evtimer_new(base, worker_grace_cb, loop);
	if (loop->sigterm == NULL || loop->sigint == NULL ||
	    loop->sighup == NULL || loop->grace == NULL)
		return -1;
	if (evsignal_add(loop->sigterm, NULL) < 0 ||
	    evsignal_add(loop->sigint, NULL) < 0 ||
	    evsignal_add(loop->sighup, NULL) < 0)
		return -1;
	return 0;
}

/* Frees what worker_main built, in reverse order; NULL-safe parts. */
static void
worker_teardown(struct worker_loop *loop)
{
	struct session_link *link;

	while ((link = TAILQ_FIRST(&loop->worker.sessions)) != NULL)
		session_free(link->session);
	backend_pool_free(loop->worker.backend_pool);
	tls_close_all();
	tls_contexts_clear(&loop->worker.tls);
	metrics_http_free(loop->metrics_http);
	worker_close_listeners(loop);
	free(loop->listeners);
	if (loop->worker.resolver != NULL)
		loop->worker.resolver->ops->free(loop->worker.resolver);
	if (loop->sigterm != NULL)
		event_free(loop->sigterm);
	if (loop->sigint != NULL)
		event_free(loop->sigint);
	if (loop->sighup != NULL)
		event_free(loop->sighup);
	if (loop->grace != NULL)
		event_free(loop->grace);
	if (loop->worker.base != NULL)
		event_base_free(loop->worker.base);
}

int
worker_main(void *arg, int worker_id)
{
	const struct worker_setup *setup = arg;
	struct worker_loop loop;
	char err[512];
	int rc = 1;

	memset(&loop, 0, sizeof(loop));
	loop.worker.setup = setup;
	loop.worker.conf = setup->conf;
	loop.worker.id = worker_id;
	TAILQ_INIT(&loop.worker.sessions);
	loop.worker.base = worker_event_base_new();
	if (loop.worker.base == NULL) {
		log_msg(LOG_ERR, "event=worker_failed worker=%d "
		    "reason=\"cannot create the event loop\"", worker_id);
		goto out;
	}
	loop.worker.resolver = worker_resolver_new(&loop.worker, err,
	    sizeof(err));
	if (loop.worker.resolver == NULL) {
		log_msg(LOG_ERR, "event=worker_failed worker=%d reason=\"%s\"",
		    worker_id, err);
		goto out;
	}
	worker_tls_init(&loop.worker);
	loop.worker.backend_pool = backend_pool_new(setup->conf,
	    setup->metrics, worker_id);
	if (loop.worker.backend_pool == NULL || worker_signals(&loop) < 0 ||
	    worker_listen(&loop) < 0) {
		log_msg(LOG_ERR, "event=worker_failed worker=%d "
		    "reason=\"cannot set up events\"", worker_id);
		goto out;
	}
	if (worker_id == 0 && setup->metrics_fd >= 0 &&
	    (loop.metrics_http = metrics_http_new(setup->metrics,
	    loop.worker.base, setup->metrics_fd, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERR, "event=worker_failed worker=%d reason=\"%s\"",
		    worker_id, err);
		goto out;
	}
	event_base_dispatch(loop.worker.base);
	rc = 0;
out:
	worker_teardown(&loop);
	return rc;
}
