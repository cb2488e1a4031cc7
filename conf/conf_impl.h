/*
 * conf_impl.h - private interfaces between the conf_*.c files.
 *
 * CONTRACT
 *	Not for use outside conf/ (tests excepted).  The modules behind
 *	the public calls of conf_parse, conf_dump and conf_match:
 *
 *	conf_values	typed value parsers and formatters: pure functions,
 *			text in, value or one error message out.
 *	conf_schema	the table of sections and keys (type, default, range,
 *			documentation) and the per-field operations driven by
 *			it: set, format, compare, free.
 *	conf_object	struct conf life cycle: new with defaults, section
 *			instances, free, equal.
 *	conf_errors	error lines, and where each section/key was seen so
 *			that later checks can name the line.
 *	conf_check	derived defaults and the cross-key rules.
 *
 *	Error messages from parsers never name the key or the line; the
 *	caller adds "file:line: [section] key: " in front.
 */
#ifndef CONF_CONF_IMPL_H
#define CONF_CONF_IMPL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

#define CONF_MSG_MAX 320	/* one parser message */
#define CONF_MSG_OOM "out of memory"
#define CONF_DOMAIN_MAX 253	/* longest domain name, no trailing dot */
#define CONF_NAME_MAX 32	/* listener/certificate names */
#define CONF_LISTENERS_MAX 64
#define CONF_CERTIFICATES_MAX 64
#define CONF_DOMAINS_MAX 100000
#define CONF_SECT_KEYS_MAX 32	/* keys in one section (checked at start) */

/*
 * conf_values.c
 */

/* Each parser returns 0 and stores the value, or -1 and a message. */
int conf_values_bool(const char *s, int *out, char *msg, size_t msglen);
int conf_values_int(const char *s, int64_t min, int64_t max, int64_t *out,
    char *msg, size_t msglen);
int conf_values_size(const char *s, int64_t *out, char *msg, size_t msglen);
int conf_values_duration(const char *s, int64_t *out, char *msg,
    size_t msglen);
/* "IPv4:PORT" or "[IPv6]:PORT". */
int conf_values_addr(const char *s, struct conf_addr *out, char *msg,
    size_t msglen);
/* "IP" or "IP@PORT" (IPv6 unbracketed, unbound style); port 53 if none. */
int conf_values_forward(const char *s, struct conf_addr *out, char *msg,
    size_t msglen);
/* "IP/PREFIX" or a single "IP"; host bits must be zero. */
int conf_values_net(const char *s, struct conf_net *out, char *msg,
    size_t msglen);
/* A domain name; out receives it lower-case without trailing dot. */
int conf_values_domain(const char *s, char *out, size_t outlen, char *msg,
    size_t msglen);
/* "COUNT/DURATION" (e.g. 100/1m) or "0" for unlimited. */
int conf_values_rate(const char *s, struct conf_rate *out, char *msg,
    size_t msglen);
/* An absolute path without control characters. */
int conf_values_path(const char *s, char *msg, size_t msglen);
/* A user name: [A-Za-z_][A-Za-z0-9_.-]*, at most 32 characters. */
int conf_values_user(const char *s, char *msg, size_t msglen);
/* A listener/certificate name: [A-Za-z0-9_.-]{1,32}. */
int conf_values_name(const char *s, char *msg, size_t msglen);
/* Printable ASCII; spaces allowed only when spaces != 0. */
int conf_values_text(const char *s, int spaces, char *msg, size_t msglen);
/* A HELO name: a domain or an address literal "[192.0.2.1]". */
int conf_values_helo(const char *s, char *msg, size_t msglen);

/*
 * Splits the next item off *cursor at any character of seps (and
 * whitespace); returns its start and stores its length, or NULL at end.
 */
const char *conf_values_item(const char **cursor, const char *seps,
    size_t *len);

/* Quotes s for a message: 'text', non-printables as \xHH, long cut "...". */
void conf_values_quote(const char *s, char *buf, size_t buflen);

