/*
 * worker.h - one worker process: an event loop serving client sessions.
 *
 * CONTRACT
 *	worker_main() is the body of a worker (daemon_worker_fn).  It builds
 *	its own libevent loop and libunbound resolver (threads do not survive
 *	fork(), so nothing of either is created before the fork), accepts on
 *	the shared listening sockets, and runs sessions until SIGTERM: then
 *	it stops accepting, tells idle sessions 421, lets transactions in
 *	flight finish for up to WORKER_STOP_GRACE seconds, and exits.
 *	TLS: each worker loads the certificates itself when it starts (so a
 *	worker restarted after a reload serves the current files) and again
 *	on SIGHUP; a load that fails keeps the contexts in use (at start:
 *	the master's, loaded before privileges were dropped) and logs why.
 *	Live sessions keep the contexts they started with.
 */
#ifndef RELAY_WORKER_H
#define RELAY_WORKER_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "relay/tls.h"

#define WORKER_STOP_GRACE 25	/* seconds */

struct event_base;
struct spf_resolver;
struct connlimit;
struct metrics;
struct srs_gate;
struct session;
struct backend_pool;

/* A listening socket and the listener section it belongs to. */
struct worker_socket {
	int fd;
	const struct conf_listener *listener;
};

/* What the master prepares for every worker (shared, read-only). */
struct worker_setup {
	const struct conf *conf;
	const char *conf_path;
	struct worker_socket *sockets;
	int nsockets;
	struct connlimit *connlimit;
	struct tls_contexts tls;	/* loaded by the master at startup */
	/* SRS policy; built by the master (it reads the secrets before
	 * dropping privileges); each worker's copy has its own rate limit. */
	struct srs_gate *srs_gate;
	struct metrics *metrics;	/* shared counters (metrics.h) */
	int metrics_fd;			/* metrics listener; -1 = off */
};

/* A session's place in its worker's list (embedded in the session). */
struct session_link {
	TAILQ_ENTRY(session_link) entry;
	struct session *session;
};
TAILQ_HEAD(session_list, session_link);

/* A running worker; sessions reach it through their back pointer. */
struct worker {
	const struct worker_setup *setup;
	const struct conf *conf;
	struct event_base *base;
	struct spf_resolver *resolver;
	struct tls_contexts tls;	/* current contexts (own references) */
	struct backend_pool *backend_pool;	/* kept backend connections */
	int id;
	uint64_t sessions_started;
	int nsessions;
	struct session_list sessions;
	int stopping;
};

int worker_main(void *setup, int worker_id);

/* Called by a session when it ends (it unlinks itself first). */
void worker_session_ended(struct worker *w);

/* Family and address octets (4 or 16) of a socket address. */
void worker_peer_octets(const struct sockaddr *sa, int *family,
    const unsigned char **addr);

#endif /* RELAY_WORKER_H */
