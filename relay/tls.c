/*
 * tls.c - bufferevent_openssl glue and the contexts of a configuration
 * (see tls.h).
 *
 * Only this file of the relay calls SSL_* (through certs/ for contexts);
 * sessions and backends see bufferevents and the events CONNECTED, EOF
 * and ERROR.  A filter's underlying socket bufferevent gets watermarks so
 * that neither direction buffers more than TLS_UNDER_HIGH_WATER of
 * records: the filter then stops encrypting (backend congestion shows on
 * the filter's own output) or stops reading records.
 *
 * Memory: with SSL_MODE_RELEASE_BUFFERS an idle SSL keeps no record
 * buffers, but libevent's TLS bufferevent reserves read space in its input
 * whenever reading resumes (each time the input drops below its high
 * watermark) and keeps that empty chunk while the session idles; capping
 * a single read at TLS_READ_MAX keeps the chunk small (bench/tls: about
 * 12 KB less per idle session than libevent's 16 KB default).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "certs/certs.h"
#include "relay/log.h"
#include "relay/tls.h"

/* A connection being flushed and closed by tls_close(). */
struct tls_closer {
	LIST_ENTRY(tls_closer) entry;
	struct bufferevent *bev;
	struct evbuffer *under_out;	/* the filter's socket output, or NULL */
	struct evbuffer_cb_entry *watch;
	struct event *deadline;
	struct event *step;
	int notified;			/* close_notify written */
};

static LIST_HEAD(, tls_closer) tls_closers =
    LIST_HEAD_INITIALIZER(tls_closers);

/*
 * Contexts from the configuration
 */

/* The [tls] policy as certs/ wants it. */
static void
tls_policy(const struct conf *conf, struct certs_tls *p)
{
	memset(p, 0, sizeof(*p));
	/* enum conf_tls_version holds the wire numbers (TLS1_x_VERSION). */
	p->min_version = conf->tls.min_protocol;
	p->max_version = conf->tls.max_protocol;
	p->ciphers = conf->tls.ciphers[0] != '\0' ? conf->tls.ciphers :
	    TLS_DEFAULT_CIPHERS;
	p->ciphersuites = conf->tls.ciphersuites;
	p->groups = conf->tls.groups;
	p->prefer_server_ciphers = conf->tls.prefer_server_ciphers;
	p->session_tickets = conf->tls.session_tickets;
}

/* The [certificate NAME] sections; NULL with err when there are none. */
static struct certs_server *
tls_load_server(const struct conf *conf, const struct certs_tls *policy,
    char *err, size_t errlen)
{
	struct certs_keypair *pairs;
	struct certs_server *set = NULL;
	char (*labels)[CONF_LINE_MAX + 16];
	size_t i;

	pairs = calloc(conf->ncertificates, sizeof(*pairs));
	labels = calloc(conf->ncertificates, sizeof(*labels));
	if (pairs == NULL || labels == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < conf->ncertificates; i++) {
		snprintf(labels[i], sizeof(labels[i]), "[certificate %s]",
		    conf->certificates[i].name);
		pairs[i].label = labels[i];
		pairs[i].cert_file = conf->certificates[i].cert_file;
		pairs[i].key_file = conf->certificates[i].key_file;
		pairs[i].chain_file = conf->certificates[i].chain_file;
	}
	set = certs_server_new(policy, pairs, conf->ncertificates, err,
	    errlen);
out:
	free(labels);
	free(pairs);
	return set;
}

int
tls_contexts_load(const struct conf *conf, struct tls_contexts *out,
    char *err, size_t errlen)
{
	struct tls_contexts t;
	struct certs_client_policy cp;
	struct certs_tls policy;

	memset(&t, 0, sizeof(t));
	tls_policy(conf, &policy);
	if (conf->ncertificates > 0) {
		t.server = tls_load_server(conf, &policy, err, errlen);
		if (t.server == NULL)
			return -1;
	}
	if (conf->backend.tls != CONF_BTLS_NONE) {
		memset(&cp, 0, sizeof(cp));
		cp.verify = conf->backend.tls_verify;
		cp.ca_file = conf->backend.tls_ca_file;
		cp.cert_file = conf->backend.tls_cert_file;
		cp.key_file = conf->backend.tls_key_file;
		cp.label = "[backend]";
		t.client = certs_client_new(&policy, &cp, err, errlen);
		if (t.client == NULL) {
			tls_contexts_clear(&t);
			return -1;
		}
	}
	*out = t;
	return 0;
}

