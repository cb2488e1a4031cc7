/*
 * conf_dump.c - prints the effective configuration as INI text.
 *
 * CONTRACT
 *	conf_dump() writes every section and every key with its effective
 *	value (defaults and derived values included; unset [domain]
 *	overrides left out).  The text parses back to an equal conf: long
 *	values are wrapped onto indented continuation lines at item
 *	boundaries, every line stays within CONF_LINE_MAX, and a
 *	continuation line never starts with a comment character.
 */
#include <stdio.h>
#include <string.h>

#include "conf/conf_impl.h"

#define WRAP 78			/* preferred width of a dumped line */

/* State of one key being printed. */
struct out {
	FILE *fp;
	const char *sep;	/* between items on one line */
	size_t col;		/* characters on the current line */
	int items;		/* items on the current line */
	int first_line;		/* still on the "key =" line */
};

/*
 * Starts a continuation line for an item of len characters.  A list line
 * ends with its separator (',' or ':') for the reader's sake; the parser
 * accepts it either way.  Text must not: the space is the separator.
 */
static void
new_line(struct out *o, size_t len)
{
	const char *indent = 4 + len <= CONF_LINE_MAX ? "    " : " ";

	if (o->items > 0 && o->sep[0] != ' ' && o->col < CONF_LINE_MAX)
		fputc(o->sep[0], o->fp);
	fprintf(o->fp, "\n%s", indent);
	o->col = strlen(indent);
	o->items = 0;
	o->first_line = 0;
}

/* Prints one item, wrapping where needed. */
static void
out_item(void *arg, const char *item)
{
	struct out *o = arg;
	size_t len = strlen(item), sep = strlen(o->sep);

	if (o->items == 0 && o->first_line) {
		if (o->col + 1 + len > CONF_LINE_MAX)
			new_line(o, len);
		else {
			fputc(' ', o->fp);
			o->col++;
		}
	} else if (o->items > 0) {
		if (o->col + sep + len > WRAP)
			new_line(o, len);
		else {
			fputs(o->sep, o->fp);
			o->col += sep;
		}
	}
	fputs(item, o->fp);
	o->col += len;
	o->items++;
}

/* Prints "key = value" (possibly over several lines). */
static void
dump_key(FILE *fp, const void *base, const struct conf_key *key)
{
	struct out o;

	memset(&o, 0, sizeof(o));
	o.fp = fp;
	o.first_line = 1;
	switch (key->type) {
	case CONF_T_TEXT:
		o.sep = " ";
		break;
	case CONF_T_JOINED:
		o.sep = ":";
		break;
	default:
		o.sep = ", ";
		break;
	}
	fprintf(fp, "%s =", key->name);
	o.col = strlen(key->name) + 2;
	if (conf_schema_items(base, key, out_item, &o) < 0)
		fprintf(fp, " # (value not printable)");
	fputc('\n', fp);
}

/* Prints one section instance. */
static void
dump_instance(const struct conf *conf, enum conf_sect sect, size_t i,
    FILE *fp)
{
	const struct conf_section_def *def = conf_schema_section(sect);
	const void *base = conf_object_base(conf, sect, i);
	char label[CONF_LINE_MAX + 16];
	size_t k;

	conf_object_label(conf, sect, i, label, sizeof(label));
	fprintf(fp, "\n%s\n", label);
	for (k = 0; k < def->nkeys; k++)
		if (!conf_schema_is_unset(base, &def->keys[k]))
			dump_key(fp, base, &def->keys[k]);
}

/* Prints every section and key with its effective value. */
void
conf_dump(const struct conf *conf, FILE *fp)
{
	size_t i;
	int s;

	fprintf(fp, "# spfgate effective configuration\n");
	for (s = 0; s < CONF_S_COUNT; s++)
		for (i = 0; i < conf_object_count(conf, s); i++)
			dump_instance(conf, s, i, fp);
}
