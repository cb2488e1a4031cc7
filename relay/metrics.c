/*
 * metrics.c - per-worker counters in shared memory and their HTTP
 * exposition (see metrics.h).
 *
 * Layout: one anonymous MAP_SHARED mapping = struct metrics (size,
 * worker count) followed by one slot per worker.  A slot is an array of
 * 64-bit atomics, one per series, aligned to a cache line so that two
 * workers never write the same line.  Lock-free 64-bit atomics are
 * address-free, so they work across processes on shared memory; there
 * is no lock anywhere, hence nothing a dying worker could leave held.
 *
 * What each series means and how it is printed (family, kind, help,
 * label) lives in two tables below, metrics_families[] and
 * metrics_series[]; the text is produced from them alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "relay/metrics.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A lock-based atomic would keep its lock in this process only. */
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
    "metrics need lock-free 64-bit atomics in shared memory");

/* One worker's series.  Whole cache lines: no false sharing. */
struct metrics_slot {
	alignas(64) _Atomic int64_t v[METRIC_COUNT];
};

/* The whole shared mapping; the header is written before the fork only. */
struct metrics {
	size_t maplen;			/* bytes mapped, for munmap */
	int nworkers;
	struct metrics_slot slot[];	/* nworkers slots */
};

/* A server on one listening socket. */
struct metrics_http {
	const struct metrics *m;
	struct evhttp *http;
	char text[METRICS_TEXT_MAX];	/* the last exposition */
};

enum metrics_kind {
	METRICS_COUNTER = 0,
	METRICS_GAUGE
};

/* Metric families, in output order; 0 is "unset" (a table hole). */
enum metrics_family_id {
	FAM_UNSET = 0,
	FAM_CONNECTIONS,
	FAM_REFUSED,
	FAM_SESSIONS,
	FAM_SPF,
	FAM_TX,
	FAM_BACKEND_FAILURES,
	FAM_BACKEND_REUSED,
	FAM_BACKEND_IDLE,
	FAM_TLS,
	FAM_SRS_REWRITES,
	FAM_SRS_REVERSALS,
	FAM_COUNT
};

/* Name, kind, help text and label key (NULL: no label) of a family. */
struct metrics_family {
	const char *name;
	enum metrics_kind kind;
	const char *help;
	const char *label;
};

static const struct metrics_family metrics_families[FAM_COUNT] = {
	[FAM_CONNECTIONS] = { "spfgate_connections_total", METRICS_COUNTER,
	    "Client connections accepted.", NULL },
	[FAM_REFUSED] = { "spfgate_connections_refused_total",
	    METRICS_COUNTER, "Client connections refused, by reason.",
	    "reason" },
	[FAM_SESSIONS] = { "spfgate_sessions", METRICS_GAUGE,
	    "Client sessions open now.", NULL },
	[FAM_SPF] = { "spfgate_spf_results_total", METRICS_COUNTER,
	    "SPF evaluations, by result.", "result" },
	[FAM_TX] = { "spfgate_transactions_total", METRICS_COUNTER,
	    "Mail transactions ended, by outcome.", "outcome" },
	[FAM_BACKEND_FAILURES] = { "spfgate_backend_failures_total",
	    METRICS_COUNTER, "Backend connections that failed.", NULL },
	[FAM_BACKEND_REUSED] = { "spfgate_backend_connections_reused_total",
	    METRICS_COUNTER, "Sessions that got a kept backend connection "
	    "(connection_cache).", NULL },
	[FAM_BACKEND_IDLE] = { "spfgate_backend_connections_idle",
	    METRICS_GAUGE, "Backend connections kept open for the next "
	    "session now.", NULL },
	[FAM_TLS] = { "spfgate_tls_sessions_total", METRICS_COUNTER,
	    "TLS handshakes completed with clients.", NULL },
	[FAM_SRS_REWRITES] = { "spfgate_srs_rewrites_total", METRICS_COUNTER,
	    "Envelope senders rewritten with SRS.", NULL },
	[FAM_SRS_REVERSALS] = { "spfgate_srs_reversals_total",
	    METRICS_COUNTER, "Recipients at an SRS bounce domain, by outcome.",
	    "outcome" },
};

