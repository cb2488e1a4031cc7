/*
 * conf_parse.c - reads the configuration file with inih.
 *
 * CONTRACT
 *	inih (Debian's build: 200-byte line buffer, no line numbers for the
 *	handler, section names silently cut at 49 characters, a long line
 *	silently split in two, inline comments not stripped on continuation
 *	lines) is driven through ini_parse_stream() with our own reader.
 *	The reader sees every physical line first; it
 *	  - counts lines, so each handler call knows its line number;
 *	  - classifies the line exactly as inih will (blank/comment, section,
 *	    key line, continuation) and keeps the state inih keeps;
 *	  - rejects a line longer than CONF_LINE_MAX with its number instead
 *	    of letting inih split it (long comments are simply ignored);
 *	  - parses section headers itself and hands inih only "[s]", so names
 *	    of any length work and inih's section string is never used;
 *	  - strips inline comments from continuation lines;
 *	  - hands inih an empty line for anything it rejected, so no line is
 *	    half-used.
 *	The handler then sets one key (or extends it for a continuation
 *	line).  A key line repeated in one section is an error; lists grow
 *	with indented continuation lines instead.
 *
 *	Everything is collected: parsing goes on after an error, until
 *	CONF_ERRORS_MAX errors.  A conf is returned only if there were none.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_impl.h"

enum line_kind {
	LINE_BLANK,		/* empty, comment, or rejected: inih gets "" */
	LINE_SECTION,		/* "[kind NAME]" */
	LINE_KEY,		/* "key = value" */
	LINE_CONT,		/* indented line after a key line */
	LINE_BAD		/* none of those */
};

struct parse {
	struct conf_report rep;
	struct conf *conf;
	const char *text;
	size_t len, pos;
	int lineno;
	enum line_kind kind;	/* of the line last handed to inih */
	int have_key;		/* a key line was read in this section */
	int skip_cont;		/* continuation lines of a rejected line */
	int sect;		/* current section kind; -1: none or bad */
	int skip_sect;		/* the current section header was bad */
	size_t inst;		/* instance of the current section */
	int key;		/* key of the last key line, -1 if rejected */
	int keyline[CONF_SECT_KEYS_MAX];	/* where each key was set */
	int singleton_line[CONF_S_COUNT];	/* header lines seen */
};

/* Reports an out-of-memory condition once per call site. */
static void
parse_oom(struct parse *p)
{
	conf_errors_add(&p->rep, p->lineno, "%s", CONF_MSG_OOM);
}

/*
 * Index of the first character of set in s[0..len), or of the inline
 * comment (';' after whitespace, as inih sees it) that comes first, or
 * len.  The caller looks at the character found.
 */
static size_t
find_unquoted(const char *s, size_t len, const char *set)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == ';' && i > 0 && isspace((unsigned char)s[i - 1]))
			return i;
		if (strchr(set, s[i]) != NULL)
			return i;
	}
	return len;
}