/* Formatters return 0, or -1 if buf is too small. */
int conf_values_fmt_size(int64_t v, char *buf, size_t buflen);
int conf_values_fmt_duration(int64_t ms, char *buf, size_t buflen);
int conf_values_fmt_addr(const struct conf_addr *a, char *buf, size_t buflen);
int conf_values_fmt_forward(const struct conf_addr *a, char *buf,
    size_t buflen);
int conf_values_fmt_net(const struct conf_net *n, char *buf, size_t buflen);
int conf_values_fmt_rate(const struct conf_rate *r, char *buf, size_t buflen);

/* 1 if two addresses are equal (family, address, port, scope). */
int conf_values_addr_equal(const struct conf_addr *a,
    const struct conf_addr *b);

/*
 * conf_schema.c
 */

enum conf_sect {
	CONF_S_SERVER = 0,
	CONF_S_LISTENER,
	CONF_S_SPF,
	CONF_S_DNS,
	CONF_S_BACKEND,
	CONF_S_TLS,
	CONF_S_CERTIFICATE,
	CONF_S_SRS,
	CONF_S_DOMAIN,
	CONF_S_COUNT
};

enum conf_type {
	CONF_T_BOOL,		/* int 0/1 */
	CONF_T_INT,		/* int within [min, max] */
	CONF_T_SIZE,		/* int64_t bytes within [min, max] */
	CONF_T_DURATION,	/* int64_t ms within [min, max] */
	CONF_T_ENUM,		/* int, one of words[] */
	CONF_T_FLAGS,		/* unsigned, a set of words[] */
	CONF_T_PATH,		/* char *, absolute path or "" */
	CONF_T_USER,		/* char *, user name or "" */
	CONF_T_DOMAIN,		/* char *, domain name or "" */
	CONF_T_HELO,		/* char *, domain or address literal, or "" */
	CONF_T_TOKEN,		/* char *, printable, no spaces */
	CONF_T_TEXT,		/* char *, printable; continuation adds " " */
	CONF_T_JOINED,		/* char *, tokens joined with ':' */
	CONF_T_ADDR,		/* struct conf_addr, IP:PORT or unset */
	CONF_T_ADDRS,		/* struct conf_addr_list of IP:PORT */
	CONF_T_FORWARDS,	/* struct conf_addr_list of IP[@PORT] */
	CONF_T_NETS,		/* struct conf_net_list */
	CONF_T_DOMAINS,		/* struct conf_str_list of domains */
	CONF_T_RATE		/* struct conf_rate */
};

#define CONF_F_REQUIRED	0x01u	/* must be non-empty after parsing */
#define CONF_F_INHERIT	0x02u	/* may stay unset (-1 / NULL) */
#define CONF_F_DERIVED	0x04u	/* unset/empty: computed after parsing */
#define CONF_F_DAYS	0x08u	/* duration in whole days */

struct conf_word {
	const char *name;
	int value;
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;			/* of the field in the section struct */
	int64_t min, max;		/* INT, SIZE, DURATION */
	const struct conf_word *words;	/* ENUM, FLAGS; NULL-name ended */
	const char *def;		/* default as text; NULL = unset */
	unsigned flags;
	const char *doc;		/* one line */
};

struct conf_section_def {
	const char *name;
	int repeatable;			/* [name NAME] sections */
	const struct conf_key *keys;
	size_t nkeys;
	const char *doc;
};

/* The definition of one section kind. */
const struct conf_section_def *conf_schema_section(enum conf_sect sect);

/* The section kind named word, or -1. */
int conf_schema_find_section(const char *word);

/* Index of key name in the section, or -1. */
int conf_schema_find_key(enum conf_sect sect, const char *name);

/* Reports one message about a value (the caller adds the position). */
typedef void conf_schema_msg_fn(void *arg, const char *msg);

/*
 * Sets a field from text.  append = 0 replaces the value (a key line),
 * 1 extends it (a continuation line; only lists, JOINED and TEXT).
 * Every bad item is reported through msg; returns their number.
 */
int conf_schema_set(void *base, const struct conf_key *key,
    const char *value, int append, conf_schema_msg_fn *msg, void *arg);

/* 1 if the key accepts continuation lines. */
int conf_schema_continues(const struct conf_key *key);

