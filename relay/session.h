/*
 * session.h - one client connection: SMTP server side + SPF + backend.
 *
 * CONTRACT
 *	session_new() takes over an accepted socket.  The session reads the
 *	client through a stream (stream.h), drives the server-side state
 *	machine (smtp/smtp_server.h), checks SPF at MAIL FROM through the
 *	worker's resolver, and forwards the transaction to the backend
 *	(backend.h) command by command, so the client's final reply is the
 *	backend's.
 *	It frees itself when the connection ends and then tells its worker.
 *
 * OWNERSHIP
 *	The worker's list holds every live session; session_free() may be
 *	called by the worker at teardown.  Every asynchronous answer (SPF
 *	verdict, backend reply, timers) is cancelled by session_free().
 */
#ifndef RELAY_SESSION_H
#define RELAY_SESSION_H

#include <stddef.h>
#include <sys/socket.h>

#include <event2/util.h>

#include "conf/conf.h"

struct worker;
struct session;

/* Takes over fd; NULL on resource failure (fd then still the caller's). */
struct session *session_new(struct worker *w, evutil_socket_t fd,
    const struct sockaddr *peer, socklen_t peerlen,
    const struct conf_listener *listener);

/* Closes the connection at once and frees; NULL-safe. */
void session_free(struct session *s);

/* Graceful stop: 421 when the session is between commands. */
void session_shutdown(struct session *s);

/*
 * Formats an address as "IP" + sep + "PORT" ("[v6]:port" when sep is ':'
 * and the address is IPv6; "v6@port" for sep '@'); port 0 -> "IP" only.
 */
void session_format_addr(const struct sockaddr_storage *ss, char *out,
    size_t outlen, char sep);

/* Turns off Nagle's algorithm on a connected socket (best effort). */
void session_set_nodelay(evutil_socket_t fd);

#endif /* RELAY_SESSION_H */
