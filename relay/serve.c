/*
 * serve.c - `spfgate serve` and `spfgate configtest`.
 *
 * serve: load and check the configuration, bind every listener, write the
 * pid file, drop privileges, then hand over to daemon_run() which forks
 * the workers (worker.c) and supervises them in the foreground.
 *
 * Both load the TLS certificates and keys (relay/tls.h) and refuse to go
 * on, naming the section and the file, when one is missing, unreadable,
 * damaged, a key does not match its certificate or is accessible by other
 * users.  serve loads them before dropping privileges; the workers inherit
 * that set.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "conf/conf.h"
#include "relay/commands.h"
#include "relay/connlimit.h"
#include "relay/daemon.h"
#include "relay/log.h"
#include "relay/metrics.h"
#include "relay/session.h"
#include "relay/srs_gate.h"
#include "relay/tls.h"
#include "relay/worker.h"

#define SERVE_BACKLOG 4096	/* the kernel caps it at net.core.somaxconn */

/* Options common to serve and configtest. */
struct serve_args {
	const char *conf_path;
	int verbose;
};

/* Parses "-c FILE [-v]"; returns 0 or an exit status. */
static int
serve_parse_args(const char *cmd, int argc, char **argv,
    struct serve_args *args)
{
	int opt;

	memset(args, 0, sizeof(*args));
	optind = 1;
	opterr = 0;
	while ((opt = getopt(argc, argv, ":c:vh")) != -1) {
		switch (opt) {
		case 'c':
			args->conf_path = optarg;
			break;
		case 'v':
			args->verbose = 1;
			break;
		case 'h':
			printf("usage: spfgate %s -c FILE%s\n", cmd,
			    strcmp(cmd, "configtest") == 0 ? " [-v]" : "");
			return -1;
		default:
			fprintf(stderr, "spfgate %s: bad option '%s'\n"
			    "usage: spfgate %s -c FILE\n", cmd,
			    argv[optind - 1], cmd);
			return EXIT_USAGE;
		}
	}
	if (args->conf_path == NULL || optind != argc) {
		fprintf(stderr, "spfgate %s: %s\nusage: spfgate %s -c FILE\n",
		    cmd, args->conf_path == NULL ? "-c FILE is required" :
		    "unexpected argument", cmd);
		return EXIT_USAGE;
	}
	return 0;
}

/* Loads the configuration, printing every error; NULL on failure. */
static struct conf *
serve_load_conf(const char *cmd, const char *path)
{
	struct conf_errors errs;
	struct conf *conf;

	memset(&errs, 0, sizeof(errs));
	conf = conf_load(path, &errs);
	if (conf == NULL) {
		fprintf(stderr, "spfgate %s: configuration has errors:\n", cmd);
		conf_errors_print(&errs, stderr);
		return NULL;
	}
	return conf;
}

/* Loads the TLS contexts; prints why not and returns -1 on failure. */
static int
serve_load_tls(const char *cmd, const struct conf *conf,
    struct tls_contexts *tls)
{
	char err[512];

