/*
 * metrics.h - instance-wide counters and gauges, served over HTTP in the
 * Prometheus text format.
 *
 * CONTRACT
 *	The master calls metrics_new() BEFORE forking the workers: the
 *	object is one anonymous MAP_SHARED mapping holding one slot per
 *	worker, so every process sees every slot.  A worker changes only its
 *	own slot (metrics_inc(), metrics_gauge_add() with its own id), with
 *	relaxed atomic additions and no lock; a reader sums all slots.  The
 *	sum is not a snapshot (slots are read one after the other), which is
 *	what Prometheus expects of independent counters.
 *
 *	Counters only grow, also across a worker's restart: the restarted
 *	worker reuses its slot and goes on from the dead one's counts.  A
 *	gauge describes live state, so when the master reaps a worker it
 *	calls metrics_worker_exited(), which zeroes that worker's gauges
 *	before a new worker reuses the id.
 *
 *	Exposition: metrics_format() writes every metric, zeros included, as
 *	"# HELP", "# TYPE" and sample lines (text format 0.0.4).
 *	metrics_http_new() serves it with libevent's evhttp on a listening
 *	socket the caller opened (the master binds it before dropping
 *	privileges, worker 0 serves it): GET or HEAD /metrics gives 200, any
 *	other path 404, any other method 405.  The request line and headers
 *	are capped at METRICS_HTTP_HEADERS_MAX octets, bodies at
 *	METRICS_HTTP_BODY_MAX, and a connection gets METRICS_HTTP_TIMEOUT
 *	seconds per request.
 *
 *	A worker id outside 0..nworkers-1, or a counter passed where a gauge
 *	is expected (and the reverse), is a bug: it aborts.
 *
 * OWNERSHIP
 *	The master calls metrics_free() after its workers are gone; a worker
 *	may leave its inherited mapping to _exit().  metrics_http_new()
 *	dup()s the socket: the caller keeps and closes its own descriptor;
 *	metrics_http_free() closes the duplicate and every HTTP connection.
 *	The struct metrics must outlive the struct metrics_http reading it.
 */
#ifndef RELAY_METRICS_H
#define RELAY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "spf/spf.h"

#define METRICS_MAX_WORKERS 1024
#define METRICS_TEXT_MAX 16384		/* the whole exposition text */
#define METRICS_HTTP_HEADERS_MAX 8192
#define METRICS_HTTP_BODY_MAX 1024
#define METRICS_HTTP_TIMEOUT 10		/* seconds */

/* Every series; the label value is given in the comment. */
enum metric {
	/* spfgate_connections_total (counter) */
	METRIC_CONNECTIONS = 0,
	/* spfgate_connections_refused_total{reason} (counter) */
	METRIC_REFUSED_MAX_CONNECTIONS,		/* max_connections */
	METRIC_REFUSED_MAX_PER_IP,		/* max_connections_per_ip */
	METRIC_REFUSED_RESOURCES,		/* out_of_resources */
	METRIC_REFUSED_PROXY,			/* proxy_protocol */
	METRIC_REFUSED_PREGREET,		/* pregreet */
	/* spfgate_sessions (gauge) */
	METRIC_SESSIONS,
	/* spfgate_spf_results_total{result} (counter), in the order of
	 * enum spf_result: see metrics_spf_result() */
	METRIC_SPF_NONE,			/* none */
	METRIC_SPF_NEUTRAL,			/* neutral */
	METRIC_SPF_PASS,			/* pass */
	METRIC_SPF_FAIL,			/* fail */
	METRIC_SPF_SOFTFAIL,			/* softfail */
	METRIC_SPF_TEMPERROR,			/* temperror */
	METRIC_SPF_PERMERROR,			/* permerror */
	/* spfgate_transactions_total{outcome} (counter) */
	METRIC_TX_DELIVERED,			/* delivered */
	METRIC_TX_REFUSED_SPF,			/* refused_spf */
	METRIC_TX_REFUSED_BY_BACKEND,		/* refused_by_backend */
	METRIC_TX_BACKEND_FAILED,		/* backend_failed */
	METRIC_TX_TOO_BIG,			/* too_big */
	METRIC_TX_BARE_NEWLINE,			/* bare_newline */
	/* spfgate_backend_failures_total (counter) */
	METRIC_BACKEND_FAILURES,
	METRIC_BACKEND_REUSED,		/* kept connections taken again */
	METRIC_BACKEND_IDLE,		/* gauge: kept connections now */
	/* spfgate_tls_sessions_total (counter) */
	METRIC_TLS_SESSIONS,
	/* spfgate_srs_rewrites_total (counter) */
	METRIC_SRS_REWRITES,
	/* spfgate_srs_reversals_total{outcome} (counter) */
	METRIC_SRS_REVERSED,			/* reversed */
	METRIC_SRS_REVERSE_INVALID,		/* invalid */
	METRIC_SRS_REVERSE_RATE_LIMITED,	/* rate_limited */
	METRIC_SRS_REVERSE_REFUSED,		/* refused (policy) */
	METRIC_COUNT
};

struct metrics;
struct metrics_http;
struct event_base;

/*
 * Creates the shared slots for nworkers workers (1..METRICS_MAX_WORKERS),
 * all zero.  NULL with a reason in err.
 */
struct metrics *metrics_new(int nworkers, char *err, size_t errlen);

/* Unmaps the slots in this process (NULL-safe). */
void metrics_free(struct metrics *m);

/* Adds one to counter m of worker (NULL-safe on m). */
void metrics_inc(struct metrics *m, int worker, enum metric metric);

/* Adds delta (may be negative) to gauge m of worker (NULL-safe on m). */
void metrics_gauge_add(struct metrics *m, int worker, enum metric metric,
    int64_t delta);

/* The master reaped worker: zero its gauges (NULL-safe on m). */
void metrics_worker_exited(struct metrics *m, int worker);

/* Sum of one series over all workers. */
int64_t metrics_value(const struct metrics *m, enum metric metric);

/* The counter of SPF result r (METRIC_SPF_NONE ...). */
enum metric metrics_spf_result(enum spf_result r);

/*
 * Writes the exposition text into buf (NUL-terminated).  Returns its
 * length, or -1 if len is too small (METRICS_TEXT_MAX always suffices).
 */
int metrics_format(const struct metrics *m, char *buf, size_t len);

/*
 * Serves m over HTTP in base's loop on the listening socket fd (bound,
 * listening, non-blocking, as daemon_listen() makes it; it is dup()ed, the
 * caller keeps fd).  NULL with a reason in err.
 */
struct metrics_http *metrics_http_new(const struct metrics *m,
    struct event_base *base, int fd, char *err, size_t errlen);

/* Stops serving; closes its socket and connections (NULL-safe). */
void metrics_http_free(struct metrics_http *h);

#endif /* RELAY_METRICS_H */
