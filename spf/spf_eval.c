/*
 * spf_eval.c - the asynchronous RFC 7208 check_host() evaluator.
 *
 * CONTRACT
 *	One struct spf_eval runs one check_host() for one request.  It never
 *	blocks: every DNS question goes to the caller's struct spf_resolver,
 *	and the evaluation resumes when the answer comes back, possibly from
 *	inside query() itself.
 *
 *	Control flow is a state machine (enum spf_eval_state) driven by one
 *	loop, spf_eval_run(): it steps while no question is outstanding.  A
 *	resolver callback only stores what the answer means into its slot
 *	(copying the few bytes needed: answers are valid only during the
 *	callback) and, if the loop is not already running further up the
 *	stack, restarts it.
 *	That trampoline keeps the C stack flat however many answers arrive
 *	synchronously.  include and redirect use an explicit frame stack
 *	(struct spf_eval_frame), not C recursion: an include pushes a frame, a
 *	redirect replaces the current one; depth is bounded by the DNS-term
 *	limit and by EVAL_FRAMES.
 *
 *	Parallelism: within one mx term (the A/AAAA lookups of its exchanges)
 *	and one PTR validation (the A/AAAA lookups of the PTR names) all
 *	questions are asked at once, then the answers are examined in record
 *	order, so the result is the same as a sequential evaluation (the first
 *	match wins over a later DNS error) at the latency of one round trip.
 *
 *	Limits (RFC 7208 4.6.4): include, a, mx, ptr, exists and redirect each
 *	count one DNS term when evaluated; more than limits.dns_terms is a
 *	permerror.  A void lookup (NXDOMAIN, or NOERROR without records) of
 *	the a, mx (the MX question) and exists terms counts against
 *	limits.void_lookups; the per-name lookups under mx and ptr, the PTR
 *	lookups, include/redirect TXT lookups (which fail the evaluation
 *	anyway) and the exp= lookup do not.  More than limits.mx_names MX
 *	records is a permerror; only the first limits.ptr_names PTR names are
 *	looked at.  mx_names and ptr_names are capped at EVAL_SLOTS.
 *
 *	%{p} and ptr share one validated-name list, computed once per
 *	evaluation, on first use.  Its lookups can never cause an error: a
 *	failure just leaves no validated name ("unknown").  When %{p} (not the
 *	ptr mechanism, which is a DNS term itself) triggers the computation,
 *	the PTR lookup counts as one DNS lookup (RFC 7208 4.6.4); if the
 *	budget is already spent the lookup is skipped and %{p} is "unknown"
 *	rather than a permerror.
 *
 *	The explanation is fetched only for a fail, from the exp= of the
 *	record that gave the result at depth 0 (the top record or its redirect
 *	target; an included record's exp never applies).  If exp= is absent,
 *	its target is not a usable name, the lookup fails, there is not
 *	exactly one TXT record, or the text is not a valid ASCII
 *	explanation-string, the request's default_explanation is expanded
 *	instead, and "" if that fails too.
 *
 *	dnssec_secure is 1 when at least one DNS answer was used and every
 *	answer used for the result (not the explanation) was secure.  A BOGUS
 *	answer is never used: it is a temperror carrying the validator's text.
 *
 *	Request details: a sender without '@' is taken as a domain (local
 *	part "postmaster"); a NULL or empty HELO expands %{h} to "unknown"
 *	(and leaves a null-path MAIL FROM check without a <domain>: none);
 *	a local part longer than SPF_LOCAL_MAX is cut for %{l}.
 *
 * MEMORY
 *	One malloc per evaluation: struct spf_eval holds the frames, the
 *	query slots and an 8 KB arena for the request strings, SPF record
 *	copies and their term arrays.  The arena is a stack: a frame releases
 *	what it used when it is popped or redirected.  Only pathological
 *	records (very long, or many large includes) make it take extra 32 KB
 *	chunks, at most EVAL_CHUNKS of them (more is a permerror); they are
 *	freed by spf_eval_free().  Out of memory is a temperror.
 *
 * OWNERSHIP
 *	spf_eval_free() cancels every outstanding question and may be called
 *	at any time, including from inside the done callback.  The done
 *	callback is the last thing the engine does with the eval.
 *	spf_eval_start() may be called again once done was called (the eval
 *	is then reused); while an evaluation runs it is ignored.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "spf/spf_int.h"

#define EVAL_FRAMES	 16		/* include nesting + 1 */
#define EVAL_SLOTS	 16		/* parallel questions (mx/ptr names) */
#define EVAL_ARENA	 8192		/* inline arena */
#define EVAL_CHUNK	 32768		/* extra arena chunks */
#define EVAL_CHUNKS	 8
#define EVAL_WHY_MAX	 120		/* resolver error text kept */
#define EVAL_TERM_SHOWN	 100		/* term text quoted in a reason */

enum spf_eval_state {
	EV_IDLE,		/* created, not started */
	EV_RECORD_QUERY,	/* ask TXT of the top frame's domain */
	EV_RECORD_WAIT,		/* select and parse the SPF record */
	EV_TERM,		/* evaluate the top frame's current term */
	EV_ADDR_WAIT,		/* a / exists answer */
	EV_MX_WAIT,		/* MX answer: ask the exchanges' addresses */
	EV_MX_ADDR_WAIT,	/* addresses of the exchanges */
	EV_NO_MATCH,		/* no term matched: redirect or neutral */
	EV_PTR_QUERY,		/* validated names: ask PTR */
	EV_PTR_WAIT,		/* PTR answer: ask the names' addresses */
	EV_PTR_ADDR_WAIT,	/* addresses of the PTR names */
	EV_EXP,			/* fail: ask the exp= TXT */
	EV_EXP_WAIT,		/* exp= answer */
	EV_EXPLAIN,		/* expand the explanation */
	EV_DONE,		/* verdict ready, done not yet called */
	EV_FINISHED		/* done called */
};

/* What an outstanding question is for. */
enum spf_eval_slot_kind {
	SLOT_TXT_SPF,		/* select the v=spf1 record */
	SLOT_TXT_EXP,		/* explanation text */
	SLOT_ADDR,		/* does an A/AAAA match the client? */
	SLOT_EXISTS,		/* is there any A record? */
	SLOT_MX,		/* exchange names */
	SLOT_PTR		/* PTR names */
};

/* Why a TXT answer gave no usable text. */
enum spf_eval_text_err {
	TEXT_OK = 0,
	TEXT_TOO_LONG,
	TEXT_TOO_BIG,		/* arena cap reached */
	TEXT_NO_MEMORY
};

/* One DNS question and what its answer meant. */
struct spf_eval_slot {
	struct spf_eval	*ev;
	uint64_t	 qid;
	const char	*text;		/* TXT: NUL-terminated arena copy */
	size_t		 text_len;
	int		 count;		/* TXT: records; MX/PTR: names, -1 */
	uint8_t		 outstanding;
	uint8_t		 kind;		/* enum spf_eval_slot_kind */
	uint8_t		 type;		/* enum spf_rrtype */
	uint8_t		 status;	/* enum spf_dns_status */
	uint8_t		 secure;
	uint8_t		 match;
	uint8_t		 cidr;		/* SLOT_ADDR prefix length */
	uint8_t		 text_err;	/* enum spf_eval_text_err */
	char		 name[SPF_NAME_MAX];
	char		 why[EVAL_WHY_MAX];
};

