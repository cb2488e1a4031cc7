/*
 * session.c - one client connection joining smtp_server, SPF and backend.
 *
 * Flow of a transaction:
 *	MAIL   -> SPF (HELO identity first when helo_check is on, then the
 *		  MAIL FROM identity) -> policy -> backend connect/MAIL -> the
 *		  backend's answer is the client's answer.
 *	RCPT   -> backend RCPT -> its answer, code and text, to the client.
 *	DATA   -> backend DATA -> on 354 our trace and result headers are
 *		  written first, then the client gets 354.
 *	content-> streamed to the backend as it arrives (never buffered
 *		  whole); reading the client pauses while the backend's
 *		  output queue is congested.
 *	end    -> backend end-of-data -> its final answer to the client.
 * A message that ends badly on the client side (size, bare LF, timeout,
 * disconnect) is aborted by closing the backend connection without the
 * final dot, so nothing is delivered.  A backend that fails gives 451
 * 4.4.x for whatever the client is waiting for.
 *
 * Caution: input is fed to the state machine only from session_pump(),
 * which runs from the read callback or a deferred event, never from
 * inside a state machine callback.
 *
 * TLS (relay/tls.h): STARTTLS only marks the session; session_pump(),
 * right after the STARTTLS line is consumed, discards every plaintext
 * byte still buffered (CVE-2011-0411) and puts a TLS filter under the
 * client's stream (relay/stream.h).  The handshake has its own deadline ([tls]
 * handshake_timeout) on the client timer; once done, the state machine
 * is reset (EHLO again).  An implicit-TLS listener greets only after its
 * handshake.  A session that ends over TLS hands its connection to
 * tls_close(), which flushes the final reply and sends close_notify.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "relay/backend.h"
#include "relay/connlimit.h"
#include "relay/log.h"
#include "relay/metrics.h"
#include "relay/proxy.h"
#include "relay/session.h"
#include "relay/srs_gate.h"
#include "relay/stream.h"
#include "relay/tls.h"
#include "relay/worker.h"
#include "smtp/smtp_server.h"
#include "spf/spf.h"

#define SESSION_READ_CHUNK 65536
#define SESSION_READ_HIGH_WATER (256 * 1024)
#define SESSION_WRITE_HIGH_WATER (256 * 1024)	/* replies queued at most */
#define SESSION_CLOSE_LINGER_MS 10000	/* longest flush of the last reply */
#define SESSION_HEADERS_MAX 8192
#define SESSION_QUOTE_MAX 600

/* Per-transaction state: from MAIL to the end of DATA or RSET. */
struct session_tx {
	int open;			/* MAIL accepted by us and the backend */
	struct smtp_mail mail;
	struct spf_verdict verdict;
	int spf_done;			/* verdict holds a result */
	const char *spf_skip;		/* why SPF was not checked, or NULL */
	int backend_lost;		/* backend failed mid-transaction */
	int rcpt_accepted, rcpt_refused;
	char first_rcpt[SMTP_PATH_MAX + 1];
	char srs_sender[1025];		/* rewritten sender, or "" */
	struct timeval started;
};

/* Where the client connection stands with TLS. */
enum session_tls {
	SESSION_TLS_NONE = 0,		/* plaintext */
	SESSION_TLS_REQUESTED,		/* 220 to STARTTLS queued: wrap next */
	SESSION_TLS_HANDSHAKE,		/* handshake running */
	SESSION_TLS_ACTIVE		/* handshake done */
};

/* What the session is waiting for from SPF. */
enum session_spf_step {
	SESSION_SPF_IDLE = 0,
	SESSION_SPF_HELO,		/* HELO identity being checked */
	SESSION_SPF_MAILFROM		/* MAIL FROM identity being checked */
};

struct session {
	struct session_link link;
	struct worker *worker;
	const struct conf *conf;
	const struct conf_listener *listener;
	char id[24];

	struct stream *st;		/* the client connection */
	struct smtp_server *smtp;
	struct smtp_server_config smtp_cfg;
	struct backend *backend;
	struct spf_eval *spf;
	enum session_spf_step spf_step;
	struct event *timer;		/* client-side deadline */
	struct event *spf_timer;	/* SPF evaluation deadline */
	struct event *pump;		/* deferred feeding of buffered input */
	struct event *greet;		/* greeting delay */
	enum smtp_server_timeout_class armed;

	enum session_tls tls;
	int tls_implicit;		/* TLS from the first byte */
	char tls_version[16];		/* "TLSv1.3" once ACTIVE */
	char tls_cipher[80];
	int tls_bits;

	struct sockaddr_storage peer, local;
	int family;
	unsigned char addr[16];
	char ip[INET6_ADDRSTRLEN];
	unsigned port;
	char local_ip[INET6_ADDRSTRLEN];
	unsigned local_port;

	struct spf_verdict helo_verdict;
	int helo_checked;		/* helo_verdict is for the current HELO */

	struct session_tx tx;
	int closing;			/* flushing the final reply */
	int peer_eof;			/* the client sent all it will send */
	int write_full;			/* replies piled up: feeding paused */
	int in_dispatch;		/* depth of our own callbacks */
	int dead;			/* free once the dispatch unwinds */
	int limit_held;			/* counted in the connection limits */
	int proxy_wait;			/* PROXY header expected first */
	struct timeval started;
	unsigned long transactions;
};

static void session_proceed_backend(struct session *s);
static int session_srs_sender(struct session *s);
static void session_arm_timer(struct session *s);
static void session_tls_begin(struct session *s);
static void session_tls_wrap(struct session *s);
static void session_tls_ready(struct session *s);
static void session_greet_start(struct session *s);
static void session_finish(struct session *s);
static void session_addr_text(const struct sockaddr_storage *ss, char *ip,
    size_t iplen, unsigned *port);

void
session_format_addr(const struct sockaddr_storage *ss, char *out,
    size_t outlen, char sep)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		port = ntohs(sin6->sin6_port);
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		port = ntohs(sin->sin_port);
	}
	if (port == 0)
		snprintf(out, outlen, "%s", ip);
	else if (ss->ss_family == AF_INET6 && sep == ':')
		snprintf(out, outlen, "[%s]:%u", ip, port);
	else
		snprintf(out, outlen, "%s%c%u", ip, sep, port);
}

/* Text form and port of an address. */
static void
session_addr_text(const struct sockaddr_storage *ss, char *ip, size_t iplen,
    unsigned *port)
{
	session_format_addr(ss, ip, iplen, ' ');
	*port = 0;
	if (ss->ss_family == AF_INET6)
		*port = ntohs(((const struct sockaddr_in6 *)(const void *)ss)->
		    sin6_port);
	else if (ss->ss_family == AF_INET)
		*port = ntohs(((const struct sockaddr_in *)(const void *)ss)->
		    sin_port);
	ip[strcspn(ip, " ")] = '\0';
}

/* Milliseconds since tv. */
static long
session_elapsed_ms(const struct timeval *tv)
{
	struct timeval now;

	gettimeofday(&now, NULL);
	return (long)((now.tv_sec - tv->tv_sec) * 1000 +
	    (now.tv_usec - tv->tv_usec) / 1000);
}

/*
 * Life cycle
 */

/* Adds one to counter m of this session's worker (metrics.h). */
static void
session_count(const struct session *s, enum metric m)
{
	metrics_inc(s->worker->setup->metrics, s->worker->id, m);
}

/* Frees the state machine and the events a session owns (NULL-safe). */
static void
session_free_parts(struct session *s)
{
	smtp_server_free(s->smtp);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->spf_timer != NULL)
		event_free(s->spf_timer);
	if (s->pump != NULL)
		event_free(s->pump);
	if (s->greet != NULL)
		event_free(s->greet);
}

