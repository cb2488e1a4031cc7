/*
 * stream.c - a relay connection's byte stream (stream.h).
 *
 * A plain stream has three events: rd (read readiness, registered while
 * the owner reads and the input is under its limit), wr (write readiness,
 * registered only while connecting or while the kernel refuses bytes) and
 * flush (no descriptor; made active by stream_write() so that everything
 * queued during one loop pass leaves in one writev()).  An adopted
 * bufferevent (TLS) does all of that itself; its callbacks are forwarded.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "relay/stream.h"

struct stream {
	struct event_base *base;
	const struct stream_callbacks *cb;
	void *ctx;
	evutil_socket_t fd;		/* plain: ours; -1 when none */
	struct bufferevent *bev;	/* adopted (TLS): ours */
	struct evbuffer *in;
	struct evbuffer *out;
	struct event *rd;
	struct event *wr;
	struct event *flush;
	size_t read_limit;		/* 0: none */
	size_t drain_mark;
	int reading;			/* the owner wants input */
	int rd_added;
	int wr_added;
	int connecting;
	int read_done;			/* EOF or read error seen */
	int write_failed;
	int quiet;
	int held;			/* stream_hold(): no flush for now */
	int in_callback;		/* depth of the owner's callbacks */
	int dying;			/* freed during one of them */
};

static void stream_update_read(struct stream *s);
static void stream_destroy(struct stream *s);

/*
 * Calling the owner.  Caution: the owner may free the stream inside any
 * callback while its caller still holds the input buffer; the stream then
 * only goes quiet, and is destroyed once the outermost callback returned.
 */

static void
stream_enter(struct stream *s)
{
	s->in_callback++;
}

static void
stream_leave(struct stream *s)
{
	if (--s->in_callback == 0 && s->dying)
		stream_destroy(s);
}

static void
stream_emit_read(struct stream *s)
{
	if (s->quiet)
		return;
	stream_enter(s);
	s->cb->read(s, s->ctx);
	stream_leave(s);
}

static void
stream_emit_drained(struct stream *s)
{
	if (s->cb->drained == NULL || s->quiet)
		return;
	stream_enter(s);
	s->cb->drained(s, s->ctx);
	stream_leave(s);
}

/* Reports what happened, with err in errno for the owner. */
static void
stream_emit_event(struct stream *s, short what, int err)
{
	if (s->quiet)
		return;
	stream_enter(s);
	errno = err;
	s->cb->event(s, what, s->ctx);
	stream_leave(s);
}

/*
 * Plain: registration
 */

/* Registers read interest exactly when input is wanted and has room. */
static void
stream_update_read(struct stream *s)
{
	int want;

	if (s->rd == NULL)
		return;
	want = s->reading && !s->quiet && !s->connecting && !s->read_done &&
	    (s->read_limit == 0 || evbuffer_get_length(s->in) < s->read_limit);
	if (want && !s->rd_added) {
		if (event_add(s->rd, NULL) == 0)
			s->rd_added = 1;
	} else if (!want && s->rd_added) {
		event_del(s->rd);
		s->rd_added = 0;
	}
}

/* Write readiness wanted (connecting, or the kernel is full) or not. */
static void
stream_want_write(struct stream *s, int want)
{
	if (want && !s->wr_added) {
		if (event_add(s->wr, NULL) == 0)
			s->wr_added = 1;
	} else if (!want && s->wr_added) {
		event_del(s->wr);
		s->wr_added = 0;
	}
}

/* The owner drained input: a paused read may resume. */
static void
stream_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct stream *s = arg;

	(void)buf;
	if (info->n_deleted > 0 && !s->rd_added && s->read_limit > 0)
		stream_update_read(s);
}

/*
 * Plain: reading
 */

