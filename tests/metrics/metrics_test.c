/*
 * metrics_test.c - unit tests of relay/metrics.c.
 *
 *	metrics_test		run the tests
 *	metrics_test --print	print the exposition of a fixed set of values
 *				(prom_check.py parses it with the reference
 *				Prometheus parser)
 *
 * Counters are incremented by forked children, one per worker slot, and
 * read back in the parent; the HTTP endpoint runs in this process's event
 * loop on a loopback port and is queried by a forked child over a raw
 * socket, which hands the whole response back through a pipe.  Every wait
 * is bounded (alarm, receive timeouts, a loop timer).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "relay/metrics.h"
#include "tests/check.h"

#define TEST_WORKERS 4
#define TEST_RESPONSE_MAX 65536
#define TEST_TIMEOUT 10		/* seconds, one HTTP exchange */

/* Collects a client child's response from a pipe. */
struct test_reader {
	struct event_base *base;
	char buf[TEST_RESPONSE_MAX];
	size_t len;
	int done;
};

/* Counts the occurrences of needle in hay. */
static int
test_count(const char *hay, const char *needle)
{
	const char *p = hay;
	int n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* Waits for pid; its raw wait status, or -1. */
static int
test_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Bad sizes are refused with a reason; free is NULL-safe. */
static void
test_new_bounds(void)
{
	char err[256] = "";

	CHECK(metrics_new(0, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "workers") != NULL);
	err[0] = '\0';
	CHECK(metrics_new(METRICS_MAX_WORKERS + 1, err, sizeof(err)) == NULL);
	CHECK(err[0] != '\0');
	metrics_free(NULL);
	metrics_inc(NULL, 0, METRIC_CONNECTIONS);
	metrics_gauge_add(NULL, 0, METRIC_SESSIONS, 1);
	metrics_worker_exited(NULL, 0);
}

/* What child w does to its own slot. */
static void
test_child_work(struct metrics *m, int w)
{
	int i;

	for (i = 0; i < 50000 * (w + 1); i++)
		metrics_inc(m, w, METRIC_CONNECTIONS);
	for (i = 0; i < w; i++)
		metrics_inc(m, w, metrics_spf_result(SPF_RESULT_FAIL));
	metrics_gauge_add(m, w, METRIC_SESSIONS, 5);
	metrics_gauge_add(m, w, METRIC_SESSIONS, -2);
	if (w == 2)
		for (i = 0; i < 7; i++)
			metrics_inc(m, w, METRIC_TX_DELIVERED);
}

/* Forked workers increment their slots at the same time; the sums add up. */
static void
test_fork_sum(struct metrics *m)
{
	pid_t pids[TEST_WORKERS];
	int w, status;

	for (w = 0; w < TEST_WORKERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			test_child_work(m, w);
			_exit(0);
		}
		CHECK(pids[w] > 0);
	}
	for (w = 0; w < TEST_WORKERS; w++) {
		if (pids[w] <= 0)
			continue;
		status = test_wait(pids[w]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* 50000 * (1 + 2 + 3 + 4) */
	CHECK_INT(metrics_value(m, METRIC_CONNECTIONS), 500000);
	CHECK_INT(metrics_value(m, METRIC_SPF_FAIL), 6);
	CHECK_INT(metrics_value(m, METRIC_SPF_PASS), 0);
	CHECK_INT(metrics_value(m, METRIC_SESSIONS), 12);
	CHECK_INT(metrics_value(m, METRIC_TX_DELIVERED), 7);
}

/* The text holds every family once and the values set by the children. */
static void
test_format(struct metrics *m)
{
	static char text[METRICS_TEXT_MAX];
	char small[200];
	int n;

	n = metrics_format(m, text, sizeof(text));
	CHECK(n > 0);
	CHECK_INT(strlen(text), n);
	CHECK(n > 0 && text[n - 1] == '\n');
	CHECK(strstr(text, "\nspfgate_connections_total 500000\n") != NULL);
	CHECK(strstr(text, "\nspfgate_spf_results_total{result=\"fail\"} 6\n")
	    != NULL);
	CHECK(strstr(text, "\nspfgate_spf_results_total{result=\"pass\"} 0\n")
	    != NULL);
	CHECK(strstr(text, "\nspfgate_sessions 12\n") != NULL);
	CHECK(strstr(text, "\nspfgate_transactions_total{outcome="
	    "\"delivered\"} 7\n") != NULL);
	CHECK(strstr(text, "\nspfgate_transactions_total{outcome="
	    "\"bare_newline\"} 0\n") != NULL);
	CHECK(strstr(text, "\nspfgate_connections_refused_total{reason="
	    "\"max_connections_per_ip\"} 0\n") != NULL);
	CHECK(strstr(text, "\nspfgate_srs_reversals_total{outcome="
	    "\"invalid\"} 0\n") != NULL);
	CHECK(strncmp(text, "# HELP spfgate_connections_total ", 33) == 0);
	CHECK_INT(test_count(text, "# TYPE spfgate_sessions gauge\n"), 1);
	CHECK_INT(test_count(text, "# TYPE spfgate_backend_connections_idle "
	    "gauge\n"), 1);
	CHECK_INT(test_count(text, "# TYPE "
	    "spfgate_backend_connections_reused_total counter\n"), 1);
	CHECK_INT(test_count(text, "# TYPE spfgate_spf_results_total "
	    "counter\n"), 1);
	CHECK_INT(test_count(text, "# TYPE "), 11);
	CHECK_INT(test_count(text, "# HELP "), 11);
	CHECK_INT(test_count(text, "\nspfgate_spf_results_total{"), 7);
	CHECK_INT(test_count(text, "\nspfgate_transactions_total{"), 6);
	CHECK(metrics_format(m, small, sizeof(small)) == -1);
	CHECK(metrics_format(m, small, 0) == -1);
	CHECK(metrics_format(m, text, (size_t)n) == -1);	/* no room for NUL */
	CHECK_INT(metrics_format(m, text, (size_t)n + 1), n);
}

/* A reaped worker's gauges go to zero, its counters stay. */
static void
test_worker_exited(struct metrics *m)
{
	metrics_worker_exited(m, 1);
	CHECK_INT(metrics_value(m, METRIC_SESSIONS), 9);
	CHECK_INT(metrics_value(m, METRIC_CONNECTIONS), 500000);
	CHECK_INT(metrics_value(m, METRIC_SPF_FAIL), 6);
}

/* The SPF result mapping covers every result. */
static void
test_spf_mapping(void)
{
	CHECK_INT(metrics_spf_result(SPF_RESULT_NONE), METRIC_SPF_NONE);
	CHECK_INT(metrics_spf_result(SPF_RESULT_NEUTRAL), METRIC_SPF_NEUTRAL);
	CHECK_INT(metrics_spf_result(SPF_RESULT_PASS), METRIC_SPF_PASS);
	CHECK_INT(metrics_spf_result(SPF_RESULT_FAIL), METRIC_SPF_FAIL);
	CHECK_INT(metrics_spf_result(SPF_RESULT_SOFTFAIL),
	    METRIC_SPF_SOFTFAIL);
	CHECK_INT(metrics_spf_result(SPF_RESULT_TEMPERROR),
	    METRIC_SPF_TEMPERROR);
	CHECK_INT(metrics_spf_result(SPF_RESULT_PERMERROR),
	    METRIC_SPF_PERMERROR);
}

/* Runs one misuse in a child; 1 if the child died of SIGABRT. */
static int
test_aborts(struct metrics *m, int what)
{
	pid_t pid;
	int status, devnull;

	pid = fork();
	if (pid == 0) {
		/* Keep the expected message out of the test log. */
		devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		if (what == 0)
			metrics_inc(m, TEST_WORKERS, METRIC_CONNECTIONS);
		else if (what == 1)
			metrics_inc(m, -1, METRIC_CONNECTIONS);
		else if (what == 2)
			metrics_inc(m, 0, METRIC_SESSIONS);
		else if (what == 3)
			metrics_gauge_add(m, 0, METRIC_CONNECTIONS, 1);
		else
			metrics_inc(m, 0, METRIC_COUNT);
		_exit(0);
	}
	if (pid < 0)
		return 0;
	status = test_wait(pid);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

/* Misuse is a bug and aborts, and leaves the counters alone. */
static void
test_misuse(struct metrics *m)
{
	int what;

	for (what = 0; what < 5; what++)
		CHECK(test_aborts(m, what));
	CHECK_INT(metrics_value(m, METRIC_CONNECTIONS), 500000);
}

/* A non-blocking listening socket on 127.0.0.1, any free port. */
static int
test_listen(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Child: sends request to port, copies the whole response to out. */
static void
test_client(int port, const char *request, size_t reqlen, int out)
{
	struct timeval tv = { TEST_TIMEOUT, 0 };
	struct sockaddr_in sin;
	char buf[4096];
	ssize_t n;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		_exit(2);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    send(fd, request, reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen)
		_exit(3);
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		if (write(out, buf, (size_t)n) != n)
			_exit(4);
	_exit(n == 0 ? 0 : 5);
}

/* Pipe readable: append to the response; EOF ends the loop. */
static void
test_reader_cb(evutil_socket_t fd, short what, void *arg)
{
	struct test_reader *r = arg;
	ssize_t n;

	(void)what;
	n = read(fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	if (n > 0) {
		r->len += (size_t)n;
		if (r->len < sizeof(r->buf) - 1)
			return;
	}
	r->done = 1;
	event_base_loopbreak(r->base);
}

/* The exchange took too long. */
static void
test_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct test_reader *r = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(r->base);
}

/*
 * Sends request from a child while base serves it; the response (NUL
 * terminated) lands in r->buf.  Returns 0 when the child got it all.
 */
static int
test_exchange(struct event_base *base, int port, const char *request,
    size_t reqlen, struct test_reader *r)
{
	struct timeval limit = { TEST_TIMEOUT + 2, 0 };
	struct event *rd = NULL, *deadline = NULL;
	int p[2], status, rc = -1;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->base = base;
	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		test_client(port, request, reqlen, p[1]);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	rd = event_new(base, p[0], EV_READ | EV_PERSIST, test_reader_cb, r);
	deadline = evtimer_new(base, test_deadline_cb, r);
	if (rd != NULL && deadline != NULL && event_add(rd, NULL) == 0 &&
	    evtimer_add(deadline, &limit) == 0)
		event_base_dispatch(base);
	if (!r->done)
		kill(pid, SIGKILL);
	status = test_wait(pid);
	if (r->done && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = 0;
	r->buf[r->len] = '\0';
	if (rd != NULL)
		event_free(rd);
	if (deadline != NULL)
		event_free(deadline);
	close(p[0]);
	return rc;
}

/* Same, for a NUL-terminated request. */
static int
test_get(struct event_base *base, int port, const char *request,
    struct test_reader *r)
{
	return test_exchange(base, port, request, strlen(request), r);
}

/* The body of an HTTP response, or "" without a header end. */
static const char *
test_body(const char *response)
{
	const char *p = strstr(response, "\r\n\r\n");

	return p != NULL ? p + 4 : "";
}

/* GET /metrics in HTTP/1.0 and 1.1 (with a query string), and HEAD. */
static void
test_http_metrics(struct event_base *base, int port)
{
	static struct test_reader r;
	const char *body;
	char length[64];

	CHECK(test_get(base, port, "GET /metrics HTTP/1.0\r\n\r\n", &r) == 0);
	CHECK(strncmp(r.buf, "HTTP/1.0 200 OK\r\n", 17) == 0);
	CHECK(strstr(r.buf, "\r\nContent-Type: text/plain; version=0.0.4; "
	    "charset=utf-8\r\n") != NULL);
	body = test_body(r.buf);
	CHECK(strncmp(body, "# HELP spfgate_connections_total ", 33) == 0);
	CHECK(strstr(body, "\nspfgate_connections_total 500000\n") != NULL);
	CHECK(strstr(body, "\nspfgate_sessions 9\n") != NULL);
	CHECK(strstr(body, "\nspfgate_spf_results_total{result=\"fail\"} 6\n")
	    != NULL);
	CHECK(strstr(body, "\nspfgate_transactions_total{outcome="
	    "\"delivered\"} 7\n") != NULL);
	CHECK_INT(test_count(body, "# TYPE "), 11);

	CHECK(test_get(base, port, "GET /metrics?name[]=x HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nConnection: close\r\n\r\n", &r) == 0);
	CHECK(strncmp(r.buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
	body = test_body(r.buf);
	CHECK(strstr(body, "\nspfgate_connections_total 500000\n") != NULL);
	/* HTTP/1.1 states the length (1.0 ends the body by closing). */
	snprintf(length, sizeof(length), "\r\nContent-Length: %zu\r\n",
	    strlen(body));
	CHECK(strstr(r.buf, length) != NULL);

	CHECK(test_get(base, port, "HEAD /metrics HTTP/1.0\r\n\r\n", &r) == 0);
	CHECK(strncmp(r.buf, "HTTP/1.0 200 OK\r\n", 17) == 0);
	CHECK(strstr(r.buf, length) != NULL);
	CHECK_STR(test_body(r.buf), "");
}

/* Other paths 404, other methods 405, oversized requests refused. */
static void
test_http_errors(struct event_base *base, int port)
{
	static struct test_reader r;
	static char big[METRICS_HTTP_HEADERS_MAX + 512];
	size_t used;

	CHECK(test_get(base, port, "GET / HTTP/1.0\r\n\r\n", &r) == 0);
	CHECK(strncmp(r.buf, "HTTP/1.0 404 ", 13) == 0);
	CHECK(strstr(r.buf, "spfgate_") == NULL);
	CHECK(test_get(base, port, "GET /metrics/x HTTP/1.0\r\n\r\n", &r) == 0);
	CHECK(strncmp(r.buf, "HTTP/1.0 404 ", 13) == 0);
	CHECK(test_get(base, port, "GET /metricsx HTTP/1.0\r\n\r\n", &r) == 0);
	CHECK(strncmp(r.buf, "HTTP/1.0 404 ", 13) == 0);
	CHECK(test_get(base, port, "POST /metrics HTTP/1.0\r\n"
	    "Content-Length: 0\r\n\r\n", &r) == 0);
	CHECK(strncmp(r.buf, "HTTP/1.0 405 ", 13) == 0);
	CHECK(strstr(r.buf, "\r\nAllow: GET, HEAD\r\n") != NULL);
	CHECK(strstr(r.buf, "spfgate_") == NULL);

	used = (size_t)snprintf(big, sizeof(big),
	    "GET /metrics HTTP/1.0\r\nX-Filler: ");
	memset(big + used, 'a', sizeof(big) - used - 5);
	memcpy(big + sizeof(big) - 5, "\r\n\r\n", 4);
	big[sizeof(big) - 1] = '\0';
	/* Refused with 400/413 or a reset, depending on timing: never 200. */
	(void)test_get(base, port, big, &r);
	CHECK(strncmp(r.buf, "HTTP/1.0 200", 12) != 0);
	CHECK(strstr(r.buf, "spfgate_") == NULL);
}

/* The endpoint in this process's loop, queried by child processes. */
static void
test_http(struct metrics *m)
{
	struct metrics_http *h;
	struct event_base *base;
	char err[256];
	int fd, port = 0;

	base = event_base_new();
	fd = test_listen(&port);
	CHECK(base != NULL && fd >= 0);
	if (base == NULL || fd < 0)
		goto out;
	h = metrics_http_new(m, base, fd, err, sizeof(err));
	CHECK(h != NULL);
	/* The server holds its own duplicate of the socket. */
	close(fd);
	fd = -1;
	if (h == NULL) {
		fprintf(stderr, "metrics_http_new: %s\n", err);
		goto out;
	}
	test_http_metrics(base, port);
	test_http_errors(base, port);
	metrics_http_free(h);
	metrics_http_free(NULL);
out:
	if (fd >= 0)
		close(fd);
	if (base != NULL)
		event_base_free(base);
}

/* A bad socket is reported, not served. */
static void
test_http_bad_fd(struct metrics *m)
{
	struct event_base *base = event_base_new();
	char err[256] = "";

	CHECK(base != NULL);
	if (base == NULL)
		return;
	CHECK(metrics_http_new(m, base, -1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "dup") != NULL);
	event_base_free(base);
}

/* --print: fixed values from two workers, then the exposition. */
static int
print_fixed(void)
{
	static char text[METRICS_TEXT_MAX];
	struct metrics *m;
	char err[256];
	int i, n;

	m = metrics_new(2, err, sizeof(err));
	if (m == NULL) {
		fprintf(stderr, "metrics_new: %s\n", err);
		return 1;
	}
	for (i = 0; i < 7; i++)
		metrics_inc(m, i % 2, METRIC_CONNECTIONS);
	metrics_inc(m, 0, METRIC_REFUSED_MAX_PER_IP);
	metrics_inc(m, 1, METRIC_REFUSED_MAX_PER_IP);
	metrics_gauge_add(m, 0, METRIC_SESSIONS, 4);
	metrics_gauge_add(m, 1, METRIC_SESSIONS, -1);
	for (i = 0; i < 4; i++)
		metrics_inc(m, 1, metrics_spf_result(SPF_RESULT_FAIL));
	for (i = 0; i < 9; i++)
		metrics_inc(m, i % 2, METRIC_TX_DELIVERED);
	metrics_inc(m, 0, METRIC_SRS_REVERSE_RATE_LIMITED);
	n = metrics_format(m, text, sizeof(text));
	if (n > 0)
		fwrite(text, 1, (size_t)n, stdout);
	metrics_free(m);
	return n > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct metrics *m;
	char err[256];

	if (argc == 2 && strcmp(argv[1], "--print") == 0)
		return print_fixed();
	alarm(120);
	signal(SIGPIPE, SIG_IGN);
	test_new_bounds();
	test_spf_mapping();
	m = metrics_new(TEST_WORKERS, err, sizeof(err));
	CHECK(m != NULL);
	if (m == NULL) {
		fprintf(stderr, "metrics_new: %s\n", err);
		return check_report();
	}
	test_fork_sum(m);
	test_format(m);
	test_worker_exited(m);
	test_misuse(m);
	test_http(m);
	test_http_bad_fd(m);
	metrics_free(m);
	return check_report();
}
