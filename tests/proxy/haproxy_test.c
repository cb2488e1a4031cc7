/*
 * haproxy_test.c - relay/proxy.c against the headers a real haproxy sends.
 *
 * Starts Debian's haproxy in the foreground (-db) on loopback ports with
 * frontends that forward to a listener of this program with send-proxy
 * (v1) and send-proxy-v2 (plain, and with the crc32c and unique-id TLVs),
 * over IPv4 and IPv6, plus a backend whose health checks send a v2 LOCAL
 * header.  For each case it connects as a client, sends an SMTP line,
 * accepts haproxy's connection, and parses what arrives incrementally: the
 * header must name this client's address and port and the frontend's, and
 * the SMTP line must follow it exactly.  haproxy is killed by PID at the
 * end (and by PR_SET_PDEATHSIG if this program dies); every wait is
 * bounded, and alarm() ends the whole run after HAPROXY_TEST_LIMIT s.
 *
 * A missing /usr/sbin/haproxy fails the test (apt-get install haproxy).
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay/proxy.h"
#include "tests/check.h"

#define HAPROXY_BIN "/usr/sbin/haproxy"
#define HAPROXY_TEST_LIMIT 60	/* seconds for the whole run */
#define STEP_MS 5000		/* deadline of each wait */
#define TRAILER "EHLO client.example\r\n"

/* The frontends, in the order of the config below. */
enum { F_V1_4, F_V1_6, F_V2_4, F_V2_6_CRC, F_READY, NFRONT };

/* Everything the run set up, for teardown. */
struct rig {
	char dir[64];
	char cfg[96];
	pid_t pid;
	int backend_fd;		/* where haproxy forwards clients */
	int check_fd;		/* where its health checks go */
	unsigned short backend_port, check_port;
	unsigned short fport[NFRONT];
};

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fills ss with the loopback address of family and port; its length. */
static socklen_t
loopback(struct sockaddr_storage *ss, int family, unsigned short port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = in6addr_loopback;
	sin6->sin6_port = htons(port);
	return sizeof(*sin6);
}

/* Port of a bound socket. */
static unsigned short
bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A listening socket on 127.0.0.1, ephemeral port; fd or -1. */
static int
listen_loopback(unsigned short *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = loopback(&ss, AF_INET, 0);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	*port = bound_port(fd);
	return fd;
}

/* A port that was free on loopback a moment ago (for haproxy to bind). */
static unsigned short
free_port(int family)
{
	struct sockaddr_storage ss;
	socklen_t sl = loopback(&ss, family, 0);
	unsigned short port = 0;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&ss, sl) == 0)
		port = bound_port(fd);
	close(fd);
	return port;
}