	if (tls_contexts_load(conf, tls, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "spfgate %s: TLS: %s\n", cmd, err);
	if (conf->server.log == CONF_LOG_SYSLOG)
		log_msg(LOG_ERR, "event=startup_failed reason=\"TLS: %s\"", err);
	return -1;
}

/*
 * Builds the SRS gate (reads the secrets file, so before privileges are
 * dropped); NULL after printing why.  [srs] bounce_route is refused: this
 * version delivers reversed bounces through the [backend] servers.
 */
static struct srs_gate *
serve_load_srs(const char *cmd, const struct conf *conf)
{
	struct srs_gate *gate;
	char err[512];

	if (conf->srs.bounce_route.len != 0) {
		fprintf(stderr, "spfgate %s: [srs] bounce_route is not "
		    "supported yet: reversed bounces go to the [backend] "
		    "servers; remove the setting\n", cmd);
		return NULL;
	}
	gate = srs_gate_new(conf, err, sizeof(err));
	if (gate == NULL)
		fprintf(stderr, "spfgate %s: %s\n", cmd, err);
	return gate;
}

int
configtest_main(int argc, char **argv)
{
	struct serve_args args;
	struct tls_contexts tls;
	struct srs_gate *gate;
	struct conf *conf;
	int rc;

	rc = serve_parse_args("configtest", argc, argv, &args);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	conf = serve_load_conf("configtest", args.conf_path);
	if (conf == NULL)
		return EXIT_CONFIG;
	if (serve_load_tls("configtest", conf, &tls) < 0) {
		conf_free(conf);
		return EXIT_CONFIG;
	}
	tls_contexts_clear(&tls);
	gate = serve_load_srs("configtest", conf);
	if (gate == NULL) {
		conf_free(conf);
		return EXIT_CONFIG;
	}
	srs_gate_free(gate);
	if (args.verbose)
		conf_dump(conf, stdout);
	printf("spfgate configtest: %s: ok\n", args.conf_path);
	conf_free(conf);
	return 0;
}

/* Counts the addresses of every listener. */
static int
serve_count_sockets(const struct conf *conf)
{
	size_t i;
	int n = 0;

	for (i = 0; i < conf->nlisteners; i++)
		n += (int)conf->listeners[i].address.n;
	return n;
}

/* Binds every listener address; -1 after logging the failing one. */
static int
serve_bind_all(const struct conf *conf, struct worker_setup *setup)
{
	const struct conf_listener *l;
	char err[256], addr[80];
	size_t i, j;
	int fd;

	setup->sockets = calloc((size_t)serve_count_sockets(conf),
	    sizeof(*setup->sockets));
	if (setup->sockets == NULL)
		return -1;
	for (i = 0; i < conf->nlisteners; i++) {
		l = &conf->listeners[i];
		for (j = 0; j < l->address.n; j++) {
			session_format_addr(&l->address.v[j].ss, addr,
			    sizeof(addr), ':');
			fd = daemon_listen((const struct sockaddr *)
			    &l->address.v[j].ss, l->address.v[j].len,
			    SERVE_BACKLOG, err, sizeof(err));
			if (fd < 0) {
				log_msg(LOG_ERR, "event=listen_failed "
				    "listener=%s address=%s error=\"%s\"",
				    l->name, addr, err);
				return -1;
			}
			/* Accepted sockets inherit it (Linux): no
			 * setsockopt() per connection. */
			session_set_nodelay(fd);
			setup->sockets[setup->nsockets].fd = fd;
			setup->sockets[setup->nsockets].listener = l;
			setup->nsockets++;
			log_msg(LOG_INFO, "event=listening listener=%s "
			    "address=%s", l->name, addr);
		}
	}
	return 0;
}

/*
 * Raises the soft descriptor limit so that one worker can hold every
 * allowed session: two descriptors each (client and backend) plus room
 * for listeners, DNS and logs.  Shells often start with a soft limit of
 * 1024, which would cap a worker at about 500 sessions.  When the hard
 * limit is lower than needed, it is used and the shortfall logged.
 */
static void
serve_raise_nofile(const struct conf *conf)
{
	rlim_t want = (rlim_t)conf->server.max_connections * 2 + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ?
	    rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < want)
		log_msg(LOG_WARNING, "event=fd_limit_low limit=%llu "
		    "needed=%llu reason=\"max_connections needs two "
		    "descriptors per session; raise the hard limit "
		    "(LimitNOFILE=, ulimit -Hn)\"",
		    (unsigned long long)rl.rlim_cur,
		    (unsigned long long)want);
}

/* Closes what serve_bind_all opened. */
static void
serve_close_all(struct worker_setup *setup)
{
	int i;

	for (i = 0; i < setup->nsockets; i++)
		close(setup->sockets[i].fd);
	free(setup->sockets);
	setup->sockets = NULL;
	setup->nsockets = 0;
}

/* Number of workers: configured, or one per online core. */
static int
serve_worker_count(const struct conf *conf)
{
	long cores;

	if (conf->server.workers > 0)
		return conf->server.workers;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 0 ? (int)cores : 1;
}