/* Family and label value of one series. */
struct metrics_series {
	enum metrics_family_id family;
	const char *value;
};

static const struct metrics_series metrics_series[METRIC_COUNT] = {
	[METRIC_CONNECTIONS] = { FAM_CONNECTIONS, NULL },
	[METRIC_REFUSED_MAX_CONNECTIONS] = { FAM_REFUSED, "max_connections" },
	[METRIC_REFUSED_MAX_PER_IP] = { FAM_REFUSED,
	    "max_connections_per_ip" },
	[METRIC_REFUSED_RESOURCES] = { FAM_REFUSED, "out_of_resources" },
	[METRIC_REFUSED_PROXY] = { FAM_REFUSED, "proxy_protocol" },
	[METRIC_REFUSED_PREGREET] = { FAM_REFUSED, "pregreet" },
	[METRIC_SESSIONS] = { FAM_SESSIONS, NULL },
	[METRIC_SPF_NONE] = { FAM_SPF, "none" },
	[METRIC_SPF_NEUTRAL] = { FAM_SPF, "neutral" },
	[METRIC_SPF_PASS] = { FAM_SPF, "pass" },
	[METRIC_SPF_FAIL] = { FAM_SPF, "fail" },
	[METRIC_SPF_SOFTFAIL] = { FAM_SPF, "softfail" },
	[METRIC_SPF_TEMPERROR] = { FAM_SPF, "temperror" },
	[METRIC_SPF_PERMERROR] = { FAM_SPF, "permerror" },
	[METRIC_TX_DELIVERED] = { FAM_TX, "delivered" },
	[METRIC_TX_REFUSED_SPF] = { FAM_TX, "refused_spf" },
	[METRIC_TX_REFUSED_BY_BACKEND] = { FAM_TX, "refused_by_backend" },
	[METRIC_TX_BACKEND_FAILED] = { FAM_TX, "backend_failed" },
	[METRIC_TX_TOO_BIG] = { FAM_TX, "too_big" },
	[METRIC_TX_BARE_NEWLINE] = { FAM_TX, "bare_newline" },
	[METRIC_BACKEND_FAILURES] = { FAM_BACKEND_FAILURES, NULL },
	[METRIC_BACKEND_REUSED] = { FAM_BACKEND_REUSED, NULL },
	[METRIC_BACKEND_IDLE] = { FAM_BACKEND_IDLE, NULL },
	[METRIC_TLS_SESSIONS] = { FAM_TLS, NULL },
	[METRIC_SRS_REWRITES] = { FAM_SRS_REWRITES, NULL },
	[METRIC_SRS_REVERSED] = { FAM_SRS_REVERSALS, "reversed" },
	[METRIC_SRS_REVERSE_INVALID] = { FAM_SRS_REVERSALS, "invalid" },
	[METRIC_SRS_REVERSE_RATE_LIMITED] = { FAM_SRS_REVERSALS,
	    "rate_limited" },
	[METRIC_SRS_REVERSE_REFUSED] = { FAM_SRS_REVERSALS, "refused" },
};

/* A broken invariant: say which and abort. */
static void
metrics_bug(const char *what, int value)
{
	fprintf(stderr, "spfgate: metrics: bug: %s (%d)\n", what, value);
	abort();
}

/* The family of series metric; aborts on a value outside the tables. */
static const struct metrics_family *
metrics_family_of(enum metric metric)
{
	if ((int)metric < 0 || metric >= METRIC_COUNT ||
	    metrics_series[metric].family == FAM_UNSET)
		metrics_bug("unknown metric", (int)metric);
	return &metrics_families[metrics_series[metric].family];
}

/* Slot of worker; aborts on an id the object was not made for. */
static struct metrics_slot *
metrics_slot(struct metrics *m, int worker)
{
	if (worker < 0 || worker >= m->nworkers)
		metrics_bug("worker id out of range", worker);
	return &m->slot[worker];
}

