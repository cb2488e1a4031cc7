/*
 * connlimit.c - connection counters in memory shared by the workers (see
 * connlimit.h).
 *
 * Layout: one anonymous MAP_SHARED mapping = struct connlimit (robust
 * process-shared mutex, limits, total, hash seed) followed by two arrays
 * of cap slots: the table, and a scratch copy used only while rebuilding.
 *
 * The table is open addressing with linear probing over a power-of-two
 * capacity of at least 4 * max_total.  Two kinds of keys share it:
 *   (address, CONNLIMIT_IPKEY)	connections from that address;
 *   (address, worker)		connections from that address in that worker.
 * Each admitted connection adds one to one key of each kind, so at most
 * 2 * max_total slots are in use and the load stays at or below 1/2.
 * Deletion shifts the following entries of the cluster back (no
 * tombstones), so a lookup may stop at the first empty slot.  No entry
 * ever sits more than CONNLIMIT_MAX_PROBE slots past its home slot
 * (insertion refuses beyond it; shifting only moves entries closer), so
 * every probe sequence is bounded.  The hash is SipHash-2-4 keyed with a
 * random seed drawn at creation: clients choose their addresses (an IPv6
 * /64 gives plenty), so they must not be able to build long clusters.
 *
 * Crash safety: a process may die anywhere inside the lock.  The
 * (address, worker) keys are the source of truth; the next process that
 * takes the lock gets EOWNERDEAD and rebuilds the table from them
 * (dropping half-written slots, merging a slot duplicated by an
 * interrupted shift, recomputing the per-address keys and the total).
 * Slot writes clear the family octet first and set it last, behind
 * compiler fences, so a half-written slot reads as empty.  A rebuild that
 * itself dies half way is resumed from the scratch copy, which it marks
 * complete before touching the table.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "relay/connlimit.h"

#define CONNLIMIT_IPKEY (-1)	/* worker field of a per-address key */
#define CONNLIMIT_NOSKIP (-2)	/* a rebuild that drops no worker */
#define CONNLIMIT_MAX_PROBE 128	/* longest probe sequence */
#define CONNLIMIT_MIN_CAP 16

#define CONNLIMIT_FAM_EMPTY 0	/* family octet of an unused slot */
#define CONNLIMIT_FAM_V4 4
#define CONNLIMIT_FAM_V6 6

/* What a slot is indexed by.  No implicit padding: keys compare with memcmp. */
struct connlimit_key {
	uint8_t family;		/* CONNLIMIT_FAM_*; EMPTY marks a free slot */
	uint8_t pad[3];		/* always zero */
	int32_t worker;		/* worker id, or CONNLIMIT_IPKEY */
	uint8_t addr[16];	/* IPv4 in the first 4 octets, rest zero */
};

/* One table slot. */
struct connlimit_slot {
	struct connlimit_key key;
	uint32_t count;		/* >= 1 in a used slot */
};

/* The whole shared mapping.  Only touched with lock held, except maplen. */
struct connlimit {
	pthread_mutex_t lock;	/* robust, process-shared */
	size_t maplen;		/* bytes mapped, for munmap */
	uint32_t cap;		/* slots in the table, a power of two */
	uint32_t mask;		/* cap - 1 */
	int max_total;
	int max_per_ip;		/* 0 = unlimited */
	int total;		/* connections counted */
	int rebuilding;		/* 1: scratch holds the authoritative copy */
	int rebuild_skip;	/* worker dropped by that rebuild */
	uint64_t seed[2];	/* SipHash key */
	struct connlimit_slot slot[];	/* cap table slots, then cap scratch */
};

void (*connlimit_test_hook)(void);

static const unsigned char connlimit_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Rotates x left by b bits (0 < b < 64). */
static uint64_t
connlimit_rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

