/*
 * connlimit_test.c - unit tests of relay/connlimit.c.
 *
 * Limits (total, per address, IPv4, IPv6, IPv4-mapped), release, a table
 * filled with many addresses and emptied in another order (exercises the
 * backward-shift deletion), two forked processes hammering the same
 * counters, a process killed by SIGKILL while it holds the lock half way
 * through an update, and connlimit_release_worker().  Every wait is bounded
 * by alarm(): a deadlock kills the test with SIGALRM, which fails it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay/connlimit.h"
#include "tests/check.h"

#define HAMMER_ROUNDS 20000	/* acquire/release operations per child */
#define HAMMER_ADDRS 16		/* distinct addresses the children share */
#define HAMMER_HELD 64		/* connections a child holds at most */
#define HAMMER_PER_IP 3
#define HAMMER_TOTAL 100
#define MODEL_TOTAL 6		/* table of 32 slots */
#define MODEL_PER_IP 3
#define MODEL_ADDRS 12
#define MODEL_WORKERS 3
#define MODEL_ROUNDS 50000

/* An IPv4 address a.b.c.d as 4 octets. */
static const unsigned char *
v4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	static unsigned char addr[8][4];
	static int next;
	unsigned char *p = addr[next++ % 8];

	p[0] = (unsigned char)a;
	p[1] = (unsigned char)b;
	p[2] = (unsigned char)c;
	p[3] = (unsigned char)d;
	return p;
}

/* The IPv6 address 2001:db8::<hi>:<lo> as 16 octets. */
static const unsigned char *
v6(unsigned hi, unsigned lo)
{
	static unsigned char addr[8][16];
	static int next;
	unsigned char *p = addr[next++ % 8];

	memset(p, 0, 16);
	p[0] = 0x20;
	p[1] = 0x01;
	p[2] = 0x0d;
	p[3] = 0xb8;
	p[12] = (unsigned char)(hi >> 8);
	p[13] = (unsigned char)hi;
	p[14] = (unsigned char)(lo >> 8);
	p[15] = (unsigned char)lo;
	return p;
}

/* ::ffff:a.b.c.d as 16 octets. */
static const unsigned char *
mapped(unsigned a, unsigned b, unsigned c, unsigned d)
{
	static unsigned char addr[16];

	memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	memcpy(addr + 12, v4(a, b, c, d), 4);
	return addr;
}

static void
test_new_args(void)
{
	char err[128];

	err[0] = '\0';
	CHECK(connlimit_new(0, 0, err, sizeof(err)) == NULL);
	CHECK(err[0] != '\0');
	CHECK(connlimit_new(-5, 0, err, sizeof(err)) == NULL);
	CHECK(connlimit_new(CONNLIMIT_MAX_TOTAL + 1, 0, err, sizeof(err)) ==
	    NULL);
	CHECK(connlimit_new(10, -1, err, sizeof(err)) == NULL);
	connlimit_free(NULL);
}

static void
test_total(void)
{
	char err[128];
	struct connlimit *cl = connlimit_new(3, 0, err, sizeof(err));

	CHECK(cl != NULL);
	if (cl == NULL)
		return;
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET, v4(192, 0, 2, 1)), 0);
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET, v4(192, 0, 2, 2)), 0);
	CHECK_INT(connlimit_acquire(cl, 1, AF_INET6, v6(0, 1)), 0);
	CHECK_INT(connlimit_total(cl), 3);
	CHECK_INT(connlimit_acquire(cl, 1, AF_INET, v4(192, 0, 2, 3)),
	    CONNLIMIT_TOTAL);
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET, v4(192, 0, 2, 1)),
	    CONNLIMIT_TOTAL);
	CHECK_INT(connlimit_total(cl), 3);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(192, 0, 2, 3)), 0);
	CHECK_INT(connlimit_release(cl, 0, AF_INET, v4(192, 0, 2, 2)), 0);
	CHECK_INT(connlimit_total(cl), 2);
	CHECK_INT(connlimit_acquire(cl, 1, AF_INET, v4(192, 0, 2, 3)), 0);
	CHECK_INT(connlimit_total(cl), 3);
	connlimit_free(cl);
}