/* Writes haproxy's configuration for the rig; 0 or -1. */
static int
write_config(struct rig *rig)
{
	FILE *f = fopen(rig->cfg, "w");
	int ok;

	if (f == NULL)
		return -1;
	fprintf(f,
	    "global\n"
	    "  maxconn 64\n"
	    "defaults\n"
	    "  mode tcp\n"
	    "  timeout connect 2s\n"
	    "  timeout client 10s\n"
	    "  timeout server 10s\n"
	    "frontend v1_4\n"
	    "  bind 127.0.0.1:%u\n"
	    "  default_backend to_v1\n"
	    "frontend v1_6\n"
	    "  bind [::1]:%u\n"
	    "  default_backend to_v1\n"
	    "frontend v2_4\n"
	    "  bind 127.0.0.1:%u\n"
	    "  default_backend to_v2\n"
	    "frontend v2_6_crc\n"
	    "  bind [::1]:%u\n"
	    "  unique-id-format %%{+X}o\\ %%ci:%%cp_%%fi:%%fp_%%Ts_%%rt\n"
	    "  default_backend to_v2_crc\n"
	    "frontend ready\n"
	    "  bind 127.0.0.1:%u\n"
	    "  tcp-request connection reject\n"
	    "backend to_v1\n"
	    "  server s 127.0.0.1:%u send-proxy\n"
	    "backend to_v2\n"
	    "  server s 127.0.0.1:%u send-proxy-v2\n"
	    "backend to_v2_crc\n"
	    "  server s 127.0.0.1:%u send-proxy-v2 "
	    "proxy-v2-options crc32c,unique-id\n"
	    "backend health\n"
	    "  server s 127.0.0.1:%u send-proxy-v2 check check-send-proxy "
	    "inter 200ms\n",
	    rig->fport[F_V1_4], rig->fport[F_V1_6], rig->fport[F_V2_4],
	    rig->fport[F_V2_6_CRC], rig->fport[F_READY], rig->backend_port,
	    rig->backend_port, rig->backend_port, rig->check_port);
	ok = !ferror(f);
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Starts haproxy in the foreground on the config; 0 or -1. */
static int
start_haproxy(struct rig *rig)
{
	rig->pid = fork();
	if (rig->pid < 0)
		return -1;
	if (rig->pid == 0) {
		/* Dies with us, whatever happens to this test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(HAPROXY_BIN, "haproxy", "-db", "-f", rig->cfg,
		    (char *)NULL);
		perror(HAPROXY_BIN);
		_exit(127);
	}
	return 0;
}

/* 1 once haproxy accepts on its "ready" frontend, 0 after STEP_MS. */
static int
wait_ready(const struct rig *rig)
{
	struct sockaddr_storage ss;
	socklen_t sl = loopback(&ss, AF_INET, rig->fport[F_READY]);
	long long end = now_ms() + STEP_MS;
	int fd, ok;

	while (now_ms() < end) {
		if (waitpid(rig->pid, NULL, WNOHANG) == rig->pid)
			return 0;	/* haproxy exited: bad config? */
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ok = fd >= 0 && connect(fd, (struct sockaddr *)&ss, sl) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return 1;
		usleep(50 * 1000);
	}
	return 0;
}

/* Stops haproxy by PID: SIGTERM, then SIGKILL after STEP_MS. */
static void
stop_haproxy(struct rig *rig)
{
	long long end = now_ms() + STEP_MS;

	if (rig->pid <= 0)
		return;
	kill(rig->pid, SIGTERM);
	while (waitpid(rig->pid, NULL, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(rig->pid, SIGKILL);
			waitpid(rig->pid, NULL, 0);
			break;
		}
		usleep(20 * 1000);
	}
	rig->pid = 0;
}

/* Accepts one connection on lfd within STEP_MS; fd or -1. */
static int
accept_within(int lfd)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };

	if (poll(&pfd, 1, STEP_MS) != 1)
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/*
 * Reads from fd into buf, parsing after every read, until the header is
 * complete and want_after more octets followed it (or STEP_MS passed).
 * Returns proxy_parse()'s last result; *len is what was read.
 */
static int
read_header(int fd, unsigned char *buf, size_t cap, size_t want_after,
    size_t *len, struct proxy_info *pi)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long end = now_ms() + STEP_MS;
	ssize_t n;
	int r = 0;

	*len = 0;
	while (now_ms() < end && *len < cap) {
		if (poll(&pfd, 1, (int)(end - now_ms())) != 1)
			break;
		n = read(fd, buf + *len, cap - *len);
		if (n <= 0)
			break;
		*len += (size_t)n;
		r = proxy_parse(buf, *len, pi);
		if (r < 0 || (r > 0 && *len >= (size_t)r + want_after))
			break;
	}
	return r;
}

/* Connects a client to the frontend of family/port; fd or -1. */
static int
client_connect(int family, unsigned short port, struct sockaddr_storage *me)
{
	struct sockaddr_storage ss;
	socklen_t sl = loopback(&ss, family, port), ml = sizeof(*me);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    getsockname(fd, (struct sockaddr *)me, &ml) < 0 ||
	    write(fd, TRAILER, strlen(TRAILER)) != (ssize_t)strlen(TRAILER)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 if a and b hold the same family, address and port. */
static int
same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
	return 0;
}

/*
 * One proxied connection through frontend f: checks the parsed header
 * against the real endpoints and the bytes after it.  Leaves the raw
 * capture in buf/len and the header length in *hlen.
 */
static void
run_case(struct rig *rig, int f, int family, int version, unsigned char *buf,
    size_t cap, size_t *len, int *hlen)
{
	struct sockaddr_storage me, front;
	struct proxy_info pi;
	int cfd, sfd;

	loopback(&front, family, rig->fport[f]);
	*hlen = -1;
	*len = 0;
	cfd = client_connect(family, rig->fport[f], &me);
	CHECK(cfd >= 0);
	if (cfd < 0)
		return;
	sfd = accept_within(rig->backend_fd);
	CHECK(sfd >= 0);
	if (sfd >= 0) {
		*hlen = read_header(sfd, buf, cap, strlen(TRAILER), len, &pi);
		CHECK(*hlen > 0);
		if (*hlen <= 0)
			fprintf(stderr, "  case %d: parse %d (%s), %zu octets\n",
			    f, *hlen, pi.error ? pi.error : "incomplete", *len);
		close(sfd);
	}
	close(cfd);
	if (*hlen <= 0)
		return;
	CHECK_INT(pi.version, version);
	CHECK_INT(pi.local, 0);
	CHECK_INT(pi.check, 0);
	CHECK(same_endpoint(&pi.src, &me));
	CHECK(same_endpoint(&pi.dst, &front));
	CHECK(*len == (size_t)*hlen + strlen(TRAILER) &&
	    memcmp(buf + *hlen, TRAILER, strlen(TRAILER)) == 0);
}

/* haproxy's v1 and v2 headers for IPv4 and IPv6 clients. */
static void
test_proxied(struct rig *rig)
{
	unsigned char buf[2048];
	struct proxy_info pi;
	size_t len;
	int hlen;

	run_case(rig, F_V1_4, AF_INET, 1, buf, sizeof(buf), &len, &hlen);
	CHECK(hlen > 0 && memcmp(buf, "PROXY TCP4 127.0.0.1 127.0.0.1 ", 31)
	    == 0);
	run_case(rig, F_V1_6, AF_INET6, 1, buf, sizeof(buf), &len, &hlen);
	CHECK(hlen > 0 && memcmp(buf, "PROXY TCP6 ::1 ::1 ", 19) == 0);
	run_case(rig, F_V2_4, AF_INET, 2, buf, sizeof(buf), &len, &hlen);
	CHECK_INT(hlen, 16 + 12);
	run_case(rig, F_V2_6_CRC, AF_INET6, 2, buf, sizeof(buf), &len, &hlen);
	/* crc32c and unique-id TLVs follow the 36-octet address block. */
	CHECK(hlen > 16 + 36);
	if (hlen > 16 + 36) {
		/* Forge the client address: the CRC haproxy sent must catch
		 * it, which proves the CRC TLV was there and verified. */
		buf[16 + 15] ^= 0x01;
		CHECK_INT(proxy_parse(buf, (size_t)hlen, &pi), -1);
		CHECK_STR(pi.error, "v2 CRC32C mismatch");
	}
}

/* haproxy's v2 health check: a LOCAL header. */
static void
test_health_check(struct rig *rig)
{
	unsigned char buf[512];
	struct proxy_info pi;
	size_t len;
	int sfd, r = 0;

	sfd = accept_within(rig->check_fd);
	CHECK(sfd >= 0);
	if (sfd < 0)
		return;
	r = read_header(sfd, buf, sizeof(buf), 0, &len, &pi);
	close(sfd);
	CHECK_INT(r, 16);
	CHECK_INT(pi.version, 2);
	CHECK_INT(pi.local, 1);
	CHECK_INT(pi.check, 1);
}

/* Builds the rig: temp dir, listeners, ports, config, haproxy; 0 or -1. */
static int
rig_up(struct rig *rig)
{
	int f;

	snprintf(rig->dir, sizeof(rig->dir), "/tmp/spfgate-haproxy-XXXXXX");
	if (mkdtemp(rig->dir) == NULL)
		return -1;
	if ((size_t)snprintf(rig->cfg, sizeof(rig->cfg), "%s/haproxy.cfg",
	    rig->dir) >= sizeof(rig->cfg))
		return -1;
	rig->backend_fd = listen_loopback(&rig->backend_port);
	rig->check_fd = listen_loopback(&rig->check_port);
	if (rig->backend_fd < 0 || rig->check_fd < 0)
		return -1;
	for (f = 0; f < NFRONT; f++) {
		rig->fport[f] = free_port(f == F_V1_6 || f == F_V2_6_CRC ?
		    AF_INET6 : AF_INET);
		if (rig->fport[f] == 0)
			return -1;
	}
	if (write_config(rig) < 0 || start_haproxy(rig) < 0)
		return -1;
	return wait_ready(rig) ? 0 : -1;
}

/* Tears the rig down in reverse (safe on a partly built rig). */
static void
rig_down(struct rig *rig)
{
	stop_haproxy(rig);
	if (rig->check_fd >= 0)
		close(rig->check_fd);
	if (rig->backend_fd >= 0)
		close(rig->backend_fd);
	unlink(rig->cfg);
	rmdir(rig->dir);
}

int
main(void)
{
	struct rig rig;

	memset(&rig, 0, sizeof(rig));
	rig.backend_fd = rig.check_fd = -1;
	alarm(HAPROXY_TEST_LIMIT);
	if (access(HAPROXY_BIN, X_OK) != 0) {
		fprintf(stderr, "FAIL: %s missing (apt-get install haproxy)\n",
		    HAPROXY_BIN);
		return 1;
	}
	CHECK(rig_up(&rig) == 0);
	if (check_failed == 0) {
		test_proxied(&rig);
		test_health_check(&rig);
	}
	rig_down(&rig);
	return check_report();
}
