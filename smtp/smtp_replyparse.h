/*
 * smtp_replyparse.h - incremental parser for SMTP replies (RFC 5321 4.2).
 *
 * CONTRACT
 *	Parses the replies an SMTP server sends, single- or multi-line
 *	("250-first", ..., "250 last"), from arbitrary byte chunks.  Pure and
 *	allocation-free: all state, the current line and the reply text live
 *	in struct smtp_replyparse, which the caller embeds.  libc only.
 *
 *	smtp_replyparse_feed() consumes bytes up to and including the end of
 *	at most one line and says what happened:
 *	  NEED_MORE	every byte consumed, no line complete yet;
 *	  LINE		a continuation line ("ddd-...") is complete;
 *	  DONE		the last line ("ddd ..." or bare "ddd") is complete:
 *			the reply is in code/enhanced/text;
 *	  ERROR		the input is not an SMTP reply; p->error says why.
 *	After DONE the next feed starts a new reply.  ERROR is sticky until
 *	smtp_replyparse_init().
 *
 * SYNTAX AND LIMITS
 *	A line ends with LF; a CR right before it is dropped (bare LF is
 *	tolerated as many clients do).  A line holds at most
 *	SMTP_REPLYPARSE_LINE_MAX octets including CR LF, a reply at most
 *	SMTP_REPLYPARSE_LINES_MAX lines: beyond either the parser fails at
 *	once, without waiting for the rest.  A NUL octet anywhere fails.
 *	Every line starts with a three-digit code [2-5][0-5][0-9] followed by
 *	"-" (more lines follow), " " or the end of the line (last line); all
 *	lines of one reply carry the same code.
 *
 * TEXT
 *	An RFC 3463 enhanced status code (class.subject.detail) at the start
 *	of the first line's text is extracted into p->enhanced when its class
 *	matches the reply code's first digit; the same code at the start of
 *	later lines is dropped from their text.  The text of all lines is
 *	kept, joined with '\n' and NUL-terminated, in p->text; control octets
 *	other than HT are replaced with '?' (the text is relayed to other
 *	peers).  Whole lines that would overflow SMTP_REPLYPARSE_TEXT_MAX are
 *	left out and p->truncated is set; the first line always fits.
 */
#ifndef SMTP_SMTP_REPLYPARSE_H
#define SMTP_SMTP_REPLYPARSE_H

#include <stddef.h>

#define SMTP_REPLYPARSE_LINE_MAX	2048	/* octets per line, CR LF included */
#define SMTP_REPLYPARSE_LINES_MAX	100	/* lines per reply */
#define SMTP_REPLYPARSE_TEXT_MAX	4096	/* kept text, NUL excluded */
#define SMTP_REPLYPARSE_ENH_MAX		12	/* "5.123.123" + NUL fits */

/* What one smtp_replyparse_feed() call produced. */
enum smtp_replyparse_status {
	SMTP_REPLYPARSE_NEED_MORE = 0,
	SMTP_REPLYPARSE_LINE,
	SMTP_REPLYPARSE_DONE,
	SMTP_REPLYPARSE_ERROR
};

/* Parser state and the reply being assembled; embed it, never copy it. */
struct smtp_replyparse {
	char	line[SMTP_REPLYPARSE_LINE_MAX];	/* current line, no LF */
	size_t	line_len;
	int	code;			/* reply code, 0 before the first line */
	int	lines;			/* complete lines of this reply */
	int	done;			/* last feed returned DONE */
	char	enhanced[SMTP_REPLYPARSE_ENH_MAX]; /* "5.1.1" or "" */
	char	text[SMTP_REPLYPARSE_TEXT_MAX + 1]; /* lines joined by '\n' */
	size_t	text_len;
	int	truncated;		/* 1: lines left out of text */
	const char *last;		/* text of the line just completed */
	size_t	last_len;		/* (points into line[], valid until next feed) */
	const char *error;		/* static reason after ERROR, else NULL */
};

/* Resets the parser to expect the first line of a new reply. */
void smtp_replyparse_init(struct smtp_replyparse *p);

/*
 * Consumes data[0..len) up to the end of the first line it completes and
 * stores the count in *consumed; returns what happened (see above).
 */
enum smtp_replyparse_status smtp_replyparse_feed(struct smtp_replyparse *p,
    const char *data, size_t len, size_t *consumed);

/* 1 if some bytes of an unfinished line or reply are buffered. */
int smtp_replyparse_pending(const struct smtp_replyparse *p);

#endif /* SMTP_SMTP_REPLYPARSE_H */
