/*
 * stream_test.c - unit tests of relay/stream.c over real sockets
 * (socketpairs and TCP on 127.0.0.1) and a real libevent loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "relay/stream.h"
#include "tests/check.h"

#define LOOP_PASSES_MAX 20000	/* bound on every wait loop */

/* What the callbacks saw. */
struct seen {
	struct event_base *base;
	int reads;
	int drained;
	int events;
	short last_event;
	int last_errno;
	int free_in_read;	/* stream_free() inside the read callback */
	int drain_in_read;	/* drain the input inside the read callback */
	struct stream *st;
};

static void
seen_read(struct stream *st, void *ctx)
{
	struct seen *v = ctx;
	struct evbuffer *in = stream_input(st);

	v->reads++;
	if (v->free_in_read) {
		stream_free(st);
		v->st = NULL;
		/* Caution on purpose: the buffer must outlive the free. */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (v->drain_in_read)
		evbuffer_drain(in, evbuffer_get_length(in));
}

static void
seen_drained(struct stream *st, void *ctx)
{
	struct seen *v = ctx;

	(void)st;
	v->drained++;
}

static void
seen_event(struct stream *st, short what, void *ctx)
{
	struct seen *v = ctx;

	(void)st;
	v->events++;
	v->last_event = what;
	v->last_errno = errno;
}

static const struct stream_callbacks seen_cb = {
	.read = seen_read,
	.drained = seen_drained,
	.event = seen_event,
};

/* A non-blocking socketpair. */
static void
pair(int fds[2])
{
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	CHECK(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
	CHECK(fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);
}

/* Runs loop passes until *flag >= want (bounded); 1 if reached. */
static int
run_until(struct event_base *base, const int *flag, int want)
{
	int i;

	for (i = 0; i < LOOP_PASSES_MAX && *flag < want; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	return *flag >= want;
}

/* A few passes with nothing expected to happen. */
static void
run_idle(struct event_base *base)
{
	int i;

	for (i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* Reads what is there from fd into buf (appending); returns the total. */
static size_t
drain_fd(int fd, char *buf, size_t have, size_t cap)
{
	ssize_t n;

	while (have < cap && (n = read(fd, buf + have, cap - have)) > 0)
		have += (size_t)n;
	return have;
}

/* Input arrives through one read callback; replies leave in order. */
static void
test_read_and_write(struct event_base *base)
{
	struct seen v = { .base = base };
	char buf[64];
	size_t got;
	int fds[2];

	pair(fds);
	v.st = stream_new(base, fds[0], &seen_cb, &v);
	CHECK(v.st != NULL);
	CHECK_INT(write(fds[1], "EHLO x\r\n", 8), 8);
	CHECK(run_until(base, &v.reads, 1));
	CHECK_INT(evbuffer_get_length(stream_input(v.st)), 8);
	CHECK(memcmp(evbuffer_pullup(stream_input(v.st), 8), "EHLO x\r\n",
	    8) == 0);
	/* Two writes in one pass: nothing is sent from inside the call. */
	CHECK_INT(stream_write(v.st, "250-a\r\n", 7), 0);
	CHECK_INT(stream_write(v.st, "250 b\r\n", 7), 0);
	CHECK_INT(stream_output_length(v.st), 14);
	CHECK_INT(v.drained, 0);
	CHECK(read(fds[1], buf, sizeof(buf)) < 0 && errno == EAGAIN);
	CHECK(run_until(base, &v.drained, 1));
	CHECK_INT(stream_output_length(v.st), 0);
	got = drain_fd(fds[1], buf, 0, sizeof(buf));
	CHECK_INT(got, 14);
	CHECK(memcmp(buf, "250-a\r\n250 b\r\n", 14) == 0);
	CHECK_INT(stream_fd(v.st), fds[0]);
	CHECK(stream_bufferevent(v.st) == NULL);
	stream_free(v.st);
	close(fds[1]);
}

/* A megabyte against a small socket buffer: EAGAIN, then all of it. */
static void
test_backpressure(struct event_base *base)
{
	struct seen v = { .base = base };
	size_t total = 1 << 20, got = 0, i;
	char *data = malloc(total), *back = malloc(total);
	int fds[2], small = 4096, ok = 1, passes;

	pair(fds);
	CHECK(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)) == 0);
	for (i = 0; i < total; i++)
		data[i] = (char)('a' + i % 23);
	v.st = stream_new(base, fds[0], &seen_cb, &v);
	stream_set_marks(v.st, 0, 64 * 1024);
	CHECK_INT(stream_write(v.st, data, total), 0);
	run_idle(base);
	CHECK(stream_output_length(v.st) > 0);	/* the kernel refused some */
	CHECK(stream_output_length(v.st) < total);
	for (passes = 0; passes < LOOP_PASSES_MAX && got < total; passes++) {
		got = drain_fd(fds[1], back, got, total);
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
	CHECK_INT(got, total);
	for (i = 0; i < total && ok; i++)
		ok = back[i] == data[i];
	CHECK(ok);
	CHECK(v.drained >= 1);			/* at or below 64 KB */
	CHECK_INT(stream_output_length(v.st), 0);
	CHECK_INT(v.events, 0);
	stream_free(v.st);
	close(fds[1]);
	free(data);
	free(back);
}

/* Reading pauses at the limit and resumes once the owner drained. */
static void
test_read_limit(struct event_base *base)
{
	struct seen v = { .base = base };
	char data[5000];
	size_t seen_total = 0;
	int fds[2], passes;

	memset(data, 'x', sizeof(data));
	pair(fds);
	v.st = stream_new(base, fds[0], &seen_cb, &v);
	stream_set_marks(v.st, 1000, 0);
	CHECK_INT(write(fds[1], data, sizeof(data)), (long)sizeof(data));
	run_idle(base);
	CHECK_INT(evbuffer_get_length(stream_input(v.st)), 1000);
	for (passes = 0; passes < 100 && seen_total < sizeof(data);
	    passes++) {
		size_t len = evbuffer_get_length(stream_input(v.st));

		CHECK(len <= 1000);
		seen_total += len;
		evbuffer_drain(stream_input(v.st), len);
		run_idle(base);
	}
	CHECK_INT(seen_total, sizeof(data));
	stream_free(v.st);
	close(fds[1]);
}

/* The peer's close is one EOF event, and nothing is read after it. */
static void
test_eof(struct event_base *base)
{
	struct seen v = { .base = base, .drain_in_read = 1 };
	int fds[2];

	pair(fds);
	v.st = stream_new(base, fds[0], &seen_cb, &v);
	CHECK_INT(write(fds[1], "QUIT\r\n", 6), 6);
	close(fds[1]);
	CHECK(run_until(base, &v.events, 1));
	CHECK(v.last_event == (BEV_EVENT_EOF | BEV_EVENT_READING));
	CHECK_INT(v.reads, 1);
	run_idle(base);
	CHECK_INT(v.events, 1);
	stream_read_enable(v.st);	/* still nothing after EOF */
	run_idle(base);
	CHECK_INT(v.events, 1);
	stream_free(v.st);
}

/* Writing to a closed peer is one error event with errno; no more writes. */
static void
test_write_error(struct event_base *base)
{
	struct seen v = { .base = base };
	int fds[2];

	pair(fds);
	v.st = stream_new(base, fds[0], &seen_cb, &v);
	stream_read_disable(v.st);	/* see the write fail, not the EOF */
	close(fds[1]);
	CHECK_INT(stream_write(v.st, "221 bye\r\n", 9), 0);
	CHECK(run_until(base, &v.events, 1));
	CHECK(v.last_event == (BEV_EVENT_ERROR | BEV_EVENT_WRITING));
	CHECK_INT(v.last_errno, EPIPE);
	CHECK_INT(stream_write(v.st, "x", 1), -1);
	stream_free(v.st);
}

/* Freeing inside the read callback leaves the input usable until it
 * returns (run under ASan to see the difference). */
static void
test_free_in_callback(struct event_base *base)
{
	struct seen v = { .base = base, .free_in_read = 1 };
	int fds[2];

	pair(fds);
	v.st = stream_new(base, fds[0], &seen_cb, &v);
	CHECK_INT(write(fds[1], "MAIL\r\n", 6), 6);
	CHECK(run_until(base, &v.reads, 1));
	CHECK(v.st == NULL);
	/* The socket was closed: the peer sees EOF. */
	{
		char c;
		int i;
		ssize_t n = -1;

		for (i = 0; i < 100 && n != 0; i++) {
			n = read(fds[1], &c, 1);
			if (n < 0)
				run_idle(base);
		}
		CHECK_INT(n, 0);
	}
	close(fds[1]);
}

/* Held output waits for the release, then leaves with what followed. */
static void
test_hold(struct event_base *base)
{
	struct seen v = { .base = base };
	char buf[64];
	int fds[2];

	pair(fds);
	v.st = stream_new(base, fds[0], &seen_cb, &v);
	CHECK_INT(stream_write(v.st, "Received: x\r\n", 13), 0);
	stream_hold(v.st, 1);
	run_idle(base);
	CHECK(read(fds[1], buf, sizeof(buf)) < 0 && errno == EAGAIN);
	CHECK_INT(stream_output_length(v.st), 13);
	CHECK_INT(stream_write(v.st, "body\r\n", 6), 0);
	run_idle(base);
	CHECK_INT(stream_output_length(v.st), 19);	/* still held */
	stream_hold(v.st, 0);
	CHECK(run_until(base, &v.drained, 1));
	CHECK_INT(drain_fd(fds[1], buf, 0, sizeof(buf)), 19);
	CHECK(memcmp(buf, "Received: x\r\nbody\r\n", 19) == 0);
	stream_free(v.st);
	close(fds[1]);
}

/* After stream_quiet() no callback runs, whatever arrives. */
static void
test_quiet(struct event_base *base)
{
	struct seen v = { .base = base };
	int fds[2];

	pair(fds);
	v.st = stream_new(base, fds[0], &seen_cb, &v);
	CHECK_INT(stream_write(v.st, "x", 1), 0);
	stream_quiet(v.st);
	CHECK_INT(write(fds[1], "abc", 3), 3);
	close(fds[1]);
	run_idle(base);
	CHECK_INT(v.reads + v.drained + v.events, 0);
	stream_free(v.st);
}

/* A TCP listener on 127.0.0.1; its address in sin. */
static int
listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(fd, (struct sockaddr *)sin, sizeof(*sin)) == 0);
	CHECK(listen(fd, 4) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)sin, &len) == 0);
	return fd;
}