static void
test_per_ip(void)
{
	char err[128];
	struct connlimit *cl = connlimit_new(100, 2, err, sizeof(err));

	CHECK(cl != NULL);
	if (cl == NULL)
		return;
	/* IPv4, from two workers: the limit is per address, not per worker. */
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET, v4(198, 51, 100, 7)), 0);
	CHECK_INT(connlimit_acquire(cl, 1, AF_INET, v4(198, 51, 100, 7)), 0);
	CHECK_INT(connlimit_acquire(cl, 2, AF_INET, v4(198, 51, 100, 7)),
	    CONNLIMIT_PER_IP);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(198, 51, 100, 7)), 2);
	CHECK_INT(connlimit_acquire(cl, 2, AF_INET, v4(198, 51, 100, 8)), 0);

	/* IPv4-mapped IPv6 is the same client as plain IPv4. */
	CHECK_INT(connlimit_count(cl, AF_INET6, mapped(198, 51, 100, 7)), 2);
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET6, mapped(198, 51, 100, 7)),
	    CONNLIMIT_PER_IP);
	CHECK_INT(connlimit_release(cl, 1, AF_INET6, mapped(198, 51, 100, 7)),
	    0);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(198, 51, 100, 7)), 1);
	CHECK_INT(connlimit_acquire(cl, 3, AF_INET6, mapped(198, 51, 100, 7)),
	    0);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(198, 51, 100, 7)), 2);

	/* IPv6, counted per /128. */
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET6, v6(1, 1)), 0);
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET6, v6(1, 1)), 0);
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET6, v6(1, 1)),
	    CONNLIMIT_PER_IP);
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET6, v6(1, 2)), 0);
	CHECK_INT(connlimit_count(cl, AF_INET6, v6(1, 1)), 2);
	CHECK_INT(connlimit_count(cl, AF_INET6, v6(1, 2)), 1);
	CHECK_INT(connlimit_total(cl), 6);

	/* Release what was taken; nothing more. */
	CHECK_INT(connlimit_release(cl, 0, AF_INET6, v6(1, 1)), 0);
	CHECK_INT(connlimit_release(cl, 0, AF_INET6, v6(1, 1)), 0);
	CHECK_INT(connlimit_release(cl, 0, AF_INET6, v6(1, 1)), -1);
	CHECK_INT(connlimit_release(cl, 1, AF_INET6, v6(1, 2)), -1);
	CHECK_INT(connlimit_count(cl, AF_INET6, v6(1, 2)), 1);
	CHECK_INT(connlimit_release(cl, 0, AF_INET6, v6(1, 2)), 0);
	CHECK_INT(connlimit_release(cl, 0, AF_INET, v4(198, 51, 100, 7)), 0);
	CHECK_INT(connlimit_release(cl, 3, AF_INET, v4(198, 51, 100, 7)), 0);
	CHECK_INT(connlimit_release(cl, 2, AF_INET, v4(198, 51, 100, 8)), 0);
	CHECK_INT(connlimit_total(cl), 0);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(198, 51, 100, 7)), 0);

	/* Bad arguments count nothing. */
	CHECK_INT(connlimit_acquire(cl, 0, AF_UNIX, v4(1, 2, 3, 4)), -1);
	CHECK_INT(connlimit_acquire(cl, -1, AF_INET, v4(1, 2, 3, 4)), -1);
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET, NULL), -1);
	CHECK_INT(connlimit_total(cl), 0);
	connlimit_free(cl);
}

/* Address number i of the fill test: v6 for even i, v4 for odd. */
static void
fill_addr(int i, int *family, const unsigned char **addr)
{
	if (i % 2 == 0) {
		*family = AF_INET6;
		*addr = v6((unsigned)i >> 16, (unsigned)i & 0xffff);
	} else {
		*family = AF_INET;
		*addr = v4(10, (unsigned)i >> 16 & 0xff, (unsigned)i >> 8 & 0xff,
		    (unsigned)i & 0xff);
	}
}

