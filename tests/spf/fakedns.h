/*
 * fakedns.h - a test resolver wrapped around the in-memory zone resolver.
 *
 * CONTRACT
 *	fakedns forwards every question to an inner resolver (normally
 *	spf_zone_resolver_new()) and adds what the evaluator tests need:
 *	  - synchronous mode (default): answers inside query(), like the zone;
 *	  - asynchronous mode: questions are queued and answered only by
 *	    fakedns_pump(), first-in-first-out, last-in-first-out or in a
 *	    seeded random order;
 *	  - refusal: query() returns -1 for names listed with fakedns_refuse();
 *	  - DNSSEC: answers are secure unless their name was listed with
 *	    fakedns_insecure() (failures are never secure);
 *	  - bookkeeping: questions asked (with their names, in order),
 *	    cancels received, and the lowest and highest stack address seen
 *	    inside query() (to check that the evaluator's trampoline keeps
 *	    the C stack flat).
 *	A cancelled question is never answered.
 *
 * OWNERSHIP
 *	fakedns_new() borrows inner; fakedns_free() (or ops->free) frees only
 *	the wrapper.
 */
#ifndef TESTS_SPF_FAKEDNS_H
#define TESTS_SPF_FAKEDNS_H

#include <stdint.h>

#include "spf/spf.h"

#define FAKEDNS_MAX	256	/* questions remembered per run */
#define FAKEDNS_LIST	8	/* refused / insecure names */

enum fakedns_order {
	FAKEDNS_SYNC = 0,
	FAKEDNS_FIFO,
	FAKEDNS_LIFO,
	FAKEDNS_RANDOM
};

struct fakedns_q {
	uint64_t	 id;
	int		 type;
	int		 live;		/* queued, not answered or cancelled */
	spf_dns_cb	*cb;
	void		*arg;
	char		 name[256];
};

struct fakedns {
	struct spf_resolver	 base;	/* first member */
	struct spf_resolver	*inner;
	enum fakedns_order	 order;
	unsigned		 seed;
	struct fakedns_q	 q[FAKEDNS_MAX];
	int			 nq;		/* questions asked */
	int			 ncancel;
	uint64_t		 cancelled[FAKEDNS_MAX];
	char			 refuse[FAKEDNS_LIST][256];
	int			 nrefuse;
	char			 insecure[FAKEDNS_LIST][256];
	int			 ninsecure;
	uintptr_t		 stack_lo, stack_hi;
};

struct fakedns *fakedns_new(struct spf_resolver *inner,
    enum fakedns_order order);
void fakedns_free(struct fakedns *f);

/* Makes query() return -1 for name. */
void fakedns_refuse(struct fakedns *f, const char *name);
/* Marks answers for name as not DNSSEC-secure. */
void fakedns_insecure(struct fakedns *f, const char *name);

/* Answers one queued question; returns 0 if none was left. */
int fakedns_pump(struct fakedns *f);
/* Questions queued and not yet answered or cancelled. */
int fakedns_live(const struct fakedns *f);
/* 1 if a question for name (any type) was asked. */
int fakedns_asked(const struct fakedns *f, const char *name);

#endif /* TESTS_SPF_FAKEDNS_H */