/* Index of the first non-space character at or after i. */
static size_t
skip_space(const char *s, size_t len, size_t i)
{
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* Length of s[0..len) without an inline comment and trailing spaces. */
static size_t
content_len(const char *s, size_t len)
{
	size_t end = find_unquoted(s, len, "");

	while (end > 0 && isspace((unsigned char)s[end - 1]))
		end--;
	return end;
}

/* Decides what a line is, the way inih will; *why explains LINE_BAD. */
static enum line_kind
classify(const struct parse *p, const char *s, size_t len, const char **why)
{
	size_t i = skip_space(s, len, 0), sep;
	char c;

	if (i == len || s[i] == ';' || s[i] == '#')
		return LINE_BLANK;
	if (i > 0 && p->have_key)
		return LINE_CONT;
	if (s[i] == '[')
		return LINE_SECTION;
	sep = find_unquoted(s + i, len - i, "=:");
	c = i + sep < len ? s[i + sep] : '\0';
	if (c == '=' && sep > 0)
		return LINE_KEY;
	if (c == '=')
		*why = "expected 'key = value' (missing key name)";
	else if (c == ':')
		*why = "expected 'key = value' (':' is not a separator)";
	else
		*why = "expected 'key = value' or '[section]'";
	return LINE_BAD;
}

/*
 * Section headers
 */

/* Copies the trimmed inside of "[ ... ]" to buf; NULL or a problem. */
static const char *
header_inside(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t open = skip_space(s, len, 0), close, end, rest;

	close = open + 1 + find_unquoted(s + open + 1, len - open - 1, "]");
	if (close >= len || s[close] != ']')
		return "missing ']' in section header";
	rest = skip_space(s, len, close + 1);
	if (rest < len && s[rest] != ';' && s[rest] != '#')
		return "unexpected text after ']'";
	open = skip_space(s, close, open + 1);
	end = close;
	while (end > open && isspace((unsigned char)s[end - 1]))
		end--;
	if (end - open >= buflen)
		return "section header too long";
	memcpy(buf, s + open, end - open);
	buf[end - open] = '\0';
	return NULL;
}

/* Line of an earlier [listener/certificate NAME] section, or 0. */
static int
earlier_instance(struct parse *p, enum conf_sect sect, const char *name)
{
	size_t i;

	if (sect == CONF_S_DOMAIN)
		return 0;	/* many: found by sorting in conf_check */
	for (i = 0; i < conf_object_count(p->conf, sect); i++)
		if (strcmp(conf_object_name(p->conf, sect, i), name) == 0)
			return conf_errors_line(&p->rep, sect, i, -1);
	return 0;
}

/* Checks the name of a repeatable section; normalizes domains. */
static int
check_instance_name(struct parse *p, enum conf_sect sect, char *name,
    const char *kind)
{
	static const size_t cap[CONF_S_COUNT] = {
		[CONF_S_LISTENER] = CONF_LISTENERS_MAX,
		[CONF_S_CERTIFICATE] = CONF_CERTIFICATES_MAX,
		[CONF_S_DOMAIN] = CONF_DOMAINS_MAX,
	};
	char msg[CONF_MSG_MAX], dom[CONF_DOMAIN_MAX + 1];
	int r, first;

	if (*name == '\0') {
		conf_errors_add(&p->rep, p->lineno, "section [%s] needs a "
		    "name, e.g. [%s %s]", kind, kind, sect == CONF_S_DOMAIN ?
		    "example.com" : "smtp");
		return -1;
	}
	if (sect == CONF_S_DOMAIN) {
		r = conf_values_domain(name, dom, sizeof(dom), msg,
		    sizeof(msg));
		if (r == 0)
			memcpy(name, dom, strlen(dom) + 1);
	} else
		r = conf_values_name(name, msg, sizeof(msg));
	if (r < 0) {
		conf_errors_add(&p->rep, p->lineno, "[%s]: %s", kind, msg);
		return -1;
	}
	if ((first = earlier_instance(p, sect, name)) > 0) {
		conf_errors_add(&p->rep, p->lineno, "section [%s %s] appears "
		    "twice (first at line %d)", kind, name, first);
		return -1;
	}
	if (conf_object_count(p->conf, sect) >= cap[sect]) {
		conf_errors_add(&p->rep, p->lineno, "too many [%s] sections "
		    "(at most %zu)", kind, cap[sect]);
		return -1;
	}
	return 0;
}

/* Checks the header of a singleton section. */
static int
check_singleton(struct parse *p, enum conf_sect sect, const char *name,
    const char *kind)
{
	if (*name != '\0') {
		conf_errors_add(&p->rep, p->lineno, "section [%s] takes no "
		    "name", kind);
		return -1;
	}
	if (p->singleton_line[sect] > 0) {
		conf_errors_add(&p->rep, p->lineno, "section [%s] appears "
		    "twice (first at line %d)", kind, p->singleton_line[sect]);
		return -1;
	}
	p->singleton_line[sect] = p->lineno;
	return 0;
}

/* Opens the section a header names; returns its kind or -1 if bad. */
static int
open_section(struct parse *p, char *inside)
{
	char *name = inside, q[CONF_MSG_MAX];
	long inst = 0;
	int sect;

	while (*name != '\0' && !isspace((unsigned char)*name))
		name++;
	if (*name != '\0')
		*name++ = '\0';
	while (isspace((unsigned char)*name))
		name++;
	if ((sect = conf_schema_find_section(inside)) < 0) {
		conf_values_quote(inside, q, sizeof(q));
		conf_errors_add(&p->rep, p->lineno, "unknown section %s", q);
		return -1;
	}
	if (!conf_schema_section(sect)->repeatable) {
		if (check_singleton(p, sect, name, inside) < 0)
			return -1;
	} else if (check_instance_name(p, sect, name, inside) < 0)
		return -1;
	else if ((inst = conf_object_add(p->conf, sect, name)) < 0) {
		parse_oom(p);
		return -1;
	}
	p->inst = (size_t)inst;
	if (conf_errors_remember(&p->rep, sect, p->inst, -1, p->lineno) < 0)
		parse_oom(p);
	return sect;
}

/* Handles a section line (too_long: already reported); resets state. */
static void
read_section(struct parse *p, const char *s, size_t len, int too_long)
{
	char inside[CONF_LINE_MAX + 1];
	const char *why;

	p->have_key = 0;
	p->skip_cont = 0;
	p->key = -1;
	p->sect = -1;
	p->skip_sect = 1;
	memset(p->keyline, 0, sizeof(p->keyline));
	if (too_long)
		return;
	if ((why = header_inside(s, len, inside, sizeof(inside))) != NULL) {
		conf_errors_add(&p->rep, p->lineno, "%s", why);
		return;
	}
	p->sect = open_section(p, inside);
	p->skip_sect = p->sect < 0;
}

/*
 * The reader
 */

/* Moves to the next physical line; 0 at the end of the text. */
static int
next_line(struct parse *p, const char **line, size_t *len)
{
	const char *s = p->text + p->pos, *nl;
	size_t n;

	if (p->pos >= p->len)
		return 0;
	nl = memchr(s, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - s) : p->len - p->pos;
	p->pos += nl ? n + 1 : n;
	p->lineno++;
	while (n > 0 && s[n - 1] == '\r')
		n--;
	if (p->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	*line = s;
	*len = n;
	return 1;
}

/* Copies len bytes to inih's buffer (the caller checked the size). */
static char *
hand(char *str, const char *s, size_t len)
{
	memcpy(str, s, len);
	str[len] = '\0';
	return str;
}

/* Hands a continuation line: one space, then its content. */
static char *
hand_cont(struct parse *p, char *str, const char *s, size_t len)
{
	size_t i = skip_space(s, len, 0);
	size_t n = content_len(s + i, len - i);

	if (p->skip_cont)
		return hand(str, "", 0);
	str[0] = ' ';
	hand(str + 1, s + i, n);
	return str;
}

/* Reports a line over the limit and keeps the state consistent. */
static void
too_long(struct parse *p, enum line_kind kind, size_t len, size_t limit)
{
	conf_errors_add(&p->rep, p->lineno, "line too long (%zu characters, "
	    "at most %zu): split long lists over indented continuation lines",
	    len, limit);
	if (kind == LINE_KEY) {
		p->have_key = 1;
		p->skip_cont = 1;	/* its continuations go with it */
		p->key = -1;
	}
}

/* inih's reader: returns one (possibly rewritten) line per call. */
static char *
parse_reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	size_t len, limit = CONF_LINE_MAX;
	const char *s, *why = NULL;
	enum line_kind kind;

	if (conf_errors_full(&p->rep) || !next_line(p, &s, &len))
		return NULL;
	if (num < 2)
		return NULL;
	if ((size_t)num - 1 < limit)
		limit = (size_t)num - 1;	/* room for the NUL */
	p->kind = LINE_BLANK;
	if (memchr(s, '\0', len) != NULL) {
		conf_errors_add(&p->rep, p->lineno, "NUL byte in line");
		p->skip_cont = 1;
		return hand(str, "", 0);
	}
	kind = classify(p, s, len, &why);
	if (kind == LINE_BLANK)
		return hand(str, "", 0);
	if (len > limit) {
		too_long(p, kind, len, limit);
		if (kind != LINE_SECTION)
			return hand(str, "", 0);
	}
	switch (kind) {
	case LINE_SECTION:
		read_section(p, s, len, len > limit);
		return hand(str, "[s]", 3);	/* inih forgets the last key */
	case LINE_KEY:
		p->kind = LINE_KEY;
		p->have_key = 1;
		return hand(str, s, len);
	case LINE_CONT:
		p->kind = LINE_CONT;
		return hand_cont(p, str, s, len);
	default:
		conf_errors_add(&p->rep, p->lineno, "%s", why);
		p->skip_cont = 1;	/* indented lines after it too */
		return hand(str, "", 0);
	}
}

/*
 * The handler
 */

/* Reports a message about the current key, with its position. */
static void
key_msg(void *arg, const char *msg)
{
	struct parse *p = arg;
	const struct conf_section_def *def = conf_schema_section(p->sect);
	char label[CONF_LINE_MAX + 16];

	conf_object_label(p->conf, p->sect, p->inst, label, sizeof(label));
	conf_errors_add(&p->rep, p->lineno, "%s %s: %s", label,
	    def->keys[p->key].name, msg);
	conf_errors_mark_bad(&p->rep, p->sect, p->inst, p->key);
}

/* Handles a continuation line of the current key. */
static void
continue_key(struct parse *p, const char *value)
{
	const struct conf_key *key;

	if (p->key < 0 || p->sect < 0)
		return;
	key = &conf_schema_section(p->sect)->keys[p->key];
	if (!conf_schema_continues(key))
		p->skip_cont = 1;	/* one message is enough */
	(void)conf_schema_set(conf_object_base(p->conf, p->sect, p->inst),
	    key, value, 1, key_msg, p);
}

/* Handles a key line: finds the key, refuses repeats, sets the value. */
static void
set_key(struct parse *p, const char *name, const char *value)
{
	char label[CONF_LINE_MAX + 16], q[CONF_MSG_MAX];
	int k;

	p->key = -1;
	p->skip_cont = 1;		/* until the key is accepted */
	if (p->skip_sect)
		return;			/* the header was reported */
	conf_values_quote(name, q, sizeof(q));
	if (p->sect < 0) {
		conf_errors_add(&p->rep, p->lineno, "key %s is outside any "
		    "section", q);
		return;
	}
	conf_object_label(p->conf, p->sect, p->inst, label, sizeof(label));
	if ((k = conf_schema_find_key(p->sect, name)) < 0) {
		conf_errors_add(&p->rep, p->lineno, "%s unknown key %s", label,
		    q);
		return;
	}
	if (p->keyline[k] > 0) {
		conf_errors_add(&p->rep, p->lineno, "%s %s: duplicate key "
		    "(first set at line %d)", label, name, p->keyline[k]);
		return;
	}
	p->keyline[k] = p->lineno;
	if (conf_errors_remember(&p->rep, p->sect, p->inst, k, p->lineno) < 0)
		parse_oom(p);
	p->key = k;
	p->skip_cont = 0;
	(void)conf_schema_set(conf_object_base(p->conf, p->sect, p->inst),
	    &conf_schema_section(p->sect)->keys[k], value, 0, key_msg, p);
}

/* inih's handler: section is ignored (the reader tracks sections). */
static int
parse_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct parse *p = user;

	(void)section;
	if (conf_errors_full(&p->rep))
		return 1;
	if (p->kind == LINE_CONT)
		continue_key(p, value);
	else
		set_key(p, name, value);
	return 1;			/* errors are ours to collect */
}