void
tls_contexts_clear(struct tls_contexts *t)
{
	if (t == NULL)
		return;
	certs_server_free(t->server);
	certs_client_free(t->client);
	memset(t, 0, sizeof(*t));
}

void
tls_contexts_log(const struct tls_contexts *t, const char *event, int worker)
{
	char text[1024];
	size_t i;

	for (i = 0; t->server != NULL && i < certs_server_groups(t->server);
	    i++) {
		if (certs_server_describe(t->server, i, text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), "names=(too long)");
		log_msg(LOG_INFO, "event=%s worker=%d group=%zu%s %s", event,
		    worker, i, i == 0 ? " default=yes" : "", text);
	}
}

/*
 * Wrapping connections
 */

/* Common settings of a new TLS bufferevent. */
static void
tls_setup(struct bufferevent *bev, struct bufferevent *under)
{
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_set_max_single_read(bev, TLS_READ_MAX);
	if (under != NULL) {
		bufferevent_setwatermark(under, EV_WRITE, 0,
		    TLS_UNDER_HIGH_WATER);
		bufferevent_setwatermark(under, EV_READ, 0,
		    TLS_UNDER_HIGH_WATER);
	}
}

/* Wraps under with ssl in state st; NULL + err (ssl freed). */
static struct bufferevent *
tls_wrap(struct event_base *base, struct bufferevent *under, SSL *ssl,
    enum bufferevent_ssl_state st, char *err, size_t errlen)
{
	struct bufferevent *bev;

	/*
	 * Caution: the handshake starts inside this call, reading what under
	 * holds.  On failure libevent has normally freed ssl and under (its
	 * error path runs the destructor); only when its very first
	 * allocation fails are they leaked, which we cannot tell apart.
	 */
	bev = bufferevent_openssl_filter_new(base, under, ssl, st,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		snprintf(err, errlen, "cannot create the TLS layer");
		return NULL;
	}
	tls_setup(bev, under);
	return bev;
}

struct bufferevent *
tls_server_wrap(struct event_base *base, struct bufferevent *under,
    struct certs_server *certs, char *err, size_t errlen)
{
	SSL *ssl;

	ERR_clear_error();
	ssl = certs_server_ssl_new(certs);
	if (ssl == NULL) {
		snprintf(err, errlen, "cannot create a TLS connection");
		bufferevent_free(under);
		return NULL;
	}
	return tls_wrap(base, under, ssl, BUFFEREVENT_SSL_ACCEPTING, err,
	    errlen);
}

struct bufferevent *
tls_server_socket(struct event_base *base, struct certs_server *certs,
    char *err, size_t errlen)
{
	struct bufferevent *bev;
	SSL *ssl;

	ERR_clear_error();
	ssl = certs_server_ssl_new(certs);
	if (ssl == NULL) {
		snprintf(err, errlen, "cannot create a TLS connection");
		return NULL;
	}
	/* No descriptor yet: a failure here cannot close the caller's. */
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		snprintf(err, errlen, "cannot create the TLS layer");
		return NULL;
	}
	tls_setup(bev, NULL);
	return bev;
}

struct bufferevent *
tls_client_wrap(struct event_base *base, struct bufferevent *under,
    struct certs_client *client, const char *name, const char *ip,
    char *err, size_t errlen)
{
	SSL *ssl;

	ssl = certs_client_ssl_new(client, name, ip, err, errlen);
	if (ssl == NULL) {
		bufferevent_free(under);
		return NULL;
	}
	return tls_wrap(base, under, ssl, BUFFEREVENT_SSL_CONNECTING, err,
	    errlen);
}

void
tls_get_info(struct bufferevent *bev, struct tls_info *info)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	const char *sni;
	X509 *peer;

	memset(info, 0, sizeof(*info));
	if (ssl == NULL)
		return;
	snprintf(info->version, sizeof(info->version), "%s",
	    SSL_get_version(ssl));
	snprintf(info->cipher, sizeof(info->cipher), "%s",
	    SSL_get_cipher_name(ssl));
	info->bits = SSL_get_cipher_bits(ssl, NULL);
	sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	snprintf(info->sni, sizeof(info->sni), "%s", sni != NULL ? sni : "");
	if (SSL_is_server(ssl))
		certs_ssl_own_subject(ssl, info->cert, sizeof(info->cert));
	else {
		peer = SSL_get0_peer_certificate(ssl);
		info->verified = peer != NULL &&
		    SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE &&
		    SSL_get_verify_result(ssl) == X509_V_OK;
	}
}