struct metrics *
metrics_new(int nworkers, char *err, size_t errlen)
{
	struct metrics *m;
	size_t maplen;

	if (nworkers < 1 || nworkers > METRICS_MAX_WORKERS) {
		snprintf(err, errlen, "metrics: %d workers (1..%d)", nworkers,
		    METRICS_MAX_WORKERS);
		return NULL;
	}
	maplen = sizeof(*m) + (size_t)nworkers * sizeof(m->slot[0]);
	m = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "mmap %zu bytes: %s", maplen,
		    strerror(errno));
		return NULL;
	}
	/* The mapping comes zero-filled: every series starts at 0. */
	m->maplen = maplen;
	m->nworkers = nworkers;
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m != NULL)
		munmap(m, m->maplen);
}

void
metrics_inc(struct metrics *m, int worker, enum metric metric)
{
	if (m == NULL)
		return;
	if (metrics_family_of(metric)->kind != METRICS_COUNTER)
		metrics_bug("metrics_inc() on a gauge", (int)metric);
	atomic_fetch_add_explicit(&metrics_slot(m, worker)->v[metric], 1,
	    memory_order_relaxed);
}

void
metrics_gauge_add(struct metrics *m, int worker, enum metric metric,
    int64_t delta)
{
	if (m == NULL)
		return;
	if (metrics_family_of(metric)->kind != METRICS_GAUGE)
		metrics_bug("metrics_gauge_add() on a counter", (int)metric);
	atomic_fetch_add_explicit(&metrics_slot(m, worker)->v[metric], delta,
	    memory_order_relaxed);
}

void
metrics_worker_exited(struct metrics *m, int worker)
{
	struct metrics_slot *slot;
	int i;

	if (m == NULL)
		return;
	slot = metrics_slot(m, worker);
	for (i = 0; i < METRIC_COUNT; i++)
		if (metrics_family_of((enum metric)i)->kind == METRICS_GAUGE)
			atomic_store_explicit(&slot->v[i], 0,
			    memory_order_relaxed);
}

int64_t
metrics_value(const struct metrics *m, enum metric metric)
{
	int64_t sum = 0;
	int w;

	(void)metrics_family_of(metric);
	for (w = 0; w < m->nworkers; w++)
		sum += atomic_load_explicit(&m->slot[w].v[metric],
		    memory_order_relaxed);
	return sum;
}

enum metric
metrics_spf_result(enum spf_result r)
{
	switch (r) {
	case SPF_RESULT_NONE:
		return METRIC_SPF_NONE;
	case SPF_RESULT_NEUTRAL:
		return METRIC_SPF_NEUTRAL;
	case SPF_RESULT_PASS:
		return METRIC_SPF_PASS;
	case SPF_RESULT_FAIL:
		return METRIC_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return METRIC_SPF_SOFTFAIL;
	case SPF_RESULT_TEMPERROR:
		return METRIC_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:
		return METRIC_SPF_PERMERROR;
	}
	metrics_bug("unknown SPF result", (int)r);
	return METRIC_SPF_NONE;
}

/*
 * Exposition
 */

/* Appends formatted text at buf[*used]; -1 if it does not fit. */
static int __attribute__((format(printf, 4, 5)))
metrics_append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used)
		return -1;
	*used += (size_t)n;
	return 0;
}

/* The "# HELP" and "# TYPE" lines of a family. */
static int
metrics_format_family(const struct metrics_family *f, char *buf, size_t len,
    size_t *used)
{
	return metrics_append(buf, len, used, "# HELP %s %s\n# TYPE %s %s\n",
	    f->name, f->help, f->name,
	    f->kind == METRICS_GAUGE ? "gauge" : "counter");
}

/* One sample line: name{label="value"} sum. */
static int
metrics_format_sample(const struct metrics *m, enum metric metric, char *buf,
    size_t len, size_t *used)
{
	const struct metrics_family *f = metrics_family_of(metric);
	long long v = (long long)metrics_value(m, metric);

	if (f->label == NULL)
		return metrics_append(buf, len, used, "%s %lld\n", f->name, v);
	return metrics_append(buf, len, used, "%s{%s=\"%s\"} %lld\n", f->name,
	    f->label, metrics_series[metric].value, v);
}

