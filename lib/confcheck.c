/* SPDX-License-Identifier: MIT */
/*
 * The config checks that need the whole file: required keys, marks inside
 * the mask, duplicates, automatic marks. Each is n log n at most, so that a
 * config of 10,000 interfaces is checked as fast as one of three.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "uset.h"
#include "value.h"

/*
 * Mark= omitted: in config order, the lowest mark inside MarkMask that no
 * other interface uses. Candidates are the mask's submasks in increasing
 * order, walked once for all interfaces; set marks are found in a sorted copy.
 */
static void parser_auto_marks(struct parser *p)
{
	struct rr_config *c = p->cfg;
	uint32_t *used, m;
	size_t n_used = 0, k = 0;

	if (p->mask_line && !p->mask_ok)
		return;
	used = calloc(c->n_ifaces + 1, sizeof(*used));
	if (!used) {
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (c->ifaces[i].mark)
			used[n_used++] = c->ifaces[i].mark;
	uset_sort(used, n_used);

	m = uset_mask_next(c->mask, 0);
	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct rr_iface_conf *ifc = &c->ifaces[i];

		if (!ifc->mark_auto || ifc->pattern)
			continue;
		for (; m; m = uset_mask_next(c->mask, m)) {
			while (k < n_used && used[k] < m)
				k++;
			if (k == n_used || used[k] != m)
				break;
		}
		if (!m) {
			parser_error(p, ifc->line, "no free mark inside MarkMask=0x%" PRIx32
				     " for this interface: set Mark=", c->mask);
			continue;
		}
		ifc->mark = m;
		m = uset_mask_next(c->mask, m);
	}
	free(used);
}

/* Tables named in rt_tables are someone's: automatic tables avoid them. */
static void parser_named_tables(struct parser *p)
{
	struct rr_config *c = p->cfg;
	unsigned first = 0;

	for (size_t i = 0; i < c->n_ifaces && !first; i++)
		if (c->ifaces[i].table_auto)
			first = c->ifaces[i].line;
	if (!first || !parser_rttables(p, first, "[Interface] without Table="))
		return;
	c->named_tables = calloc(p->rt.n + 1, sizeof(*c->named_tables));
	if (!c->named_tables) {
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < p->rt.n; i++)
		c->named_tables[c->n_named_tables++] = p->rt.v[i].id;
}

/* One key of one interface, for finding duplicates by sorting. */
struct dup_key {
	const char *name; /* Name=, or NULL: number is the key */
	uint32_t number;
	size_t i;
};

static int dup_compare(const void *a, const void *b)
{
	const struct dup_key *x = a, *y = b;
	int r = x->name ? strcmp(x->name, y->name) : (x->number > y->number) - (x->number < y->number);

	/* Equal keys in config order: the first one is the one used first. */
	return r ? r : (x->i > y->i) - (x->i < y->i);
}

static bool dup_same(const struct dup_key *x, const struct dup_key *y)
{
	return x->name ? strcmp(x->name, y->name) == 0 : x->number == y->number;
}

enum dup_field { DUP_NAME, DUP_TABLE, DUP_MARK };

static void parser_duplicate(struct parser *p, enum dup_field f, size_t i, size_t first)
{
	const struct rr_iface_conf *ifc = &p->cfg->ifaces[i];
	const struct iface_info *info = &p->info[i], *was = &p->info[first];

	char shown[VALUE_NAME_ESCAPED], at[PARSER_WHERE_MAX];

	if (f == DUP_NAME)
		parser_error(p, info->name, "Name=%s already used at %s",
			     value_name_escape(ifc->name, shown, sizeof(shown)),
			     parser_where(p, info->name, was->name, at, sizeof(at)));
	else if (f == DUP_MARK)
		parser_error(p, info->mark, "Mark=%s already used at %s", info->mark_str,
			     parser_where(p, info->mark, was->mark, at, sizeof(at)));
	else if (parser_looks_numeric(info->table_str))
		parser_error(p, info->table, "Table=%s already used at %s", info->table_str,
			     parser_where(p, info->table, was->table, at, sizeof(at)));
	else
		parser_error(p, info->table, "Table=%s (%" PRIu32 ") already used at %s",
			     info->table_str, ifc->table,
			     parser_where(p, info->table, was->table, at, sizeof(at)));
}

/* Each valid Name=, Table= and Mark= used twice, reported against its first use. */
static void parser_duplicates(struct parser *p)
{
	struct rr_config *c = p->cfg;
	struct dup_key *keys = calloc(c->n_ifaces + 1, sizeof(*keys));

	if (!keys) {
		p->oom = true;
		return;
	}
	for (enum dup_field f = DUP_NAME; f <= DUP_MARK; f++) {
		size_t n = 0;

		for (size_t i = 0; i < c->n_ifaces; i++) {
			const struct iface_info *info = &p->info[i];

			if (f == DUP_NAME && info->name_ok)
				keys[n++] = (struct dup_key) { .name = c->ifaces[i].name, .i = i };
			else if (f == DUP_TABLE && info->table_ok)
				keys[n++] = (struct dup_key) { .number = c->ifaces[i].table, .i = i };
			else if (f == DUP_MARK && info->mark_ok)
				keys[n++] = (struct dup_key) { .number = c->ifaces[i].mark, .i = i };
		}
		if (n > 1)
			qsort(keys, n, sizeof(*keys), dup_compare);
		for (size_t j = 1, first = 0; j < n; j++) {
			if (dup_same(&keys[first], &keys[j]))
				parser_duplicate(p, f, keys[j].i, keys[first].i);
			else
				first = j;
		}
	}
	free(keys);
}

/* The checks that need the whole file: required keys, mask, duplicates. */
void parser_check(struct parser *p)
{
	struct rr_config *c = p->cfg;

	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct rr_iface_conf *ifc = &c->ifaces[i];
		struct iface_info *info = &p->info[i];

		if (!info->name)
			parser_error(p, ifc->line, "[Interface] without Name=");
		ifc->table_auto = !info->table;
		ifc->mark_auto = !info->mark;

		if (info->mark_ok && (p->mask_ok || !p->mask_line) && (ifc->mark & ~c->mask))
			parser_error(p, info->mark, "Mark=%s is outside MarkMask=0x%" PRIx32,
				     info->mark_str, c->mask);

		if (!info->priority)
			ifc->priority = c->priority;
		/* A pattern's interfaces each get their own mark and table, and learn their gateway. */
		if (ifc->pattern && info->mark)
			parser_error(p, info->mark, "Mark= cannot go with a pattern Name=: each "
				     "matching interface gets a mark of its own");
		if (ifc->pattern && info->table)
			parser_error(p, info->table, "Table= cannot go with a pattern Name=: each "
				     "matching interface gets a table of its own");
		if (ifc->pattern && (info->gateway4 || info->gateway6))
			parser_error(p, info->gateway4 ? info->gateway4 : info->gateway6,
				     "Gateway= cannot go with a pattern Name=: each matching "
				     "interface learns its own");
	}
	parser_duplicates(p);
	parser_auto_marks(p);
	parser_named_tables(p);
}
