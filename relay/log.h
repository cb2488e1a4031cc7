/*
 * log.h - spfgate's log: one key=value line per event, to stderr or syslog.
 *
 * CONTRACT
 *	log_msg() is printf-format-checked.  Text that came from a peer
 *	(HELO names, addresses, reply text) must go through log_quote(),
 *	which escapes control characters, quotes and backslashes, so that a
 *	peer can never forge a log line or a field.
 *	Levels follow syslog(3): err, warning, notice, info, debug.
 */
#ifndef RELAY_LOG_H
#define RELAY_LOG_H

#include <stddef.h>
#include <syslog.h>

/* Directs output: use_syslog 0 -> stderr; level: the highest LOG_* kept. */
void log_init(const char *ident, int use_syslog, int facility, int level);

/* Drops open syslog state (NULL-safe counterpart of log_init). */
void log_close(void);

/* 1 if messages at level would be written. */
int log_enabled(int level);

void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Writes in[0..inlen) into out as a double-quoted, escaped value
 * ("\"", "\\", \n, \r, \t, \xHH for other bytes outside 0x20..0x7e),
 * truncated with "..." when out is too small.  Returns out.
 */
const char *log_quote(char *out, size_t outlen, const char *in, size_t inlen);

/* log_quote() of a NUL-terminated string (NULL -> ""). */
const char *log_quote_str(char *out, size_t outlen, const char *in);

#endif /* RELAY_LOG_H */