/* Bytes that may be read now without passing the limit. */
static size_t
stream_read_room(const struct stream *s)
{
	size_t len;

	if (s->read_limit == 0)
		return STREAM_READ_MAX;
	len = evbuffer_get_length(s->in);
	if (len >= s->read_limit)
		return 0;
	return s->read_limit - len < STREAM_READ_MAX ?
	    s->read_limit - len : STREAM_READ_MAX;
}

/* One readv() into the input; its result as read() gives it. */
static ssize_t
stream_read_once(struct stream *s, size_t room)
{
	struct evbuffer_iovec vec[2];
	size_t left = room;
	ssize_t n;
	int i, nvec;

	nvec = evbuffer_reserve_space(s->in, (ev_ssize_t)room, vec, 2);
	if (nvec <= 0) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < nvec; i++) {
		if (vec[i].iov_len > left)
			vec[i].iov_len = left;
		left -= vec[i].iov_len;
	}
	n = readv(s->fd, (struct iovec *)vec, nvec);
	if (n <= 0)
		return n;
	left = (size_t)n;
	for (i = 0; i < nvec && left > 0; i++) {
		if (vec[i].iov_len > left)
			vec[i].iov_len = left;
		left -= vec[i].iov_len;
	}
	if (evbuffer_commit_space(s->in, vec, i) < 0) {
		errno = ENOMEM;
		return -1;
	}
	return n;
}

/* Read readiness: one read, then tell the owner. */
static void
stream_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	size_t room = stream_read_room(s);
	ssize_t n;
	int err;

	(void)fd;
	(void)what;
	if (room == 0) {
		stream_update_read(s);
		return;
	}
	n = stream_read_once(s, room);
	if (n > 0) {
		stream_update_read(s);
		stream_emit_read(s);
		return;
	}
	err = n < 0 ? errno : 0;
	if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR))
		return;
	s->read_done = 1;
	stream_update_read(s);
	if (n == 0)
		stream_emit_event(s, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
	else
		stream_emit_event(s, BEV_EVENT_ERROR | BEV_EVENT_READING, err);
}

/*
 * Plain: writing and connecting
 */

/* Gives the kernel what it takes; then tells the owner. */
static void
stream_flush(struct stream *s)
{
	size_t left;
	int n = 0, err;

	if (s->write_failed || s->fd < 0)
		return;
	if (s->held) {
		stream_want_write(s, 0);	/* stream_hold(s, 0) comes back */
		return;
	}
	if (evbuffer_get_length(s->out) > 0) {
		n = evbuffer_write(s->out, s->fd);
		err = n < 0 ? errno : 0;
		if (n < 0 && err != EAGAIN && err != EWOULDBLOCK &&
		    err != EINTR) {
			s->write_failed = 1;
			stream_want_write(s, 0);
			stream_emit_event(s, BEV_EVENT_ERROR |
			    BEV_EVENT_WRITING, err);
			return;
		}
	}
	left = evbuffer_get_length(s->out);
	stream_want_write(s, left > 0);
	if (n > 0 && left <= s->drain_mark)
		stream_emit_drained(s);
}

/* Lets the loop flush what was queued, unless something waits for it. */
static void
stream_schedule_flush(struct stream *s)
{
	if (s->bev == NULL && s->fd >= 0 && !s->connecting && !s->wr_added &&
	    !s->quiet && !s->held && evbuffer_get_length(s->out) > 0)
		event_active(s->flush, EV_TIMEOUT, 0);
}

/* Deferred flush of what stream_write() queued. */
static void
stream_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stream_flush(arg);
}

/* The non-blocking connect finished, one way or the other. */
static void
stream_connected(struct stream *s)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EINTR)
		return;
	s->connecting = 0;
	stream_want_write(s, 0);
	if (err != 0) {
		s->read_done = 1;
		s->write_failed = 1;
		stream_emit_event(s, BEV_EVENT_ERROR, err);
		return;
	}
	stream_update_read(s);
	stream_schedule_flush(s);
	stream_emit_event(s, BEV_EVENT_CONNECTED, 0);
}