/* Connecting: CONNECTED from the loop, then queued bytes go out. */
static void
test_connect(struct event_base *base)
{
	struct seen v = { .base = base };
	struct sockaddr_in sin;
	char buf[16];
	int lfd = listener(&sin), afd;

	v.st = stream_new(base, -1, &seen_cb, &v);
	CHECK(v.st != NULL);
	CHECK_INT(stream_connect(v.st, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	CHECK_INT(v.events, 0);		/* never from inside the call */
	CHECK_INT(stream_write(v.st, "EHLO a\r\n", 8), 0);
	CHECK(run_until(base, &v.events, 1));
	CHECK(v.last_event == BEV_EVENT_CONNECTED);
	afd = accept(lfd, NULL, NULL);
	CHECK(afd >= 0);
	CHECK(run_until(base, &v.drained, 1));
	CHECK_INT(read(afd, buf, sizeof(buf)), 8);
	CHECK_INT(write(afd, "250 ok\r\n", 8), 8);
	CHECK(run_until(base, &v.reads, 1));
	CHECK_INT(evbuffer_get_length(stream_input(v.st)), 8);
	stream_free(v.st);
	close(afd);
	close(lfd);
}

/* Connecting to a closed port fails at once or as an error event. */
static void
test_connect_refused(struct event_base *base)
{
	struct seen v = { .base = base };
	struct sockaddr_in sin;
	int lfd = listener(&sin);

	close(lfd);			/* nothing listens there now */
	v.st = stream_new(base, -1, &seen_cb, &v);
	if (stream_connect(v.st, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		CHECK_INT(errno, ECONNREFUSED);
	else {
		CHECK(run_until(base, &v.events, 1));
		CHECK(v.last_event & BEV_EVENT_ERROR);
		CHECK_INT(v.last_errno, ECONNREFUSED);
		CHECK_INT(stream_write(v.st, "x", 1), -1);
	}
	stream_free(v.st);
}

/*
 * STARTTLS hand-over: queued input and output move to the socket
 * bufferevent; an adopted bufferevent then serves the same calls.
 */
static void
test_hand_over_and_adopt(struct event_base *base)
{
	struct seen v = { .base = base };
	struct bufferevent *bev;
	char buf[32];
	size_t got;
	int fds[2];

	pair(fds);
	v.st = stream_new(base, fds[0], &seen_cb, &v);
	CHECK_INT(write(fds[1], "STARTTLS\r\nHELLO", 15), 15);
	CHECK(run_until(base, &v.reads, 1));
	evbuffer_drain(stream_input(v.st), 10);	/* the command */
	CHECK_INT(stream_write(v.st, "220 go\r\n", 8), 0);
	bev = stream_hand_over(v.st);
	CHECK(bev != NULL);
	CHECK_INT(stream_fd(v.st), -1);
	CHECK_INT(evbuffer_get_length(bufferevent_get_input(bev)), 5);
	CHECK_INT(stream_output_length(v.st), 0);
	CHECK_INT(evbuffer_get_length(bufferevent_get_output(bev)), 8);
	/* A socket bufferevent stands in for the TLS one here. */
	stream_adopt(v.st, bev);
	CHECK(stream_bufferevent(v.st) == bev);
	CHECK_INT(stream_fd(v.st), fds[0]);
	run_idle(base);
	got = drain_fd(fds[1], buf, 0, sizeof(buf));
	CHECK_INT(got, 8);
	CHECK(memcmp(buf, "220 go\r\n", 8) == 0);
	v.reads = 0;
	CHECK_INT(write(fds[1], "!", 1), 1);
	CHECK(run_until(base, &v.reads, 1));
	CHECK_INT(evbuffer_get_length(stream_input(v.st)), 6);
	CHECK_INT(stream_write(v.st, "250\r\n", 5), 0);
	run_idle(base);
	CHECK_INT(drain_fd(fds[1], buf, 0, sizeof(buf)), 5);
	CHECK(stream_release(v.st) == bev);
	CHECK(stream_bufferevent(v.st) == NULL);
	bufferevent_free(bev);		/* closes fds[0] */
	stream_free(v.st);
	close(fds[1]);
}

int
main(void)
{
	struct event_base *base = event_base_new();

	signal(SIGPIPE, SIG_IGN);	/* as the worker does */
	CHECK(base != NULL);
	test_read_and_write(base);
	test_backpressure(base);
	test_read_limit(base);
	test_eof(base);
	test_write_error(base);
	test_free_in_callback(base);
	test_quiet(base);
	test_hold(base);
	test_connect(base);
	test_connect_refused(base);
	test_hand_over_and_adopt(base);
	event_base_free(base);
	return check_report();
}