enum spf_eval_frame_kind {
	FRAME_TOP,		/* the <domain> of the request */
	FRAME_INCLUDE,		/* an include target */
	FRAME_REDIRECT		/* a redirect target (replaced a frame) */
};

/* One check_host() level. */
struct spf_eval_frame {
	struct spf_record rec;
	int		 idx;		/* current term */
	uint8_t		 counted;	/* term idx (or redirect) counted */
	uint8_t		 kind;		/* enum spf_eval_frame_kind */
	int		 mark_chunk;	/* arena position to release to */
	size_t		 mark_used;
	size_t		 dlen;
	char		 domain[SPF_NAME_MAX];
};

struct spf_eval {
	struct spf_resolver *resolver;
	spf_done_cb	*done;
	void		*arg;

	/* The request. */
	int		 family;
	unsigned char	 ip[16];
	enum spf_identity identity;
	struct spf_limits limits;
	struct spf_macro_env env;	/* d and p are set per expansion */
	const char	*top;		/* initial <domain>, no final dot */
	size_t		 top_len;
	int		 top_ok;	/* passes RFC 7208 4.3 */
	const char	*def_exp;	/* default explanation or NULL */
	size_t		 def_exp_len;

	/* Progress. */
	enum spf_eval_state	 state;
	enum spf_eval_state resume;	/* state after the PTR validation */
	int		 running;	/* spf_eval_run() is on the stack */
	int		 pending;	/* questions outstanding */
	int		 depth;		/* frames in use */
	int		 nslots;	/* questions of the current batch */
	int		 nused;		/* slots[0..nused) used since start */
	int		 dns_terms;
	int		 void_lookups;
	int		 answers;	/* answers used */
	int		 insecure;	/* one of them was not secure */
	int		 settled;	/* result known: explaining only */
	int		 p_done;	/* pvalid[] computed */
	int		 npvalid;
	const char	*match;		/* depth-0 matched term, NULL: none */
	size_t		 match_len;
	const char	*exp_text;	/* explanation to expand */
	size_t		 exp_len;
	int		 exp_from_dns;

	/* Arena. */
	char		*a_base;
	size_t		 a_used;
	size_t		 a_cap;
	int		 a_chunk;	/* 0: inline, k: chunks[k - 1] */
	int		 a_oom;		/* last failure: malloc, not the cap */
	size_t		 base_used;	/* inline arena after the request */
	int		 nchunks;	/* chunks[0..nchunks) allocated */
	char		*chunks[EVAL_CHUNKS];

	struct spf_verdict verdict;
	struct spf_eval_frame frames[EVAL_FRAMES];
	struct spf_eval_slot slots[EVAL_SLOTS];
	char		 pvalid[EVAL_SLOTS][SPF_NAME_MAX];
	_Alignas(16) char arena[EVAL_ARENA];	/* holds term arrays too */
};

static void spf_eval_run(struct spf_eval *);

/*
 * Arena
 */

/* Bump-allocates n octets (8-aligned); NULL when out of room. */
static void *
spf_eval_arena_alloc(struct spf_eval *ev, size_t n)
{
	char *p;
	int c;

	n = (n + 7) & ~(size_t)7;
	if (n <= ev->a_cap - ev->a_used) {
		p = ev->a_base + ev->a_used;
		ev->a_used += n;
		return p;
	}
	c = ev->a_chunk;
	if (n > EVAL_CHUNK || c >= EVAL_CHUNKS) {
		ev->a_oom = 0;
		return NULL;
	}
	if (c == ev->nchunks) {
		if ((ev->chunks[c] = malloc(EVAL_CHUNK)) == NULL) {
			ev->a_oom = 1;
			return NULL;
		}
		ev->nchunks++;
	}
	ev->a_chunk = c + 1;
	ev->a_base = ev->chunks[c];
	ev->a_cap = EVAL_CHUNK;
	ev->a_used = n;
	return ev->a_base;
}

/* The free space of the current chunk (8-aligned) and its size. */
static size_t
spf_eval_arena_room(struct spf_eval *ev, void **p)
{
	size_t at = (ev->a_used + 7) & ~(size_t)7;

	if (at >= ev->a_cap) {
		*p = NULL;
		return 0;
	}
	*p = ev->a_base + at;
	return ev->a_cap - at;
}

/* Keeps n octets of the space spf_eval_arena_room() returned. */
static void
spf_eval_arena_commit(struct spf_eval *ev, size_t n)
{
	size_t used = ((ev->a_used + 7) & ~(size_t)7) + ((n + 7) & ~(size_t)7);

	ev->a_used = used < ev->a_cap ? used : ev->a_cap;
}

/* Returns the arena to an earlier position (chunks are kept). */
static void
spf_eval_arena_release(struct spf_eval *ev, int chunk, size_t used)
{
	ev->a_chunk = chunk;
	ev->a_base = chunk == 0 ? ev->arena : ev->chunks[chunk - 1];
	ev->a_cap = chunk == 0 ? sizeof(ev->arena) : EVAL_CHUNK;
	ev->a_used = used;
}

