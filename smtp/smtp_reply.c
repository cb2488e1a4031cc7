/*
 * smtp_reply.c - formatting of SMTP replies, single- and multi-line.
 *
 * CONTRACT
 *	See smtp_reply.h.  Each line is assembled in a bounded stack buffer
 *	of SMTP_REPLY_LINE_MAX octets and handed to the caller's output
 *	function; nothing is allocated and nothing is kept between calls.
 */
#include "smtp/smtp_reply.h"

#include <stdio.h>
#include <string.h>

/* Collects emitted lines into a caller's buffer for smtp_reply_format(). */
struct smtp_reply_buf {
	char	*buf;
	size_t	 size;
	size_t	 len;
	int	 overflow;
};

/* 1 if code is [2-5][0-5][0-9]. */
int
smtp_reply_code_valid(int code)
{
	return code >= 200 && code <= 599 && (code / 10) % 10 <= 5;
}

/* Parses 1-3 digits at *p, advancing it; returns 0, or -1 if none. */
static int
smtp_reply_digits(const char **p)
{
	int n = 0;

	while (n < 3 && **p >= '0' && **p <= '9') {
		(*p)++;
		n++;
	}
	return n > 0 ? 0 : -1;
}

/* 1 if enhanced is "c.sss.ddd" with c equal to the code's class. */
int
smtp_reply_enhanced_valid(int code, const char *enhanced)
{
	const char *p = enhanced;

	if (enhanced == NULL || !smtp_reply_code_valid(code))
		return 0;
	if (p[0] != '0' + code / 100 || code / 100 == 3 || p[1] != '.')
		return 0;
	p += 2;
	if (smtp_reply_digits(&p) != 0 || *p++ != '.')
		return 0;
	if (smtp_reply_digits(&p) != 0)
		return 0;
	return *p == '\0';
}

/* Length of the text line starting at text, without its '\n' (and CR). */
static size_t
smtp_reply_line_len(const char *text, size_t *advance)
{
	const char *nl = strchr(text, '\n');
	size_t len;

	if (nl == NULL) {
		len = strlen(text);
		*advance = len;
		return len;
	}
	len = (size_t)(nl - text);
	*advance = len + 1;
	if (len > 0 && text[len - 1] == '\r')
		len--;
	return len;
}

/*
 * Builds one wire line in line[SMTP_REPLY_LINE_MAX]: code, separator,
 * enhanced code, sanitized text cut to fit, CR LF.  Returns its length.
 */
static size_t
smtp_reply_build(char *line, int code, int last, const char *enhanced,
    const char *text, size_t textlen)
{
	size_t len, room, i;
	int n;

	n = snprintf(line, SMTP_REPLY_LINE_MAX, "%03d%c%s%s", code,
	    last ? ' ' : '-', enhanced ? enhanced : "",
	    enhanced && textlen > 0 ? " " : "");
	/* Cannot truncate: 4 + at most 11 validated octets + 1. */
	len = (size_t)n;
	room = SMTP_REPLY_LINE_MAX - 2 - len;
	if (textlen > room)
		textlen = room;
	for (i = 0; i < textlen; i++) {
		unsigned char c = (unsigned char)text[i];

		line[len++] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
	}
	if (textlen == 0 && !enhanced && last)
		len--;		/* "250" alone, no trailing space */
	line[len++] = '\r';
	line[len++] = '\n';
	return len;
}

/* Emits the reply line by line; returns the line count or -1. */
int
smtp_reply_emit(int code, const char *enhanced, const char *text,
    smtp_reply_out_fn *out, void *arg)
{
	char line[SMTP_REPLY_LINE_MAX];
	size_t len, advance, linelen;
	int lines = 0, last;

	if (!smtp_reply_code_valid(code))
		return -1;
	if (enhanced != NULL && !smtp_reply_enhanced_valid(code, enhanced))
		return -1;
	if (text == NULL)
		text = "";
	do {
		linelen = smtp_reply_line_len(text, &advance);
		/* The last line: no more text, or only the final '\n' left. */
		last = text[advance] == '\0';
		len = smtp_reply_build(line, code, last, enhanced, text,
		    linelen);
		out(arg, line, len);
		lines++;
		text += advance;
	} while (!last);
	return lines;
}

/* Output function of smtp_reply_format(): appends to the buffer. */
static void
smtp_reply_buf_out(void *arg, const char *line, size_t len)
{
	struct smtp_reply_buf *b = arg;

	if (b->overflow || b->size - b->len <= len) {
		b->overflow = 1;
		return;
	}
	memcpy(b->buf + b->len, line, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

/* Formats the whole reply into buf; returns its length or -1. */
int
smtp_reply_format(char *buf, size_t size, int code, const char *enhanced,
    const char *text)
{
	struct smtp_reply_buf b = { buf, size, 0, 0 };

	if (size == 0)
		return -1;
	buf[0] = '\0';
	if (smtp_reply_emit(code, enhanced, text, smtp_reply_buf_out, &b) < 0)
		return -1;
	if (b.overflow || b.len > (size_t)0x7fffffff) {
		buf[0] = '\0';
		return -1;
	}
	return (int)b.len;
}