/* One SipRound over the state v. */
static void
connlimit_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = connlimit_rotl(v[1], 13);
	v[1] ^= v[0];
	v[0] = connlimit_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = connlimit_rotl(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = connlimit_rotl(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = connlimit_rotl(v[1], 17);
	v[1] ^= v[2];
	v[2] = connlimit_rotl(v[2], 32);
}

/* Absorbs one 64-bit message word m with two compression rounds. */
static void
connlimit_sipword(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	connlimit_sipround(v);
	connlimit_sipround(v);
	v[0] ^= m;
}

/* SipHash-2-4 of in[0..len) under key k (Aumasson and Bernstein, 2012). */
static uint64_t
connlimit_siphash(const uint64_t k[2], const unsigned char *in, size_t len)
{
	uint64_t v[4], m;
	size_t i, j;

	v[0] = k[0] ^ 0x736f6d6570736575ULL;
	v[1] = k[1] ^ 0x646f72616e646f6dULL;
	v[2] = k[0] ^ 0x6c7967656e657261ULL;
	v[3] = k[1] ^ 0x7465646279746573ULL;
	for (i = 0; len - i >= 8; i += 8) {
		m = 0;
		for (j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		connlimit_sipword(v, m);
	}
	m = (uint64_t)len << 56;
	for (j = 0; i + j < len; j++)
		m |= (uint64_t)in[i + j] << (8 * j);
	connlimit_sipword(v, m);
	v[2] ^= 0xff;
	for (j = 0; j < 4; j++)
		connlimit_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* Home slot of key. */
static uint32_t
connlimit_home(const struct connlimit *cl, const struct connlimit_key *key)
{
	return (uint32_t)connlimit_siphash(cl->seed,
	    (const unsigned char *)key, sizeof(*key)) & cl->mask;
}

/*
 * Builds the key of addr for worker; an IPv4-mapped IPv6 address becomes
 * IPv4.  0, or -1 for an unsupported family.
 */
static int
connlimit_key_make(struct connlimit_key *key, int worker, int family,
    const unsigned char *addr)
{
	memset(key, 0, sizeof(*key));
	key->worker = worker;
	if (addr == NULL)
		return -1;
	switch (family) {
	case AF_INET:
		key->family = CONNLIMIT_FAM_V4;
		memcpy(key->addr, addr, 4);
		return 0;
	case AF_INET6:
		if (memcmp(addr, connlimit_v4mapped, 12) == 0) {
			key->family = CONNLIMIT_FAM_V4;
			memcpy(key->addr, addr + 12, 4);
		} else {
			key->family = CONNLIMIT_FAM_V6;
			memcpy(key->addr, addr, 16);
		}
		return 0;
	default:
		return -1;
	}
}

/*
 * Writes key and count into s so that a crash at any instruction leaves
 * either the old contents or a slot that reads as empty, never a torn key.
 * The fences keep the compiler from moving the family store.
 */
static void
connlimit_slot_set(struct connlimit_slot *s, const struct connlimit_key *key,
    uint32_t count)
{
	s->key.family = CONNLIMIT_FAM_EMPTY;
	atomic_signal_fence(memory_order_seq_cst);
	memset(s->key.pad, 0, sizeof(s->key.pad));
	s->key.worker = key->worker;
	memcpy(s->key.addr, key->addr, sizeof(s->key.addr));
	s->count = count;
	atomic_signal_fence(memory_order_seq_cst);
	s->key.family = key->family;
}

/* Marks s unused. */
static void
connlimit_slot_clear(struct connlimit_slot *s)
{
	s->key.family = CONNLIMIT_FAM_EMPTY;
	s->count = 0;
}

/*
 * Looks key up.  Returns 1 with its slot in *at, 0 with the free slot
 * where it would go in *at, or -1 if neither lies within
 * CONNLIMIT_MAX_PROBE slots of its home.
 */
static int
connlimit_find(const struct connlimit *cl, const struct connlimit_key *key,
    uint32_t *at)
{
	uint32_t i = connlimit_home(cl, key), n;

	for (n = 0; n < CONNLIMIT_MAX_PROBE && n < cl->cap; n++) {
		if (cl->slot[i].key.family == CONNLIMIT_FAM_EMPTY) {
			*at = i;
			return 0;
		}
		if (memcmp(&cl->slot[i].key, key, sizeof(*key)) == 0) {
			*at = i;
			return 1;
		}
		i = (i + 1) & cl->mask;
	}
	return -1;
}

/* Count stored under key, 0 if absent. */
static uint32_t
connlimit_get(const struct connlimit *cl, const struct connlimit_key *key)
{
	uint32_t at;

	return connlimit_find(cl, key, &at) == 1 ? cl->slot[at].count : 0;
}

/*
 * Empties slot hole and shifts the rest of its cluster back over it: an
 * entry moves into the hole when the hole lies between its home and it.
 */
static void
connlimit_remove(struct connlimit *cl, uint32_t hole)
{
	uint32_t j = hole, home, n;

	for (n = 1; n < cl->cap; n++) {
		j = (j + 1) & cl->mask;
		if (cl->slot[j].key.family == CONNLIMIT_FAM_EMPTY)
			break;
		home = connlimit_home(cl, &cl->slot[j].key);
		if (((j - home) & cl->mask) >= ((j - hole) & cl->mask)) {
			connlimit_slot_set(&cl->slot[hole], &cl->slot[j].key,
			    cl->slot[j].count);
			hole = j;
		}
	}
	connlimit_slot_clear(&cl->slot[hole]);
}

/* Adds n to the count under key, inserting it if absent; 0 or -1. */
static int
connlimit_add(struct connlimit *cl, const struct connlimit_key *key,
    uint32_t n)
{
	uint32_t at;

	switch (connlimit_find(cl, key, &at)) {
	case 1:
		cl->slot[at].count += n;
		return 0;
	case 0:
		connlimit_slot_set(&cl->slot[at], key, n);
		return 0;
	default:
		return -1;
	}
}

/* Takes one from the count under key, removing it at zero; 0 or -1. */
static int
connlimit_sub(struct connlimit *cl, const struct connlimit_key *key)
{
	uint32_t at;

	if (connlimit_find(cl, key, &at) != 1)
		return -1;
	if (--cl->slot[at].count == 0)
		connlimit_remove(cl, at);
	return 0;
}

/*
 * Fills the (empty) table with the per-worker keys of the scratch copy,
 * except those of worker skip.  A key found twice (a shift interrupted
 * after its copy) is kept once.
 */
static void
connlimit_refill_workers(struct connlimit *cl, int skip)
{
	const struct connlimit_slot *old = cl->slot + cl->cap, *s;
	uint32_t i, at;

	for (i = 0; i < cl->cap; i++) {
		s = &old[i];
		if (s->key.family == CONNLIMIT_FAM_EMPTY || s->count == 0 ||
		    s->key.worker < 0 || s->key.worker == skip)
			continue;
		/* -1 (no slot in reach) cannot happen at load <= 1/2 with a
		 * sane hash; the entry would be lost, which undercounts. */
		if (connlimit_find(cl, &s->key, &at) == 0)
			connlimit_slot_set(&cl->slot[at], &s->key, s->count);
	}
}

/* Recomputes the per-address keys and the total from the per-worker keys. */
static void
connlimit_refill_addresses(struct connlimit *cl)
{
	struct connlimit_key ipkey;
	uint32_t i, count;

	cl->total = 0;
	for (i = 0; i < cl->cap; i++) {
		/* Inserting never moves entries, so the scan sees each
		 * per-worker key once; new per-address keys are skipped. */
		if (cl->slot[i].key.family == CONNLIMIT_FAM_EMPTY ||
		    cl->slot[i].key.worker < 0)
			continue;
		ipkey = cl->slot[i].key;
		ipkey.worker = CONNLIMIT_IPKEY;
		count = cl->slot[i].count;
		if (connlimit_add(cl, &ipkey, count) == 0)
			cl->total += (int)count;
	}
}

/*
 * Rebuilds the table from its per-worker keys, dropping those of worker
 * skip (CONNLIMIT_NOSKIP: none).  If an earlier rebuild died half way,
 * finishes that one instead, from its scratch copy and with its skip.
 */
static void
connlimit_rebuild(struct connlimit *cl, int skip)
{
	size_t bytes = (size_t)cl->cap * sizeof(struct connlimit_slot);

	if (!cl->rebuilding) {
		memcpy(cl->slot + cl->cap, cl->slot, bytes);
		cl->rebuild_skip = skip;
		atomic_signal_fence(memory_order_seq_cst);
		cl->rebuilding = 1;
		atomic_signal_fence(memory_order_seq_cst);
	}
	memset(cl->slot, 0, bytes);
	connlimit_refill_workers(cl, cl->rebuild_skip);
	connlimit_refill_addresses(cl);
	atomic_signal_fence(memory_order_seq_cst);
	cl->rebuilding = 0;
}

/* Takes the lock, repairing the table if its last holder died; 0 or -1. */
static int
connlimit_lock(struct connlimit *cl)
{
	int r;

	r = pthread_mutex_lock(&cl->lock);
	if (r == EOWNERDEAD) {
		/* Its holder died, maybe half way through an update. */
		connlimit_rebuild(cl, CONNLIMIT_NOSKIP);
		r = pthread_mutex_consistent(&cl->lock);
		if (r != 0)
			pthread_mutex_unlock(&cl->lock);
	}
	return r == 0 ? 0 : -1;
}

/* Releases the lock. */
static void
connlimit_unlock(struct connlimit *cl)
{
	pthread_mutex_unlock(&cl->lock);
}

/* Smallest power of two >= 4 * max_total (and >= CONNLIMIT_MIN_CAP). */
static uint32_t
connlimit_capacity(int max_total)
{
	uint32_t cap = CONNLIMIT_MIN_CAP;

	while (cap < 4u * (uint32_t)max_total)
		cap <<= 1;
	return cap;
}

/* Makes cl->lock a robust process-shared mutex; 0 or an errno value. */
static int
connlimit_lock_init(struct connlimit *cl)
{
	pthread_mutexattr_t attr;
	int r;

	if ((r = pthread_mutexattr_init(&attr)) != 0)
		return r;
	if ((r = pthread_mutexattr_setpshared(&attr,
	    PTHREAD_PROCESS_SHARED)) == 0 &&
	    (r = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) == 0)
		r = pthread_mutex_init(&cl->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return r;
}

struct connlimit *
connlimit_new(int max_total, int max_per_ip, char *err, size_t errlen)
{
	struct connlimit *cl;
	uint32_t cap;
	size_t maplen;
	int r;

	if (max_total < 1 || max_total > CONNLIMIT_MAX_TOTAL || max_per_ip < 0) {
		snprintf(err, errlen, "connection limits out of range "
		    "(total %d, per address %d)", max_total, max_per_ip);
		return NULL;
	}
	cap = connlimit_capacity(max_total);
	maplen = sizeof(*cl) + 2 * (size_t)cap * sizeof(struct connlimit_slot);
	cl = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cl == MAP_FAILED) {
		snprintf(err, errlen, "mmap %zu bytes: %s", maplen,
		    strerror(errno));
		return NULL;
	}
	/* The mapping comes zero-filled: every slot empty, total 0. */
	cl->maplen = maplen;
	cl->cap = cap;
	cl->mask = cap - 1;
	cl->max_total = max_total;
	cl->max_per_ip = max_per_ip;
	if (getrandom(cl->seed, sizeof(cl->seed), 0) != sizeof(cl->seed)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto fail;
	}
	if ((r = connlimit_lock_init(cl)) != 0) {
		snprintf(err, errlen, "robust shared mutex: %s", strerror(r));
		goto fail;
	}
	return cl;
fail:
	munmap(cl, maplen);
	return NULL;
}

void
connlimit_free(struct connlimit *cl)
{
	/* No pthread_mutex_destroy(): other processes may still use it. */
	if (cl != NULL)
		munmap(cl, cl->maplen);
}

/* The admission decision and the counting, with the lock held. */
static int
connlimit_admit(struct connlimit *cl, const struct connlimit_key *wkey,
    const struct connlimit_key *ipkey)
{
	if (cl->total >= cl->max_total)
		return CONNLIMIT_TOTAL;
	if (cl->max_per_ip > 0 &&
	    connlimit_get(cl, ipkey) >= (uint32_t)cl->max_per_ip)
		return CONNLIMIT_PER_IP;
	if (connlimit_add(cl, wkey, 1) < 0)
		return -1;
	if (connlimit_test_hook != NULL)
		connlimit_test_hook();
	if (connlimit_add(cl, ipkey, 1) < 0) {
		connlimit_sub(cl, wkey);
		return -1;
	}
	cl->total++;
	return CONNLIMIT_OK;
}

int
connlimit_acquire(struct connlimit *cl, int worker, int family,
    const unsigned char *addr)
{
	struct connlimit_key wkey, ipkey;
	int r;

	if (worker < 0 || connlimit_key_make(&wkey, worker, family, addr) < 0)
		return -1;
	ipkey = wkey;
	ipkey.worker = CONNLIMIT_IPKEY;
	if (connlimit_lock(cl) < 0)
		return -1;
	r = connlimit_admit(cl, &wkey, &ipkey);
	connlimit_unlock(cl);
	return r;
}

int
connlimit_release(struct connlimit *cl, int worker, int family,
    const unsigned char *addr)
{
	struct connlimit_key wkey, ipkey;
	int r = -1;

	if (worker < 0 || connlimit_key_make(&wkey, worker, family, addr) < 0)
		return -1;
	ipkey = wkey;
	ipkey.worker = CONNLIMIT_IPKEY;
	if (connlimit_lock(cl) < 0)
		return -1;
	if (connlimit_sub(cl, &wkey) == 0) {
		/* The per-address key exists whenever the worker key does. */
		connlimit_sub(cl, &ipkey);
		cl->total--;
		r = 0;
	}
	connlimit_unlock(cl);
	return r;
}

int
connlimit_release_worker(struct connlimit *cl, int worker)
{
	int before;

	if (worker < 0 || connlimit_lock(cl) < 0)
		return -1;
	before = cl->total;
	connlimit_rebuild(cl, worker);
	before -= cl->total;
	connlimit_unlock(cl);
	return before;
}

int
connlimit_count(struct connlimit *cl, int family, const unsigned char *addr)
{
	struct connlimit_key ipkey;
	uint32_t n;

	if (connlimit_key_make(&ipkey, CONNLIMIT_IPKEY, family, addr) < 0 ||
	    connlimit_lock(cl) < 0)
		return -1;
	n = connlimit_get(cl, &ipkey);
	connlimit_unlock(cl);
	return (int)n;
}

int
connlimit_total(struct connlimit *cl)
{
	int n;

	if (connlimit_lock(cl) < 0)
		return -1;
	n = cl->total;
	connlimit_unlock(cl);
	return n;
}
