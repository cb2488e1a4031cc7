/*
 * srs_gate.h - the relay's SRS policy: which senders are rewritten, which
 * recipients are bounces to reverse, and what is refused.
 *
 * CONTRACT
 *	MAIL FROM (after the SPF policy accepted the original sender):
 *	srs_gate_sender() rewrites the envelope sender into the bounce domain
 *	that applies to the sender's domain ([srs] merged with its [domain]
 *	section), unless that says no, the sender is <>, or it already
 *	belongs to that bounce domain.  SPF was checked on the original.
 *
 *	RCPT TO: srs_gate_rcpt() looks at recipients in any bounce domain
 *	([srs] domain and every [domain] srs_domain).  Such a recipient is
 *	accepted only if it is a valid SRS address (hash in constant time,
 *	age within max_age) and the transaction's sender may send to it
 *	(bounce_senders: only <> by default), within the per-client rate
 *	limit, and bounce forwarding is on for the original sender's domain;
 *	it is then replaced by the original address.  Everything else in a
 *	bounce domain is refused: no other local part is relayed.
 *	Every decision is reported in *result for the caller's log line.
 *
 *	Per-domain hash_length and max_age: one rewriter per distinct pair.
 *	A bounce must verify with the pair that applies to the domain it
 *	decodes to, so a domain's stricter max_age holds for its bounces.
 *
 * OWNERSHIP
 *	One gate per worker process (it holds the rate limiter).  The conf
 *	must outlive it.
 */
#ifndef RELAY_SRS_GATE_H
#define RELAY_SRS_GATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf/conf.h"

struct srs_gate;

/* What srs_gate_rcpt() decided. */
enum srs_gate_verdict {
	SRS_GATE_NOT_BOUNCE = 0,	/* not a bounce domain: carry on */
	SRS_GATE_FORWARD,		/* valid: forward to result->address */
	SRS_GATE_REFUSE			/* refuse with result->code/text */
};

struct srs_gate_result {
	int code;			/* SMTP reply for SRS_GATE_REFUSE */
	const char *enhanced;
	char text[256];			/* reply text / log reason */
	char address[1025];		/* rewritten sender or reversed rcpt */
};

/*
 * Loads the secrets and builds the rewriters when SRS is used anywhere
 * ([srs] enabled or a [domain] with srs = yes).  Returns NULL with a
 * reason in err on failure; a gate that does nothing when SRS is unused.
 */
struct srs_gate *srs_gate_new(const struct conf *conf, char *err,
    size_t errlen);
void srs_gate_free(struct srs_gate *gate);

/* 1 if SRS is configured at all. */
int srs_gate_active(const struct srs_gate *gate);

/*
 * Sender rewriting.  Returns 1 and fills result->address when the sender
 * is rewritten, 0 when it stays as it is, -1 on an internal error (text
 * in result->text; the caller defers).
 */
int srs_gate_sender(const struct srs_gate *gate, const char *sender,
    time_t now, struct srs_gate_result *result);

/*
 * Recipient check.  sender is the transaction's envelope sender ("" for
 * <>); family/addr the client address for the rate limit; now_ms a
 * monotonic clock for it.
 */
enum srs_gate_verdict srs_gate_rcpt(struct srs_gate *gate, const char *rcpt,
    const char *sender, int family, const unsigned char *addr, time_t now,
    int64_t now_ms, struct srs_gate_result *result);

#endif /* RELAY_SRS_GATE_H */