/* Frees everything; only outside our own dispatch. */
static void
session_destroy(struct session *s)
{
	struct worker *w = s->worker;

	spf_eval_free(s->spf);
	backend_release(s->backend);	/* kept for the next session if it can */
	stream_free(s->st);
	session_free_parts(s);
	if (s->limit_held)
		connlimit_release(w->setup->connlimit, w->id, s->family,
		    s->addr);
	TAILQ_REMOVE(&w->sessions, &s->link, entry);
	metrics_gauge_add(w->setup->metrics, w->id, METRIC_SESSIONS, -1);
	log_msg(LOG_INFO, "session=%s event=disconnect client=%s "
	    "transactions=%lu duration_ms=%ld", s->id, s->ip,
	    s->transactions, session_elapsed_ms(&s->started));
	free(s);
	worker_session_ended(w);
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	if (s->in_dispatch > 0) {
		s->dead = 1;
		if (s->st != NULL)
			stream_quiet(s->st);
		return;
	}
	session_destroy(s);
}

/* Enters one of our callback frames. */
static void
session_enter(struct session *s)
{
	s->in_dispatch++;
}

/* Leaves a frame; 1 if s was freed (the caller must not touch it). */
static int
session_leave(struct session *s)
{
	if (--s->in_dispatch == 0 && s->dead) {
		session_destroy(s);
		return 1;
	}
	return 0;
}

/* Asks for session_pump() to run from the loop. */
static void
session_schedule_pump(struct session *s)
{
	if (!s->dead && s->pump != NULL)
		event_active(s->pump, EV_TIMEOUT, 0);
}

/*
 * Feeding the state machine
 */

/* Refuses a client named by a PROXY header: a 421 line, then gone. */
static void
session_proxy_refuse(struct session *s, const char *why)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "421 4.7.0 %s Error: %s\r\n",
	    s->conf->server.hostname, why);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)send(stream_fd(s->st), line, (size_t)n,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
	session_free(s);
}

/* The PROXY header named the real client: adopt it and count it. */
static int
session_proxy_apply(struct session *s, const struct proxy_info *info)
{
	struct worker *w = s->worker;
	const unsigned char *octets;
	int rc;

	if (info->local) {
		if (!info->check) {
			log_msg(LOG_NOTICE, "session=%s event=proxy_unknown "
			    "proxy=%s", s->id, s->ip);
			session_proxy_refuse(s, "client address unknown");
			return -1;
		}
		/* A v2 LOCAL health check: the proxy speaks for itself. */
	} else {
		s->peer = info->src;
		s->local = info->dst;
		worker_peer_octets((const struct sockaddr *)&s->peer,
		    &s->family, &octets);
		memcpy(s->addr, octets, s->family == AF_INET ? 4 : 16);
		session_addr_text(&s->peer, s->ip, sizeof(s->ip), &s->port);
		session_addr_text(&s->local, s->local_ip, sizeof(s->local_ip),
		    &s->local_port);
	}
	rc = connlimit_acquire(w->setup->connlimit, w->id, s->family, s->addr);
	if (rc != 0) {
		log_msg(LOG_NOTICE, "session=%s event=connection_refused "
		    "client=%s reason=%s", s->id, s->ip, rc == CONNLIMIT_TOTAL ?
		    "max_connections" : "max_connections_per_ip");
		session_proxy_refuse(s, rc == CONNLIMIT_TOTAL ?
		    "too many connections" :
		    "too many connections from your address");
		return -1;
	}
	s->limit_held = 1;
	log_msg(LOG_INFO, "session=%s event=proxy client=%s port=%u "
	    "version=%d%s", s->id, s->ip, s->port, info->version,
	    info->local ? " local=yes" : "");
	return 0;
}

/*
 * Reads the PROXY header that must open a connection on a proxy_protocol
 * listener.  Returns 1 when it was read and the session greeted, 0 when
 * more bytes are needed, -1 when the session was closed.
 */
static int
session_proxy_input(struct session *s)
{
	struct evbuffer *in = stream_input(s->st);
	struct proxy_info info;
	unsigned char *data;
	size_t len;
	int n;

	len = evbuffer_get_length(in);
	if (len > PROXY_V2_HEAD + PROXY_V2_MAX_LEN)
		len = PROXY_V2_HEAD + PROXY_V2_MAX_LEN;
	if (len == 0)
		return 0;
	data = evbuffer_pullup(in, (ev_ssize_t)len);
	n = proxy_parse(data, len, &info);
	if (n == 0)
		return 0;
	if (n < 0) {
		log_msg(LOG_NOTICE, "session=%s event=proxy_invalid proxy=%s "
		    "reason=\"%s\"", s->id, s->ip, info.error != NULL ?
		    info.error : "malformed header");
		session_free(s);
		return -1;
	}
	evbuffer_drain(in, (size_t)n);
	if (session_proxy_apply(s, &info) < 0)
		return -1;
	s->proxy_wait = 0;
	if (s->tls_implicit)
		session_tls_wrap(s);	/* what follows is the ClientHello */
	else
		session_greet_start(s);
	return 1;
}

/*
 * A client that sends and never reads would pile up replies without
 * end: past SESSION_WRITE_HIGH_WATER queued bytes, stop feeding (and
 * reading) until they drained.  1 when paused.
 */
static int
session_write_full(struct session *s)
{
	if (stream_output_length(s->st) <= SESSION_WRITE_HIGH_WATER)
		return 0;
	s->write_full = 1;
	stream_read_disable(s->st);
	return 1;
}

/* 1 while the state machine waits for an answer of ours (SPF, backend). */
static int
session_answer_pending(const struct session *s)
{
	switch (smtp_server_state(s->smtp)) {
	case SMTP_SERVER_MAIL_WAIT:
	case SMTP_SERVER_RCPT_WAIT:
	case SMTP_SERVER_DATA_WAIT:
	case SMTP_SERVER_DATA_END_WAIT:
		return 1;
	default:
		return 0;
	}
}

/* The client went away or broke: note an unfinished transaction. */
static void
session_log_lost(struct session *s)
{
	if (s->tx.open || smtp_server_state(s->smtp) == SMTP_SERVER_DATA_BODY)
		log_msg(LOG_INFO, "session=%s event=client_lost client=%s "
		    "state=%s%s", s->id, s->ip,
		    smtp_server_state_name(smtp_server_state(s->smtp)),
		    s->backend != NULL ? " action=backend_aborted" : "");
}

/*
 * After the client's EOF (it may still read: a half-close), the session
 * goes on while it has something to answer: buffered commands are fed,
 * SPF and backend answers are awaited and sent.  Once nothing more can
 * happen (no answer pending, whatever input is left is an incomplete
 * line), the session ends like a lost client, after its last replies
 * were flushed.
 */
static void
session_eof_check(struct session *s)
{
	if (s->closing || s->write_full || session_answer_pending(s) ||
	    (s->backend != NULL && backend_congested(s->backend)))
		return;
	session_log_lost(s);
	session_finish(s);
}

