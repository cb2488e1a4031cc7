/*
 * check.c - `spfgate check`: one SPF evaluation from the command line.
 *
 *	spfgate check --ip IP --sender ADDR [--helo NAME] [--identity mailfrom|helo]
 *	    [--zone FILE] [--trust-anchor FILE] [--no-dnssec] [--forward IP[@PORT]]...
 *	    [--timeout SECONDS] [--receiver NAME]
 *
 * Prints the result, the matched term or the error reason, the DNSSEC
 * status and the Received-SPF and Authentication-Results headers.  The exit
 * status tells the result (see check_exit_status); 64 means bad arguments.
 * With --zone the in-memory zone resolver answers from FILE; otherwise
 * libunbound resolves (validating unless --no-dnssec) in a libevent loop.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "relay/commands.h"
#include "spf/spf.h"
#include "spf/spf_unbound.h"

#define CHECK_MAX_FORWARDERS 8

/* Parsed command line. */
struct check_args {
	struct spf_request request;
	const char *ip_text;
	const char *zone_file;
	const char *trust_anchor;
	const char *forwarders[CHECK_MAX_FORWARDERS];
	int nforwarders;
	int dnssec;
	int timeout_sec;
};

/* State shared by the evaluation's callbacks. */
struct check_run {
	const struct check_args *args;
	struct event_base *base;
	int done;
	int status;
};

static const char check_usage_text[] =
    "usage: spfgate check --ip IP --sender ADDR [--helo NAME]\n"
    "       [--identity mailfrom|helo] [--zone FILE] [--trust-anchor FILE]\n"
    "       [--no-dnssec] [--forward IP[@PORT]]... [--timeout SECONDS]\n"
    "       [--receiver NAME]\n"
    "exit status: 0 pass, 1 fail, 2 softfail, 3 neutral, 4 none,\n"
    "             5 permerror, 6 temperror, 64 usage error\n";

/* Reports a bad argument on one line, then the usage; returns 64. */
static int
check_usage_error(const char *what, const char *value)
{
	return command_usage_error("check", check_usage_text, what, value);
}

/* Maps an SPF result to the documented exit status. */
static int
check_exit_status(enum spf_result result)
{
	switch (result) {
	case SPF_RESULT_PASS:
		return 0;
	case SPF_RESULT_FAIL:
		return 1;
	case SPF_RESULT_SOFTFAIL:
		return 2;
	case SPF_RESULT_NEUTRAL:
		return 3;
	case SPF_RESULT_NONE:
		return 4;
	case SPF_RESULT_PERMERROR:
		return 5;
	case SPF_RESULT_TEMPERROR:
		return 6;
	}
	return EXIT_SOFTWARE;
}

/* Parses IP into the request's family and address; 0 or -1. */
static int
check_parse_ip(struct spf_request *request, const char *text)
{
	if (inet_pton(AF_INET, text, request->ip) == 1) {
		request->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, request->ip) == 1) {
		request->family = AF_INET6;
		return 0;
	}
	return -1;
}

/* Parses a positive number of seconds (1..3600); -1 if invalid. */
static int
check_parse_timeout(const char *text)
{
	char *end;
	long value;

	value = strtol(text, &end, 10);
	if (end == text || *end != '\0' || value < 1 || value > 3600)
		return -1;
	return (int)value;
}

