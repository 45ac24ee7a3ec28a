/* SPDX-License-Identifier: MIT */
/* Table allocation for interfaces without Table=: see desired_assign_tables() in desired.h. */
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "desired.h"
#include "uset.h"

/*
 * The table numbers an automatic table must avoid, each set sorted once:
 * allocating n tables is then n log n, not n times everything taken.
 */
struct mark_table {
	uint32_t mark, table;
	size_t at; /* in the view: the first of several rules wins */
};

struct taken_tables {
	uint32_t *ours;	   /* reserved, configured, named in rt_tables */
	uint32_t *added;   /* allocated by this call, kept sorted */
	uint32_t *foreign; /* in someone else's rule or route */
	struct mark_table *marks; /* replyroute's own fwmark rules, by mark */
	size_t n_ours, n_added, n_foreign, n_marks;
};

static int mark_table_cmp(const void *a, const void *b)
{
	const struct mark_table *x = a, *y = b;

	if (x->mark != y->mark)
		return x->mark < y->mark ? -1 : 1;
	return (x->at > y->at) - (x->at < y->at);
}

static size_t own_rule_first(const struct taken_tables *tt, uint32_t mark)
{
	size_t lo = 0, hi = tt->n_marks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tt->marks[mid].mark < mark)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void taken_clear(struct taken_tables *tt)
{
	free(tt->ours);
	free(tt->added);
	free(tt->foreign);
	free(tt->marks);
}

static int taken_init(struct taken_tables *tt, const struct rr_config *c, const uint32_t *tables,
		      const struct rr_view *v, uint8_t proto)
{
	static const uint32_t reserved[] = {0, RT_TABLE_DEFAULT, RT_TABLE_MAIN, RT_TABLE_LOCAL};

	*tt = (struct taken_tables){0};
	tt->ours = calloc(4 + c->n_ifaces + c->n_named_tables, sizeof(*tt->ours));
	tt->added = calloc(c->n_ifaces + 1, sizeof(*tt->added));
	tt->foreign = calloc(v->n_rules + v->n_routes + 1, sizeof(*tt->foreign));
	tt->marks = calloc(v->n_rules + 1, sizeof(*tt->marks));
	if (!tt->ours || !tt->added || !tt->foreign || !tt->marks) {
		taken_clear(tt);
		return -ENOMEM;
	}
	for (size_t i = 0; i < 4; i++)
		tt->ours[tt->n_ours++] = reserved[i];
	for (size_t i = 0; i < c->n_ifaces; i++)
		if (tables[i])
			tt->ours[tt->n_ours++] = tables[i];
	for (size_t i = 0; i < c->n_named_tables; i++)
		tt->ours[tt->n_ours++] = c->named_tables[i];
	/* Someone else's rule or route; replyroute's own leftovers may be taken over. */
	for (size_t i = 0; i < v->n_rules; i++) {
		const struct rr_rule *r = &v->rules[i];

		if (r->protocol != proto)
			tt->foreign[tt->n_foreign++] = r->table;
		else if (r->action == FR_ACT_TO_TBL && !r->iifname[0] && r->fwmask == c->mask &&
			 !r->src.family)
			tt->marks[tt->n_marks++] =
				(struct mark_table){.mark = r->fwmark, .table = r->table, .at = i};
	}
	qsort(tt->marks, tt->n_marks, sizeof(*tt->marks), mark_table_cmp);
	for (size_t i = 0; i < v->n_routes; i++)
		if (v->routes[i].protocol != proto)
			tt->foreign[tt->n_foreign++] = v->routes[i].table;
	uset_sort(tt->ours, tt->n_ours);
	uset_sort(tt->foreign, tt->n_foreign);
	return 0;
}

static bool taken_has(const struct taken_tables *tt, uint32_t t, bool kernel)
{
	return uset_has(tt->ours, tt->n_ours, t) || uset_has(tt->added, tt->n_added, t) ||
	       (kernel && uset_has(tt->foreign, tt->n_foreign, t));
}

static void taken_add(struct taken_tables *tt, uint32_t t)
{
	size_t i = uset_lower_bound(tt->added, tt->n_added, t);

	memmove(&tt->added[i + 1], &tt->added[i], (tt->n_added - i) * sizeof(*tt->added));
	tt->added[i] = t;
	tt->n_added++;
}

int desired_assign_tables(const struct rr_config *c, const struct rr_view *v, uint8_t proto,
			  uint32_t *tables)
{
	struct taken_tables tt;
	/* Only ever moves up: what it passed was taken then, and stays taken. */
	uint32_t next = RR_AUTO_TABLE_BASE;
	bool wanted = false;
	int n = 0;

	/* Configured tables first: none of them may be allocated to another interface. */
	for (size_t i = 0; i < c->n_ifaces; i++) {
		if (!c->ifaces[i].table_auto)
			tables[i] = c->ifaces[i].table;
		wanted |= !tables[i];
	}
	/* Called on every reconcile: the sets of taken tables only when one is to be allocated. */
	if (!wanted)
		return 0;
	if (taken_init(&tt, c, tables, v, proto) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct rr_iface_conf *ic = &c->ifaces[i];

		if (!ic->table_auto || tables[i])
			continue;
		for (size_t j = own_rule_first(&tt, ic->mark); j < tt.n_marks && !tables[i]; j++) {
			if (tt.marks[j].mark != ic->mark)
				break;
			if (!taken_has(&tt, tt.marks[j].table, false))
				tables[i] = tt.marks[j].table;
		}
		for (; !tables[i] && next != 0; next++)
			if (!taken_has(&tt, next, true))
				tables[i] = next;
		if (tables[i])
			taken_add(&tt, tables[i]);
		n++;
	}
	taken_clear(&tt);
	return n;
}

