/*
 * stream.h - the byte stream of one relay connection (client or backend):
 * a plain TCP socket driven directly, or a TLS bufferevent (relay/tls.h)
 * behind the same calls.
 *
 * WHY NOT A SOCKET BUFFEREVENT
 *	libevent's socket bufferevent adds write interest to epoll when a
 *	reply is queued and removes it once the reply left (two epoll_ctl()
 *	per reply), and asks the kernel how much is readable before every
 *	read (an ioctl(FIONREAD) per read).  A relayed message is about
 *	fifteen short SMTP lines each way, so that was half of all system
 *	calls of the relay.  A plain stream keeps read interest registered
 *	for its whole life, reads with one readv(), writes what was queued
 *	once per loop pass (every reply of a pipelined batch in one
 *	writev()) and asks for write readiness only while the kernel
 *	refuses bytes.  TLS keeps bufferevent_openssl: OpenSSL's record
 *	layer is the cost there, not the system calls.
 *
 * CONTRACT
 *	No callback ever runs inside a stream_*() call: input, flushes and
 *	connection results arrive from the event loop, and the owner may
 *	free the stream from any callback.
 *	  read     the input grew (stream_input()).
 *	  drained  a flush left at most the drain mark (default 0) queued.
 *	  event    BEV_EVENT_CONNECTED; or BEV_EVENT_EOF or BEV_EVENT_ERROR,
 *	           or'ed with BEV_EVENT_READING or BEV_EVENT_WRITING (errno
 *	           holds the error).  After EOF or an error nothing more is
 *	           read; after a write error nothing more is written.
 *	Reading pauses while the input holds the read limit or more and
 *	resumes once the owner drained it below (0: no limit).
 *
 *	STARTTLS: stream_hand_over() gives the plain socket, with whatever
 *	input and output are still queued, to a new socket bufferevent for
 *	tls_*_wrap(); stream_adopt() then puts the TLS bufferevent under
 *	the stream.  stream_release() takes the TLS bufferevent back out at
 *	the end (tls_close() flushes and frees it).
 *
 * OWNERSHIP
 *	A stream owns its socket (closed by stream_free()) or its adopted
 *	bufferevent (freed by stream_free(); adopted ones must have been
 *	made with BEV_OPT_CLOSE_ON_FREE).  Queued output is discarded by
 *	stream_free().
 */
#ifndef RELAY_STREAM_H
#define RELAY_STREAM_H

#include <stddef.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define STREAM_READ_MAX 16384		/* bytes per read() */

struct stream;

struct stream_callbacks {
	void (*read)(struct stream *s, void *ctx);
	void (*drained)(struct stream *s, void *ctx);
	void (*event)(struct stream *s, short what, void *ctx);
};

/*
 * A plain stream over fd (non-blocking, connected; -1 for one that will
 * stream_connect()).  Reading starts enabled.  NULL when out of memory
 * (fd is then still the caller's).
 */
struct stream *stream_new(struct event_base *base, evutil_socket_t fd,
    const struct stream_callbacks *cb, void *ctx);

/* A stream over bev (a TLS bufferevent); NULL when out of memory. */
struct stream *stream_new_bufferevent(struct event_base *base,
    struct bufferevent *bev, const struct stream_callbacks *cb, void *ctx);

/* Closes everything; NULL-safe. */
void stream_free(struct stream *s);

/*
 * Starts a non-blocking connect of a stream made with fd -1; the result
 * arrives as BEV_EVENT_CONNECTED or BEV_EVENT_ERROR.  -1 + errno when it
 * failed at once.
 */
int stream_connect(struct stream *s, const struct sockaddr *sa,
    socklen_t salen);

/* Reading pauses at read_limit input bytes (0: never); drained fires at
 * drain_mark output bytes or fewer. */
void stream_set_marks(struct stream *s, size_t read_limit,
    size_t drain_mark);

void stream_read_enable(struct stream *s);
void stream_read_disable(struct stream *s);

/*
 * Holds queued output back (hold 1) until released (hold 0), so that
 * bytes queued now leave with the next ones in one write: the relay's
 * own headers, ready at 354, go out with the first chunk of content.
 * Plain streams only (a TLS stream ignores it).
 */
void stream_hold(struct stream *s, int hold);

/* Stops every callback for good (the owner is going away). */
void stream_quiet(struct stream *s);

/* What arrived and was not drained yet. */
struct evbuffer *stream_input(struct stream *s);

/* Queues bytes; 0, or -1 when the stream can no longer write. */
int stream_write(struct stream *s, const void *data, size_t len);

/* Bytes queued and not yet given to the kernel. */
size_t stream_output_length(struct stream *s);

/* The socket, or -1. */
evutil_socket_t stream_fd(struct stream *s);

/* The adopted bufferevent (TLS), or NULL for a plain stream. */
struct bufferevent *stream_bufferevent(struct stream *s);

/*
 * STARTTLS: the socket, with the queued input and output, as a socket
 * bufferevent owned by the caller; the stream is left empty until
 * stream_adopt().  NULL when out of memory (the stream is unchanged).
 */
struct bufferevent *stream_hand_over(struct stream *s);

/* Puts bev (a TLS bufferevent) under an empty stream. */
void stream_adopt(struct stream *s, struct bufferevent *bev);

/* Takes the adopted bufferevent back; the stream is left empty. */
struct bufferevent *stream_release(struct stream *s);

#endif /* RELAY_STREAM_H */
