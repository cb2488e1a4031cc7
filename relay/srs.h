/*
 * srs.h - the Sender Rewriting Scheme: SRS0/SRS1 addresses compatible
 * byte for byte with Mail::SRS (its default "Guarded" scheme) and
 * PostSRSd.  See docs/srs.md for the format and the choices below.
 *
 * CONTRACT
 *	srs_forward() rewrites an envelope sender for a forwarded message:
 *
 *	    user@example.com             -> SRS0=HHHH=TT=example.com=user@D
 *	    SRS0=hhhh=tt=orig.com=u@fw.net -> SRS1=HHHH=fw.net==hhhh=tt=orig.com=u@D
 *	    SRS1=hhhh=fw.net==...@fw2.org  -> SRS1=HHHH=fw.net==...@D
 *
 *	(D = the bounce domain; "=" after the tag is the configured
 *	separator, = + or -).  HHHH is the first hash_length characters of
 *	the standard base64 HMAC-SHA1, keyed with the first secret, of the
 *	ASCII-lower-cased fields; TT is the day number modulo 1024 in two
 *	base32 characters.  A sender already in D and the null sender are
 *	left alone.  An SRS1 sender too broken to name a domain and a user
 *	(fewer than two '=' after the tag, or an empty field) is wrapped in
 *	SRS0 like any other address, so that it stays reversible.
 *
 *	srs_reverse() undoes one step for a bounce: SRS0 -> the original
 *	sender after checking hash and timestamp; SRS1 -> the SRS0 address
 *	at the first forwarder after checking the hash (the timestamp inside
 *	is that forwarder's business).  Hashes verify with every secret,
 *	case-insensitively, in the standard or the URL-safe base64 alphabet,
 *	compared in constant time over all their characters; they must be
 *	at least hash_length long.  A timestamp is valid when its age
 *	(today - stamp, modulo 1024) is at most max_age days; max_age is
 *	limited to 511 so that an old or future stamp can never pass for a
 *	recent one within one 1024-day cycle.
 *
 *	srs_load_secrets() reads a secrets file: one secret per line, the
 *	first signs, every one verifies (rotation), as PostSRSd reads it.
 *
 *	This module uses libc and OpenSSL's libcrypto only.  A struct srs is
 *	immutable after srs_new(): threads may share it.
 *
 * OWNERSHIP
 *	srs_new() copies the secrets; srs_free() wipes and frees them.
 *	srs_load_secrets() returns an array that srs_free_secrets() wipes
 *	and frees.  Output strings go to caller-owned buffers; every
 *	function that fails puts a one-line reason in why (if not NULL).
 */
#ifndef RELAY_SRS_H
#define RELAY_SRS_H

#include <stddef.h>
#include <time.h>

#define SRS_HASH_MIN 4		/* shortest hash_length accepted */
#define SRS_HASH_MAX 27		/* base64 characters of a whole HMAC-SHA1 */
#define SRS_MAX_AGE_MAX 511	/* days: below half the 1024-day cycle */
#define SRS_ADDR_MAX 1024	/* longest address taken as input */
#define SRS_SECRET_LINE_MAX 65536	/* longest line of a secrets file */
#define SRS_SECRETS_MAX 256	/* most secrets in one file */
#define SRS_SECRETS_FILE_MAX (1024 * 1024)	/* largest secrets file */

#define SRS_OK 0		/* rewritten / reversed */
#define SRS_UNCHANGED 1		/* forward: null sender or already in D */
#define SRS_NOT_SRS 1		/* reverse: not an SRS0/SRS1 address */
#define SRS_ERROR (-1)		/* invalid input; reason in why */

struct srs;

/*
 * Creates a rewriter.  secrets[0] signs, all verify; each must be a
 * non-empty string.  hash_length SRS_HASH_MIN..SRS_HASH_MAX, max_age_days
 * 1..SRS_MAX_AGE_MAX, separator '=', '+' or '-'.  NULL with a reason on a
 * bad argument or out of memory.
 */
struct srs *srs_new(const char *const *secrets, int nsecrets,
    int hash_length, int max_age_days, char separator, char *why,
    size_t whylen);

/* Wipes the secrets and frees the rewriter (NULL-safe). */
void srs_free(struct srs *srs);

/*
 * Rewrites sender (local@domain, without angle brackets) into an address
 * at bounce_domain, dated now.  Returns SRS_OK with the new address in
 * out; SRS_UNCHANGED with sender copied to out when sender is empty (the
 * null sender) or its domain is bounce_domain (ASCII case-insensitive);
 * SRS_ERROR when sender is not an address (no @, empty part, control
 * characters, '=' in its domain, longer than SRS_ADDR_MAX), when
 * bounce_domain is empty or holds '@' or '=', or when out is too small.
 */
int srs_forward(const struct srs *srs, const char *sender,
    const char *bounce_domain, time_t now, char *out, size_t outlen,
    char *why, size_t whylen);

/*
 * Reverses addr (an SRS address at our bounce domain; the domain itself
 * is not checked here) as of now.  Returns SRS_OK with the result in
 * out; SRS_NOT_SRS when addr's local part does not start with SRS0 or
 * SRS1 and a separator (out untouched); SRS_ERROR when it is malformed,
 * its hash does not verify, its timestamp is expired or in the future,
 * or out is too small.
 */
int srs_reverse(const struct srs *srs, const char *addr, time_t now,
    char *out, size_t outlen, char *why, size_t whylen);

/*
 * 1 if s (a local part or a whole address) starts with SRS0 or SRS1
 * (any case) followed by '=', '+' or '-'; else 0.
 */
int srs_is_srs(const char *s);

/*
 * Reads the secrets in path: one per line (LF or CRLF), empty lines
 * skipped, every other byte kept (spaces too), in file order.  Refuses a
 * file that is not a regular file, is readable or writable by others, is
 * larger than SRS_SECRETS_FILE_MAX, holds no secret, a NUL or a stray CR,
 * a line longer than SRS_SECRET_LINE_MAX or more than SRS_SECRETS_MAX
 * secrets.  Returns 0 with *secrets (NULL-terminated too) and *nsecrets
 * set, or -1 with a reason.
 */
int srs_load_secrets(const char *path, char ***secrets, int *nsecrets,
    char *why, size_t whylen);

/* Wipes and frees what srs_load_secrets() returned (NULL-safe). */
void srs_free_secrets(char **secrets, int nsecrets);

#endif /* RELAY_SRS_H */
