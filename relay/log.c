/*
 * log.c - key=value log lines to stderr or syslog (see log.h).
 *
 * The stderr form is "spfgate[PID]: LEVEL: message": systemd's journal and
 * the test scripts read it; the journal adds the time itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "relay/log.h"

static int log_use_syslog;
static int log_max_level = LOG_INFO;
static const char *log_ident = "spfgate";

/* Name of a syslog level as written on stderr. */
static const char *
log_level_name(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void
log_init(const char *ident, int use_syslog, int facility, int level)
{
	log_ident = ident != NULL ? ident : "spfgate";
	log_use_syslog = use_syslog;
	log_max_level = level;
	if (use_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_close(void)
{
	if (log_use_syslog)
		closelog();
	log_use_syslog = 0;
}

int
log_enabled(int level)
{
	return level <= log_max_level;
}

void
log_msg(int level, const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_use_syslog)
		syslog(level, "%s", line);
	else
		fprintf(stderr, "%s[%ld]: %s: %s\n", log_ident, (long)getpid(),
		    log_level_name(level), line);
}

/* Escape sequence for byte c into esc (at most 5 bytes incl. NUL). */
static size_t
log_escape_byte(unsigned char c, char esc[5])
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '"':
	case '\\':
		esc[0] = '\\';
		esc[1] = (char)c;
		return 2;
	case '\n':
		memcpy(esc, "\\n", 2);
		return 2;
	case '\r':
		memcpy(esc, "\\r", 2);
		return 2;
	case '\t':
		memcpy(esc, "\\t", 2);
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		esc[0] = (char)c;
		return 1;
	}
	esc[0] = '\\';
	esc[1] = 'x';
	esc[2] = hex[c >> 4];
	esc[3] = hex[c & 15];
	return 4;
}

const char *
log_quote(char *out, size_t outlen, const char *in, size_t inlen)
{
	size_t used = 0, i, n;
	char esc[5];

	if (outlen < 6) {
		if (outlen > 0)
			out[0] = '\0';
		return out;
	}
	out[used++] = '"';
	for (i = 0; i < inlen; i++) {
		n = log_escape_byte((unsigned char)in[i], esc);
		/* Keep room for the closing quote, "..." and the NUL. */
		if (used + n + 5 > outlen) {
			memcpy(out + used, "...", 3);
			used += 3;
			break;
		}
		memcpy(out + used, esc, n);
		used += n;
	}
	out[used++] = '"';
	out[used] = '\0';
	return out;
}

const char *
log_quote_str(char *out, size_t outlen, const char *in)
{
	if (in == NULL)
		in = "";
	return log_quote(out, outlen, in, strlen(in));
}