/* Fills args from argv; returns 0, or the exit status for an error. */
static int
check_parse_args(struct check_args *args, int argc, char **argv)
{
	static const struct option options[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "sender", required_argument, NULL, 's' },
		{ "helo", required_argument, NULL, 'H' },
		{ "identity", required_argument, NULL, 'I' },
		{ "zone", required_argument, NULL, 'z' },
		{ "trust-anchor", required_argument, NULL, 't' },
		{ "no-dnssec", no_argument, NULL, 'n' },
		{ "forward", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "receiver", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int opt, have_sender = 0;

	memset(args, 0, sizeof(*args));
	args->dnssec = 1;
	args->timeout_sec = 20;
	args->request.identity = SPF_ID_MAILFROM;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			args->ip_text = optarg;
			break;
		case 's':
			args->request.sender = optarg;
			have_sender = 1;
			break;
		case 'H':
			args->request.helo = optarg;
			break;
		case 'I':
			if (strcmp(optarg, "mailfrom") == 0)
				args->request.identity = SPF_ID_MAILFROM;
			else if (strcmp(optarg, "helo") == 0)
				args->request.identity = SPF_ID_HELO;
			else
				return check_usage_error("--identity must be "
				    "mailfrom or helo", optarg);
			break;
		case 'z':
			args->zone_file = optarg;
			break;
		case 't':
			args->trust_anchor = optarg;
			break;
		case 'n':
			args->dnssec = 0;
			break;
		case 'f':
			if (args->nforwarders == CHECK_MAX_FORWARDERS)
				return check_usage_error("too many --forward",
				    optarg);
			args->forwarders[args->nforwarders++] = optarg;
			break;
		case 'T':
			args->timeout_sec = check_parse_timeout(optarg);
			if (args->timeout_sec < 0)
				return check_usage_error("--timeout must be 1 to "
				    "3600 seconds", optarg);
			break;
		case 'r':
			args->request.receiver = optarg;
			break;
		case 'h':
			fputs(check_usage_text, stdout);
			return -1;
		case ':':
			return check_usage_error("missing value for",
			    argv[optind - 1]);
		default:
			return check_usage_error("unknown option",
			    argv[optind - 1]);
		}
	}
	if (optind != argc)
		return check_usage_error("unexpected argument", argv[optind]);
	if (args->ip_text == NULL)
		return check_usage_error("--ip is required", NULL);
	if (check_parse_ip(&args->request, args->ip_text) < 0)
		return check_usage_error("--ip is not an IPv4 or IPv6 address",
		    args->ip_text);
	if (args->request.identity == SPF_ID_MAILFROM && !have_sender)
		return check_usage_error("--sender is required (use --sender "
		    "'' for the null reverse path)", NULL);
	if (args->request.identity == SPF_ID_HELO &&
	    args->request.helo == NULL)
		return check_usage_error("--identity helo needs --helo", NULL);
	if (args->zone_file != NULL && (args->nforwarders > 0 ||
	    args->trust_anchor != NULL))
		return check_usage_error("--zone cannot be combined with "
		    "--forward or --trust-anchor", NULL);
	if (!args->dnssec && args->trust_anchor != NULL)
		return check_usage_error("--no-dnssec cannot be combined with "
		    "--trust-anchor", NULL);
	return 0;
}

/* Prints the verdict and both result headers to stdout. */
static void
check_print_verdict(const struct check_args *args,
    const struct spf_verdict *verdict)
{
	struct spf_header_info info;
	char header[2048];

	printf("result: %s\n", spf_result_name(verdict->result));
	printf("identity: %s %s\n",
	    verdict->identity == SPF_ID_HELO ? "helo" : "mailfrom",
	    verdict->identity_text);
	if (verdict->mechanism[0] != '\0')
		printf("mechanism: %s\n", verdict->mechanism);
	if (verdict->reason[0] != '\0')
		printf("reason: %s\n", verdict->reason);
	if (verdict->explanation[0] != '\0')
		printf("explanation: %s\n", verdict->explanation);
	printf("dnssec: %s\n", verdict->dnssec_secure ? "secure" :
	    "insecure");
	printf("lookups: %d dns, %d void\n", verdict->dns_lookups,
	    verdict->void_lookups);

	memset(&info, 0, sizeof(info));
	info.receiver = args->request.receiver != NULL ?
	    args->request.receiver : "spfgate";
	info.authserv_id = info.receiver;
	info.client_ip = args->ip_text;
	info.helo = args->request.helo;
	if (spf_header_received_spf(header, sizeof(header), verdict,
	    &info) >= 0)
		printf("%s\n", header);
	if (spf_header_authres(header, sizeof(header), verdict, &info) >= 0)
		printf("%s\n", header);
}

/* Evaluation finished: print and stop the loop. */
static void
check_done_cb(void *arg, const struct spf_verdict *verdict)
{
	struct check_run *run = arg;

	check_print_verdict(run->args, verdict);
	run->status = check_exit_status(verdict->result);
	run->done = 1;
	if (run->base != NULL)
		event_base_loopbreak(run->base);
}

