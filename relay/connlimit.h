/*
 * connlimit.h - instance-wide connection limits shared by all workers.
 *
 * CONTRACT
 *	The master calls connlimit_new() BEFORE forking the workers: the
 *	object is one anonymous MAP_SHARED mapping, so every worker sees
 *	the same counters.  A worker calls connlimit_acquire() when it
 *	accepts a connection and, if that returned CONNLIMIT_OK, exactly one
 *	connlimit_release() with the same worker id and address when the
 *	connection ends.  Every process that holds the object (master and
 *	each worker) calls connlimit_free() before it exits.
 *
 *	Limits: max_total connections for the whole instance, max_per_ip
 *	per client address (0 = no per-address limit).  An IPv4-mapped IPv6
 *	address (::ffff:a.b.c.d) counts as the IPv4 address a.b.c.d.  IPv6
 *	addresses are counted per /128.
 *
 *	Workers that die: the counters record which worker holds each
 *	connection, so when the master reaps a worker it calls
 *	connlimit_release_worker() with that worker's id, which returns
 *	every connection the dead worker still held.  Do it before a new
 *	worker reuses the id.  A worker killed while it held the internal
 *	lock does not block the others: the lock is a robust process-shared
 *	mutex, and the next process to take it rebuilds the table from the
 *	per-worker counts, which makes it consistent again.
 *
 *	Trade-off: each connection is counted twice, under its address
 *	(what the per-address limit reads) and under (address, worker)
 *	(what connlimit_release_worker() and the rebuild read).  That
 *	doubles the table and the lookups per acquire, and makes
 *	connlimit_release_worker() O(table size); in exchange there is no
 *	limit on the number of workers and no journal to keep in step.
 *
 *	Everything runs under one lock with short critical sections (two
 *	hash lookups); connlimit_release_worker() holds it for one pass over
 *	the table, which the master does only when a worker dies.
 */
#ifndef RELAY_CONNLIMIT_H
#define RELAY_CONNLIMIT_H

#include <stddef.h>

#define CONNLIMIT_OK 0
#define CONNLIMIT_TOTAL 1	/* the instance has max_total connections */
#define CONNLIMIT_PER_IP 2	/* this address has max_per_ip connections */

#define CONNLIMIT_MAX_TOTAL (1 << 20)	/* largest max_total accepted */

struct connlimit;

/*
 * Creates the shared counters for max_total connections (1 ..
 * CONNLIMIT_MAX_TOTAL) and max_per_ip per address (0 = unlimited).
 * Returns NULL with a reason in err.
 */
struct connlimit *connlimit_new(int max_total, int max_per_ip, char *err,
    size_t errlen);

/* Unmaps the counters in this process (NULL-safe). */
void connlimit_free(struct connlimit *cl);

/*
 * Counts a new connection of worker (>= 0) from addr (family AF_INET: 4
 * octets, AF_INET6: 16).  Returns CONNLIMIT_OK when admitted,
 * CONNLIMIT_TOTAL or CONNLIMIT_PER_IP when refused (nothing counted), -1
 * on a bad argument or an internal failure (nothing counted; map to 4xx).
 */
int connlimit_acquire(struct connlimit *cl, int worker, int family,
    const unsigned char *addr);

/*
 * Uncounts a connection admitted by connlimit_acquire() with the same
 * arguments.  Returns 0, or -1 if no such connection was counted.
 */
int connlimit_release(struct connlimit *cl, int worker, int family,
    const unsigned char *addr);

/*
 * Uncounts every connection worker still holds (the master calls it after
 * reaping that worker).  Returns how many were released, or -1.
 */
int connlimit_release_worker(struct connlimit *cl, int worker);

/* Connections counted for addr, for metrics and tests; -1 on error. */
int connlimit_count(struct connlimit *cl, int family,
    const unsigned char *addr);

/* Connections counted for the whole instance; -1 on error. */
int connlimit_total(struct connlimit *cl);

/*
 * Tests only: when set, connlimit_acquire() calls it while holding the
 * lock, half way through counting (after the per-worker count, before the
 * per-address count and total), so a test can die there.  NULL otherwise.
 */
extern void (*connlimit_test_hook)(void);

#endif /* RELAY_CONNLIMIT_H */
