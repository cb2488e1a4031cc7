/*
 * ratelimit.h - per-client-address event counting in fixed windows.
 *
 * CONTRACT
 *	ratelimit_allow() admits at most `count` events per client address
 *	in each window of `per_ms` milliseconds (a fixed window starting at
 *	the address's first event).  The table is a fixed-size open-address
 *	hash owned by one worker process; it never allocates after creation.
 *	When every slot on an address's probe path holds a live window of
 *	another address, the oldest of them is evicted: under a flood of
 *	distinct addresses the limit degrades towards "allow", never towards
 *	refusing an address that has not reached its count.
 *	Pure logic, no I/O; the caller supplies the time.
 */
#ifndef RELAY_RATELIMIT_H
#define RELAY_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_PROBES 8

struct ratelimit;

/* slots: table size (rounded up to a power of two); count 0 = unlimited. */
struct ratelimit *ratelimit_new(size_t slots, int count, int64_t per_ms);
void ratelimit_free(struct ratelimit *rl);

/*
 * Counts one event for the address (4 octets for AF_INET, 16 for
 * AF_INET6) at now_ms; returns 1 if it is within the limit, 0 if not.
 */
int ratelimit_allow(struct ratelimit *rl, int family,
    const unsigned char *addr, int64_t now_ms);

#endif /* RELAY_RATELIMIT_H */