/*
 * Entry points
 */

/* Parses the text into a conf already holding the defaults. */
static void
parse_text(struct parse *p)
{
	int r;

	p->sect = -1;
	p->key = -1;
	r = ini_parse_stream(parse_reader, p, parse_handler, p);
	if (r == -2)
		parse_oom(p);
	else if (r != 0 && p->rep.errs->count == 0)
		conf_errors_add(&p->rep, r, "syntax error");
}

/* Parses and checks a configuration held in memory. */
struct conf *
conf_parse_string(const char *name, const char *text, size_t len,
    struct conf_errors *errs)
{
	struct parse p;

	memset(&p, 0, sizeof(p));
	conf_errors_init(&p.rep, errs, name ? name : "spfgate.conf");
	p.text = text;
	p.len = len;
	if ((p.conf = conf_object_new()) == NULL) {
		parse_oom(&p);
		return NULL;
	}
	parse_text(&p);
	if (!conf_errors_full(&p.rep)) {
		if (conf_check_finalize(p.conf) < 0)
			parse_oom(&p);
		else
			conf_check_run(p.conf, &p.rep);
	}
	conf_errors_done(&p.rep);
	if (errs->count > 0) {
		conf_free(p.conf);
		return NULL;
	}
	conf_check_sort_domains(p.conf);
	return p.conf;
}

