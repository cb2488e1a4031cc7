/*
 * serve.c - `spfgate serve` and `spfgate configtest`.
 *
 * serve: load and check the configuration, bind every listener, write the
 * pid file, drop privileges, then hand over to daemon_run() which forks
 * the workers (worker.c) and supervises them in the foreground.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "relay/commands.h"
#include "relay/connlimit.h"
#include "relay/daemon.h"
#include "relay/log.h"
#include "relay/session.h"
#include "relay/worker.h"

#define SERVE_BACKLOG 1024

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
	}
	return conf;
}

int
configtest_main(int argc, char **argv)
{
	struct serve_args args;
	struct conf *conf;
	int rc;

	rc = serve_parse_args("configtest", argc, argv, &args);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	conf = serve_load_conf("configtest", args.conf_path);
	if (conf == NULL)
		return EXIT_CONFIG;
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
			setup->sockets[setup->nsockets].fd = fd;
			setup->sockets[setup->nsockets].listener = l;
			setup->nsockets++;
			log_msg(LOG_INFO, "event=listening listener=%s "
			    "address=%s", l->name, addr);
		}
	}
	return 0;
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
	setup.connlimit = connlimit_new(conf->server.max_connections,
	    conf->server.max_connections_per_ip, err, sizeof(err));
	if (setup.connlimit == NULL) {
		log_msg(LOG_ERR, "event=startup_failed reason=\"%s\"", err);
		return rc;
	}
	if (serve_bind_all(conf, &setup) < 0)
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
	connlimit_free(setup.connlimit);
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