/* Counts of every address i in [from, to) equal want; returns mismatches. */
static int
fill_check(struct connlimit *cl, int from, int to, int want)
{
	const unsigned char *addr;
	int i, family, bad = 0;

	for (i = from; i < to; i++) {
		fill_addr(i, &family, &addr);
		bad += connlimit_count(cl, family, addr) != want;
	}
	return bad;
}

static void
test_fill(void)
{
	enum { N = 5000 };
	const unsigned char *addr;
	char err[128];
	struct connlimit *cl = connlimit_new(N, 1, err, sizeof(err));
	int i, family, bad = 0;

	CHECK(cl != NULL);
	if (cl == NULL)
		return;
	for (i = 0; i < N; i++) {
		fill_addr(i, &family, &addr);
		bad += connlimit_acquire(cl, i % 3, family, addr) != 0;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(connlimit_total(cl), N);
	fill_addr(N, &family, &addr);
	CHECK_INT(connlimit_acquire(cl, 0, family, addr), CONNLIMIT_TOTAL);
	CHECK_INT(fill_check(cl, 0, N, 1), 0);
	CHECK_INT(fill_check(cl, N, N + 100, 0), 0);

	/* Release every other one, then check that no survivor got lost
	 * when clusters shifted back. */
	bad = 0;
	for (i = N - 1; i >= 0; i -= 2) {
		fill_addr(i, &family, &addr);
		bad += connlimit_release(cl, i % 3, family, addr) != 0;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(connlimit_total(cl), N / 2);
	bad = 0;
	for (i = 0; i < N; i++) {
		fill_addr(i, &family, &addr);
		bad += connlimit_count(cl, family, addr) != (i % 2 == 0);
	}
	CHECK_INT(bad, 0);
	bad = 0;
	for (i = 0; i < N; i += 2) {
		fill_addr(i, &family, &addr);
		bad += connlimit_release(cl, i % 3, family, addr) != 0;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(connlimit_total(cl), 0);
	CHECK_INT(fill_check(cl, 0, N, 0), 0);
	connlimit_free(cl);
}

/*
 * A child's share of the hammer: random acquire/release on shared
 * addresses, every admitted connection released at the end.  Exit status
 * 0 if every call returned something legal.
 */
static int
hammer_child(struct connlimit *cl, int worker)
{
	int held[HAMMER_HELD], nheld = 0, i, k, r, bad = 0;

	srand((unsigned)(getpid() * 7919 + worker));
	for (i = 0; i < HAMMER_ROUNDS; i++) {
		if (nheld < HAMMER_HELD && (nheld == 0 || rand() % 2 == 0)) {
			k = rand() % HAMMER_ADDRS;
			r = connlimit_acquire(cl, worker, AF_INET,
			    v4(203, 0, 113, (unsigned)k));
			if (r == 0)
				held[nheld++] = k;
			else if (r != CONNLIMIT_PER_IP && r != CONNLIMIT_TOTAL)
				bad++;
		} else {
			k = rand() % nheld;
			bad += connlimit_release(cl, worker, AF_INET,
			    v4(203, 0, 113, (unsigned)held[k])) != 0;
			held[k] = held[--nheld];
		}
	}
	while (nheld > 0)
		bad += connlimit_release(cl, worker, AF_INET,
		    v4(203, 0, 113, (unsigned)held[--nheld])) != 0;
	return bad == 0 ? 0 : 1;
}

/* Starts a child running hammer_child(); its pid or -1. */
static pid_t
hammer_start(struct connlimit *cl, int worker)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		status = hammer_child(cl, worker);
		connlimit_free(cl);
		_exit(status);
	}
	return pid;
}

/* Limits never exceeded while the children run; returns violations. */
static int
hammer_watch(struct connlimit *cl, pid_t a, pid_t b, int *sta, int *stb)
{
	int bad = 0, k, n, left = 2;

	while (left > 0) {
		for (k = 0; k < HAMMER_ADDRS; k++) {
			n = connlimit_count(cl, AF_INET, v4(203, 0, 113,
			    (unsigned)k));
			bad += n < 0 || n > HAMMER_PER_IP;
		}
		n = connlimit_total(cl);
		bad += n < 0 || n > HAMMER_TOTAL;
		if (a > 0 && waitpid(a, sta, WNOHANG) == a) {
			a = 0;
			left--;
		}
		if (b > 0 && waitpid(b, stb, WNOHANG) == b) {
			b = 0;
			left--;
		}
		usleep(1000);
	}
	return bad;
}

/* release_worker() on a full table keeps every other worker's counts. */
static void
test_release_worker_many(void)
{
	enum { N = 3000 };
	const unsigned char *addr;
	char err[128];
	struct connlimit *cl = connlimit_new(N, 0, err, sizeof(err));
	int i, family, bad = 0;

	CHECK(cl != NULL);
	if (cl == NULL)
		return;
	for (i = 0; i < N; i++) {
		fill_addr(i, &family, &addr);
		bad += connlimit_acquire(cl, i % 3, family, addr) != 0;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(connlimit_release_worker(cl, 1), N / 3);
	CHECK_INT(connlimit_total(cl), N - N / 3);
	bad = 0;
	for (i = 0; i < N; i++) {
		fill_addr(i, &family, &addr);
		bad += connlimit_count(cl, family, addr) != (i % 3 != 1);
	}
	CHECK_INT(bad, 0);
	CHECK_INT(connlimit_release_worker(cl, 0), N / 3);
	CHECK_INT(connlimit_release_worker(cl, 2), N / 3);
	CHECK_INT(connlimit_total(cl), 0);
	CHECK_INT(fill_check(cl, 0, N, 0), 0);
	connlimit_free(cl);
}

/* What the model of test_model() expects from connlimit_acquire(). */
static int
model_admit(int held[][MODEL_ADDRS], int total, int a)
{
	int w, n = 0;

	if (total >= MODEL_TOTAL)
		return CONNLIMIT_TOTAL;
	for (w = 0; w < MODEL_WORKERS; w++)
		n += held[w][a];
	return n >= MODEL_PER_IP ? CONNLIMIT_PER_IP : CONNLIMIT_OK;
}

/* Address number a of the model test (v4 and v6 alternate). */
static int
model_addr(int a, const unsigned char **addr)
{
	if (a % 2 == 0) {
		*addr = v4(192, 0, 2, (unsigned)a);
		return AF_INET;
	}
	*addr = v6(0xbeef, (unsigned)a);
	return AF_INET6;
}

/*
 * Random operations on a tiny table (heavy clustering, many shifts)
 * checked one by one against a plain array of counts.
 */
static void
test_model(void)
{
	int held[MODEL_WORKERS][MODEL_ADDRS];
	const unsigned char *addr;
	char err[128];
	struct connlimit *cl = connlimit_new(MODEL_TOTAL, MODEL_PER_IP, err,
	    sizeof(err));
	int i, w, a, family, r, want, total = 0, bad = 0, k, n;

	CHECK(cl != NULL);
	if (cl == NULL)
		return;
	memset(held, 0, sizeof(held));
	srand(12345);
	for (i = 0; i < MODEL_ROUNDS && bad == 0; i++) {
		w = rand() % MODEL_WORKERS;
		a = rand() % MODEL_ADDRS;
		family = model_addr(a, &addr);
		switch (rand() % 20) {
		case 0:
			for (n = 0, k = 0; k < MODEL_ADDRS; k++)
				n += held[w][k];
			bad += connlimit_release_worker(cl, w) != n;
			memset(held[w], 0, sizeof(held[w]));
			total -= n;
			break;
		case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8:
			want = held[w][a] > 0 ? 0 : -1;
			bad += connlimit_release(cl, w, family, addr) != want;
			if (want == 0) {
				held[w][a]--;
				total--;
			}
			break;
		default:
			want = model_admit(held, total, a);
			r = connlimit_acquire(cl, w, family, addr);
			bad += r != want;
			if (r == CONNLIMIT_OK) {
				held[w][a]++;
				total++;
			}
			break;
		}
		bad += connlimit_total(cl) != total;
		for (a = 0; a < MODEL_ADDRS; a++) {
			family = model_addr(a, &addr);
			for (n = 0, w = 0; w < MODEL_WORKERS; w++)
				n += held[w][a];
			bad += connlimit_count(cl, family, addr) != n;
		}
		if (bad != 0)
			fprintf(stderr, "  model: diverged at round %d\n", i);
	}
	CHECK_INT(bad, 0);
	connlimit_free(cl);
}

static void
test_hammer(void)
{
	char err[128];
	struct connlimit *cl = connlimit_new(HAMMER_TOTAL, HAMMER_PER_IP, err,
	    sizeof(err));
	int sta = -1, stb = -1, k, bad = 0;
	pid_t a, b;

	CHECK(cl != NULL);
	if (cl == NULL)
		return;
	alarm(60);
	a = hammer_start(cl, 1);
	b = hammer_start(cl, 2);
	CHECK(a > 0 && b > 0);
	if (a > 0 && b > 0)
		CHECK_INT(hammer_watch(cl, a, b, &sta, &stb), 0);
	alarm(0);
	CHECK(WIFEXITED(sta) && WEXITSTATUS(sta) == 0);
	CHECK(WIFEXITED(stb) && WEXITSTATUS(stb) == 0);
	CHECK_INT(connlimit_total(cl), 0);
	for (k = 0; k < HAMMER_ADDRS; k++)
		bad += connlimit_count(cl, AF_INET, v4(203, 0, 113,
		    (unsigned)k)) != 0;
	CHECK_INT(bad, 0);
	connlimit_free(cl);
}

static int hold_fd = -1;	/* pipe the dying child reports on */

/* Test hook: tell the parent we hold the lock, then wait to be killed. */
static void
hold_lock_forever(void)
{
	ssize_t unused = write(hold_fd, "L", 1);

	(void)unused;
	for (;;)
		pause();
}

/*
 * Forks a child that stops inside connlimit_acquire() (lock held, count
 * half done) and SIGKILLs it there.  Returns 0 if that happened.
 */
static int
kill_while_locked(struct connlimit *cl, int worker, const unsigned char *addr)
{
	int fds[2], status;
	char c;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		hold_fd = fds[1];
		connlimit_test_hook = hold_lock_forever;
		connlimit_acquire(cl, worker, AF_INET, addr);
		_exit(3);	/* not reached: the hook never returns */
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], &c, 1) != 1) {
		close(fds[0]);
		return -1;
	}
	close(fds[0]);
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : -1;
}