/* Feeds buffered client input until the state machine stops taking it. */
static void
session_pump(struct session *s)
{
	struct evbuffer *in;
	unsigned char *data;
	size_t len, used;

	if (s->dead || s->closing || s->st == NULL ||
	    s->tls == SESSION_TLS_HANDSHAKE)
		return;
	if (s->proxy_wait && (session_proxy_input(s) <= 0 ||
	    s->tls == SESSION_TLS_HANDSHAKE))
		return;
	if (s->backend != NULL && backend_congested(s->backend)) {
		stream_read_disable(s->st);
		return;
	}
	if (session_write_full(s))
		return;
	in = stream_input(s->st);
	session_enter(s);
	while (!s->dead && !s->closing &&
	    (len = evbuffer_get_length(in)) > 0) {
		if (len > SESSION_READ_CHUNK)
			len = SESSION_READ_CHUNK;
		data = evbuffer_pullup(in, (ev_ssize_t)len);
		used = smtp_server_feed(s->smtp, (const char *)data, len);
		if (s->dead || s->st == NULL)
			break;
		if (used == 0)
			break;
		evbuffer_drain(in, used);
		if (s->tls == SESSION_TLS_REQUESTED) {
			/* Caution: swaps the stream's input buffer. */
			session_tls_begin(s);
			break;
		}
		if (s->backend != NULL && backend_congested(s->backend)) {
			stream_read_disable(s->st);
			break;
		}
		if (session_write_full(s))
			break;
	}
	if (!s->dead)
		session_arm_timer(s);
	if (!s->dead && s->peer_eof)
		session_eof_check(s);
	session_leave(s);
}

/* Deferred pump (after an asynchronous reply or a drained backend). */
static void
session_pump_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_pump(arg);
}

/* Client bytes arrived. */
static void
session_read_cb(struct stream *st, void *arg)
{
	(void)st;
	session_pump(arg);
}

/* Output drained: finish closing, or feed again after a pile-up. */
static void
session_drained_cb(struct stream *st, void *arg)
{
	struct session *s = arg;

	if (s->closing) {
		session_free(s);
		return;
	}
	if (s->write_full) {
		s->write_full = 0;
		if (!s->peer_eof)
			stream_read_enable(st);
		session_schedule_pump(s);
	}
}

/* The client closed the connection or it broke. */
static void
session_event_cb(struct stream *st, short what, void *arg)
{
	struct session *s = arg;
	char why[256], quoted[SESSION_QUOTE_MAX];

	if (what & BEV_EVENT_CONNECTED) {
		session_tls_ready(s);
		return;
	}
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) &&
	    s->tls == SESSION_TLS_HANDSHAKE) {
		tls_failure(stream_bufferevent(st), why, sizeof(why));
		log_msg(LOG_INFO, "session=%s event=tls_failed client=%s "
		    "mode=%s reason=%s", s->id, s->ip, s->tls_implicit ?
		    "implicit" : "starttls", log_quote_str(quoted,
		    sizeof(quoted), why));
		tls_close(stream_release(st));	/* our alert to the client */
		session_free(s);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		/* Half-close: the replies may still be read. */
		s->peer_eof = 1;
		if (s->in_dispatch == 0)
			session_eof_check(s);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		if (!s->closing)
			session_log_lost(s);
		session_free(s);
	}
}

/* Re-arms the client deadline when the kind of wait changed. */
static void
session_arm_timer(struct session *s)
{
	enum smtp_server_timeout_class cls;
	struct timeval tv;
	int64_t ms;

	if (s->tls == SESSION_TLS_HANDSHAKE)
		return;			/* the handshake deadline runs */
	cls = smtp_server_timeout_class(s->smtp);
	if (cls == s->armed)
		return;
	s->armed = cls;
	if (cls == SMTP_SERVER_TIMEOUT_NONE) {
		evtimer_del(s->timer);
		return;
	}
	ms = cls == SMTP_SERVER_TIMEOUT_DATA ? s->conf->server.timeout_data :
	    s->conf->server.timeout_command;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(s->timer, &tv);
}

/* The client took too long. */
static void
session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	if (s->tls == SESSION_TLS_HANDSHAKE) {
		log_msg(LOG_INFO, "session=%s event=tls_failed client=%s "
		    "mode=%s reason=\"handshake timeout\"", s->id, s->ip,
		    s->tls_implicit ? "implicit" : "starttls");
		session_free(s);
		return;
	}
	if (s->closing) {
		log_msg(LOG_INFO, "session=%s event=close_linger_over "
		    "client=%s reason=\"client does not read\"", s->id, s->ip);
		session_free(s);
		return;
	}
	log_msg(LOG_INFO, "session=%s event=timeout client=%s state=%s",
	    s->id, s->ip, smtp_server_state_name(smtp_server_state(s->smtp)));
	session_enter(s);
	smtp_server_timeout(s->smtp);
	session_leave(s);
}

/*
 * TLS
 */


/* The whole handshake must finish within [tls] handshake_timeout. */
static void
session_tls_deadline(struct session *s)
{
	int64_t ms = s->conf->tls.handshake_timeout;
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	s->armed = SMTP_SERVER_TIMEOUT_NONE;
	evtimer_add(s->timer, &tv);
}

/*
 * The STARTTLS line was consumed and answered 220: whatever plaintext
 * followed it is dropped unread (CVE-2011-0411), then the connection is
 * wrapped.  Called from session_pump() only, outside the state machine.
 */
static void
session_tls_begin(struct session *s)
{
	struct evbuffer *in = stream_input(s->st);
	size_t extra = evbuffer_get_length(in);

	if (extra > 0) {
		log_msg(LOG_NOTICE, "session=%s event=starttls_discard "
		    "client=%s bytes=%zu reason=\"plaintext pipelined after "
		    "STARTTLS\"", s->id, s->ip, extra);
		evbuffer_drain(in, extra);
	}
	session_tls_wrap(s);
}

/*
 * Puts a TLS filter over the plain connection and starts the handshake
 * with what the input holds (nothing after STARTTLS; after a PROXY header
 * on an implicit-TLS listener, the start of the ClientHello).
 */
static void
session_tls_wrap(struct session *s)
{
	struct bufferevent *under, *bev = NULL;
	char err[256] = "out of memory";

	s->tls = SESSION_TLS_HANDSHAKE;
	under = stream_hand_over(s->st);
	if (under != NULL)
		bev = tls_server_wrap(s->worker->base, under,
		    s->worker->tls.server, err, sizeof(err));
	if (bev == NULL) {
		log_msg(LOG_WARNING, "session=%s event=tls_failed client=%s "
		    "mode=%s reason=\"%s\"", s->id, s->ip, s->tls_implicit ?
		    "implicit" : "starttls", err);
		session_free(s);
		return;
	}
	stream_adopt(s->st, bev);
	session_tls_deadline(s);
}

/* Handshake done: record it, then greet or reset the state machine. */
static void
session_tls_ready(struct session *s)
{
	char sni[SESSION_QUOTE_MAX], cert[SESSION_QUOTE_MAX];
	struct tls_info info;

	if (s->tls != SESSION_TLS_HANDSHAKE)
		return;
	tls_get_info(stream_bufferevent(s->st), &info);
	snprintf(s->tls_version, sizeof(s->tls_version), "%s", info.version);
	snprintf(s->tls_cipher, sizeof(s->tls_cipher), "%s", info.cipher);
	s->tls_bits = info.bits;
	s->tls = SESSION_TLS_ACTIVE;
	session_count(s, METRIC_TLS_SESSIONS);
	evtimer_del(s->timer);
	s->armed = SMTP_SERVER_TIMEOUT_NONE;
	log_msg(LOG_INFO, "session=%s event=tls_started client=%s mode=%s "
	    "version=%s cipher=%s bits=%d sni=%s certificate=%s", s->id,
	    s->ip, s->tls_implicit ? "implicit" : "starttls", s->tls_version,
	    s->tls_cipher, s->tls_bits, log_quote_str(sni, sizeof(sni),
	    info.sni), log_quote_str(cert, sizeof(cert), info.cert));
	session_enter(s);
	if (s->tls_implicit)
		session_greet_start(s);
	else
		smtp_server_tls_started(s->smtp, s->tls_version,
		    s->tls_cipher);
	if (!s->dead) {
		session_arm_timer(s);
		session_schedule_pump(s);
	}
	session_leave(s);
}

/*
 * Replies to the client
 */

