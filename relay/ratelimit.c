/*
 * ratelimit.c - fixed-window counters per client address (ratelimit.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "relay/ratelimit.h"

/* One address's window. */
struct ratelimit_slot {
	unsigned char key[17];		/* family tag + 16 octets */
	int used;
	int events;			/* events in the current window */
	int64_t window_start;
};

struct ratelimit {
	struct ratelimit_slot *slots;
	size_t mask;
	int count;
	int64_t per_ms;
};

struct ratelimit *
ratelimit_new(size_t slots, int count, int64_t per_ms)
{
	struct ratelimit *rl;
	size_t size = 16;

	while (size < slots && size < ((size_t)1 << 24))
		size <<= 1;
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return NULL;
	rl->slots = calloc(size, sizeof(*rl->slots));
	if (rl->slots == NULL) {
		free(rl);
		return NULL;
	}
	rl->mask = size - 1;
	rl->count = count;
	rl->per_ms = per_ms;
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->slots);
	free(rl);
}

/* The table key of an address. */
static void
ratelimit_key(int family, const unsigned char *addr, unsigned char key[17])
{
	memset(key, 0, 17);
	key[0] = family == AF_INET6 ? 6 : 4;
	memcpy(key + 1, addr, family == AF_INET6 ? 16 : 4);
}

/* FNV-1a over the key; addresses are not secret and probing is bounded. */
static size_t
ratelimit_hash(const unsigned char key[17])
{
	uint64_t h = 1469598103934665603ULL;
	int i;

	for (i = 0; i < 17; i++) {
		h ^= key[i];
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* The slot for key: its own, a free or expired one, or the oldest. */
static struct ratelimit_slot *
ratelimit_find(struct ratelimit *rl, const unsigned char key[17],
    int64_t now_ms)
{
	struct ratelimit_slot *slot, *victim = NULL;
	size_t i, h = ratelimit_hash(key);

	for (i = 0; i < RATELIMIT_PROBES; i++) {
		slot = &rl->slots[(h + i) & rl->mask];
		if (slot->used && memcmp(slot->key, key, 17) == 0)
			return slot;
		if (!slot->used || now_ms - slot->window_start >= rl->per_ms) {
			if (victim == NULL || victim->used)
				victim = slot;
			continue;
		}
		if (victim == NULL || (victim->used &&
		    slot->window_start < victim->window_start))
			victim = slot;
	}
	memcpy(victim->key, key, 17);
	victim->used = 1;
	victim->events = 0;
	victim->window_start = now_ms;
	return victim;
}

int
ratelimit_allow(struct ratelimit *rl, int family, const unsigned char *addr,
    int64_t now_ms)
{
	struct ratelimit_slot *slot;
	unsigned char key[17];

	if (rl->count <= 0)
		return 1;
	ratelimit_key(family, addr, key);
	slot = ratelimit_find(rl, key, now_ms);
	if (now_ms - slot->window_start >= rl->per_ms) {
		slot->window_start = now_ms;
		slot->events = 0;
	}
	if (slot->events >= rl->count)
		return 0;
	slot->events++;
	return 1;
}
