/*
 * interop_client.c - drives smtp_client over a real TCP connection for
 * the interoperability test (interop_smtp_sink.sh).
 *
 * usage: interop_client PORT MODE
 *	MODE xclient: XCLIENT auto, XFORWARD never;
 *	     xforward: XCLIENT never, XFORWARD auto.
 * Connects to 127.0.0.1:PORT, runs one transaction (MAIL with SIZE, BODY,
 * RET, ENVID; two RCPTs with NOTIFY/ORCPT; a dot-stuffed message not
 * ending in CR LF) and QUIT, with a 10 s overall deadline.  Prints the
 * dialogue on stdout; exits 0 only if every reply was the expected 2xx/354.
 */
#include "smtp/smtp_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 10000

struct drv {
	int	fd;
	struct smtp_client *c;
	int	done;		/* QUIT answered */
	int	failed;
	int	rcpts;
};

/* Prints what went over the wire, with CR LF made visible. */
static void
show(const char *dir, const char *data, size_t len)
{
	size_t i;

	printf("%s ", dir);
	for (i = 0; i < len; i++) {
		if (data[i] == '\r')
			fputs("\\r", stdout);
		else if (data[i] == '\n')
			fputs(i + 1 < len ? "\\n\n   " : "\\n", stdout);
		else
			putchar(data[i]);
	}
	putchar('\n');
}

static int
drv_write(void *ctx, const char *data, size_t len)
{
	struct drv *d = ctx;
	ssize_t n;

	show("C:", data, len);
	while (len > 0) {
		n = send(d->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
drv_ready(void *ctx)
{
	struct drv *d = ctx;
	struct smtp_client_mail_params mp = { 1234,
	    SMTP_CLIENT_BODY_8BITMIME, 0, SMTP_CLIENT_RET_HDRS, "QQ+2B1" };

	printf("-- ready: caps %#x\n", smtp_client_caps(d->c));
	smtp_client_mail(d->c, "sender@origin.example", &mp);
}

/* Fails the run unless the reply class is the expected one. */
static int
drv_expect(struct drv *d, const struct smtp_client_reply *r, int code)
{
	if (r->code / 100 == code / 100 && (code != 354 || r->code == 354))
		return 1;
	d->failed = 1;
	d->done = 1;
	return 0;
}

static void
drv_reply(void *ctx, enum smtp_client_step step,
    const struct smtp_client_reply *r)
{
	static const char msg[] = "Subject: interop\r\n\r\n..leading dot\r\n"
	    "last line without CRLF";
	struct drv *d = ctx;
	struct smtp_client_rcpt_params rp = { SMTP_CLIENT_NOTIFY_SUCCESS |
	    SMTP_CLIENT_NOTIFY_FAILURE, "rfc822;rcpt1+40dest.example" };

	printf("-- reply %s %d [%s] %s\n", smtp_client_step_name(step),
	    r->code, r->enhanced, r->text);
	switch (step) {
	case SMTP_CLIENT_STEP_MAIL:
		if (drv_expect(d, r, 250))
			smtp_client_rcpt(d->c, "rcpt1@dest.example", &rp);
		break;
	case SMTP_CLIENT_STEP_RCPT:
		if (!drv_expect(d, r, 250))
			break;
		if (d->rcpts++ == 0)
			smtp_client_rcpt(d->c, "rcpt2@dest.example", NULL);
		else
			smtp_client_data(d->c);
		break;
	case SMTP_CLIENT_STEP_DATA:
		if (drv_expect(d, r, 354)) {
			smtp_client_data_write(d->c, msg, sizeof(msg) - 1);
			smtp_client_data_end(d->c);
		}
		break;
	case SMTP_CLIENT_STEP_DATA_END:
		if (drv_expect(d, r, 250))
			smtp_client_quit(d->c);
		break;
	case SMTP_CLIENT_STEP_QUIT:
		d->done = 1;
		drv_expect(d, r, 221);
		break;
	case SMTP_CLIENT_STEP_XFORWARD:
	case SMTP_CLIENT_STEP_RSET:
		drv_expect(d, r, 0);
		break;
	}
}

static void
drv_starttls(void *ctx)
{
	struct drv *d = ctx;

	printf("-- unexpected STARTTLS\n");
	d->failed = d->done = 1;
}

static void
drv_error(void *ctx, const char *why, const struct smtp_client_reply *r)
{
	struct drv *d = ctx;

	printf("-- error: %s (%d %s)\n", why, r ? r->code : 0,
	    r ? r->text : "");
	d->failed = d->done = 1;
}

static const struct smtp_client_callbacks drv_callbacks = {
	drv_write, drv_ready, drv_reply, drv_starttls, drv_error, NULL
};

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects to 127.0.0.1:port; -1 on failure. */
static int
connect_loopback(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads and feeds until done or the deadline; 0 if the run succeeded. */
static int
run(struct drv *d)
{
	long long end = now_ms() + DEADLINE_MS;
	struct pollfd pfd = { d->fd, POLLIN, 0 };
	char buf[4096];
	ssize_t n;

	while (!d->done && now_ms() < end) {
		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			continue;
		n = recv(d->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			smtp_client_eof(d->c);
			break;
		}
		show("S:", buf, (size_t)n);
		smtp_client_feed(d->c, buf, (size_t)n);
	}
	if (!d->done)
		printf("-- no end of dialogue before the deadline\n");
	return d->done && !d->failed ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct smtp_client_peer peer = { "2001:db8::25", 54321,
	    "mta.origin.example", "helo.origin.example", 1, "192.0.2.1", 25 };
	struct smtp_client_config cfg = { "relay.example",
	    SMTP_CLIENT_TLS_NONE, SMTP_CLIENT_XCLIENT_AUTO,
	    SMTP_CLIENT_XFORWARD_NEVER, &peer };
	struct drv d;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: interop_client PORT xclient|xforward\n");
		return 2;
	}
	if (strcmp(argv[2], "xforward") == 0) {
		cfg.xclient = SMTP_CLIENT_XCLIENT_NEVER;
		cfg.xforward = SMTP_CLIENT_XFORWARD_AUTO;
	}
	memset(&d, 0, sizeof(d));
	if ((d.fd = connect_loopback(atoi(argv[1]))) < 0) {
		perror("connect");
		return 1;
	}
	if ((d.c = smtp_client_new(&cfg, &drv_callbacks, &d)) == NULL) {
		close(d.fd);
		return 1;
	}
	rc = run(&d);
	smtp_client_free(d.c);
	close(d.fd);
	printf("-- %s\n", rc == 0 ? "ok" : "FAILED");
	return rc;
}
