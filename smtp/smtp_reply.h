/*
 * smtp_reply.h - formatting of SMTP replies (RFC 5321 4.2, RFC 3463).
 *
 * CONTRACT
 *	Turns (code, enhanced status code, text) into wire lines:
 *	  "250-first line\r\n" ... "250 2.1.0 last line\r\n".
 *	The text may hold several lines separated by '\n' (a CR right before
 *	a '\n' and one '\n' at the very end are dropped); every line gets the
 *	code, and the enhanced code when one is given (RFC 2034 says every
 *	line carries it).  Pure, allocation-free, libc only.
 *
 * VALIDATION
 *	The code must be [2-5][0-5][0-9].  The enhanced code is optional
 *	(NULL: greeting, HELO/EHLO, 354); when given it must be
 *	class.subject.detail with 1-3 digits each and its class must equal
 *	the code's first digit, which rules it out for 3xx codes.  Anything
 *	else makes the functions fail without output: callers that relay text
 *	from elsewhere check first with smtp_reply_code_valid() and
 *	smtp_reply_enhanced_valid().
 *
 * TEXT SANITIZING
 *	Caution: the text is relayed peer data in the daemon (a backend's
 *	reply), so octets outside 0x20..0x7e become '?' and a line that would
 *	exceed SMTP_REPLY_LINE_MAX octets (CR LF included, RFC 5321 4.5.3.1.5)
 *	is cut to fit.  Cutting is deliberate, not an error.
 */
#ifndef SMTP_SMTP_REPLY_H
#define SMTP_SMTP_REPLY_H

#include <stddef.h>

#define SMTP_REPLY_LINE_MAX	512	/* octets per reply line, CR LF included */

/* Receives one complete reply line, CR LF included (not NUL-terminated). */
typedef void smtp_reply_out_fn(void *arg, const char *line, size_t len);

/* 1 if code is a valid reply code [2-5][0-5][0-9], else 0. */
int smtp_reply_code_valid(int code);

/* 1 if enhanced is a well-formed RFC 3463 code of code's class, else 0. */
int smtp_reply_enhanced_valid(int code, const char *enhanced);

/*
 * Emits the reply line by line through out(arg, ...); returns the number
 * of lines, or -1 (nothing emitted) if code or enhanced is invalid.
 * enhanced may be NULL; text may be NULL or "" (a line with the code only).
 */
int smtp_reply_emit(int code, const char *enhanced, const char *text,
    smtp_reply_out_fn *out, void *arg);

/*
 * Formats the whole reply into buf (NUL-terminated); returns its length,
 * or -1 if the arguments are invalid or buf is too small.
 */
int smtp_reply_format(char *buf, size_t size, int code, const char *enhanced,
    const char *text);

#endif /* SMTP_SMTP_REPLY_H */