static void
test_owner_died(void)
{
	char err[128];
	struct connlimit *cl = connlimit_new(500, 5, err, sizeof(err));
	const unsigned char *addr;
	int i, family, bad = 0;

	CHECK(cl != NULL);
	if (cl == NULL)
		return;
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET, v4(192, 0, 2, 9)), 0);
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET6, v6(9, 9)), 0);
	/* A populated table, so the rebuild has clusters to redo. */
	for (i = 0; i < 300; i++) {
		fill_addr(i, &family, &addr);
		bad += connlimit_acquire(cl, 4 + i % 2, family, addr) != 0;
	}
	CHECK_INT(bad, 0);

	alarm(10);
	CHECK_INT(kill_while_locked(cl, 7, v4(192, 0, 2, 9)), 0);
	/* Must not deadlock (SIGALRM would end the test); the table is
	 * rebuilt: worker 7's half-counted connection is now fully counted,
	 * worker 0's are intact. */
	CHECK_INT(connlimit_total(cl), 303);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(192, 0, 2, 9)), 2);
	CHECK_INT(connlimit_count(cl, AF_INET6, v6(9, 9)), 1);
	CHECK_INT(fill_check(cl, 0, 300, 1), 0);
	CHECK_INT(connlimit_release_worker(cl, 4), 150);
	CHECK_INT(connlimit_release_worker(cl, 5), 150);
	CHECK_INT(connlimit_acquire(cl, 0, AF_INET, v4(192, 0, 2, 9)), 0);
	/* The master then releases the dead worker's connections. */
	CHECK_INT(connlimit_release_worker(cl, 7), 1);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(192, 0, 2, 9)), 2);
	CHECK_INT(connlimit_total(cl), 3);

	/* The next locker repairs, then dies holding the lock itself. */
	CHECK_INT(kill_while_locked(cl, 8, v4(192, 0, 2, 10)), 0);
	CHECK_INT(kill_while_locked(cl, 9, v4(192, 0, 2, 10)), 0);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(192, 0, 2, 10)), 2);
	CHECK_INT(connlimit_release_worker(cl, 8), 1);
	CHECK_INT(connlimit_release_worker(cl, 9), 1);
	alarm(0);

	CHECK_INT(connlimit_release(cl, 0, AF_INET, v4(192, 0, 2, 9)), 0);
	CHECK_INT(connlimit_release(cl, 0, AF_INET, v4(192, 0, 2, 9)), 0);
	CHECK_INT(connlimit_release(cl, 0, AF_INET6, v6(9, 9)), 0);
	CHECK_INT(connlimit_total(cl), 0);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(192, 0, 2, 10)), 0);
	connlimit_free(cl);
}

