/*
 * daemon.h - listening sockets and the worker processes that share them.
 *
 * CONTRACT
 *	The master binds every listening socket, then forks N workers; each
 *	worker runs its own libevent loop over the same sockets (the kernel
 *	hands each connection to one of them).  The master only supervises:
 *	it restarts a worker that dies unexpectedly (at most
 *	DAEMON_RESTART_BURST times within DAEMON_RESTART_WINDOW seconds,
 *	then gives up and stops), forwards SIGHUP to every worker (reload),
 *	and on SIGTERM/SIGINT asks every worker to stop, waits for them, and
 *	returns.  It stays in the foreground (systemd Type=simple).
 */
#ifndef RELAY_DAEMON_H
#define RELAY_DAEMON_H

#include <sys/socket.h>

#define DAEMON_RESTART_BURST 5
#define DAEMON_RESTART_WINDOW 10

/*
 * Opens a non-blocking listening socket bound to sa (SO_REUSEADDR; IPv6
 * sockets are IPv6-only).  Returns the descriptor, or -1 with a reason in
 * err.
 */
int daemon_listen(const struct sockaddr *sa, socklen_t salen, int backlog,
    char *err, size_t errlen);

/* Body of a worker: runs until asked to stop; returns its exit status. */
typedef int daemon_worker_fn(void *arg, int worker_id);

/* Called in the master after worker_id exited, for any reason. */
typedef void daemon_exit_fn(void *arg, int worker_id);

/*
 * Forks nworkers workers running fn and supervises them until SIGTERM or
 * SIGINT; on_exit (may be NULL) runs in the master after each worker's
 * exit, before any restart.  Returns 0 after a clean stop, non-zero if
 * workers kept dying.
 */
int daemon_run(int nworkers, daemon_worker_fn *fn, daemon_exit_fn *on_exit,
    void *arg);

/* Drops root privileges to user (name); 0 or -1 with a reason in err. */
int daemon_drop_privileges(const char *user, char *err, size_t errlen);

/* Writes the master's PID to path; 0 or -1 with a reason in err. */
int daemon_write_pidfile(const char *path, char *err, size_t errlen);

#endif /* RELAY_DAEMON_H */
