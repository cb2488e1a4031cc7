/*
 * smtp_replyparse.c - incremental parser for SMTP replies.
 *
 * CONTRACT
 *	See smtp_replyparse.h.  Bytes are copied into p->line until LF; the
 *	complete line is then checked, its text cleaned and appended to
 *	p->text.  No allocation, no libc call that can fail.
 */
#include "smtp/smtp_replyparse.h"

#include <string.h>

/* Forgets the previous reply (buffers are overwritten, not cleared). */
static void
replyparse_begin(struct smtp_replyparse *p)
{
	p->line_len = 0;
	p->code = 0;
	p->lines = 0;
	p->done = 0;
	p->enhanced[0] = '\0';
	p->text[0] = '\0';
	p->text_len = 0;
	p->truncated = 0;
	p->last = p->line;
	p->last_len = 0;
}

/* Resets the parser to expect the first line of a new reply. */
void
smtp_replyparse_init(struct smtp_replyparse *p)
{
	replyparse_begin(p);
	p->error = NULL;
}

/* Makes the parser fail for good (until init) and says why. */
static enum smtp_replyparse_status
replyparse_fail(struct smtp_replyparse *p, const char *why)
{
	p->error = why;
	return SMTP_REPLYPARSE_ERROR;
}

/* 1 if c is an ASCII digit. */
static int
replyparse_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads the reply code (RFC 5321 4.2: [2-5][0-5][0-9]); -1 if malformed. */
static int
replyparse_code(const char *s, size_t len)
{
	if (len < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '5' ||
	    !replyparse_digit(s[2]))
		return -1;
	if (len > 3 && s[3] != ' ' && s[3] != '-')
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* Counts 1 to 3 digits at s (bounded by len); 0 if none or more than 3. */
static size_t
replyparse_digits(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && replyparse_digit(s[n]))
		n++;
	return n <= 3 ? n : 0;
}

/*
 * Length of an RFC 3463 enhanced code of class cls at the start of s,
 * which must be followed by a space or the end of the text; 0 if none.
 */
static size_t
replyparse_enhanced_len(const char *s, size_t len, char cls)
{
	size_t n, d;

	if (len < 5 || s[0] != cls || s[1] != '.')
		return 0;
	n = 2;
	if ((d = replyparse_digits(s + n, len - n)) == 0)
		return 0;
	n += d;
	if (n >= len || s[n] != '.')
		return 0;
	n++;
	if ((d = replyparse_digits(s + n, len - n)) == 0)
		return 0;
	n += d;
	if (n < len && s[n] != ' ')
		return 0;
	return n;
}

/* Replaces control octets other than HT with '?' (text is relayed). */
static void
replyparse_clean(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			s[i] = '?';
	}
}

/*
 * Strips the enhanced code from a line's text: the first line defines it,
 * later lines lose it only when they repeat it.  Updates *text and *len.
 */
static void
replyparse_strip_enhanced(struct smtp_replyparse *p, const char **text,
    size_t *len)
{
	size_t n = replyparse_enhanced_len(*text, *len, p->line[0]);

	if (n == 0 || n >= sizeof(p->enhanced))
		return;
	if (p->lines == 1) {
		memcpy(p->enhanced, *text, n);
		p->enhanced[n] = '\0';
	} else if (strlen(p->enhanced) != n ||
	    memcmp(p->enhanced, *text, n) != 0)
		return;
	if (n < *len)
		n++;			/* the space after the code */
	*text += n;
	*len -= n;
}

/* Appends one line's text to p->text, or marks the reply truncated. */
static void
replyparse_append(struct smtp_replyparse *p, const char *text, size_t len)
{
	size_t sep = p->lines > 1 ? 1 : 0;

	if (p->truncated || p->text_len + sep + len > SMTP_REPLYPARSE_TEXT_MAX) {
		p->truncated = 1;
		return;
	}
	if (sep)
		p->text[p->text_len++] = '\n';
	memcpy(p->text + p->text_len, text, len);
	p->text_len += len;
	p->text[p->text_len] = '\0';
}

/* Checks and records the complete line in p->line[0..line_len). */
static enum smtp_replyparse_status
replyparse_line(struct smtp_replyparse *p)
{
	size_t len = p->line_len;
	const char *text;
	char *body;
	int code, more;

	p->line_len = 0;
	if (len > 0 && p->line[len - 1] == '\r')
		len--;
	if ((code = replyparse_code(p->line, len)) < 0)
		return replyparse_fail(p, "malformed reply code");
	if (p->lines == SMTP_REPLYPARSE_LINES_MAX)
		return replyparse_fail(p, "too many lines in reply");
	if (p->code != 0 && code != p->code)
		return replyparse_fail(p, "inconsistent codes in multi-line reply");
	p->code = code;
	p->lines++;
	more = len > 3 && p->line[3] == '-';
	body = p->line + (len > 4 ? 4 : len);
	len = len > 4 ? len - 4 : 0;
	replyparse_clean(body, len);
	text = body;
	replyparse_strip_enhanced(p, &text, &len);
	replyparse_append(p, text, len);
	p->last = text;
	p->last_len = len;
	if (more)
		return SMTP_REPLYPARSE_LINE;
	p->done = 1;
	return SMTP_REPLYPARSE_DONE;
}

/* Consumes bytes up to the end of one line; see smtp_replyparse.h. */
enum smtp_replyparse_status
smtp_replyparse_feed(struct smtp_replyparse *p, const char *data, size_t len,
    size_t *consumed)
{
	const char *lf;
	size_t n;

	*consumed = 0;
	if (p->error != NULL)
		return SMTP_REPLYPARSE_ERROR;
	if (p->done)
		replyparse_begin(p);
	if (len == 0)
		return SMTP_REPLYPARSE_NEED_MORE;
	lf = memchr(data, '\n', len);
	n = lf != NULL ? (size_t)(lf - data) : len;
	if (memchr(data, '\0', n) != NULL)
		return replyparse_fail(p, "NUL in reply");
	if (n > SMTP_REPLYPARSE_LINE_MAX - 1 - p->line_len)
		return replyparse_fail(p, "reply line too long");
	memcpy(p->line + p->line_len, data, n);
	p->line_len += n;
	if (lf == NULL) {
		*consumed = len;
		return SMTP_REPLYPARSE_NEED_MORE;
	}
	*consumed = n + 1;
	return replyparse_line(p);
}

/* 1 if some bytes of an unfinished line or reply are buffered. */
int
smtp_replyparse_pending(const struct smtp_replyparse *p)
{
	return !p->done && (p->line_len > 0 || p->lines > 0);
}