/* Answers the pending request and schedules more input. */
static void
session_reply(struct session *s, int code, const char *enhanced,
    const char *text)
{
	smtp_server_reply(s->smtp, code, enhanced, text);
	if (!s->dead) {
		s->armed = SMTP_SERVER_TIMEOUT_NONE;
		session_arm_timer(s);
		session_schedule_pump(s);
	}
}

/* Passes a backend reply to the client, code and text unchanged. */
static void
session_relay_reply(struct session *s, const struct smtp_client_reply *r)
{
	session_reply(s, r->code, r->enhanced[0] != '\0' ? r->enhanced : NULL,
	    r->text);
}

/*
 * Transaction log
 */

/* The one log line of a finished or refused transaction. */
static void
session_log_tx(struct session *s, const char *outcome, int code,
    const char *reply)
{
	char helo[SESSION_QUOTE_MAX], sender[SESSION_QUOTE_MAX];
	char why[SESSION_QUOTE_MAX], rep[SESSION_QUOTE_MAX];
	const char *spf = "none";

	if (s->tx.spf_skip != NULL)
		spf = "skipped";
	else if (s->tx.spf_done)
		spf = spf_result_name(s->tx.verdict.result);
	log_msg(LOG_INFO, "session=%s event=transaction outcome=%s client=%s "
	    "helo=%s sender=%s spf=%s spf_reason=%s dnssec=%s "
	    "rcpt_accepted=%d rcpt_refused=%d size=%llu backend=%s "
	    "reply=%d reply_text=%s tls=%s tls_cipher=%s duration_ms=%ld",
	    s->id, outcome, s->ip,
	    log_quote_str(helo, sizeof(helo), smtp_server_helo_name(s->smtp)),
	    log_quote_str(sender, sizeof(sender), s->tx.mail.sender), spf,
	    log_quote_str(why, sizeof(why), s->tx.spf_skip != NULL ?
	    s->tx.spf_skip : s->tx.spf_done ? (s->tx.verdict.reason[0] ?
	    s->tx.verdict.reason : s->tx.verdict.mechanism) : ""),
	    s->tx.spf_done && s->tx.verdict.dnssec_secure ? "secure" :
	    "insecure", s->tx.rcpt_accepted, s->tx.rcpt_refused,
	    (unsigned long long)smtp_server_message_size(s->smtp),
	    s->backend != NULL ? backend_server(s->backend) : "-", code,
	    log_quote_str(rep, sizeof(rep), reply),
	    s->tls == SESSION_TLS_ACTIVE ? s->tls_version : "none",
	    s->tls == SESSION_TLS_ACTIVE ? s->tls_cipher : "none",
	    session_elapsed_ms(&s->tx.started));
}

/* Forgets the transaction. */
static void
session_tx_clear(struct session *s)
{
	memset(&s->tx, 0, sizeof(s->tx));
}

/*
 * Backend events
 */

/* The backend answers for whatever the client is waiting on. */
static void
session_backend_ready(void *ctx)
{
	struct session *s = ctx;
	struct smtp_client_mail_params p;

	if (smtp_server_state(s->smtp) != SMTP_SERVER_MAIL_WAIT)
		return;
	memset(&p, 0, sizeof(p));
	p.size = s->tx.mail.has_size ? s->tx.mail.size : 0;
	p.body = (enum smtp_client_body)s->tx.mail.body;
	p.smtputf8 = s->tx.mail.smtputf8;
	p.ret = (enum smtp_client_ret)s->tx.mail.ret;
	p.envid = s->tx.mail.envid[0] != '\0' ? s->tx.mail.envid : NULL;
	if (backend_mail(s->backend, s->tx.srs_sender[0] != '\0' ?
	    s->tx.srs_sender : s->tx.mail.sender, &p) < 0)
		session_reply(s, 451, "4.3.0", "Error: cannot forward the "
		    "sender");
}

/* Builds our trace and SPF headers into buf; returns the length. */
static size_t
session_headers(struct session *s, char *buf, size_t buflen)
{
	struct spf_header_info info;
	char date[64], tls[160] = "", hdr[2048];
	size_t used = 0;
	time_t now = time(NULL);
	struct tm tm;
	int n;

	memset(&info, 0, sizeof(info));
	info.receiver = s->conf->server.hostname;
	info.authserv_id = s->conf->spf.authserv_id;
	info.client_ip = s->ip;
	info.helo = smtp_server_helo_name(s->smtp);
	if (s->tx.spf_done && (s->conf->spf.headers &
	    CONF_HDR_AUTH_RESULTS) &&
	    spf_header_authres(hdr, sizeof(hdr), &s->tx.verdict, &info) > 0) {
		n = snprintf(buf + used, buflen - used, "%s\r\n", hdr);
		if (n > 0 && (size_t)n < buflen - used)
			used += (size_t)n;
	}
	if (s->tx.spf_done && (s->conf->spf.headers &
	    CONF_HDR_RECEIVED_SPF) &&
	    spf_header_received_spf(hdr, sizeof(hdr), &s->tx.verdict,
	    &info) > 0) {
		n = snprintf(buf + used, buflen - used, "%s\r\n", hdr);
		if (n > 0 && (size_t)n < buflen - used)
			used += (size_t)n;
	}
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	if (s->tls == SESSION_TLS_ACTIVE)
		snprintf(tls, sizeof(tls), "\r\n\t(using %s with cipher %s "
		    "(%d bits))", s->tls_version, s->tls_cipher, s->tls_bits);
	n = snprintf(buf + used, buflen - used,
	    "Received: from %s (%s [%s])%s\r\n\tby %s (spfgate) with %s%s id %s"
	    "%s%s%s;\r\n\t%s\r\n",
	    smtp_server_helo_name(s->smtp)[0] != '\0' ?
	    smtp_server_helo_name(s->smtp) : "unknown", "unknown", s->ip, tls,
	    s->conf->server.hostname,
	    smtp_server_esmtp(s->smtp) ? "ESMTP" : "SMTP",
	    s->tls == SESSION_TLS_ACTIVE ? "S" : "", s->id,
	    s->tx.rcpt_accepted == 1 ? "\r\n\tfor <" : "",
	    s->tx.rcpt_accepted == 1 ? s->tx.first_rcpt : "",
	    s->tx.rcpt_accepted == 1 ? ">" : "", date);
	if (n > 0 && (size_t)n < buflen - used)
		used += (size_t)n;
	return used;
}