void
tls_failure(struct bufferevent *bev, char *out, size_t outlen)
{
	unsigned long e, cause = 0;

	/*
	 * The bufferevent keeps what went wrong, most recent first: OpenSSL's
	 * queue and, pushed before it, the bare SSL_get_error() code (no
	 * library part).  The earliest real entry is the cause.
	 */
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (ERR_GET_LIB(e) != 0)
			cause = e;
	certs_ssl_failure(bufferevent_openssl_get_ssl(bev), cause, out,
	    outlen);
	ERR_clear_error();
}

/*
 * Closing
 */

/* Releases a closer and its connection. */
static void
tls_closer_free(struct tls_closer *c)
{
	if (c->watch != NULL)
		evbuffer_remove_cb_entry(c->under_out, c->watch);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->step != NULL)
		event_free(c->step);
	LIST_REMOVE(c, entry);
	bufferevent_free(c->bev);
	free(c);
}

/* Writes close_notify (best effort: we do not wait for the peer's). */
static void
tls_close_notify(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	ERR_clear_error();
	if (ssl != NULL && SSL_is_init_finished(ssl))
		(void)SSL_shutdown(ssl);
	ERR_clear_error();
}

/* Advances the close: plaintext encrypted, close_notify, flushed. */
static void
tls_closer_advance(struct tls_closer *c)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		return;			/* the write callback comes back */
	if (!c->notified) {
		c->notified = 1;
		tls_close_notify(c->bev);
	}
	if (c->under_out != NULL && evbuffer_get_length(c->under_out) > 0)
		return;			/* the watch comes back */
	tls_closer_free(c);
}

/* Deferred step (never free from inside an evbuffer callback). */
static void
tls_closer_step_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tls_closer_advance(arg);
}

/* The socket's output changed: once empty, take the next step. */
static void
tls_closer_watch_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct tls_closer *c = arg;

	if (info->n_deleted > 0 && evbuffer_get_length(buf) == 0)
		event_active(c->step, EV_TIMEOUT, 0);
}

/* Input while closing is ignored. */
static void
tls_closer_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	(void)arg;
	evbuffer_drain(in, evbuffer_get_length(in));
}

/* The plaintext went into TLS records. */
static void
tls_closer_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	tls_closer_advance(arg);
}

/*
 * Writing failed: nothing more can be sent.  A failure on the reading
 * side (a handshake that failed, the peer's EOF) does not stop the flush:
 * what is queued may be the alert telling the peer why.
 */
static void
tls_closer_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tls_closer *c = arg;

	(void)bev;
	if ((what & BEV_EVENT_WRITING) || c->under_out == NULL ||
	    evbuffer_get_length(c->under_out) == 0)
		tls_closer_free(c);
}

/* Lingered too long. */
static void
tls_closer_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tls_closer_free(arg);
}

void
tls_close(struct bufferevent *bev)
{
	struct timeval tv = { TLS_CLOSE_LINGER_MS / 1000,
	    (TLS_CLOSE_LINGER_MS % 1000) * 1000 };
	struct event_base *base = bufferevent_get_base(bev);
	struct bufferevent *under = bufferevent_get_underlying(bev);
	struct tls_closer *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		bufferevent_free(bev);
		return;
	}
	c->bev = bev;
	LIST_INSERT_HEAD(&tls_closers, c, entry);
	c->deadline = evtimer_new(base, tls_closer_deadline_cb, c);
	c->step = event_new(base, -1, 0, tls_closer_step_cb, c);
	if (under != NULL) {
		c->under_out = bufferevent_get_output(under);
		c->watch = evbuffer_add_cb(c->under_out, tls_closer_watch_cb,
		    c);
	}
	if (c->deadline == NULL || c->step == NULL ||
	    (under != NULL && c->watch == NULL)) {
		tls_closer_free(c);
		return;
	}
	bufferevent_setcb(bev, tls_closer_read_cb, tls_closer_write_cb,
	    tls_closer_event_cb, c);
	bufferevent_disable(bev, EV_READ);
	bufferevent_enable(bev, EV_WRITE);
	evtimer_add(c->deadline, &tv);
	event_active(c->step, EV_TIMEOUT, 0);
}

void
tls_close_all(void)
{
	while (!LIST_EMPTY(&tls_closers))
		tls_closer_free(LIST_FIRST(&tls_closers));
}