/* Write readiness: the connect's result, or room for queued bytes. */
static void
stream_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	(void)fd;
	(void)what;
	if (s->connecting)
		stream_connected(s);
	else
		stream_flush(s);
}

/* Makes the socket's two readiness events (the flush event exists). */
static int
stream_attach_fd(struct stream *s, evutil_socket_t fd)
{
	s->rd = event_new(s->base, fd, EV_READ | EV_PERSIST, stream_read_cb,
	    s);
	s->wr = event_new(s->base, fd, EV_WRITE | EV_PERSIST,
	    stream_write_cb, s);
	if (s->rd == NULL || s->wr == NULL) {
		if (s->rd != NULL)
			event_free(s->rd);
		if (s->wr != NULL)
			event_free(s->wr);
		s->rd = s->wr = NULL;
		return -1;
	}
	s->fd = fd;
	return 0;
}

/* Unregisters and frees the socket's events (not the socket). */
static void
stream_detach_fd(struct stream *s)
{
	if (s->rd != NULL)
		event_free(s->rd);
	if (s->wr != NULL)
		event_free(s->wr);
	s->rd = s->wr = NULL;
	s->rd_added = s->wr_added = 0;
	if (s->flush != NULL)
		event_del(s->flush);
	s->fd = -1;
}

/*
 * Adopted bufferevent: forwarding
 */

static void
stream_bev_read_cb(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;

	(void)bev;
	stream_emit_read(s);
}

static void
stream_bev_write_cb(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;

	(void)bev;
	stream_emit_drained(s);
}

static void
stream_bev_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct stream *s = arg;

	(void)bev;
	stream_emit_event(s, what, errno);
}

/* Applies the stream's marks and wishes to the adopted bufferevent. */
static void
stream_bev_setup(struct stream *s)
{
	bufferevent_setcb(s->bev, stream_bev_read_cb, stream_bev_write_cb,
	    stream_bev_event_cb, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, s->read_limit);
	bufferevent_setwatermark(s->bev, EV_WRITE, s->drain_mark, 0);
	if (s->quiet)
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	else
		bufferevent_enable(s->bev, s->reading ? EV_READ | EV_WRITE :
		    EV_WRITE);
}

/*
 * Life
 */

/* The parts every stream has. */
static struct stream *
stream_alloc(struct event_base *base, const struct stream_callbacks *cb,
    void *ctx)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->base = base;
	s->cb = cb;
	s->ctx = ctx;
	s->fd = -1;
	s->reading = 1;
	s->in = evbuffer_new();
	s->out = evbuffer_new();
	s->flush = event_new(base, -1, 0, stream_flush_cb, s);
	if (s->in == NULL || s->out == NULL || s->flush == NULL ||
	    evbuffer_add_cb(s->in, stream_input_cb, s) == NULL)
		goto fail;
	return s;
fail:
	stream_free(s);
	return NULL;
}

struct stream *
stream_new(struct event_base *base, evutil_socket_t fd,
    const struct stream_callbacks *cb, void *ctx)
{
	struct stream *s = stream_alloc(base, cb, ctx);

	if (s == NULL)
		return NULL;
	if (fd >= 0) {
		if (stream_attach_fd(s, fd) < 0) {
			stream_free(s);
			return NULL;
		}
		stream_update_read(s);
	}
	return s;
}

struct stream *
stream_new_bufferevent(struct event_base *base, struct bufferevent *bev,
    const struct stream_callbacks *cb, void *ctx)
{
	struct stream *s = stream_alloc(base, cb, ctx);

	if (s != NULL)
		stream_adopt(s, bev);
	return s;
}

void
stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	if (s->in_callback > 0) {
		s->dying = 1;
		stream_quiet(s);
		return;
	}
	stream_destroy(s);
}