/* 354 from the backend: our headers go first, then the client may send. */
static void
session_backend_data_go(struct session *s)
{
	char headers[SESSION_HEADERS_MAX];
	size_t len;

	len = session_headers(s, headers, sizeof(headers));
	if (backend_data_headers(s->backend, headers, len) < 0) {
		session_reply(s, 451, "4.3.0", "Error: cannot forward the "
		    "message");
		return;
	}
	session_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

/* The backend answered one of our commands. */
static void
session_backend_reply(void *ctx, enum smtp_client_step step,
    const struct smtp_client_reply *r)
{
	struct session *s = ctx;

	session_enter(s);
	switch (step) {
	case SMTP_CLIENT_STEP_XFORWARD:
	case SMTP_CLIENT_STEP_MAIL:
		if (r->code / 100 == 2)
			s->tx.open = 1;
		else {
			session_count(s, METRIC_TX_REFUSED_BY_BACKEND);
			session_log_tx(s, "refused_by_backend", r->code,
			    r->text);
		}
		session_relay_reply(s, r);
		break;
	case SMTP_CLIENT_STEP_RCPT:
		if (r->code / 100 == 2)
			s->tx.rcpt_accepted++;
		else
			s->tx.rcpt_refused++;
		session_relay_reply(s, r);
		break;
	case SMTP_CLIENT_STEP_DATA:
		if (r->code == 354)
			session_backend_data_go(s);
		else
			session_relay_reply(s, r);
		break;
	case SMTP_CLIENT_STEP_DATA_END:
		session_count(s, r->code / 100 == 2 ? METRIC_TX_DELIVERED :
		    METRIC_TX_REFUSED_BY_BACKEND);
		session_log_tx(s, r->code / 100 == 2 ? "delivered" :
		    "refused_by_backend", r->code, r->text);
		s->transactions++;
		session_tx_clear(s);
		session_relay_reply(s, r);
		break;
	case SMTP_CLIENT_STEP_RSET:
	case SMTP_CLIENT_STEP_QUIT:
		break;
	}
	session_leave(s);
}

/* The backend is gone: answer what the client waits for with 451. */
static void
session_backend_failed(void *ctx, const char *why,
    const struct smtp_client_reply *r)
{
	struct session *s = ctx;
	enum smtp_server_state st = smtp_server_state(s->smtp);

	session_enter(s);
	session_count(s, METRIC_BACKEND_FAILURES);
	log_msg(LOG_WARNING, "session=%s event=backend_failed reason=\"%s\"%s%d",
	    s->id, why, r != NULL ? " reply=" : "", r != NULL ? r->code : 0);
	backend_free(s->backend);
	s->backend = NULL;
	switch (st) {
	case SMTP_SERVER_MAIL_WAIT:
	case SMTP_SERVER_RCPT_WAIT:
	case SMTP_SERVER_DATA_WAIT:
	case SMTP_SERVER_DATA_END_WAIT:
		if (st == SMTP_SERVER_DATA_END_WAIT) {
			session_count(s, METRIC_TX_BACKEND_FAILED);
			session_log_tx(s, "backend_failed", 451, why);
		}
		if (st != SMTP_SERVER_MAIL_WAIT)
			s->tx.backend_lost = 1;
		session_reply(s, 451, "4.4.2", "Error: backend server "
		    "unavailable, try again later");
		break;
	case SMTP_SERVER_DATA_BODY:
	case SMTP_SERVER_MAIL_DONE:
		s->tx.backend_lost = 1;
		break;
	default:
		break;
	}
	if (s->st != NULL && !s->dead)
		stream_read_enable(s->st);
	session_leave(s);
}

/* The backend's output queue emptied enough: read the client again. */
static void
session_backend_drained(void *ctx)
{
	struct session *s = ctx;

	if (s->st != NULL)
		stream_read_enable(s->st);
	session_schedule_pump(s);
}

static const struct backend_events session_backend_events = {
	.ready = session_backend_ready,
	.reply = session_backend_reply,
	.failed = session_backend_failed,
	.drained = session_backend_drained,
};

/* MAIL passed policy: forward it, connecting first if needed. */
static void
session_proceed_backend(struct session *s)
{
	struct smtp_client_peer peer;

	if (session_srs_sender(s) < 0)
		return;

	if (s->backend != NULL && backend_state(s->backend) ==
	    SMTP_CLIENT_READY) {
		session_backend_ready(s);
		return;
	}
	/* Caution: backend_new() may report failed() before it returns. */
	backend_free(s->backend);
	s->backend = NULL;
	memset(&peer, 0, sizeof(peer));
	peer.addr = s->ip;
	peer.port = s->port;
	peer.helo = smtp_server_helo_name(s->smtp);
	peer.esmtp = smtp_server_esmtp(s->smtp);
	peer.destaddr = s->local_ip;
	peer.destport = s->local_port;
	s->backend = backend_new(s->worker->backend_pool, s->worker->base,
	    s->conf, s->worker->tls.client, &peer, &session_backend_events, s);
	if (s->backend == NULL && !s->dead &&
	    smtp_server_state(s->smtp) == SMTP_SERVER_MAIL_WAIT)
		session_reply(s, 451, "4.3.0", "Error: out of resources");
}

/*
 * SPF
 */

/* Action configured for a result. */
static enum conf_action
session_spf_action(const struct session *s, enum spf_result r)
{
	const struct conf_spf *c = &s->conf->spf;

	switch (r) {
	case SPF_RESULT_PASS:
		return CONF_ACTION_ACCEPT;
	case SPF_RESULT_FAIL:
		return (enum conf_action)c->on_fail;
	case SPF_RESULT_SOFTFAIL:
		return (enum conf_action)c->on_softfail;
	case SPF_RESULT_NEUTRAL:
		return (enum conf_action)c->on_neutral;
	case SPF_RESULT_NONE:
		return (enum conf_action)c->on_none;
	case SPF_RESULT_PERMERROR:
		return (enum conf_action)c->on_permerror;
	case SPF_RESULT_TEMPERROR:
		return (enum conf_action)c->on_temperror;
	}
	return CONF_ACTION_DEFER;
}

/* Logs the SPF decision. */
static void
session_log_spf(struct session *s, const struct spf_verdict *v,
    const char *action)
{
	char ident[SESSION_QUOTE_MAX], why[SESSION_QUOTE_MAX];
	char mech[SESSION_QUOTE_MAX];

	log_msg(LOG_INFO, "session=%s event=spf client=%s identity=%s "
	    "checked=%s result=%s action=%s mechanism=%s reason=%s dnssec=%s "
	    "lookups=%d", s->id, s->ip,
	    v->identity == SPF_ID_HELO ? "helo" : "mailfrom",
	    log_quote_str(ident, sizeof(ident), v->identity_text),
	    spf_result_name(v->result), action,
	    log_quote_str(mech, sizeof(mech), v->mechanism),
	    log_quote_str(why, sizeof(why), v->reason),
	    v->dnssec_secure ? "secure" : "insecure", v->dns_lookups);
}

/* Refuses MAIL for an SPF verdict per the configured action. */
static void
session_spf_refuse(struct session *s, const struct spf_verdict *v,
    enum conf_action action)
{
	char text[SPF_EXPLANATION_MAX + 256];
	int error = v->result == SPF_RESULT_TEMPERROR ||
	    v->result == SPF_RESULT_PERMERROR;
	const char *who = v->identity == SPF_ID_HELO ? "HELO" : "sender";

	if (v->result == SPF_RESULT_FAIL && v->explanation[0] != '\0')
		snprintf(text, sizeof(text), "Error: SPF %s: %s",
		    spf_result_name(v->result), v->explanation);
	else if (error)
		snprintf(text, sizeof(text), "Error: SPF %s checking %s %s: "
		    "%s", spf_result_name(v->result), who, v->identity_text,
		    v->reason);
	else
		snprintf(text, sizeof(text), "Error: SPF %s: %s is not "
		    "allowed to send mail as %s %s",
		    spf_result_name(v->result), s->ip, who, v->identity_text);
	session_count(s, METRIC_TX_REFUSED_SPF);
	if (action == CONF_ACTION_DEFER)
		session_reply(s, 451, error ? "4.7.24" : "4.7.23", text);
	else
		session_reply(s, 550, error ? "5.7.24" : "5.7.23", text);
	session_log_tx(s, "refused_spf", action == CONF_ACTION_DEFER ? 451 :
	    550, text);
}

/* Fills an SPF request for identity. */
static void
session_spf_request(const struct session *s, enum spf_identity identity,
    struct spf_request *req)
{
	memset(req, 0, sizeof(*req));
	req->family = s->family;
	memcpy(req->ip, s->addr, s->family == AF_INET ? 4 : 16);
	req->identity = identity;
	req->sender = s->tx.mail.sender;
	req->helo = smtp_server_helo_name(s->smtp);
	req->receiver = s->conf->server.hostname;
	req->default_explanation = s->conf->spf.explanation;
	spf_limits_default(&req->limits);
	req->limits.dns_terms = s->conf->spf.lookup_limit;
	req->limits.void_lookups = s->conf->spf.void_lookup_limit;
}

static void session_spf_start(struct session *s, enum spf_identity identity);

/* An SPF verdict arrived (or the deadline made one up). */
static void
session_spf_verdict(struct session *s, const struct spf_verdict *v)
{
	enum conf_action action = session_spf_action(s, v->result);

	evtimer_del(s->spf_timer);
	s->spf_step = SESSION_SPF_IDLE;
	if (v->identity == SPF_ID_HELO) {
		s->helo_verdict = *v;
		s->helo_checked = 1;
		if (v->result == SPF_RESULT_FAIL)
			action = (enum conf_action)s->conf->spf.on_helo_fail;
		else if (v->result != SPF_RESULT_TEMPERROR &&
		    v->result != SPF_RESULT_PERMERROR)
			action = CONF_ACTION_ACCEPT;
		session_log_spf(s, v, action == CONF_ACTION_ACCEPT ? "accept" :
		    action == CONF_ACTION_DEFER ? "defer" : "reject");
		if (action != CONF_ACTION_ACCEPT) {
			s->tx.verdict = *v;
			s->tx.spf_done = 1;
			session_spf_refuse(s, v, action);
			return;
		}
		session_spf_start(s, SPF_ID_MAILFROM);
		return;
	}
	s->tx.verdict = *v;
	s->tx.spf_done = 1;
	session_log_spf(s, v, action == CONF_ACTION_ACCEPT ? "accept" :
	    action == CONF_ACTION_DEFER ? "defer" : "reject");
	if (action != CONF_ACTION_ACCEPT) {
		session_spf_refuse(s, v, action);
		return;
	}
	session_proceed_backend(s);
}

/* Engine callback: the evaluation finished. */
static void
session_spf_done(void *arg, const struct spf_verdict *v)
{
	struct session *s = arg;
	struct spf_verdict verdict = *v;	/* v lives in the eval */

	session_enter(s);
	spf_eval_free(s->spf);
	s->spf = NULL;
	session_count(s, metrics_spf_result(verdict.result));
	session_spf_verdict(s, &verdict);
	session_leave(s);
}

/* The evaluation took longer than [spf] timeout: temperror. */
static void
session_spf_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct spf_verdict v;

	(void)fd;
	(void)what;
	session_enter(s);
	spf_eval_free(s->spf);
	s->spf = NULL;
	memset(&v, 0, sizeof(v));
	v.result = SPF_RESULT_TEMPERROR;
	v.identity = s->spf_step == SESSION_SPF_HELO ? SPF_ID_HELO :
	    SPF_ID_MAILFROM;
	snprintf(v.identity_text, sizeof(v.identity_text), "%s",
	    v.identity == SPF_ID_HELO ? smtp_server_helo_name(s->smtp) :
	    s->tx.mail.sender);
	snprintf(v.reason, sizeof(v.reason), "SPF evaluation did not finish "
	    "within %lld ms", (long long)s->conf->spf.timeout);
	session_count(s, METRIC_SPF_TEMPERROR);
	session_spf_verdict(s, &v);
	session_leave(s);
}

