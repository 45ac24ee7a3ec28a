/* SPDX-License-Identifier: MIT */
/*
 * A config read from several files: where a line is, and the [Interface]
 * sections of drop-ins folded into the earlier section of the same Name=,
 * key by key (a later file overrides what it sets and nothing else).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

const struct parser_file *parser_file_of(const struct parser *p, unsigned line, unsigned *local)
{
	size_t k = p->n_files;

	while (k > 1 && p->files[k - 1].first > line)
		k--;
	if (k == 0) {
		*local = line;
		return NULL;
	}
	*local = line - p->files[k - 1].first + 1;
	return &p->files[k - 1];
}

const char *parser_where(const struct parser *p, unsigned from, unsigned line, char *buf,
			 size_t size)
{
	unsigned l, lf;
	const struct parser_file *f = parser_file_of(p, line, &l);

	if (!f || f == parser_file_of(p, from, &lf))
		snprintf(buf, size, "line %u", l);
	else
		snprintf(buf, size, "%s:%u", f->name, l);
	return buf;
}

int parser_origin_add(const struct parser *p, char **s, unsigned line)
{
	unsigned l;
	const struct parser_file *f = parser_file_of(p, line, &l);
	char *v;

	if (asprintf(&v, "%s%s%s:%u", *s ? *s : "", *s ? ", " : "", f ? f->name : p->name, l) < 0)
		return -ENOMEM;
	free(*s);
	*s = v;
	return 0;
}

/* Copies the keys set in section i into section t, with their lines. */
static void parser_fold(struct parser *p, size_t t, size_t i)
{
	struct rr_iface_conf *to = &p->cfg->ifaces[t], *from = &p->cfg->ifaces[i];
	struct iface_info *ti = &p->info[t], *fi = &p->info[i];

	if (fi->table) {
		to->table = from->table;
		ti->table = fi->table;
		ti->table_ok = fi->table_ok;
		memcpy(ti->table_str, fi->table_str, sizeof(ti->table_str));
	}
	if (fi->mark) {
		to->mark = from->mark;
		ti->mark = fi->mark;
		ti->mark_ok = fi->mark_ok;
		memcpy(ti->mark_str, fi->mark_str, sizeof(ti->mark_str));
	}
	if (fi->priority) {
		to->priority = from->priority;
		ti->priority = fi->priority;
	}
	if (fi->gateway4) {
		to->gateway4 = from->gateway4;
		ti->gateway4 = fi->gateway4;
	}
	if (fi->gateway6) {
		to->gateway6 = from->gateway6;
		ti->gateway6 = fi->gateway6;
	}
	if (fi->source_rules) {
		to->source_rules = from->source_rules;
		ti->source_rules = fi->source_rules;
	}
	if (parser_origin_add(p, &ti->origin, from->line) < 0)
		p->oom = true;
	fi->merged = true;
}

struct merge_key {
	const char *name;
	size_t i;
};

static int merge_compare(const void *a, const void *b)
{
	const struct merge_key *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : (x->i > y->i) - (x->i < y->i);
}

static const struct parser_file *parser_section_file(const struct parser *p, size_t i)
{
	unsigned l;

	return parser_file_of(p, p->cfg->ifaces[i].line, &l);
}

/*
 * Sections of one name, in reading order: each folds into the first unless
 * one before it is in its own file (a duplicate, left to parser_check()).
 */
static void parser_fold_group(struct parser *p, const struct merge_key *g, size_t n)
{
	for (size_t j = 1; j < n; j++) {
		const struct parser_file *f = parser_section_file(p, g[j].i);
		bool dup = false;

		for (size_t k = 0; k < j && !dup; k++)
			dup = parser_section_file(p, g[k].i) == f;
		if (!dup)
			parser_fold(p, g[0].i, g[j].i);
	}
}

/* Drops the merged sections, keeping the others in order. */
static void parser_compact(struct parser *p)
{
	struct rr_config *c = p->cfg;
	size_t n = 0;

	for (size_t i = 0; i < c->n_ifaces; i++) {
		if (p->info[i].merged) {
			free(p->info[i].origin);
			continue;
		}
		c->ifaces[n] = c->ifaces[i];
		p->info[n] = p->info[i];
		n++;
	}
	c->n_ifaces = n;
}

static void parser_origins(struct parser *p)
{
	struct rr_config *c = p->cfg;

	for (size_t i = 0; i < c->n_ifaces && !p->oom; i++)
		if (!p->info[i].origin && parser_origin_add(p, &p->info[i].origin, c->ifaces[i].line) < 0)
			p->oom = true;
}

void parser_merge(struct parser *p)
{
	struct rr_config *c = p->cfg;
	struct merge_key *keys;
	size_t n = 0;

	if (p->n_files < 2)
		return;
	parser_origins(p);
	keys = calloc(c->n_ifaces + 1, sizeof(*keys));
	if (!keys || p->oom) {
		free(keys);
		p->oom = true;
		return;
	}
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (p->info[i].name_ok)
			keys[n++] = (struct merge_key) { .name = c->ifaces[i].name, .i = i };
	qsort(keys, n, sizeof(*keys), merge_compare);
	for (size_t j = 0, first = 0; j <= n; j++) {
		if (j < n && strcmp(keys[j].name, keys[first].name) == 0)
			continue;
		if (j - first > 1)
			parser_fold_group(p, keys + first, j - first);
		first = j;
	}
	free(keys);
	parser_compact(p);
}