/* The overall deadline passed before the evaluation finished. */
static void
check_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct check_run *run = arg;

	(void)fd;
	(void)what;
	printf("result: temperror\nreason: no verdict within %d s\n",
	    run->args->timeout_sec);
	run->status = check_exit_status(SPF_RESULT_TEMPERROR);
	run->done = 1;
	event_base_loopbreak(run->base);
}

/* Runs one evaluation against resolver, driving base if not NULL. */
static int
check_evaluate(const struct check_args *args, struct spf_resolver *resolver,
    struct event_base *base)
{
	struct check_run run = { args, base, 0, EXIT_SOFTWARE };
	struct timeval deadline = { args->timeout_sec, 0 };
	struct event *timer = NULL;
	struct spf_eval *eval;

	eval = spf_eval_new(&args->request, resolver, check_done_cb, &run);
	if (eval == NULL) {
		fprintf(stderr, "spfgate check: cannot start the evaluation\n");
		return EXIT_SOFTWARE;
	}
	if (base != NULL) {
		timer = evtimer_new(base, check_timeout_cb, &run);
		if (timer == NULL || evtimer_add(timer, &deadline) < 0) {
			fprintf(stderr, "spfgate check: cannot set a timer\n");
			event_free(timer);
			spf_eval_free(eval);
			return EXIT_SOFTWARE;
		}
	}
	spf_eval_start(eval);
	if (base != NULL && !run.done)
		event_base_dispatch(base);
	if (timer != NULL)
		event_free(timer);
	spf_eval_free(eval);
	if (!run.done) {
		fprintf(stderr, "spfgate check: the evaluation did not end\n");
		return EXIT_SOFTWARE;
	}
	return run.status;
}

/* Evaluates with the in-memory zone loaded from args->zone_file. */
static int
check_with_zone(const struct check_args *args)
{
	struct spf_resolver *resolver = NULL;
	struct spf_zone *zone;
	char err[512];
	int status = EXIT_SOFTWARE;

	zone = spf_zone_new();
	if (zone == NULL) {
		fprintf(stderr, "spfgate check: out of memory\n");
		return EXIT_SOFTWARE;
	}
	if (spf_zone_load(zone, args->zone_file, err, sizeof(err)) < 0) {
		fprintf(stderr, "spfgate check: %s\n", err);
		status = EXIT_CONFIG;
		goto out;
	}
	resolver = spf_zone_resolver_new(zone);
	if (resolver == NULL) {
		fprintf(stderr, "spfgate check: out of memory\n");
		goto out;
	}
	status = check_evaluate(args, resolver, NULL);
out:
	if (resolver != NULL)
		resolver->ops->free(resolver);
	spf_zone_free(zone);
	return status;
}

/* Evaluates through libunbound in a libevent loop. */
static int
check_with_unbound(const struct check_args *args)
{
	struct spf_unbound_config config;
	struct spf_resolver *resolver;
	struct event_base *base;
	char err[512];
	int status;

	base = event_base_new();
	if (base == NULL) {
		fprintf(stderr, "spfgate check: cannot create an event loop\n");
		return EXIT_SOFTWARE;
	}
	memset(&config, 0, sizeof(config));
	config.no_dnssec = !args->dnssec;
	config.trust_anchor_file = args->trust_anchor;
	config.forwarders = args->forwarders;
	config.nforwarders = args->nforwarders;
	resolver = spf_unbound_new(base, &config, err, sizeof(err));
	if (resolver == NULL) {
		fprintf(stderr, "spfgate check: %s\n", err);
		event_base_free(base);
		return EXIT_CONFIG;
	}
	status = check_evaluate(args, resolver, base);
	resolver->ops->free(resolver);
	event_base_free(base);
	return status;
}

int
check_main(int argc, char **argv)
{
	struct check_args args;
	int status;

	status = check_parse_args(&args, argc, argv);
	if (status != 0)
		return status < 0 ? 0 : status;
	if (args.zone_file != NULL)
		return check_with_zone(&args);
	return check_with_unbound(&args);
}