/* A worker exited: whatever connections it held are gone. */
static void
serve_worker_exited(void *arg, int worker_id)
{
	struct worker_setup *setup = arg;

	connlimit_release_worker(setup->connlimit, worker_id);
	metrics_worker_exited(setup->metrics, worker_id);
}

/* Creates the shared counters and binds [server] metrics_listen. */
static int
serve_metrics(const struct conf *conf, struct worker_setup *setup)
{
	const struct conf_addr *a = &conf->server.metrics_listen;
	char err[256], addr[80];

	setup->metrics = metrics_new(serve_worker_count(conf), err,
	    sizeof(err));
	if (setup->metrics == NULL) {
		log_msg(LOG_ERR, "event=startup_failed reason=\"%s\"", err);
		return -1;
	}
	if (a->len == 0)
		return 0;
	session_format_addr(&a->ss, addr, sizeof(addr), ':');
	setup->metrics_fd = daemon_listen((const struct sockaddr *)&a->ss,
	    a->len, 64, err, sizeof(err));
	if (setup->metrics_fd < 0) {
		log_msg(LOG_ERR, "event=listen_failed listener=metrics "
		    "address=%s error=\"%s\"", addr, err);
		return -1;
	}
	log_msg(LOG_INFO, "event=listening listener=metrics address=%s", addr);
	return 0;
}

/* Everything between loading the conf and running the workers. */
static int
serve_run(struct conf *conf, const char *path)
{
	struct worker_setup setup;
	char err[512];
	int rc = EXIT_SOFTWARE;

	memset(&setup, 0, sizeof(setup));
	setup.conf = conf;
	setup.conf_path = path;
	setup.metrics_fd = -1;
	setup.connlimit = connlimit_new(conf->server.max_connections,
	    conf->server.max_connections_per_ip, err, sizeof(err));
	if (setup.connlimit == NULL) {
		log_msg(LOG_ERR, "event=startup_failed reason=\"%s\"", err);
		return rc;
	}
	if (serve_load_tls("serve", conf, &setup.tls) < 0) {
		rc = EXIT_CONFIG;
		goto out;
	}
	tls_contexts_log(&setup.tls, "tls_certificates", -1);
	setup.srs_gate = serve_load_srs("serve", conf);
	if (setup.srs_gate == NULL) {
		rc = EXIT_CONFIG;
		goto out;
	}
	serve_raise_nofile(conf);
	if (serve_bind_all(conf, &setup) < 0 ||
	    serve_metrics(conf, &setup) < 0)
		goto out;
	if (conf->server.pid_file[0] != '\0' &&
	    daemon_write_pidfile(conf->server.pid_file, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "event=startup_failed reason=\"%s\"", err);
		goto out;
	}
	if (conf->server.user[0] != '\0' &&
	    daemon_drop_privileges(conf->server.user, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "event=startup_failed reason=\"%s\"", err);
		goto out;
	}
	log_msg(LOG_INFO, "event=started version=%s workers=%d",
	    SPFGATE_VERSION, serve_worker_count(conf));
	rc = daemon_run(serve_worker_count(conf), worker_main,
	    serve_worker_exited, &setup) == 0 ?
	    0 : EXIT_SOFTWARE;
	log_msg(LOG_INFO, "event=stopped");
out:
	serve_close_all(&setup);
	tls_contexts_clear(&setup.tls);
	srs_gate_free(setup.srs_gate);
	connlimit_free(setup.connlimit);
	if (setup.metrics_fd >= 0)
		close(setup.metrics_fd);
	metrics_free(setup.metrics);
	return rc;
}

int
serve_main(int argc, char **argv)
{
	struct serve_args args;
	struct conf *conf;
	int rc;

	rc = serve_parse_args("serve", argc, argv, &args);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	conf = serve_load_conf("serve", args.conf_path);
	if (conf == NULL)
		return EXIT_CONFIG;
	log_init("spfgate", conf->server.log == CONF_LOG_SYSLOG,
	    conf->server.syslog_facility, conf->server.log_level);
	rc = serve_run(conf, args.conf_path);
	if (conf->server.pid_file[0] != '\0')
		unlink(conf->server.pid_file);
	log_close();
	conf_free(conf);
	return rc;
}
