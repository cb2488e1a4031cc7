/*
 * smtp_cmd.h - parser for SMTP command lines (RFC 5321 4.1, RFC 1870,
 * RFC 6152, RFC 3461, RFC 6531) and re-serializer of accepted parameters.
 *
 * CONTRACT
 *	Pure and allocation-free, libc only.  The caller hands in one command
 *	line without its CR LF, as pointer + length (it need not be
 *	NUL-terminated and may hold any octet).  smtp_cmd_parse() splits it
 *	into verb and arguments pointing into the caller's buffer; the verb
 *	specific parsers copy what they accept into fixed-size fields, so the
 *	results outlive the line.  On error they fill a struct smtp_cmd_error
 *	with the reply to give (static strings) and return -1.
 *
 * SYNTAX DECISIONS
 *	- Verbs, "FROM:", "TO:", parameter keywords and the keyword values
 *	  (BODY=, RET=, NOTIFY=) are case-insensitive.
 *	- Liberal in whitespace: any run of spaces separates the verb from
 *	  its arguments and parameters from each other, trailing spaces and
 *	  tabs are ignored, and spaces between "FROM:"/"TO:" and the "<" are
 *	  tolerated (many MTAs send "MAIL FROM: <a@b>").
 *	- Strict in the path: the angle brackets are required.  A source
 *	  route "<@a,@b:user@d>" is accepted and stripped.  The local part is
 *	  a dot-string or a quoted string (kept as written, quotes and
 *	  backslashes included); the domain is a host name or an address
 *	  literal [1.2.3.4] / [IPv6:...]; general address literals are
 *	  rejected.  "<>" is the null reverse-path (MAIL only);
 *	  "<Postmaster>" without a domain is accepted for RCPT only.
 *	- Limits: local part 64, domain 255, path 256 octets including the
 *	  angle brackets and any source route (RFC 5321 4.5.3.1).
 *	- UTF-8 (RFC 6531): non-ASCII octets in addresses must form
 *	  well-formed UTF-8 and are allowed only when the transaction has
 *	  SMTPUTF8 (the MAIL parameter); otherwise 553 5.6.7.
 *	- ESMTP parameters are accepted only after EHLO (esmtp != 0).  Known
 *	  ones are validated; an unknown, duplicate, malformed or (after HELO)
 *	  any parameter gives 555 5.5.4.  BODY=BINARYMIME is refused (no
 *	  CHUNKING).  xtext (ENVID, ORCPT) follows RFC 3461 except that the
 *	  "+XX" hex digits may also be lower case.
 *
 * ERRORS
 *	501 5.5.2 command syntax (missing "FROM:", missing brackets),
 *	501 5.1.7 bad sender address, 501 5.1.3 bad recipient address,
 *	553 5.6.7 non-ASCII address without SMTPUTF8, 555 5.5.4 parameters,
 *	501 5.5.4 bad HELO/EHLO argument.
 */
#ifndef SMTP_SMTP_CMD_H
#define SMTP_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define SMTP_DOMAIN_MAX	255	/* RFC 5321 4.5.3.1.2 */
#define SMTP_PATH_MAX	256	/* RFC 5321 4.5.3.1.3, brackets included */
#define SMTP_HELO_MAX	255	/* HELO/EHLO argument */
#define SMTP_ENVID_MAX	100	/* RFC 3461 4.4 */
#define SMTP_ORCPT_MAX	500	/* RFC 3461 4.2 */

/* Command verbs; SMTP_VERB_UNKNOWN for anything else (also empty lines). */
enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_BDAT,
	SMTP_VERB_AUTH
};
#define SMTP_VERB_COUNT 15

/* One split command line; args point into the caller's line. */
struct smtp_cmd {
	enum smtp_verb	 verb;
	const char	*args;		/* after the verb and its spaces */
	size_t		 args_len;	/* 0 if none; trailing blanks cut */
};

/* The reply a parse error calls for; all strings are static. */
struct smtp_cmd_error {
	int		 code;		/* 501, 553 or 555 */
	const char	*enhanced;	/* "5.5.2", ... */
	const char	*text;
};

/* BODY= values (RFC 6152). */
enum smtp_body {
	SMTP_BODY_NONE = 0,		/* not given */
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME
};

/* RET= values (RFC 3461). */
enum smtp_ret {
	SMTP_RET_NONE = 0,		/* not given */
	SMTP_RET_FULL,
	SMTP_RET_HDRS
};

