/* SPDX-License-Identifier: MIT */
#include "markrules.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct leaf {
	uint32_t mark, table, priority;
	const char *name;
};

struct layout {
	struct rr_view *want;
	int family;
	uint32_t mask;
	uint8_t proto;
	uint32_t next; /* the tree's next free priority */
};

static int leaf_cmp(const void *a, const void *b)
{
	const struct leaf *x = a, *y = b;

	return (x->mark > y->mark) - (x->mark < y->mark);
}

static int add(struct layout *l, const struct rr_rule *r)
{
	struct rr_rule *n = view_add_rule(l->want);

	if (!n)
		return -ENOMEM;
	*n = *r;
	n->family = l->family;
	n->protocol = l->proto;
	return 0;
}

/* An interface's pair: its original direction by main at p, its replies by T at q. */
static int add_pair(struct layout *l, const struct leaf *f, uint32_t p, uint32_t q)
{
	struct rr_rule r = {.priority = p, .table = RT_TABLE_MAIN, .fwmark = f->mark,
			    .fwmask = l->mask, .action = FR_ACT_TO_TBL};
	int ret;

	snprintf(r.iifname, sizeof(r.iifname), "%s", f->name);
	if ((ret = add(l, &r)) < 0)
		return ret;
	r = (struct rr_rule){.priority = q, .table = f->table, .fwmark = f->mark,
			     .fwmask = l->mask, .action = FR_ACT_TO_TBL};
	return add(l, &r);
}

static uint32_t top_bit(uint32_t x)
{
	return x ? 1u << (31 - __builtin_clz(x)) : 0;
}

/* The leaves [a, b), sorted by mark: split on the highest bit in which they differ. */
static int tree(struct layout *l, const struct leaf *v, size_t a, size_t b)
{
	uint32_t bit, node;
	size_t m = a;
	int r;

	if (b - a == 1) {
		r = add_pair(l, &v[a], l->next, l->next + 1);
		l->next += 2;
		return r;
	}
	bit = top_bit((v[a].mark ^ v[b - 1].mark) & l->mask);
	while (m < b && !(v[m].mark & bit))
		m++;
	node = l->next++;
	if ((r = tree(l, v, a, m)) < 0)
		return r;
	/* Bit set: over the left subtree to the right one. */
	r = add(l, &(struct rr_rule){.priority = node, .fwmark = bit, .fwmask = bit,
				     .action = FR_ACT_GOTO, .target = l->next});
	return r < 0 ? r : tree(l, v, m, b);
}

static int family_rules(struct rr_desired *d, const struct rr_config *c, unsigned fi, int family,
			uint8_t proto)
{
	struct leaf *v = calloc(d->n_ifaces + 1, sizeof(*v));
	struct layout l = {.want = &d->want, .family = family, .mask = c->mask, .proto = proto};
	uint32_t lo = UINT32_MAX, hi = 0, anchor;
	size_t n = 0;
	int r = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_ifaces; i++) {
		const struct rr_iface_status *st = &d->ifaces[i];

		if (st->state != RR_IFACE_ACTIVE || !st->src[fi].family)
			continue;
		v[n++] = (struct leaf){.mark = st->conf->mark, .table = st->table,
				       .priority = st->conf->priority, .name = st->conf->name};
		lo = st->conf->priority < lo ? st->conf->priority : lo;
		hi = st->conf->priority > hi ? st->conf->priority : hi;
	}
	if (n == 0)
		goto out;
	if (n > MARKRULES_FLAT_MAX && lo == hi) {
		qsort(v, n, sizeof(*v), leaf_cmp);
		l.next = lo - 1;
		r = tree(&l, v, 0, n);
		anchor = l.next;
	} else {
		for (size_t i = 0; i < n && r >= 0; i++)
			r = add_pair(&l, &v[i], v[i].priority - 1, v[i].priority);
		anchor = hi + 1;
	}
	if (r < 0)
		goto out;
	for (size_t i = 0; i < d->want.n_rules; i++)
		if (d->want.rules[i].family == family && d->want.rules[i].priority == UINT32_MAX)
			d->want.rules[i].priority = anchor;
	if ((r = add(&l, &(struct rr_rule){.priority = lo - 2, .fwmask = c->mask,
					    .action = FR_ACT_GOTO, .target = anchor})) < 0)
		goto out;
	r = add(&l, &(struct rr_rule){.priority = anchor, .action = FR_ACT_NOP});
out:
	free(v);
	return r;
}

int markrules_add(struct rr_desired *d, const struct rr_config *c, uint8_t proto)
{
	static const int families[2] = {AF_INET, AF_INET6};
	int r;

	for (unsigned fi = 0; fi < 2; fi++)
		if ((r = family_rules(d, c, fi, families[fi], proto)) < 0)
			return r;
	return 0;
}