/* Really frees; never inside one of the owner's callbacks. */
static void
stream_destroy(struct stream *s)
{
	evutil_socket_t fd = s->fd;

	stream_detach_fd(s);
	if (fd >= 0)
		close(fd);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	if (s->flush != NULL)
		event_free(s->flush);
	if (s->in != NULL)
		evbuffer_free(s->in);
	if (s->out != NULL)
		evbuffer_free(s->out);
	free(s);
}

int
stream_connect(struct stream *s, const struct sockaddr *sa, socklen_t salen)
{
	evutil_socket_t fd;
	int err;

	if (s->fd >= 0 || s->bev != NULL) {
		errno = EISCONN;
		return -1;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return -1;
	if (stream_attach_fd(s, fd) < 0) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	s->connecting = 1;
	if (connect(fd, sa, salen) < 0 && errno != EINPROGRESS) {
		err = errno;
		stream_detach_fd(s);
		close(fd);
		s->connecting = 0;
		errno = err;
		return -1;
	}
	/* Even an immediate success is reported from the loop. */
	stream_want_write(s, 1);
	return 0;
}

void
stream_set_marks(struct stream *s, size_t read_limit, size_t drain_mark)
{
	s->read_limit = read_limit;
	s->drain_mark = drain_mark;
	if (s->bev != NULL)
		stream_bev_setup(s);
	else
		stream_update_read(s);
}

void
stream_read_enable(struct stream *s)
{
	s->reading = 1;
	if (s->bev != NULL && !s->quiet)
		bufferevent_enable(s->bev, EV_READ);
	else
		stream_update_read(s);
}

void
stream_read_disable(struct stream *s)
{
	s->reading = 0;
	if (s->bev != NULL)
		bufferevent_disable(s->bev, EV_READ);
	else
		stream_update_read(s);
}

void
stream_quiet(struct stream *s)
{
	s->quiet = 1;
	if (s->bev != NULL) {
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
		return;
	}
	stream_update_read(s);
	if (s->wr != NULL)
		stream_want_write(s, 0);
	event_del(s->flush);
}

struct evbuffer *
stream_input(struct stream *s)
{
	return s->bev != NULL ? bufferevent_get_input(s->bev) : s->in;
}

int
stream_write(struct stream *s, const void *data, size_t len)
{
	if (s->bev != NULL)
		return bufferevent_write(s->bev, data, len);
	if (s->fd < 0 || s->write_failed)
		return -1;
	if (evbuffer_add(s->out, data, len) < 0)
		return -1;
	stream_schedule_flush(s);
	return 0;
}

void
stream_hold(struct stream *s, int hold)
{
	s->held = hold != 0;
	stream_schedule_flush(s);
}

size_t
stream_output_length(struct stream *s)
{
	if (s->bev != NULL)
		return evbuffer_get_length(bufferevent_get_output(s->bev));
	return evbuffer_get_length(s->out);
}

evutil_socket_t
stream_fd(struct stream *s)
{
	return s->bev != NULL ? bufferevent_getfd(s->bev) : s->fd;
}

struct bufferevent *
stream_bufferevent(struct stream *s)
{
	return s->bev;
}

struct bufferevent *
stream_hand_over(struct stream *s)
{
	struct bufferevent *bev;

	if (s->fd < 0)
		return NULL;
	bev = bufferevent_socket_new(s->base, s->fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL;
	/* A socket bufferevent's input is frozen at its end: prepend. */
	if (evbuffer_prepend_buffer(bufferevent_get_input(bev), s->in) < 0 ||
	    evbuffer_add_buffer(bufferevent_get_output(bev), s->out) < 0) {
		bufferevent_setfd(bev, -1);
		bufferevent_free(bev);
		return NULL;
	}
	stream_detach_fd(s);
	return bev;
}

void
stream_adopt(struct stream *s, struct bufferevent *bev)
{
	s->bev = bev;
	stream_bev_setup(s);
}

struct bufferevent *
stream_release(struct stream *s)
{
	struct bufferevent *bev = s->bev;

	s->bev = NULL;
	if (bev != NULL)
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	return bev;
}