int
metrics_format(const struct metrics *m, char *buf, size_t len)
{
	const struct metrics_family *prev = NULL, *f;
	size_t used = 0;
	int i;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < METRIC_COUNT; i++) {
		f = metrics_family_of((enum metric)i);
		if (f != prev && metrics_format_family(f, buf, len, &used) < 0)
			return -1;
		prev = f;
		if (metrics_format_sample(m, (enum metric)i, buf, len,
		    &used) < 0)
			return -1;
	}
	return (int)used;
}

/*
 * HTTP
 */

/* Sends a short text/plain reply (errors); text ends with a newline. */
static void
metrics_http_reply_text(struct evhttp_request *req, int code,
    const char *reason, const char *text)
{
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	struct evbuffer *body;

	body = evbuffer_new();
	if (body == NULL || evbuffer_add(body, text, strlen(text)) < 0) {
		if (body != NULL)
			evbuffer_free(body);
		evhttp_send_error(req, code, reason);
		return;
	}
	evhttp_add_header(headers, "Content-Type",
	    "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, body);
	evbuffer_free(body);
}

/*
 * GET or HEAD /metrics: the exposition; other methods 405.  Caution:
 * libevent 2.1 writes a reply's body even for HEAD, so HEAD gets no body
 * buffer and states the length itself.
 */
static void
metrics_http_metrics_cb(struct evhttp_request *req, void *arg)
{
	struct metrics_http *h = arg;
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evbuffer *body = NULL;
	char length[32];
	int n;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(headers, "Allow", "GET, HEAD");
		metrics_http_reply_text(req, 405, "Method Not Allowed",
		    "method not allowed\n");
		return;
	}
	n = metrics_format(h->m, h->text, sizeof(h->text));
	if (n >= 0 && cmd == EVHTTP_REQ_GET)
		body = evbuffer_new();
	if (n < 0 || (cmd == EVHTTP_REQ_GET && (body == NULL ||
	    evbuffer_add(body, h->text, (size_t)n) < 0))) {
		if (body != NULL)
			evbuffer_free(body);
		metrics_http_reply_text(req, HTTP_INTERNAL,
		    "Internal Server Error", "internal error\n");
		return;
	}
	evhttp_add_header(headers, "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_add_header(headers, "Cache-Control", "no-store");
	if (cmd == EVHTTP_REQ_HEAD) {
		snprintf(length, sizeof(length), "%d", n);
		evhttp_add_header(headers, "Content-Length", length);
	}
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	if (body != NULL)
		evbuffer_free(body);
}

/* Any other path: 404. */
static void
metrics_http_other_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	metrics_http_reply_text(req, HTTP_NOTFOUND, "Not Found",
	    "not found; try /metrics\n");
}

struct metrics_http *
metrics_http_new(const struct metrics *m, struct event_base *base, int fd,
    char *err, size_t errlen)
{
	struct metrics_http *h;
	int dupfd = -1;

	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	h->m = m;
	h->http = evhttp_new(base);
	if (h->http == NULL) {
		snprintf(err, errlen, "metrics: cannot create the HTTP server");
		goto fail;
	}
	evhttp_set_max_headers_size(h->http, METRICS_HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(h->http, METRICS_HTTP_BODY_MAX);
	evhttp_set_timeout(h->http, METRICS_HTTP_TIMEOUT);
	if (evhttp_set_cb(h->http, "/metrics", metrics_http_metrics_cb,
	    h) != 0) {
		snprintf(err, errlen, "metrics: cannot route /metrics");
		goto fail;
	}
	evhttp_set_gencb(h->http, metrics_http_other_cb, h);
	dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dupfd < 0) {
		snprintf(err, errlen, "metrics: dup: %s", strerror(errno));
		goto fail;
	}
	/* On success evhttp owns dupfd and closes it in evhttp_free(). */
	if (evhttp_accept_socket_with_handle(h->http, dupfd) == NULL) {
		snprintf(err, errlen, "metrics: cannot accept on the socket");
		goto fail;
	}
	return h;
fail:
	if (dupfd >= 0)
		close(dupfd);
	metrics_http_free(h);
	return NULL;
}

void
metrics_http_free(struct metrics_http *h)
{
	if (h == NULL)
		return;
	if (h->http != NULL)
		evhttp_free(h->http);
	free(h);
}