/* NOTIFY= bits (RFC 3461); 0 means the parameter was not given. */
#define SMTP_NOTIFY_NEVER	0x01
#define SMTP_NOTIFY_SUCCESS	0x02
#define SMTP_NOTIFY_FAILURE	0x04
#define SMTP_NOTIFY_DELAY	0x08

/* An accepted MAIL command. */
struct smtp_mail {
	char		sender[SMTP_PATH_MAX + 1]; /* no <>, no route; "" = null path */
	size_t		domain;		/* offset of the domain in sender; 0 for "" */
	int		has_size;	/* SIZE= given */
	uint64_t	size;		/* its value (saturates at UINT64_MAX) */
	enum smtp_body	body;
	int		smtputf8;	/* SMTPUTF8 given */
	enum smtp_ret	ret;
	char		envid[SMTP_ENVID_MAX + 1]; /* xtext as received; "" = none */
};

/* An accepted RCPT command. */
struct smtp_rcpt {
	char		rcpt[SMTP_PATH_MAX + 1];	/* no <>, no route */
	size_t		domain;		/* offset of the domain; 0 for Postmaster */
	unsigned	notify;		/* SMTP_NOTIFY_* bits, 0 = not given */
	char		orcpt[SMTP_ORCPT_MAX + 1]; /* "type;xtext" as received */
};

/* Extensions a peer supports, to choose what to forward. */
#define SMTP_CMD_EXT_SIZE	0x01
#define SMTP_CMD_EXT_8BITMIME	0x02
#define SMTP_CMD_EXT_SMTPUTF8	0x04
#define SMTP_CMD_EXT_DSN	0x08

/* Splits line[0..len) into verb and arguments. */
void smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd);

/* Upper-case name of a verb ("MAIL"); "UNKNOWN" for SMTP_VERB_UNKNOWN. */
const char *smtp_cmd_verb_name(enum smtp_verb verb);

/*
 * Accepts a HELO/EHLO argument: 1..SMTP_HELO_MAX octets without control
 * characters (liberal: not necessarily a valid domain, as many clients
 * send junk; see smtp_cmd_is_domain()).  Copies it NUL-terminated into
 * name, which must hold SMTP_HELO_MAX + 1 octets.  0 or -1 (501 5.5.4).
 */
int smtp_cmd_parse_helo(const char *args, size_t len, char *name,
    struct smtp_cmd_error *err);

/*
 * Parses the arguments of MAIL ("FROM:<path> [params]") into *mail;
 * esmtp says whether parameters are allowed (session began with EHLO).
 * Returns 0, or -1 with *err set and *mail unspecified.
 */
int smtp_cmd_parse_mail(const char *args, size_t len, int esmtp,
    struct smtp_mail *mail, struct smtp_cmd_error *err);

/*
 * Parses the arguments of RCPT ("TO:<path> [params]") into *rcpt; utf8
 * says whether the transaction has SMTPUTF8.  Returns 0 or -1 with *err.
 */
int smtp_cmd_parse_rcpt(const char *args, size_t len, int esmtp, int utf8,
    struct smtp_rcpt *rcpt, struct smtp_cmd_error *err);

/* 1 if s[0..len) is a syntactically valid domain name (RFC 5321 Domain). */
int smtp_cmd_is_domain(const char *s, size_t len, int utf8);

/*
 * Re-serializes the parameters of an accepted MAIL that the peer supports
 * (ext: SMTP_CMD_EXT_* bits), space-separated, without leading space:
 * "SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x".  Writes a
 * NUL-terminated string to buf; returns its length, or -1 if buf is too
 * small.
 */
int smtp_cmd_format_mail_params(const struct smtp_mail *mail, unsigned ext,
    char *buf, size_t size);

/* Same for RCPT: "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b" (DSN only). */
int smtp_cmd_format_rcpt_params(const struct smtp_rcpt *rcpt, unsigned ext,
    char *buf, size_t size);

/*
 * Formats the whole command for the peer, "MAIL FROM:<sender> params\r\n"
 * or "RCPT TO:<rcpt> params\r\n".  Returns the length or -1 if buf is too
 * small.
 */
int smtp_cmd_format_mail(const struct smtp_mail *mail, unsigned ext,
    char *buf, size_t size);
int smtp_cmd_format_rcpt(const struct smtp_rcpt *rcpt, unsigned ext,
    char *buf, size_t size);

#endif /* SMTP_SMTP_CMD_H */
