/*
 * fakedns.c - the test resolver of fakedns.h.
 *
 * CONTRACT
 *	See fakedns.h.  The inner resolver must answer synchronously (the
 *	zone resolver does); fakedns turns that into asynchronous delivery
 *	when asked.  Everything is bounded by FAKEDNS_MAX questions: more is
 *	a test bug and aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fakedns.h"

/* What the forwarding callback needs to rewrite an answer. */
struct fakedns_fwd {
	struct fakedns		*f;
	const struct fakedns_q	*q;
};

/* 1 if name is in one of the lists. */
static int
fakedns_listed(char list[][256], int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcasecmp(list[i], name) == 0)
			return 1;
	return 0;
}

/* Inner callback: fixes the secure flag and hands the answer on. */
static void
fakedns_fwd_cb(void *arg, const struct spf_dns_answer *ans)
{
	struct fakedns_fwd *fw = arg;
	struct spf_dns_answer copy = *ans;

	copy.secure = ans->status <= SPF_DNS_NXDOMAIN &&
	    !fakedns_listed(fw->f->insecure, fw->f->ninsecure, fw->q->name);
	fw->q->cb(fw->q->arg, &copy);
}

/* Asks the inner resolver for a queued question and delivers it. */
static void
fakedns_deliver(struct fakedns *f, struct fakedns_q *q)
{
	struct fakedns_fwd fw = { f, q };
	uint64_t id;

	q->live = 0;
	if (f->inner->ops->query(f->inner, q->name, (enum spf_rrtype)q->type,
	    fakedns_fwd_cb, &fw, &id) != 0) {
		struct spf_dns_answer ans = { SPF_DNS_SERVFAIL, 0, 0, NULL,
		    NULL, "inner resolver refused" };
		q->cb(q->arg, &ans);
	}
}

/* spf_resolver_ops.query */
static int
fakedns_query(struct spf_resolver *r, const char *name, enum spf_rrtype type,
    spf_dns_cb *cb, void *arg, uint64_t *query_id)
{
	struct fakedns *f = (struct fakedns *)r;
	struct fakedns_q *q;
	uintptr_t here = (uintptr_t)&q;

	if (f->stack_lo == 0 || here < f->stack_lo)
		f->stack_lo = here;
	if (here > f->stack_hi)
		f->stack_hi = here;
	if (fakedns_listed(f->refuse, f->nrefuse, name))
		return -1;
	if (f->nq >= FAKEDNS_MAX) {
		fprintf(stderr, "fakedns: too many questions\n");
		abort();
	}
	q = &f->q[f->nq];
	q->id = (uint64_t)f->nq + 1000;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	q->live = 1;
	snprintf(q->name, sizeof(q->name), "%s", name);
	f->nq++;
	*query_id = q->id;
	if (f->order == FAKEDNS_SYNC)
		fakedns_deliver(f, q);
	return 0;
}

/* spf_resolver_ops.cancel */
static void
fakedns_cancel(struct spf_resolver *r, uint64_t id)
{
	struct fakedns *f = (struct fakedns *)r;
	int i;

	if (f->ncancel < FAKEDNS_MAX)
		f->cancelled[f->ncancel++] = id;
	for (i = 0; i < f->nq; i++)
		if (f->q[i].id == id)
			f->q[i].live = 0;
}

/* spf_resolver_ops.free */
static void
fakedns_ops_free(struct spf_resolver *r)
{
	free(r);
}

static const struct spf_resolver_ops fakedns_ops = {
	fakedns_query, fakedns_cancel, fakedns_ops_free
};

struct fakedns *
fakedns_new(struct spf_resolver *inner, enum fakedns_order order)
{
	struct fakedns *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->base.ops = &fakedns_ops;
	f->inner = inner;
	f->order = order;
	f->seed = 12345;
	return f;
}

void
fakedns_free(struct fakedns *f)
{
	free(f);
}

void
fakedns_refuse(struct fakedns *f, const char *name)
{
	if (f->nrefuse < FAKEDNS_LIST)
		snprintf(f->refuse[f->nrefuse++], 256, "%s", name);
}

void
fakedns_insecure(struct fakedns *f, const char *name)
{
	if (f->ninsecure < FAKEDNS_LIST)
		snprintf(f->insecure[f->ninsecure++], 256, "%s", name);
}

int
fakedns_live(const struct fakedns *f)
{
	int i, n = 0;

	for (i = 0; i < f->nq; i++)
		n += f->q[i].live;
	return n;
}

int
fakedns_pump(struct fakedns *f)
{
	int live[FAKEDNS_MAX], n = 0, i, pick;

	for (i = 0; i < f->nq; i++)
		if (f->q[i].live)
			live[n++] = i;
	if (n == 0)
		return 0;
	switch (f->order) {
	case FAKEDNS_LIFO:
		pick = live[n - 1];
		break;
	case FAKEDNS_RANDOM:
		f->seed = f->seed * 1103515245u + 12345u;
		pick = live[(f->seed >> 16) % (unsigned)n];
		break;
	default:
		pick = live[0];
		break;
	}
	fakedns_deliver(f, &f->q[pick]);
	return 1;
}

int
fakedns_asked(const struct fakedns *f, const char *name)
{
	int i;

	for (i = 0; i < f->nq; i++)
		if (strcasecmp(f->q[i].name, name) == 0)
			return 1;
	return 0;
}