/* 1 if the field is unset (INHERIT keys) and so not printed. */
int conf_schema_is_unset(const void *base, const struct conf_key *key);

/* 1 if the field is empty ("" string, empty list, unset address). */
int conf_schema_is_empty(const void *base, const struct conf_key *key);

/*
 * The value as printable items: calls item() once per item (a list
 * element, a ':'-joined token, a word of TEXT, or the single scalar).
 * Returns -1 if an item did not fit the internal buffer (cannot happen
 * with values the parser accepts).
 */
typedef void conf_schema_item_fn(void *arg, const char *item);
int conf_schema_items(const void *base, const struct conf_key *key,
    conf_schema_item_fn *item, void *arg);

/* 1 if the field holds the same value in both section structs. */
int conf_schema_field_equal(const void *a, const void *b,
    const struct conf_key *key);

/* Frees what the field owns and leaves it empty/unset. */
void conf_schema_field_free(void *base, const struct conf_key *key);

/* Puts the field in its "not set" state: -1 / NULL / "" / empty. */
int conf_schema_field_init(void *base, const struct conf_key *key);

/*
 * conf_object.c
 */

/* A conf with all singleton defaults applied and no section instances. */
struct conf *conf_object_new(void);

/* Number of instances of a section kind (1 for singletons). */
size_t conf_object_count(const struct conf *conf, enum conf_sect sect);

/* The struct of instance i of a section kind. */
void *conf_object_base(const struct conf *conf, enum conf_sect sect,
    size_t i);

/* Name of instance i ("" for singletons). */
const char *conf_object_name(const struct conf *conf, enum conf_sect sect,
    size_t i);

/*
 * Makes room for element n of a growing array of sz-byte elements whose
 * capacity is implied by n (4, then powers of two).  -1 on no memory.
 */
int conf_object_grow(void **v, size_t n, size_t sz);

/* Appends an instance with defaults; returns its index or -1 (no memory). */
long conf_object_add(struct conf *conf, enum conf_sect sect,
    const char *name);

/* Writes "[kind]" or "[kind NAME]" into buf. */
void conf_object_label(const struct conf *conf, enum conf_sect sect,
    size_t i, char *buf, size_t buflen);

/*
 * conf_errors.c
 */

/* Where the parser saw things, and where messages go. */
struct conf_report {
	struct conf_errors *errs;
	const char *file;		/* NULL: messages without a position */
	struct conf_report_pos *pos;	/* sorted by (sect, inst, key) later */
	size_t npos, cap;
};

/* Starts a report; errs is cleared. */
void conf_errors_init(struct conf_report *rep, struct conf_errors *errs,
    const char *file);

/* Frees the position records. */
void conf_errors_done(struct conf_report *rep);

/* Adds "file:line: text"; line 0 omits the line, no file omits both. */
void conf_errors_add(struct conf_report *rep, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 1 once the error cap is reached. */
int conf_errors_full(const struct conf_report *rep);

/* Remembers that key (-1: the section header) of an instance is on line. */
int conf_errors_remember(struct conf_report *rep, enum conf_sect sect,
    size_t inst, int key, int line);

/* Notes that an error was reported about a key of an instance. */
void conf_errors_mark_bad(struct conf_report *rep, enum conf_sect sect,
    size_t inst, int key);

/* 1 if an error was reported about that key (so do not pile on). */
int conf_errors_is_bad(const struct conf_report *rep, enum conf_sect sect,
    size_t inst, int key);

/* The line of a key (-1: header) of an instance, or 0 if not seen. */
int conf_errors_line(const struct conf_report *rep, enum conf_sect sect,
    size_t inst, int key);

/*
 * conf_check.c
 */

/* Resolves derived defaults and adds the default listener if none. */
int conf_check_finalize(struct conf *conf);

/* Runs every cross-key rule, reporting with positions from rep. */
void conf_check_run(const struct conf *conf, struct conf_report *rep);

/* Sorts the [domain] sections by name (after checking). */
void conf_check_sort_domains(struct conf *conf);

#endif /* CONF_CONF_IMPL_H */
