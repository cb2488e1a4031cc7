/*
 * daemon.c - bind, fork workers, supervise them (see daemon.h).
 *
 * The master blocks the signals it handles and waits for them with
 * sigtimedwait(), so no work happens in a signal handler.  Workers start
 * with the default dispositions and an empty mask; their event loops
 * install their own signal events.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay/daemon.h"
#include "relay/log.h"

#define DAEMON_MAX_WORKERS 1024
#define DAEMON_STOP_GRACE 30	/* seconds before SIGKILL at shutdown */

/* One supervised worker slot. */
struct daemon_worker {
	pid_t pid;		/* 0 when not running */
	time_t started;
};

/* The master's view of its workers. */
struct daemon_pool {
	struct daemon_worker *workers;
	int nworkers;
	daemon_worker_fn *fn;
	daemon_exit_fn *on_exit;
	void *arg;
	time_t restarts[DAEMON_RESTART_BURST];
	int nrestarts;
};

int
daemon_listen(const struct sockaddr *sa, socklen_t salen, int backlog,
    char *err, size_t errlen)
{
	int fd, one = 1;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) < 0)) {
		snprintf(err, errlen, "setsockopt: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, sa, salen) < 0) {
		snprintf(err, errlen, "bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, backlog) < 0) {
		snprintf(err, errlen, "listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The signals the master waits for. */
static void
daemon_master_sigset(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
}

/* Starts worker slot i; 0 or -1. */
static int
daemon_spawn(struct daemon_pool *pool, int i)
{
	sigset_t empty;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "event=fork_failed error=\"%s\"",
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigemptyset(&empty);
		sigprocmask(SIG_SETMASK, &empty, NULL);
		_exit(pool->fn(pool->arg, i));
	}
	pool->workers[i].pid = pid;
	pool->workers[i].started = time(NULL);
	log_msg(LOG_INFO, "event=worker_started worker=%d pid=%ld", i,
	    (long)pid);
	return 0;
}

/* Sends sig to every running worker. */
static void
daemon_signal_all(struct daemon_pool *pool, int sig)
{
	int i;

	for (i = 0; i < pool->nworkers; i++)
		if (pool->workers[i].pid > 0)
			kill(pool->workers[i].pid, sig);
}

/* Index of the worker with pid, or -1. */
static int
daemon_find(const struct daemon_pool *pool, pid_t pid)
{
	int i;

	for (i = 0; i < pool->nworkers; i++)
		if (pool->workers[i].pid == pid)
			return i;
	return -1;
}

/* Records a restart; 0 if allowed, -1 if workers die too often. */
static int
daemon_note_restart(struct daemon_pool *pool, time_t now)
{
	int i, recent = 0;

	for (i = 0; i < pool->nrestarts; i++)
		if (now - pool->restarts[i] < DAEMON_RESTART_WINDOW)
			recent++;
	if (recent >= DAEMON_RESTART_BURST)
		return -1;
	if (pool->nrestarts < DAEMON_RESTART_BURST)
		pool->restarts[pool->nrestarts++] = now;
	else {
		memmove(pool->restarts, pool->restarts + 1,
		    sizeof(pool->restarts[0]) * (DAEMON_RESTART_BURST - 1));
		pool->restarts[DAEMON_RESTART_BURST - 1] = now;
	}
	return 0;
}

/* Reaps dead workers and restarts them; -1 if they die too often. */
static int
daemon_reap(struct daemon_pool *pool, int stopping)
{
	int status, i, rc = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		i = daemon_find(pool, pid);
		if (i < 0)
			continue;
		pool->workers[i].pid = 0;
		if (pool->on_exit != NULL)
			pool->on_exit(pool->arg, i);
		if (stopping)
			continue;
		log_msg(LOG_ERR, "event=worker_died worker=%d pid=%ld "
		    "status=%d signal=%d", i, (long)pid,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		if (daemon_note_restart(pool, time(NULL)) < 0) {
			log_msg(LOG_ERR, "event=giving_up reason=\"workers "
			    "keep dying\"");
			rc = -1;
		} else if (daemon_spawn(pool, i) < 0)
			rc = -1;
	}
	return rc;
}

/* Number of workers still running. */
static int
daemon_running(const struct daemon_pool *pool)
{
	int i, n = 0;

	for (i = 0; i < pool->nworkers; i++)
		if (pool->workers[i].pid > 0)
			n++;
	return n;
}

/* Asks workers to stop and waits, killing them after the grace time. */
static void
daemon_stop_all(struct daemon_pool *pool, const sigset_t *set)
{
	struct timespec tick = { 1, 0 };
	time_t deadline = time(NULL) + DAEMON_STOP_GRACE;

	daemon_signal_all(pool, SIGTERM);
	while (daemon_running(pool) > 0) {
		daemon_reap(pool, 1);
		if (daemon_running(pool) == 0)
			break;
		if (time(NULL) >= deadline) {
			log_msg(LOG_WARNING, "event=stop_timeout "
			    "action=kill workers=%d", daemon_running(pool));
			daemon_signal_all(pool, SIGKILL);
			deadline = time(NULL) + DAEMON_STOP_GRACE;
		}
		sigtimedwait(set, NULL, &tick);
	}
}

/* The master's loop: wait for signals, supervise. */
static int
daemon_supervise(struct daemon_pool *pool, const sigset_t *set)
{
	int sig, rc = 0;

	for (;;) {
		sig = sigwaitinfo(set, NULL);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERR, "event=sigwait_failed error=\"%s\"",
			    strerror(errno));
			rc = 1;
			break;
		}
		if (sig == SIGHUP) {
			log_msg(LOG_INFO, "event=reload");
			daemon_signal_all(pool, SIGHUP);
		} else if (sig == SIGCHLD) {
			if (daemon_reap(pool, 0) < 0) {
				rc = 1;
				break;
			}
		} else {
			log_msg(LOG_INFO, "event=stopping signal=%d", sig);
			break;
		}
	}
	daemon_stop_all(pool, set);
	return rc;
}

int
daemon_run(int nworkers, daemon_worker_fn *fn, daemon_exit_fn *on_exit,
    void *arg)
{
	struct daemon_pool pool;
	sigset_t set, old;
	int i, rc;

	if (nworkers < 1 || nworkers > DAEMON_MAX_WORKERS)
		return 1;
	memset(&pool, 0, sizeof(pool));
	pool.workers = calloc((size_t)nworkers, sizeof(*pool.workers));
	if (pool.workers == NULL)
		return 1;
	pool.nworkers = nworkers;
	pool.fn = fn;
	pool.on_exit = on_exit;
	pool.arg = arg;

	daemon_master_sigset(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	rc = 0;
	for (i = 0; i < nworkers && rc == 0; i++)
		rc = daemon_spawn(&pool, i);
	if (rc == 0)
		rc = daemon_supervise(&pool, &set);
	else
		daemon_stop_all(&pool, &set);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(pool.workers);
	return rc;
}

int
daemon_drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "unknown user '%s'", user);
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "cannot become '%s': %s", user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "could regain root after dropping to "
		    "'%s'", user);
		return -1;
	}
	return 0;
}

int
daemon_write_pidfile(const char *path, char *err, size_t errlen)
{
	FILE *f;

	f = fopen(path, "w");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