/* Copies a string of at most max octets into the arena. */
static const char *
spf_eval_arena_strndup(struct spf_eval *ev, const char *s, size_t max,
    size_t *lenp)
{
	size_t n = strnlen(s, max);
	char *p = spf_eval_arena_alloc(ev, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	*lenp = n;
	return p;
}

/*
 * Verdict helpers
 */

/* Ends the evaluation with a result; the reason is written by the caller. */
static struct spf_sb
spf_eval_end(struct spf_eval *ev, enum spf_result result)
{
	struct spf_sb sb;

	ev->verdict.result = result;
	ev->match = NULL;
	ev->state = EV_DONE;
	spf_sb_init(&sb, ev->verdict.reason, sizeof(ev->verdict.reason));
	return sb;
}

/* Ends with a permerror "what name". */
static void
spf_eval_permerror(struct spf_eval *ev, const char *what, const char *name)
{
	struct spf_sb sb = spf_eval_end(ev, SPF_RESULT_PERMERROR);

	spf_sb_puts(&sb, what);
	if (name != NULL) {
		spf_sb_puts(&sb, " ");
		spf_sb_put_printable(&sb, name, strlen(name));
	}
}

/* Ends with "more than N <what>". */
static void
spf_eval_limit(struct spf_eval *ev, int n, const char *what, const char *name)
{
	struct spf_sb sb = spf_eval_end(ev, SPF_RESULT_PERMERROR);

	spf_sb_puts(&sb, "more than ");
	spf_sb_put_uint(&sb, (unsigned long)n);
	spf_sb_puts(&sb, what);
	if (name != NULL)
		spf_sb_put_printable(&sb, name, strlen(name));
}

/* Ends for a record that failed to parse. */
static void
spf_eval_syntax_error(struct spf_eval *ev, const struct spf_eval_frame *f,
    const struct spf_syntax_error *e)
{
	struct spf_sb sb = spf_eval_end(ev, SPF_RESULT_PERMERROR);
	size_t shown = e->term_len < EVAL_TERM_SHOWN ? e->term_len :
	    EVAL_TERM_SHOWN;

	spf_sb_puts(&sb, "syntax error in '");
	spf_sb_put_printable(&sb, e->term, shown);
	if (shown < e->term_len)
		spf_sb_puts(&sb, "...");
	spf_sb_puts(&sb, "' at ");
	spf_sb_put_uint(&sb, (unsigned long)e->at);
	spf_sb_puts(&sb, ": ");
	spf_sb_puts(&sb, e->what);
	spf_sb_puts(&sb, " (SPF record of ");
	spf_sb_put_printable(&sb, f->domain, f->dlen);
	spf_sb_puts(&sb, ")");
}

/* Name of a record type for messages. */
static const char *
spf_eval_type_name(int type)
{
	switch (type) {
	case SPF_RR_A: return "A";
	case SPF_RR_AAAA: return "AAAA";
	case SPF_RR_MX: return "MX";
	case SPF_RR_PTR: return "PTR";
	default: return "TXT";
	}
}

/* Ends with a temperror for a failed question. */
static void
spf_eval_dns_error(struct spf_eval *ev, const struct spf_eval_slot *s)
{
	struct spf_sb sb = spf_eval_end(ev, SPF_RESULT_TEMPERROR);

	if (s->status == SPF_DNS_TIMEOUT)
		spf_sb_puts(&sb, "DNS timeout looking up ");
	else if (s->status == SPF_DNS_BOGUS)
		spf_sb_puts(&sb, "DNSSEC validation failed for ");
	else
		spf_sb_puts(&sb, "DNS failure looking up ");
	spf_sb_puts(&sb, spf_eval_type_name(s->type));
	spf_sb_puts(&sb, " ");
	spf_sb_put_printable(&sb, s->name, strlen(s->name));
	if (s->why[0] != '\0') {
		spf_sb_puts(&sb, ": ");
		spf_sb_puts(&sb, s->why);
	}
}

/* Ends because the arena could not hold what a frame needs. */
static void
spf_eval_no_room(struct spf_eval *ev, const char *domain)
{
	if (ev->a_oom) {
		struct spf_sb sb = spf_eval_end(ev, SPF_RESULT_TEMPERROR);

		spf_sb_puts(&sb, "out of memory");
		return;
	}
	spf_eval_permerror(ev, "SPF records too large, at", domain);
}

/* Counts an answer used for the result (DNSSEC bookkeeping). */
static void
spf_eval_fold(struct spf_eval *ev, const struct spf_eval_slot *s)
{
	if (ev->settled)
		return;		/* explanation lookups do not count */
	ev->answers++;
	if (!s->secure)
		ev->insecure = 1;
}

/* 1 if the slot's answer is an error (TIMEOUT, SERVFAIL, BOGUS). */
static int
spf_eval_slot_failed(const struct spf_eval_slot *s)
{
	return s->status != SPF_DNS_ANSWER && s->status != SPF_DNS_NODATA &&
	    s->status != SPF_DNS_NXDOMAIN;
}

/* Counts a void lookup; -1 (evaluation ended) past the limit. */
static int
spf_eval_void(struct spf_eval *ev)
{
	if (++ev->void_lookups > ev->limits.void_lookups) {
		spf_eval_limit(ev, ev->limits.void_lookups, " void DNS lookups",
		    NULL);
		return -1;
	}
	return 0;
}

/* Counts a DNS-querying term; -1 (evaluation ended) past the limit. */
static int
spf_eval_count_term(struct spf_eval *ev)
{
	if (++ev->dns_terms > ev->limits.dns_terms) {
		spf_eval_limit(ev, ev->limits.dns_terms, " DNS lookups", NULL);
		return -1;
	}
	return 0;
}

/*
 * Answers
 */

/* 1 if the first bits of a and b are equal. */
static int
spf_eval_cidr_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* Copies the text of TXT record i into the arena for the slot. */
static void
spf_eval_absorb_text(struct spf_eval *ev, struct spf_eval_slot *s,
    const struct spf_dns_answer *ans, int i, size_t max)
{
	long len = spf_rdata_txt_len(ans->rdata[i], (size_t)ans->rdlen[i]);
	char *p;

	if (len < 0 || (size_t)len > max) {
		s->text_err = TEXT_TOO_LONG;
		return;
	}
	if ((p = spf_eval_arena_alloc(ev, (size_t)len + 1)) == NULL) {
		s->text_err = ev->a_oom ? TEXT_NO_MEMORY : TEXT_TOO_BIG;
		return;
	}
	spf_rdata_txt_copy(ans->rdata[i], (size_t)ans->rdlen[i], p,
	    (size_t)len);
	p[len] = '\0';
	s->text = p;
	s->text_len = (size_t)len;
}

/* Selects the one "v=spf1" record among TXT records (RFC 7208 4.5). */
static void
spf_eval_absorb_spf(struct spf_eval *ev, struct spf_eval_slot *s,
    const struct spf_dns_answer *ans)
{
	char head[7];
	size_t n;
	int i, which = -1;

	for (i = 0; i < ans->count; i++) {
		if (ans->rdlen[i] < 0 || spf_rdata_txt_len(ans->rdata[i],
		    (size_t)ans->rdlen[i]) < 0)
			continue;	/* malformed: ignored */
		n = spf_rdata_txt_copy(ans->rdata[i], (size_t)ans->rdlen[i],
		    head, sizeof(head));
		if (spf_record_is_spf1(head, n)) {
			s->count++;
			which = i;
		}
	}
	if (s->count == 1)
		spf_eval_absorb_text(ev, s, ans, which, SPF_RECORD_MAX);
}

/* Notes whether one of the addresses matches the client. */
static void
spf_eval_absorb_addr(struct spf_eval *ev, struct spf_eval_slot *s,
    const struct spf_dns_answer *ans)
{
	int i, want = ev->family == AF_INET ? 4 : 16;

	for (i = 0; i < ans->count; i++) {
		if (ans->rdlen[i] != want)
			continue;
		s->count++;
		if (spf_eval_cidr_match(ans->rdata[i], ev->ip, s->cidr)) {
			s->match = 1;
			return;
		}
	}
}

/* Copies the exchange names of an MX answer into the slots. */
static void
spf_eval_absorb_mx(struct spf_eval *ev, struct spf_eval_slot *s,
    const struct spf_dns_answer *ans)
{
	int i, n = 0;

	if (ans->count > ev->limits.mx_names) {
		s->count = -1;
		return;
	}
	for (i = 0; i < ans->count; i++) {
		if (ans->rdlen[i] < 3 || spf_rdata_name(ans->rdata[i],
		    (size_t)ans->rdlen[i], 2, ev->slots[n].name,
		    SPF_NAME_MAX) <= 0)
			continue;	/* malformed, or null MX "." */
		n++;
	}
	s->count = n;
}

/* Copies the first limits.ptr_names PTR names into the slots. */
static void
spf_eval_absorb_ptr(struct spf_eval *ev, struct spf_eval_slot *s,
    const struct spf_dns_answer *ans)
{
	int i, n = 0;

	for (i = 0; i < ans->count && n < ev->limits.ptr_names; i++) {
		if (ans->rdlen[i] < 1 || spf_rdata_name(ans->rdata[i],
		    (size_t)ans->rdlen[i], 0, ev->slots[n].name,
		    SPF_NAME_MAX) <= 0)
			continue;
		n++;
	}
	s->count = n;
}

/* Stores what an answer means into its slot. */
static void
spf_eval_slot_absorb(struct spf_eval *ev, struct spf_eval_slot *s,
    const struct spf_dns_answer *ans)
{
	struct spf_sb sb;

	s->status = (uint8_t)ans->status;
	s->secure = ans->secure != 0;
	if (ans->status == SPF_DNS_ANSWER && (ans->count <= 0 ||
	    ans->rdata == NULL || ans->rdlen == NULL))
		s->status = SPF_DNS_NODATA;
	if (spf_eval_slot_failed(s) && ans->reason != NULL) {
		spf_sb_init(&sb, s->why, sizeof(s->why));
		spf_sb_put_printable(&sb, ans->reason, strlen(ans->reason));
	}
	if (s->status != SPF_DNS_ANSWER)
		return;
	switch (s->kind) {
	case SLOT_TXT_SPF:
		spf_eval_absorb_spf(ev, s, ans);
		break;
	case SLOT_TXT_EXP:
		s->count = ans->count;
		if (ans->count == 1)
			spf_eval_absorb_text(ev, s, ans, 0,
			    SPF_EXPLANATION_MAX - 1);
		break;
	case SLOT_ADDR:
		spf_eval_absorb_addr(ev, s, ans);
		break;
	case SLOT_EXISTS:
		s->match = 1;
		break;
	case SLOT_MX:
		spf_eval_absorb_mx(ev, s, ans);
		break;
	case SLOT_PTR:
		spf_eval_absorb_ptr(ev, s, ans);
		break;
	}
}

/* Resolver callback: the trampoline's landing point. */
static void
spf_eval_slot_cb(void *arg, const struct spf_dns_answer *ans)
{
	struct spf_eval_slot *s = arg;
	struct spf_eval *ev = s->ev;

	if (!s->outstanding)
		return;		/* answered or cancelled already */
	s->outstanding = 0;
	spf_eval_slot_absorb(ev, s, ans);
	ev->pending--;
	if (!ev->running && ev->pending == 0)
		spf_eval_run(ev);	/* may free ev: nothing after this */
}

/* Asks (slots[i].name, type); the answer lands in slot i. */
static void
spf_eval_slot_query(struct spf_eval *ev, int i, enum spf_rrtype type,
    enum spf_eval_slot_kind kind)
{
	struct spf_eval_slot *s = &ev->slots[i];
	struct spf_sb sb;

	if (i >= ev->nused)
		ev->nused = i + 1;
	s->ev = ev;
	s->kind = (uint8_t)kind;
	s->type = (uint8_t)type;
	s->status = SPF_DNS_SERVFAIL;
	s->secure = 0;
	s->match = 0;
	s->count = 0;
	s->text = NULL;
	s->text_err = TEXT_OK;
	s->why[0] = '\0';
	s->outstanding = 1;
	ev->pending++;
	if (ev->resolver->ops->query(ev->resolver, s->name, type,
	    spf_eval_slot_cb, s,
	    &s->qid) != 0 && s->outstanding) {
		s->outstanding = 0;
		ev->pending--;
		spf_sb_init(&sb, s->why, sizeof(s->why));
		spf_sb_puts(&sb, "the resolver refused the question");
	}
}

/* Cancels every outstanding question. */
static void
spf_eval_cancel_all(struct spf_eval *ev)
{
	int i;

	if (ev->pending == 0)
		return;		/* the common case: nothing to walk */
	for (i = 0; i < ev->nused; i++) {
		if (ev->slots[i].outstanding) {
			ev->slots[i].outstanding = 0;
			ev->resolver->ops->cancel(ev->resolver,
			    ev->slots[i].qid);
		}
	}
	ev->pending = 0;
}

/*
 * Frames
 */

/* Pushes a frame for domain (already a valid name); -1 if too deep. */
static int
spf_eval_frame_push(struct spf_eval *ev, const char *domain, size_t len,
    enum spf_eval_frame_kind kind)
{
	struct spf_eval_frame *f;

	if (ev->depth >= EVAL_FRAMES) {
		spf_eval_permerror(ev, "include nested too deeply at", domain);
		return -1;
	}
	f = &ev->frames[ev->depth++];
	f->kind = (uint8_t)kind;
	f->mark_chunk = ev->a_chunk;
	f->mark_used = ev->a_used;
	f->dlen = len;
	memcpy(f->domain, domain, len);
	f->domain[len] = '\0';
	ev->state = EV_RECORD_QUERY;
	return 0;
}

/* The frame being evaluated. */
static struct spf_eval_frame *
spf_eval_frame_top(struct spf_eval *ev)
{
	return &ev->frames[ev->depth - 1];
}

/* Moves to the next term of the top frame. */
static void
spf_eval_term_next(struct spf_eval *ev)
{
	struct spf_eval_frame *f = spf_eval_frame_top(ev);

	f->idx++;
	f->counted = 0;
	ev->state = EV_TERM;
}

static void spf_eval_frame_result(struct spf_eval *, enum spf_result,
    const struct spf_term *);

/* The current term matched: its qualifier is the frame's result. */
static void
spf_eval_term_match(struct spf_eval *ev, const struct spf_term *t)
{
	spf_eval_frame_result(ev, (enum spf_result)t->result, t);
}

/*
 * A frame finished with pass/fail/softfail/neutral.  An included frame
 * hands "match" (pass) or "no match" to its include term; the top frame
 * sets the result.
 */
static void
spf_eval_frame_result(struct spf_eval *ev, enum spf_result result,
    const struct spf_term *t)
{
	struct spf_eval_frame *f;

	if (ev->depth > 1) {
		f = spf_eval_frame_top(ev);
		spf_eval_arena_release(ev, f->mark_chunk, f->mark_used);
		ev->depth--;
		f = spf_eval_frame_top(ev);
		if (result == SPF_RESULT_PASS)
			spf_eval_term_match(ev, &f->rec.terms[f->idx]);
		else
			spf_eval_term_next(ev);
		return;
	}
	ev->verdict.result = result;
	ev->settled = 1;
	ev->match = t ? t->text : NULL;
	ev->match_len = t ? t->len : 0;
	ev->state = result == SPF_RESULT_FAIL ? EV_EXP : EV_DONE;
}

/* A frame's domain has no SPF record. */
static void
spf_eval_frame_none(struct spf_eval *ev, const struct spf_eval_frame *f)
{
	struct spf_sb sb;

	if (f->kind == FRAME_INCLUDE) {
		spf_eval_permerror(ev, "no SPF record for included domain",
		    f->domain);
	} else if (f->kind == FRAME_REDIRECT) {
		spf_eval_permerror(ev, "no SPF record for redirect domain",
		    f->domain);
	} else {
		sb = spf_eval_end(ev, SPF_RESULT_NONE);
		spf_sb_puts(&sb, "no SPF record for ");
		spf_sb_put_printable(&sb, f->domain, f->dlen);
	}
}

/*
 * Macro expansion
 */

/* Picks %{p} for domain d among the validated names (RFC 7208 7.3). */
static const char *
spf_eval_pick_p(const struct spf_eval *ev, const char *d, size_t dlen)
{
	size_t n;
	int i;

	for (i = 0; i < ev->npvalid; i++)
		if (spf_ieq(ev->pvalid[i], strlen(ev->pvalid[i]), d, dlen))
			return ev->pvalid[i];
	for (i = 0; i < ev->npvalid; i++) {
		n = strlen(ev->pvalid[i]);
		if (n > dlen && ev->pvalid[i][n - dlen - 1] == '.' &&
		    spf_ieq(ev->pvalid[i] + n - dlen, dlen, d, dlen))
			return ev->pvalid[i];
	}
	return ev->npvalid > 0 ? ev->pvalid[0] : NULL;
}

/* Sets %{d} (and %{p} for it) before an expansion. */
static void
spf_eval_env(struct spf_eval *ev, const struct spf_eval_frame *f)
{
	ev->env.d = f->domain;
	ev->env.d_len = f->dlen;
	ev->env.p = spf_eval_pick_p(ev, f->domain, f->dlen);
	ev->env.p_len = ev->env.p ? strlen(ev->env.p) : 0;
}

/* Expands a domain-spec into out; the length, or -1 if not a usable name. */
static int
spf_eval_expand_name(struct spf_eval *ev, const struct spf_eval_frame *f,
    const char *spec, size_t len, char *out)
{
	int n;

	spf_eval_env(ev, f);
	n = spf_macro_expand(&ev->env, spec, len, SPF_MACRO_DOMAIN, out,
	    SPF_NAME_MAX);
	if (n < 0 || !spf_macro_name_ok(out, (size_t)n))
		return -1;
	return n;
}

/* The target-name of a term into out; -1 if not a usable name. */
static int
spf_eval_term_target(struct spf_eval *ev, const struct spf_eval_frame *f,
    const struct spf_term *t, char *out)
{
	if (t->spec == NULL) {
		memcpy(out, f->domain, f->dlen + 1);
		return (int)f->dlen;
	}
	return spf_eval_expand_name(ev, f, t->spec, t->spec_len, out);
}

/*
 * Starts the PTR validation; the evaluation goes on at resume.  For the
 * %{p} macro (for_macro) the lookup is charged to the DNS-term budget, or
 * skipped ("unknown") when nothing is left of it.
 */
static void
spf_eval_ptr_start(struct spf_eval *ev, enum spf_eval_state resume,
    int for_macro)
{
	ev->resume = resume;
	if (for_macro && ev->dns_terms >= ev->limits.dns_terms) {
		ev->npvalid = 0;
		ev->p_done = 1;
		ev->state = resume;
		return;
	}
	if (for_macro)
		ev->dns_terms++;
	ev->state = EV_PTR_QUERY;
}

/* 1 if a validated name is target or a subdomain of it (RFC 7208 5.5). */
static int
spf_eval_ptr_match(const struct spf_eval *ev, const char *target, size_t tlen)
{
	size_t n;
	int i;

	for (i = 0; i < ev->npvalid; i++) {
		n = strlen(ev->pvalid[i]);
		if (spf_ieq(ev->pvalid[i], n, target, tlen))
			return 1;
		if (n > tlen && ev->pvalid[i][n - tlen - 1] == '.' &&
		    spf_ieq(ev->pvalid[i] + n - tlen, tlen, target, tlen))
			return 1;
	}
	return 0;
}

/*
 * States
 */

/* EV_RECORD_QUERY: asks TXT of the top frame's domain. */
static void
spf_eval_step_record_query(struct spf_eval *ev)
{
	struct spf_eval_frame *f = spf_eval_frame_top(ev);

	memcpy(ev->slots[0].name, f->domain, f->dlen + 1);
	ev->state = EV_RECORD_WAIT;
	spf_eval_slot_query(ev, 0, SPF_RR_TXT, SLOT_TXT_SPF);
}

/*
 * Parses the record copied into slot 0 for the top frame.  The terms go
 * straight into the arena's free space; only a record with more terms
 * than that space holds is counted and given a fresh allocation.
 */
static void
spf_eval_record_parse(struct spf_eval *ev, struct spf_eval_frame *f,
    const struct spf_eval_slot *s)
{
	struct spf_syntax_error err;
	void *space;
	size_t max = spf_eval_arena_room(ev, &space) / sizeof(struct spf_term);
	int n, rc;

	rc = spf_record_parse(s->text, s->text_len, space, max <
	    SPF_TERMS_MAX ? (int)max : SPF_TERMS_MAX, &f->rec, &err);
	if (rc == -2) {
		n = spf_record_count(s->text, s->text_len);
		if (n > SPF_TERMS_MAX) {
			spf_eval_permerror(ev, "too many terms in the SPF "
			    "record of", f->domain);
			return;
		}
		if ((space = spf_eval_arena_alloc(ev, (size_t)n *
		    sizeof(struct spf_term))) == NULL) {
			spf_eval_no_room(ev, f->domain);
			return;
		}
		rc = spf_record_parse(s->text, s->text_len, space, n, &f->rec,
		    &err);
	} else if (rc == 0) {
		spf_eval_arena_commit(ev, (size_t)f->rec.nterms *
		    sizeof(struct spf_term));
	}
	if (rc < 0) {
		spf_eval_syntax_error(ev, f, &err);
		return;
	}
	f->idx = 0;
	f->counted = 0;
	ev->state = EV_TERM;
}

/* EV_RECORD_WAIT: selects the record (RFC 7208 4.4, 4.5) and parses it. */
static void
spf_eval_step_record_wait(struct spf_eval *ev)
{
	struct spf_eval_frame *f = spf_eval_frame_top(ev);
	struct spf_eval_slot *s = &ev->slots[0];

	spf_eval_fold(ev, s);
	if (spf_eval_slot_failed(s))
		spf_eval_dns_error(ev, s);
	else if (s->status != SPF_DNS_ANSWER || s->count == 0)
		spf_eval_frame_none(ev, f);
	else if (s->count > 1)
		spf_eval_permerror(ev, "more than one SPF record for",
		    f->domain);
	else if (s->text_err == TEXT_TOO_LONG)
		spf_eval_permerror(ev, "SPF record too long for", f->domain);
	else if (s->text == NULL)
		spf_eval_no_room(ev, f->domain);
	else
		spf_eval_record_parse(ev, f, s);
}

/* Evaluates a term that needs no DNS; 1 if it was one. */
static int
spf_eval_term_local(struct spf_eval *ev, const struct spf_term *t)
{
	switch (t->mech) {
	case SPF_MECH_ALL:
		spf_eval_term_match(ev, t);
		return 1;
	case SPF_MECH_IP4:
	case SPF_MECH_IP6:
		if ((t->mech == SPF_MECH_IP4) == (ev->family == AF_INET) &&
		    spf_eval_cidr_match(ev->ip, t->ip, t->mech == SPF_MECH_IP4 ?
		    t->cidr4 : t->cidr6))
			spf_eval_term_match(ev, t);
		else
			spf_eval_term_next(ev);
		return 1;
	default:
		return 0;
	}
}

/* Starts the DNS work of a term whose target-name is in slot 0. */
static void
spf_eval_term_ask(struct spf_eval *ev, const struct spf_term *t, size_t tlen)
{
	struct spf_eval_slot *s = &ev->slots[0];
	enum spf_rrtype addr = ev->family == AF_INET ? SPF_RR_A : SPF_RR_AAAA;

	s->cidr = ev->family == AF_INET ? t->cidr4 : t->cidr6;
	switch (t->mech) {
	case SPF_MECH_A:
		ev->state = EV_ADDR_WAIT;
		spf_eval_slot_query(ev, 0, addr, SLOT_ADDR);
		break;
	case SPF_MECH_EXISTS:
		ev->state = EV_ADDR_WAIT;
		spf_eval_slot_query(ev, 0, SPF_RR_A, SLOT_EXISTS);
		break;
	case SPF_MECH_MX:
		ev->state = EV_MX_WAIT;
		spf_eval_slot_query(ev, 0, SPF_RR_MX, SLOT_MX);
		break;
	case SPF_MECH_PTR:
		if (spf_eval_ptr_match(ev, s->name, tlen))
			spf_eval_term_match(ev, t);
		else
			spf_eval_term_next(ev);
		break;
	default:		/* include */
		(void)spf_eval_frame_push(ev, s->name, tlen, FRAME_INCLUDE);
		break;
	}
}

/* EV_TERM: evaluates the top frame's current term. */
static void
spf_eval_step_term(struct spf_eval *ev)
{
	struct spf_eval_frame *f = spf_eval_frame_top(ev);
	const struct spf_term *t;
	int n;

	if (f->idx >= f->rec.nterms) {
		ev->state = EV_NO_MATCH;
		return;
	}
	t = &f->rec.terms[f->idx];
	if (spf_eval_term_local(ev, t))
		return;
	if (!f->counted) {
		f->counted = 1;
		if (spf_eval_count_term(ev) < 0)
			return;
	}
	if ((t->uses_p || t->mech == SPF_MECH_PTR) && !ev->p_done) {
		spf_eval_ptr_start(ev, EV_TERM, t->mech != SPF_MECH_PTR);
		return;
	}
	n = spf_eval_term_target(ev, f, t, ev->slots[0].name);
	if (n >= 0)
		spf_eval_term_ask(ev, t, (size_t)n);
	else if (t->mech == SPF_MECH_INCLUDE)
		spf_eval_permerror(ev, "invalid include target in the SPF "
		    "record of", f->domain);
	else
		spf_eval_term_next(ev);	/* not a name: non-existent */
}

/* EV_ADDR_WAIT: the answer of an a or exists term. */
static void
spf_eval_step_addr_wait(struct spf_eval *ev)
{
	struct spf_eval_frame *f = spf_eval_frame_top(ev);
	struct spf_eval_slot *s = &ev->slots[0];

	spf_eval_fold(ev, s);
	if (spf_eval_slot_failed(s))
		spf_eval_dns_error(ev, s);
	else if (s->status != SPF_DNS_ANSWER) {
		if (spf_eval_void(ev) == 0)
			spf_eval_term_next(ev);
	} else if (s->match)
		spf_eval_term_match(ev, &f->rec.terms[f->idx]);
	else
		spf_eval_term_next(ev);
}

/* EV_MX_WAIT: the MX answer; asks the exchanges' addresses at once. */
static void
spf_eval_step_mx_wait(struct spf_eval *ev)
{
	struct spf_eval_slot *s = &ev->slots[0];
	enum spf_rrtype addr = ev->family == AF_INET ? SPF_RR_A : SPF_RR_AAAA;
	uint8_t cidr = s->cidr;
	int i, n;

	spf_eval_fold(ev, s);
	if (spf_eval_slot_failed(s)) {
		spf_eval_dns_error(ev, s);
		return;
	}
	if (s->status != SPF_DNS_ANSWER) {
		if (spf_eval_void(ev) == 0)
			spf_eval_term_next(ev);
		return;
	}
	if (s->count < 0) {
		spf_eval_limit(ev, ev->limits.mx_names, " MX records for ",
		    s->name);
		return;
	}
	if ((n = s->count) == 0) {
		spf_eval_term_next(ev);
		return;
	}
	ev->nslots = n;
	ev->state = EV_MX_ADDR_WAIT;
	for (i = 0; i < n; i++) {
		ev->slots[i].cidr = cidr;
		spf_eval_slot_query(ev, i, addr, SLOT_ADDR);
	}
}

/* EV_MX_ADDR_WAIT: decides the mx term in MX record order. */
static void
spf_eval_step_mx_addr_wait(struct spf_eval *ev)
{
	struct spf_eval_frame *f = spf_eval_frame_top(ev);
	struct spf_eval_slot *s;
	int i;

	for (i = 0; i < ev->nslots; i++) {
		s = &ev->slots[i];
		spf_eval_fold(ev, s);
		if (spf_eval_slot_failed(s)) {
			spf_eval_dns_error(ev, s);
			return;
		}
		if (s->match) {
			spf_eval_term_match(ev, &f->rec.terms[f->idx]);
			return;
		}
	}
	spf_eval_term_next(ev);
}

/* EV_NO_MATCH: no mechanism matched; follow redirect= or default. */
static void
spf_eval_step_no_match(struct spf_eval *ev)
{
	struct spf_eval_frame *f = spf_eval_frame_top(ev);
	char *name = ev->slots[0].name;
	int n;

	if (f->rec.redirect == NULL) {
		spf_eval_frame_result(ev, SPF_RESULT_NEUTRAL, NULL);
		return;
	}
	if (!f->counted) {
		f->counted = 1;
		if (spf_eval_count_term(ev) < 0)
			return;
	}
	if (f->rec.redirect_p && !ev->p_done) {
		spf_eval_ptr_start(ev, EV_NO_MATCH, 1);
		return;
	}
	n = spf_eval_expand_name(ev, f, f->rec.redirect, f->rec.redirect_len,
	    name);
	if (n < 0) {
		spf_eval_permerror(ev, "invalid redirect target in the SPF "
		    "record of", f->domain);
		return;
	}
	spf_eval_arena_release(ev, f->mark_chunk, f->mark_used);
	f->kind = FRAME_REDIRECT;
	f->dlen = (size_t)n;
	memcpy(f->domain, name, (size_t)n + 1);
	ev->state = EV_RECORD_QUERY;
}

/* Writes the reverse-lookup name of the client into out. */
static void
spf_eval_ptr_name(const struct spf_eval *ev, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	int i, v;

	if (ev->family == AF_INET) {
		for (i = 3; i >= 0; i--) {
			v = ev->ip[i];
			if (v >= 100)
				out[n++] = (char)('0' + v / 100);
			if (v >= 10)
				out[n++] = (char)('0' + v / 10 % 10);
			out[n++] = (char)('0' + v % 10);
			out[n++] = '.';
		}
		memcpy(out + n, "in-addr.arpa", 13);
		return;
	}
	for (i = 15; i >= 0; i--) {
		out[n++] = hex[ev->ip[i] & 15];
		out[n++] = '.';
		out[n++] = hex[ev->ip[i] >> 4];
		out[n++] = '.';
	}
	memcpy(out + n, "ip6.arpa", 9);
}

/* EV_PTR_QUERY: asks the client's PTR records. */
static void
spf_eval_step_ptr_query(struct spf_eval *ev)
{
	spf_eval_ptr_name(ev, ev->slots[0].name);
	ev->state = EV_PTR_WAIT;
	spf_eval_slot_query(ev, 0, SPF_RR_PTR, SLOT_PTR);
}

/* Ends the PTR validation: the list is known, go on where we were. */
static void
spf_eval_ptr_done(struct spf_eval *ev)
{
	ev->p_done = 1;
	ev->state = ev->resume;
}

/* EV_PTR_WAIT: the PTR answer; asks every name's addresses at once. */
static void
spf_eval_step_ptr_wait(struct spf_eval *ev)
{
	struct spf_eval_slot *s = &ev->slots[0];
	enum spf_rrtype addr = ev->family == AF_INET ? SPF_RR_A : SPF_RR_AAAA;
	int i, n;

	spf_eval_fold(ev, s);
	ev->npvalid = 0;
	if (s->status != SPF_DNS_ANSWER || s->count == 0) {
		spf_eval_ptr_done(ev);	/* errors included: no validated name */
		return;
	}
	n = s->count;
	ev->nslots = n;
	ev->state = EV_PTR_ADDR_WAIT;
	for (i = 0; i < n; i++) {
		ev->slots[i].cidr = ev->family == AF_INET ? 32 : 128;
		spf_eval_slot_query(ev, i, addr, SLOT_ADDR);
	}
}

/* EV_PTR_ADDR_WAIT: keeps the names whose addresses include the client. */
static void
spf_eval_step_ptr_addr_wait(struct spf_eval *ev)
{
	struct spf_eval_slot *s;
	int i;

	for (i = 0; i < ev->nslots; i++) {
		s = &ev->slots[i];
		spf_eval_fold(ev, s);
		if (s->status == SPF_DNS_ANSWER && s->match)
			memcpy(ev->pvalid[ev->npvalid++], s->name,
			    strlen(s->name) + 1);
	}
	spf_eval_ptr_done(ev);
}

/* Falls back to the default explanation. */
static void
spf_eval_explain_default(struct spf_eval *ev)
{
	ev->exp_text = ev->def_exp;
	ev->exp_len = ev->def_exp_len;
	ev->exp_from_dns = 0;
	ev->state = EV_EXPLAIN;
}

/* EV_EXP: a fail; asks the exp= TXT record of the depth-0 record. */
static void
spf_eval_step_exp(struct spf_eval *ev)
{
	struct spf_eval_frame *f = &ev->frames[0];

	if (f->rec.exp == NULL) {
		spf_eval_explain_default(ev);
		return;
	}
	if (f->rec.exp_p && !ev->p_done) {
		spf_eval_ptr_start(ev, EV_EXP, 1);
		return;
	}
	if (spf_eval_expand_name(ev, f, f->rec.exp, f->rec.exp_len,
	    ev->slots[0].name) < 0) {
		spf_eval_explain_default(ev);
		return;
	}
	ev->state = EV_EXP_WAIT;
	spf_eval_slot_query(ev, 0, SPF_RR_TXT, SLOT_TXT_EXP);
}

/* EV_EXP_WAIT: keeps the text if it is one valid explanation-string. */
static void
spf_eval_step_exp_wait(struct spf_eval *ev)
{
	const struct spf_eval_slot *s = &ev->slots[0];
	const char *what;
	size_t at;

	if (s->status != SPF_DNS_ANSWER || s->count != 1 || s->text == NULL ||
	    spf_macro_check(s->text, s->text_len, SPF_MACRO_EXP, &at,
	    &what) < 0) {
		spf_eval_explain_default(ev);
		return;
	}
	ev->exp_text = s->text;
	ev->exp_len = s->text_len;
	ev->exp_from_dns = 1;
	ev->state = EV_EXPLAIN;
}

/* EV_EXPLAIN: expands the explanation into the verdict. */
static void
spf_eval_step_explain(struct spf_eval *ev)
{
	struct spf_verdict *v = &ev->verdict;

	if (ev->exp_text == NULL) {
		v->explanation[0] = '\0';
		ev->state = EV_DONE;
		return;
	}
	if (!ev->p_done && spf_macro_uses_p(ev->exp_text, ev->exp_len)) {
		spf_eval_ptr_start(ev, EV_EXPLAIN, 1);
		return;
	}
	spf_eval_env(ev, &ev->frames[0]);
	if (spf_macro_expand(&ev->env, ev->exp_text, ev->exp_len,
	    SPF_MACRO_EXP, v->explanation, sizeof(v->explanation)) < 0) {
		if (ev->exp_from_dns) {
			spf_eval_explain_default(ev);
			return;
		}
		v->explanation[0] = '\0';
	}
	ev->state = EV_DONE;
}

/* Runs the state of the machine once. */
static void
spf_eval_step(struct spf_eval *ev)
{
	switch (ev->state) {
	case EV_RECORD_QUERY:	spf_eval_step_record_query(ev); break;
	case EV_RECORD_WAIT:	spf_eval_step_record_wait(ev); break;
	case EV_TERM:		spf_eval_step_term(ev); break;
	case EV_ADDR_WAIT:	spf_eval_step_addr_wait(ev); break;
	case EV_MX_WAIT:	spf_eval_step_mx_wait(ev); break;
	case EV_MX_ADDR_WAIT:	spf_eval_step_mx_addr_wait(ev); break;
	case EV_NO_MATCH:	spf_eval_step_no_match(ev); break;
	case EV_PTR_QUERY:	spf_eval_step_ptr_query(ev); break;
	case EV_PTR_WAIT:	spf_eval_step_ptr_wait(ev); break;
	case EV_PTR_ADDR_WAIT:	spf_eval_step_ptr_addr_wait(ev); break;
	case EV_EXP:		spf_eval_step_exp(ev); break;
	case EV_EXP_WAIT:	spf_eval_step_exp_wait(ev); break;
	case EV_EXPLAIN:	spf_eval_step_explain(ev); break;
	case EV_IDLE:
	case EV_DONE:
	case EV_FINISHED:
		abort();	/* broken invariant: never stepped */
	}
}

/* Completes the verdict and calls done; the caller must not touch ev. */
static void
spf_eval_finish(struct spf_eval *ev)
{
	struct spf_verdict *v = &ev->verdict;
	size_t n;

	spf_eval_cancel_all(ev);
	ev->state = EV_FINISHED;
	switch (v->result) {
	case SPF_RESULT_PASS:
	case SPF_RESULT_FAIL:
	case SPF_RESULT_SOFTFAIL:
	case SPF_RESULT_NEUTRAL:
		if (ev->match == NULL) {
			memcpy(v->mechanism, "default", 8);
			break;
		}
		n = ev->match_len < sizeof(v->mechanism) ? ev->match_len :
		    sizeof(v->mechanism) - 1;
		memcpy(v->mechanism, ev->match, n);
		v->mechanism[n] = '\0';
		break;
	default:
		v->mechanism[0] = '\0';
		break;
	}
	if (v->result != SPF_RESULT_FAIL)
		v->explanation[0] = '\0';
	v->dnssec_secure = ev->answers > 0 && !ev->insecure;
	v->dns_lookups = ev->dns_terms;
	v->void_lookups = ev->void_lookups;
	ev->done(ev->arg, v);
}

/* The trampoline: steps while nothing is outstanding, then finishes. */
static void
spf_eval_run(struct spf_eval *ev)
{
	ev->running = 1;
	while (ev->pending == 0 && ev->state != EV_DONE)
		spf_eval_step(ev);
	ev->running = 0;
	if (ev->state == EV_DONE)
		spf_eval_finish(ev);	/* may free ev */
}

/*
 * Creation
 */

/* 1 if d is a usable <domain> per RFC 7208 4.3 (multi-label FQDN). */
static int
spf_eval_domain_ok(const char *d, size_t len)
{
	return spf_macro_name_ok(d, len) && memchr(d, '.', len) != NULL &&
	    d[0] != '[' && spf_printable_prefix(d, len) == len &&
	    memchr(d, ' ', len) == NULL;
}

/* Copies the identity strings of the request into the arena. */
static int
spf_eval_copy_identity(struct spf_eval *ev, const struct spf_request *req)
{
	const char *helo = req->helo ? req->helo : "";
	const char *sender = req->sender ? req->sender : "";
	const char *at = NULL, *dom;
	size_t n;

	if (ev->identity == SPF_ID_MAILFROM && sender[0] != '\0')
		at = strrchr(sender, '@');
	if (at != NULL && at != sender) {
		n = (size_t)(at - sender);
		if (n > SPF_LOCAL_MAX)
			n = SPF_LOCAL_MAX;
		if ((ev->env.l = spf_eval_arena_strndup(ev, sender, n,
		    &ev->env.l_len)) == NULL)
			return -1;
	} else {
		ev->env.l = "postmaster";
		ev->env.l_len = 10;
	}
	if (ev->identity == SPF_ID_MAILFROM && sender[0] != '\0')
		dom = at ? at + 1 : sender;
	else
		dom = helo;
	if ((ev->env.o = spf_eval_arena_strndup(ev, dom, SPF_NAME_MAX + 1,
	    &ev->env.o_len)) == NULL)
		return -1;
	if ((ev->env.h = spf_eval_arena_strndup(ev, req->helo && req->helo[0] ?
	    req->helo : "unknown", SPF_NAME_MAX + 1, &ev->env.h_len)) == NULL)
		return -1;
	return 0;
}

/* Copies the request's strings and fills the fixed verdict fields. */
static int
spf_eval_copy_request(struct spf_eval *ev, const struct spf_request *req)
{
	struct spf_sb sb;
	size_t n;

	if (spf_eval_copy_identity(ev, req) < 0)
		return -1;
	if ((ev->env.r = spf_eval_arena_strndup(ev, req->receiver ?
	    req->receiver :
	    "unknown", SPF_NAME_MAX + 1, &ev->env.r_len)) == NULL)
		return -1;
	ev->def_exp = NULL;
	ev->def_exp_len = 0;
	if (req->default_explanation != NULL && (ev->def_exp =
	    spf_eval_arena_strndup(ev, req->default_explanation,
	    SPF_EXPLANATION_MAX - 1, &ev->def_exp_len)) == NULL)
		return -1;
	ev->top = ev->env.o;
	n = ev->env.o_len;
	if (n > 0 && ev->top[n - 1] == '.')
		n--;
	ev->top_len = n;
	ev->top_ok = spf_eval_domain_ok(ev->top, n);

	ev->verdict.identity = ev->identity;
	spf_sb_init(&sb, ev->verdict.identity_text,
	    sizeof(ev->verdict.identity_text));
	if (ev->identity == SPF_ID_MAILFROM) {
		spf_sb_put_printable(&sb, ev->env.l, ev->env.l_len);
		spf_sb_puts(&sb, "@");
	}
	spf_sb_put_printable(&sb, ev->env.o, ev->env.o_len);
	spf_sb_init(&sb, ev->verdict.domain, sizeof(ev->verdict.domain));
	spf_sb_put_printable(&sb, ev->top, ev->top_len);
	return 0;
}

/* Fills limits, taking the RFC default for every field <= 0. */
static void
spf_eval_limits(struct spf_limits *out, const struct spf_limits *in)
{
	struct spf_limits def;

	spf_limits_default(&def);
	out->dns_terms = in->dns_terms > 0 ? in->dns_terms : def.dns_terms;
	out->void_lookups = in->void_lookups > 0 ? in->void_lookups :
	    def.void_lookups;
	out->mx_names = in->mx_names > 0 ? in->mx_names : def.mx_names;
	out->ptr_names = in->ptr_names > 0 ? in->ptr_names : def.ptr_names;
	if (out->mx_names > EVAL_SLOTS)
		out->mx_names = EVAL_SLOTS;
	if (out->ptr_names > EVAL_SLOTS)
		out->ptr_names = EVAL_SLOTS;
}

/* Copies the client address; IPv4-mapped IPv6 becomes IPv4 (RFC 7208 5). */
static void
spf_eval_set_ip(struct spf_eval *ev, const struct spf_request *req)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };

	memset(ev->ip, 0, sizeof(ev->ip));
	if (req->family == AF_INET6 && memcmp(req->ip, mapped, 12) == 0) {
		ev->family = AF_INET;
		memcpy(ev->ip, req->ip + 12, 4);
	} else {
		ev->family = req->family;
		memcpy(ev->ip, req->ip, req->family == AF_INET ? 4 : 16);
	}
}