/* Starts evaluating one identity. */
static void
session_spf_start(struct session *s, enum spf_identity identity)
{
	struct spf_request req;
	struct timeval tv;
	int64_t ms = s->conf->spf.timeout;

	if (identity == SPF_ID_HELO && s->helo_checked) {
		session_spf_verdict(s, &s->helo_verdict);
		return;
	}
	session_spf_request(s, identity, &req);
	s->spf_step = identity == SPF_ID_HELO ? SESSION_SPF_HELO :
	    SESSION_SPF_MAILFROM;
	s->spf = spf_eval_new(&req, s->worker->resolver, session_spf_done, s);
	if (s->spf == NULL) {
		s->spf_step = SESSION_SPF_IDLE;
		session_reply(s, 451, "4.3.0", "Error: out of resources");
		return;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(s->spf_timer, &tv);
	spf_eval_start(s->spf);
}

/* Why this sender is not checked, or NULL to check it. */
static const char *
session_spf_skip_reason(const struct session *s)
{
	const char *domain;

	if (!s->conf->spf.enabled)
		return "disabled";
	if (conf_net_match(&s->conf->spf.skip_networks, s->family, s->addr))
		return "client in skip_networks";
	domain = s->tx.mail.sender + s->tx.mail.domain;
	if (s->tx.mail.sender[0] != '\0' && s->tx.mail.domain > 0 &&
	    conf_domain_match(&s->conf->spf.skip_domains, domain))
		return "sender domain in skip_domains";
	return NULL;
}

/*
 * smtp_server callbacks
 */

/* Bytes for the client. */
static void
session_smtp_write(void *ctx, const char *data, size_t len)
{
	struct session *s = ctx;

	/*
	 * A reply starts the client's next wait, so only a reply restarts
	 * the deadline: input alone (DATA content, the dropped rest of an
	 * overlong line, a trickled command) never extends it.
	 */
	s->armed = SMTP_SERVER_TIMEOUT_NONE;
	if (s->st != NULL)
		(void)stream_write(s->st, data, len);
}

/* The final 221/421 was queued: flush and go. */
static void
session_smtp_close(void *ctx)
{
	struct session *s = ctx;
	struct bufferevent *bev;

	s->closing = 1;
	if (s->st != NULL && s->tls == SESSION_TLS_ACTIVE) {
		bev = stream_release(s->st);
		if (bev != NULL)
			tls_close(bev);	/* flushes the reply, close_notify */
		session_free(s);
		return;
	}
	session_finish(s);
}

/*
 * Ends the session once what is queued for the client has left: at
 * once, or from the drained callback, or after SESSION_CLOSE_LINGER_MS
 * when the client does not read.
 */
static void
session_finish(struct session *s)
{
	struct timeval tv = { SESSION_CLOSE_LINGER_MS / 1000,
	    (SESSION_CLOSE_LINGER_MS % 1000) * 1000 };

	s->closing = 1;
	if (s->st == NULL || stream_output_length(s->st) == 0) {
		session_free(s);
		return;
	}
	stream_read_disable(s->st);
	s->armed = SMTP_SERVER_TIMEOUT_NONE;
	evtimer_add(s->timer, &tv);
}

/* HELO/EHLO: a new name invalidates a cached HELO verdict. */
static void
session_smtp_helo(void *ctx, const char *name, int esmtp)
{
	struct session *s = ctx;

	(void)name;
	(void)esmtp;
	s->helo_checked = 0;
}

/* MAIL FROM: SPF, then the backend. */
static void
session_smtp_mail(void *ctx, const struct smtp_mail *mail)
{
	struct session *s = ctx;

	session_tx_clear(s);
	s->tx.mail = *mail;
	gettimeofday(&s->tx.started, NULL);
	s->tx.spf_skip = session_spf_skip_reason(s);
	if (s->tx.spf_skip != NULL) {
		session_proceed_backend(s);
		return;
	}
	session_spf_start(s, s->conf->spf.helo_check &&
	    smtp_server_helo_name(s->smtp)[0] != '\0' ? SPF_ID_HELO :
	    SPF_ID_MAILFROM);
}

/*
 * A recipient in a bounce domain: reverse it or refuse it (srs_gate.h).
 * Returns the gate's verdict; on REFUSE the client has its reply, on
 * FORWARD bounce->address is the original sender to deliver to.
 */
static enum srs_gate_verdict
session_srs_rcpt(struct session *s, const char *rcpt,
    struct srs_gate_result *bounce)
{
	char q_rcpt[SESSION_QUOTE_MAX], q_orig[SESSION_QUOTE_MAX];
	char q_why[SESSION_QUOTE_MAX];
	enum srs_gate_verdict v;
	struct timespec mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	v = srs_gate_rcpt(s->worker->setup->srs_gate, rcpt, s->tx.mail.sender,
	    s->family, s->addr, time(NULL),
	    (int64_t)mono.tv_sec * 1000 + mono.tv_nsec / 1000000, bounce);
	if (v == SRS_GATE_NOT_BOUNCE) {
		bounce->address[0] = '\0';
		return v;
	}
	log_msg(LOG_INFO, "session=%s event=srs_reverse client=%s rcpt=%s "
	    "outcome=%s original=%s reason=%s", s->id, s->ip,
	    log_quote_str(q_rcpt, sizeof(q_rcpt), rcpt),
	    v == SRS_GATE_FORWARD ? "forward" : "refused",
	    log_quote_str(q_orig, sizeof(q_orig), v == SRS_GATE_FORWARD ?
	    bounce->address : ""),
	    log_quote_str(q_why, sizeof(q_why), v == SRS_GATE_FORWARD ? "" :
	    bounce->text));
	session_count(s, v == SRS_GATE_FORWARD ? METRIC_SRS_REVERSED :
	    bounce->code / 100 == 4 ? METRIC_SRS_REVERSE_RATE_LIMITED :
	    strcmp(bounce->enhanced, "5.1.1") == 0 ?
	    METRIC_SRS_REVERSE_INVALID : METRIC_SRS_REVERSE_REFUSED);
	if (v == SRS_GATE_REFUSE) {
		s->tx.rcpt_refused++;
		session_reply(s, bounce->code, bounce->enhanced, bounce->text);
	}
	return v;
}

/*
 * Rewrites the envelope sender for the backend when the SRS policy says
 * so; 0, or -1 after refusing the sender (it cannot be rewritten).
 */
static int
session_srs_sender(struct session *s)
{
	char q_from[SESSION_QUOTE_MAX], q_to[SESSION_QUOTE_MAX];
	struct srs_gate_result r;
	int rc;

	s->tx.srs_sender[0] = '\0';
	rc = srs_gate_sender(s->worker->setup->srs_gate, s->tx.mail.sender,
	    time(NULL), &r);
	if (rc < 0) {
		/*
		 * The sender's own syntax (a quoted local part with a space
		 * or an @): retrying cannot help, so refuse for good.
		 */
		log_msg(LOG_INFO, "session=%s event=srs_rewrite_failed "
		    "sender=%s reason=%s", s->id,
		    log_quote_str(q_from, sizeof(q_from), s->tx.mail.sender),
		    log_quote_str(q_to, sizeof(q_to), r.text));
		session_reply(s, 550, "5.1.7", "Error: the sender address "
		    "cannot be rewritten for forwarding (SRS)");
		session_log_tx(s, "refused_srs", 550, "sender cannot be "
		    "rewritten");
		return -1;
	}
	if (rc == 0)
		return 0;
	snprintf(s->tx.srs_sender, sizeof(s->tx.srs_sender), "%s", r.address);
	session_count(s, METRIC_SRS_REWRITES);
	log_msg(LOG_INFO, "session=%s event=srs_rewrite sender=%s "
	    "rewritten=%s", s->id,
	    log_quote_str(q_from, sizeof(q_from), s->tx.mail.sender),
	    log_quote_str(q_to, sizeof(q_to), s->tx.srs_sender));
	return 0;
}

/* RCPT TO: the backend decides. */
static void
session_smtp_rcpt(void *ctx, const struct smtp_rcpt *rcpt)
{
	struct session *s = ctx;
	struct smtp_client_rcpt_params p;
	struct srs_gate_result bounce;

	if (s->tx.backend_lost || s->backend == NULL) {
		session_reply(s, 451, "4.4.2", "Error: backend server "
		    "unavailable, try again later");
		return;
	}
	if (session_srs_rcpt(s, rcpt->rcpt, &bounce) == SRS_GATE_REFUSE)
		return;
	if (s->tx.rcpt_accepted == 0)
		snprintf(s->tx.first_rcpt, sizeof(s->tx.first_rcpt), "%s",
		    rcpt->rcpt);
	memset(&p, 0, sizeof(p));
	p.notify = rcpt->notify;
	p.orcpt = rcpt->orcpt[0] != '\0' ? rcpt->orcpt : NULL;
	if (backend_rcpt(s->backend, bounce.address[0] != '\0' ?
	    bounce.address : rcpt->rcpt, &p) < 0)
		session_reply(s, 451, "4.3.0", "Error: cannot forward the "
		    "recipient");
}

/* DATA: the backend must say 354 first. */
static void
session_smtp_data(void *ctx)
{
	struct session *s = ctx;

	if (s->tx.backend_lost || s->backend == NULL ||
	    backend_data(s->backend) < 0)
		session_reply(s, 451, "4.4.2", "Error: backend server "
		    "unavailable, try again later");
}

/* Message content: straight to the backend. */
static void
session_smtp_data_chunk(void *ctx, const char *data, size_t len)
{
	struct session *s = ctx;

	if (s->tx.backend_lost || s->backend == NULL)
		return;
	if (backend_data_write(s->backend, data, len) < 0) {
		log_msg(LOG_WARNING, "session=%s event=backend_write_refused",
		    s->id);
		backend_free(s->backend);
		s->backend = NULL;
		s->tx.backend_lost = 1;
	}
}

/* End of content: finish at the backend, or abort it. */
static void
session_smtp_data_end(void *ctx, enum smtp_data_status status)
{
	struct session *s = ctx;

	if (status != SMTP_DATA_OK) {
		session_count(s, status == SMTP_DATA_TOO_BIG ?
		    METRIC_TX_TOO_BIG : METRIC_TX_BARE_NEWLINE);
		session_log_tx(s, status == SMTP_DATA_TOO_BIG ? "too_big" :
		    "bare_newline", status == SMTP_DATA_TOO_BIG ? 552 : 550,
		    "aborted at the backend");
		backend_free(s->backend);
		s->backend = NULL;
		session_tx_clear(s);
		return;
	}
	if (s->tx.backend_lost || s->backend == NULL ||
	    backend_data_end(s->backend) < 0) {
		session_count(s, METRIC_TX_BACKEND_FAILED);
		session_log_tx(s, "backend_failed", 451, "backend lost");
		backend_free(s->backend);
		s->backend = NULL;
		session_tx_clear(s);
		session_reply(s, 451, "4.4.2", "Error: backend server "
		    "unavailable, message not delivered, try again later");
	}
}

/* The transaction was aborted: drop it at the backend too. */
static void
session_smtp_reset(void *ctx)
{
	struct session *s = ctx;

	if (s->spf != NULL) {
		spf_eval_free(s->spf);
		s->spf = NULL;
		s->spf_step = SESSION_SPF_IDLE;
		evtimer_del(s->spf_timer);
	}
	if (s->backend != NULL) {
		if (backend_state(s->backend) == SMTP_CLIENT_TX)
			backend_rset(s->backend);
		else if (backend_state(s->backend) != SMTP_CLIENT_READY) {
			backend_free(s->backend);
			s->backend = NULL;
		}
	}
	session_tx_clear(s);
}

/* 220 to STARTTLS queued: session_pump() wraps once feed returns. */
static void
session_smtp_starttls(void *ctx)
{
	struct session *s = ctx;

	s->tls = SESSION_TLS_REQUESTED;
}

/* The state machine itself refused something: info log. */
static void
session_smtp_error(void *ctx, int code, const char *enhanced,
    const char *text)
{
	struct session *s = ctx;
	char quoted[SESSION_QUOTE_MAX];

	log_msg(LOG_INFO, "session=%s event=protocol_error client=%s "
	    "reply=%d enhanced=%s text=%s", s->id, s->ip, code,
	    enhanced != NULL ? enhanced : "-",
	    log_quote_str(quoted, sizeof(quoted), text));
}

static const struct smtp_server_cb session_smtp_cb = {
	.write = session_smtp_write,
	.close = session_smtp_close,
	.helo = session_smtp_helo,
	.mail = session_smtp_mail,
	.rcpt = session_smtp_rcpt,
	.data = session_smtp_data,
	.data_chunk = session_smtp_data_chunk,
	.data_end = session_smtp_data_end,
	.reset = session_smtp_reset,
	.starttls = session_smtp_starttls,
	.error = session_smtp_error,
	.debug = NULL,
};

/*
 * Creation
 */

static const struct stream_callbacks session_stream_cb = {
	.read = session_read_cb,
	.drained = session_drained_cb,
	.event = session_event_cb,
};

/*
 * The client's stream: TLS from the first byte, or plain.  NULL on
 * failure, fd then still the caller's.
 */
static struct stream *
session_stream_new(struct session *s, evutil_socket_t fd)
{
	struct event_base *base = s->worker->base;
	struct bufferevent *bev;
	struct stream *st;
	char err[256];

	/* Behind a PROXY header, TLS starts once the header is read. */
	if (!s->tls_implicit || s->listener->proxy_protocol)
		st = stream_new(base, fd, &session_stream_cb, s);
	else {
		if (s->worker->tls.server == NULL)
			return NULL;
		bev = tls_server_socket(base, s->worker->tls.server, err,
		    sizeof(err));
		if (bev == NULL) {
			log_msg(LOG_WARNING, "session=%s event=tls_failed "
			    "client=%s mode=implicit reason=\"%s\"", s->id,
			    s->ip, err);
			return NULL;
		}
		st = NULL;
		if (bufferevent_setfd(bev, fd) == 0)
			st = stream_new_bufferevent(base, bev,
			    &session_stream_cb, s);
		if (st == NULL) {
			bufferevent_setfd(bev, -1);
			bufferevent_free(bev);
			return NULL;
		}
	}
	if (st != NULL)
		stream_set_marks(st, SESSION_READ_HIGH_WATER, 0);
	return st;
}

/* Sends the greeting, or starts the greeting delay. */
static void
session_greet_start(struct session *s)
{
	struct timeval delay;

	if (s->greet != NULL) {
		delay.tv_sec = (time_t)(s->conf->server.greet_delay / 1000);
		delay.tv_usec = (suseconds_t)
		    ((s->conf->server.greet_delay % 1000) * 1000);
		evtimer_add(s->greet, &delay);
	} else
		smtp_server_greet(s->smtp);
}

/* Greeting delay over: greet (pregreet input is judged by the machine). */
static void
session_greet_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	session_enter(s);
	smtp_server_greet(s->smtp);
	if (!s->dead)
		session_arm_timer(s);	/* the first command's deadline */
	session_leave(s);
}