static void
test_release_worker(void)
{
	char err[128];
	struct connlimit *cl = connlimit_new(50, 0, err, sizeof(err));
	int i;

	CHECK(cl != NULL);
	if (cl == NULL)
		return;
	/* Workers 0, 1, 2 share address .1; worker 1 also has .2 and v6. */
	for (i = 0; i < 3; i++)
		CHECK_INT(connlimit_acquire(cl, i, AF_INET, v4(192, 0, 2, 1)), 0);
	CHECK_INT(connlimit_acquire(cl, 1, AF_INET, v4(192, 0, 2, 1)), 0);
	CHECK_INT(connlimit_acquire(cl, 1, AF_INET, v4(192, 0, 2, 2)), 0);
	CHECK_INT(connlimit_acquire(cl, 1, AF_INET6, v6(2, 2)), 0);
	CHECK_INT(connlimit_total(cl), 6);

	CHECK_INT(connlimit_release_worker(cl, 1), 4);
	CHECK_INT(connlimit_total(cl), 2);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(192, 0, 2, 1)), 2);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(192, 0, 2, 2)), 0);
	CHECK_INT(connlimit_count(cl, AF_INET6, v6(2, 2)), 0);
	/* The dead worker's connections are gone for good. */
	CHECK_INT(connlimit_release(cl, 1, AF_INET, v4(192, 0, 2, 1)), -1);
	CHECK_INT(connlimit_release_worker(cl, 1), 0);
	CHECK_INT(connlimit_release_worker(cl, 42), 0);
	CHECK_INT(connlimit_release_worker(cl, -1), -1);
	/* A new worker 1 starts from zero; the others are untouched. */
	CHECK_INT(connlimit_acquire(cl, 1, AF_INET, v4(192, 0, 2, 1)), 0);
	CHECK_INT(connlimit_release(cl, 1, AF_INET, v4(192, 0, 2, 1)), 0);
	CHECK_INT(connlimit_release(cl, 0, AF_INET, v4(192, 0, 2, 1)), 0);
	CHECK_INT(connlimit_release(cl, 2, AF_INET, v4(192, 0, 2, 1)), 0);
	CHECK_INT(connlimit_total(cl), 0);
	CHECK_INT(connlimit_count(cl, AF_INET, v4(192, 0, 2, 1)), 0);
	connlimit_free(cl);
}

int
main(void)
{
	test_new_args();
	test_total();
	test_per_ip();
	test_fill();
	test_release_worker_many();
	test_model();
	test_hammer();
	test_owner_died();
	test_release_worker();
	return check_report();
}