/* Creates an evaluation (see spf.h). */
struct spf_eval *
spf_eval_new(const struct spf_request *req, struct spf_resolver *resolver,
    spf_done_cb *done, void *arg)
{
	struct spf_eval *ev;

	if (req == NULL || resolver == NULL || resolver->ops == NULL ||
	    done == NULL || (req->family != AF_INET && req->family != AF_INET6))
		return NULL;
	if ((ev = malloc(sizeof(*ev))) == NULL)
		return NULL;
	ev->resolver = resolver;
	ev->done = done;
	ev->arg = arg;
	ev->state = EV_IDLE;
	ev->running = 0;
	ev->pending = 0;
	ev->identity = req->identity == SPF_ID_HELO ? SPF_ID_HELO :
	    SPF_ID_MAILFROM;
	ev->nused = 0;		/* slots are initialized when first used */
	ev->nchunks = 0;
	spf_eval_arena_release(ev, 0, 0);
	spf_eval_set_ip(ev, req);
	spf_eval_limits(&ev->limits, &req->limits);
	ev->env.family = ev->family;
	ev->env.ip = ev->ip;
	ev->env.now = req->now;
	ev->env.p = NULL;
	ev->env.p_len = 0;
	if (spf_eval_copy_request(ev, req) < 0)
		goto fail;
	ev->base_used = ev->a_used;
	return ev;
fail:
	spf_eval_free(ev);
	return NULL;
}