/* Reads a whole file of at most CONF_FILE_MAX bytes; NULL + message. */
static char *
read_file(FILE *fp, size_t *len, const char **why)
{
	size_t cap = 0, n = 0, r;
	char *buf = NULL, *nb;

	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > CONF_FILE_MAX + 1)
				cap = CONF_FILE_MAX + 1;
			if ((nb = realloc(buf, cap)) == NULL) {
				*why = CONF_MSG_OOM;
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
	} while (r > 0 && n <= CONF_FILE_MAX);
	if (ferror(fp) || n > CONF_FILE_MAX) {
		*why = ferror(fp) ? strerror(errno) : "file larger than 16M";
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* Reads, parses and checks the file at path. */
struct conf *
conf_load(const char *path, struct conf_errors *errs)
{
	struct conf_report rep;
	struct conf *conf;
	const char *why = NULL;
	size_t len = 0;
	char *text;
	FILE *fp;

	conf_errors_init(&rep, errs, path);
	if ((fp = fopen(path, "r")) == NULL) {
		conf_errors_add(&rep, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	text = read_file(fp, &len, &why);
	fclose(fp);
	if (text == NULL) {
		conf_errors_add(&rep, 0, "cannot read: %s", why);
		return NULL;
	}
	conf = conf_parse_string(path, text, len, errs);
	free(text);
	return conf;
}
