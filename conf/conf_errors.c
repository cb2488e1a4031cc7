/*
 * conf_errors.c - error lines of the configuration, and the positions
 *	(section headers and key lines) that later checks refer to.
 *
 * CONTRACT
 *	Messages read "FILE:LINE: text", "FILE: text" when the line is not
 *	known (a key that is missing altogether), or just "text" when the
 *	configuration did not come from a file (conf_check() on a struct).
 *	At most CONF_ERRORS_MAX lines are kept; later ones are counted in
 *	dropped.  A message cut to CONF_ERROR_LEN ends in "...".
 *
 * OWNERSHIP
 *	struct conf_errors belongs to the caller; the position records to
 *	the struct conf_report (conf_errors_done() frees them).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_impl.h"

struct conf_report_pos {
	int sect;
	size_t inst;
	int key;			/* -1: the section header */
	int line;
	int bad;			/* an error was reported about it */
};

/* Starts collecting errors for one file. */
void
conf_errors_init(struct conf_report *rep, struct conf_errors *errs,
    const char *file)
{
	memset(errs, 0, sizeof(*errs));
	memset(rep, 0, sizeof(*rep));
	rep->errs = errs;
	rep->file = file;
}

/* Frees the position records. */
void
conf_errors_done(struct conf_report *rep)
{
	free(rep->pos);
	rep->pos = NULL;
	rep->npos = 0;
}

/* 1 once no more error lines can be stored. */
int
conf_errors_full(const struct conf_report *rep)
{
	return rep->errs->count >= CONF_ERRORS_MAX;
}

/* Adds one error line with its position prefix. */
void
conf_errors_add(struct conf_report *rep, int line, const char *fmt, ...)
{
	struct conf_errors *e = rep->errs;
	char *buf;
	size_t len = CONF_ERROR_LEN;
	int n = 0, m;
	va_list ap;

	if (e->count >= CONF_ERRORS_MAX) {
		e->dropped++;
		return;
	}
	buf = e->line[e->count++];
	if (rep->file != NULL && line > 0)
		n = snprintf(buf, len, "%s:%d: ", rep->file, line);
	else if (rep->file != NULL)
		n = snprintf(buf, len, "%s: ", rep->file);
	if (n < 0 || (size_t)n >= len)
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= len - (size_t)n)
		memcpy(buf + len - 4, "...", 4);	/* cut: say so */
}

/* Prints the error lines, one per line. */
void
conf_errors_print(const struct conf_errors *errs, FILE *fp)
{
	int i;

	for (i = 0; i < errs->count; i++)
		fprintf(fp, "%s\n", errs->line[i]);
	if (errs->count >= CONF_ERRORS_MAX)
		fprintf(fp, "too many errors: only the first %d are shown\n",
		    CONF_ERRORS_MAX);
}

/* Records the line of a section header or key. */
int
conf_errors_remember(struct conf_report *rep, enum conf_sect sect,
    size_t inst, int key, int line)
{
	struct conf_report_pos *p;

	if (conf_object_grow((void **)&rep->pos, rep->npos,
	    sizeof(*rep->pos)) < 0)
		return -1;
	p = &rep->pos[rep->npos++];
	p->sect = (int)sect;
	p->inst = inst;
	p->key = key;
	p->line = line;
	p->bad = 0;
	return 0;
}

/* The record of key (-1: header) of an instance, or NULL. */
static struct conf_report_pos *
find_pos(const struct conf_report *rep, enum conf_sect sect, size_t inst,
    int key)
{
	size_t i;

	for (i = rep->npos; i-- > 0;) {
		struct conf_report_pos *p = &rep->pos[i];

		if (p->sect == (int)sect && p->inst == inst && p->key == key)
			return p;
	}
	return NULL;
}

/* Flags a key whose value was already reported. */
void
conf_errors_mark_bad(struct conf_report *rep, enum conf_sect sect,
    size_t inst, int key)
{
	struct conf_report_pos *p = find_pos(rep, sect, inst, key);

	if (p != NULL)
		p->bad = 1;
}

/* 1 if the key was flagged by conf_errors_mark_bad(). */
int
conf_errors_is_bad(const struct conf_report *rep, enum conf_sect sect,
    size_t inst, int key)
{
	const struct conf_report_pos *p = find_pos(rep, sect, inst, key);

	return p != NULL && p->bad;
}

/* Line of a recorded header or key, 0 if unknown. */
int
conf_errors_line(const struct conf_report *rep, enum conf_sect sect,
    size_t inst, int key)
{
	const struct conf_report_pos *p = find_pos(rep, sect, inst, key);

	return p != NULL ? p->line : 0;
}