/*
 * Starts an evaluation, or starts it again after done was called; done is
 * called exactly once per effective start.  Caution: a call while an
 * evaluation is in progress is ignored (it would otherwise lose the done
 * call of the running one).
 */
void
spf_eval_start(struct spf_eval *ev)
{
	struct spf_sb sb;

	if (ev == NULL || (ev->state != EV_IDLE && ev->state != EV_FINISHED))
		return;
	spf_eval_cancel_all(ev);
	spf_eval_arena_release(ev, 0, ev->base_used);
	ev->depth = 0;
	ev->dns_terms = 0;
	ev->void_lookups = 0;
	ev->answers = 0;
	ev->insecure = 0;
	ev->settled = 0;
	ev->p_done = 0;
	ev->npvalid = 0;
	ev->match = NULL;
	ev->exp_text = NULL;
	ev->verdict.reason[0] = '\0';
	ev->verdict.explanation[0] = '\0';
	ev->verdict.mechanism[0] = '\0';
	if (!ev->top_ok) {
		sb = spf_eval_end(ev, SPF_RESULT_NONE);
		spf_sb_puts(&sb, "no SPF record: '");
		spf_sb_put_printable(&sb, ev->env.o, ev->env.o_len);
		spf_sb_puts(&sb, "' is not a valid domain name");
	} else {
		(void)spf_eval_frame_push(ev, ev->top, ev->top_len, FRAME_TOP);
	}
	spf_eval_run(ev);
}

/* Cancels outstanding questions and frees; NULL-safe. */
void
spf_eval_free(struct spf_eval *ev)
{
	int i;

	if (ev == NULL)
		return;
	spf_eval_cancel_all(ev);
	for (i = 0; i < ev->nchunks; i++)
		free(ev->chunks[i]);
	free(ev);
}