/*
 * SMTP is a dialogue of small writes: without TCP_NODELAY, Nagle plus the
 * peer's delayed ACK add ~40 ms to many replies.
 */
void
session_set_nodelay(evutil_socket_t fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Records the peer and local addresses. */
static void
session_set_addresses(struct session *s, evutil_socket_t fd,
    const struct sockaddr *peer, socklen_t peerlen)
{
	socklen_t len = sizeof(s->local);
	const unsigned char *octets;

	memcpy(&s->peer, peer, peerlen < sizeof(s->peer) ? peerlen :
	    sizeof(s->peer));
	worker_peer_octets(peer, &s->family, &octets);
	memcpy(s->addr, octets, s->family == AF_INET ? 4 : 16);
	session_addr_text(&s->peer, s->ip, sizeof(s->ip), &s->port);
	if (getsockname(fd, (struct sockaddr *)&s->local, &len) == 0)
		session_addr_text(&s->local, s->local_ip, sizeof(s->local_ip),
		    &s->local_port);
}

/* Server-side protocol settings from [server] and the listener. */
static void
session_smtp_config(struct session *s)
{
	const struct conf_server *c = &s->conf->server;

	smtp_server_config_init(&s->smtp_cfg);
	s->smtp_cfg.hostname = c->hostname;
	s->smtp_cfg.max_line = (size_t)c->max_line_length;
	s->smtp_cfg.max_message_size = (uint64_t)c->max_message_size;
	s->smtp_cfg.max_recipients = c->max_recipients;
	s->smtp_cfg.max_errors = c->max_errors;
	/* Over implicit TLS, STARTTLS is not offered and TLS is given. */
	s->smtp_cfg.tls_available = s->listener->tls == CONF_LTLS_STARTTLS &&
	    s->worker->tls.server != NULL;
	s->smtp_cfg.require_tls = s->listener->require_tls &&
	    s->listener->tls != CONF_LTLS_IMPLICIT;
}

struct session *
session_new(struct worker *w, evutil_socket_t fd,
    const struct sockaddr *peer, socklen_t peerlen,
    const struct conf_listener *listener)
{
	struct session *s;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->worker = w;
	s->conf = w->conf;
	s->listener = listener;
	s->tls_implicit = listener->tls == CONF_LTLS_IMPLICIT;
	s->link.session = s;
	gettimeofday(&s->started, NULL);
	snprintf(s->id, sizeof(s->id), "%08lx%02x%06llx",
	    (unsigned long)s->started.tv_sec, (unsigned)w->id & 0xff,
	    (unsigned long long)(++w->sessions_started & 0xffffff));
	session_set_addresses(s, fd, peer, peerlen);
	session_smtp_config(s);
	/* evconnlistener accepts with SOCK_NONBLOCK already, and TCP_NODELAY
	 * comes from the listening socket (serve.c). */
	s->smtp = smtp_server_new(&s->smtp_cfg, &session_smtp_cb, s);
	s->timer = evtimer_new(w->base, session_timer_cb, s);
	s->spf_timer = evtimer_new(w->base, session_spf_timeout_cb, s);
	s->pump = event_new(w->base, -1, 0, session_pump_cb, s);
	if (s->conf->server.greet_delay > 0)
		s->greet = evtimer_new(w->base, session_greet_cb, s);
	if (s->smtp == NULL || s->timer == NULL || s->spf_timer == NULL ||
	    s->pump == NULL ||
	    (s->conf->server.greet_delay > 0 && s->greet == NULL))
		goto fail;
	s->st = session_stream_new(s, fd);	/* the last step that fails */
	if (s->st == NULL)
		goto fail;
	/* Behind a proxy the limits apply to the client it names. */
	s->proxy_wait = listener->proxy_protocol;
	s->limit_held = !s->proxy_wait;
	TAILQ_INSERT_TAIL(&w->sessions, &s->link, entry);
	w->nsessions++;
	session_count(s, METRIC_CONNECTIONS);
	metrics_gauge_add(w->setup->metrics, w->id, METRIC_SESSIONS, 1);
	log_msg(LOG_INFO, "session=%s event=connect client=%s port=%u "
	    "listener=%s", s->id, s->ip, s->port, listener->name);
	if (s->proxy_wait)
		;	/* greet once the PROXY header named the client */
	else if (s->tls_implicit) {
		s->tls = SESSION_TLS_HANDSHAKE;	/* greet after it */
		session_tls_deadline(s);
	} else
		session_greet_start(s);
	session_arm_timer(s);
	return s;
fail:
	/* No stream was made: the caller still owns fd. */
	session_free_parts(s);
	free(s);
	return NULL;
}

void
session_shutdown(struct session *s)
{
	if (s->tls == SESSION_TLS_HANDSHAKE) {
		session_free(s);	/* no SMTP yet: nothing to say */
		return;
	}
	session_enter(s);
	smtp_server_shutdown(s->smtp);
	session_leave(s);
}
