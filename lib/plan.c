/* SPDX-License-Identifier: MIT */
#include "plan.h"
#include "uset.h"
#include "vindex.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

bool plan_table_listed(const uint32_t *tables, size_t n, uint32_t t)
{
	return uset_has(tables, n, t);
}

int plan_tables(const uint32_t *own, size_t n_own, const struct rr_view *v, uint8_t proto,
		uint32_t **ret, size_t *ret_n)
{
	uint32_t *t = calloc(n_own + v->n_rules + 1, sizeof(*t));
	size_t n = 0, m = 0;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n_own; i++)
		if (own[i])
			t[n++] = own[i];
	for (size_t i = 0; i < v->n_rules; i++)
		if (v->rules[i].protocol == proto && v->rules[i].table != RT_TABLE_UNSPEC &&
		    v->rules[i].table != RT_TABLE_MAIN &&
		    v->rules[i].table != RT_TABLE_LOCAL && v->rules[i].table != RT_TABLE_DEFAULT)
			t[n++] = v->rules[i].table;
	/* Sorted and unique: looked up per route and per notification. */
	uset_sort(t, n);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || t[m - 1] != t[i])
			t[m++] = t[i];
	*ret = t;
	*ret_n = m;
	return 0;
}

/* Pointers sorted by a total order: each lookup is a binary search, the plan n log n. */
static int rule_ptr_cmp(const void *a, const void *b)
{
	return rule_cmp(*(const struct rr_rule *const *)a, *(const struct rr_rule *const *)b);
}

static int route_ptr_cmp(const void *a, const void *b)
{
	const struct rr_route *x = *(const struct rr_route *const *)a;
	const struct rr_route *y = *(const struct rr_route *const *)b;
	int r = route_key_cmp(x, y);

	/* Equal keys in a stable order: the view's. */
	return r ? r : (x > y) - (x < y);
}

static const void **sorted_ptrs(const void *base, size_t n, size_t size,
				int (*cmp)(const void *, const void *))
{
	const void **p = malloc((n + 1) * sizeof(*p));

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p[i] = (const char *)base + i * size;
	qsort(p, n, sizeof(*p), cmp);
	return p;
}

static bool rule_in(const struct rr_rule **sorted, size_t n, const struct rr_rule *r)
{
	return bsearch(&r, sorted, n, sizeof(*sorted), rule_ptr_cmp) != NULL;
}

static int plan_rules(struct rr_plan *p, const struct rr_desired *d, const struct rr_view *v,
		      uint8_t proto)
{
	const struct rr_rule **want = (const struct rr_rule **)sorted_ptrs(
		d->want.rules, d->want.n_rules, sizeof(*d->want.rules), rule_ptr_cmp);
	const struct rr_rule **have = (const struct rr_rule **)sorted_ptrs(
		v->rules, v->n_rules, sizeof(*v->rules), rule_ptr_cmp);
	struct rr_rule *rule;
	int r = -ENOMEM;

	if (!want || !have)
		goto out;
	/* Ours not wanted, and a second identical copy (never added by us, but possible). */
	for (size_t i = 0; i < v->n_rules; i++) {
		const struct rr_rule *x = &v->rules[i];
		bool keep = false;

		if (x->protocol != proto)
			continue;
		if (rule_in(want, d->want.n_rules, x)) {
			/* The first copy in the view stays: no equal one before it. */
			const struct rr_rule **at =
				bsearch(&x, have, v->n_rules, sizeof(*have), rule_ptr_cmp);

			while (at > have && rule_cmp(at[-1], x) == 0)
				at--;
			keep = true;
			for (; at < have + v->n_rules && rule_cmp(*at, x) == 0; at++)
				keep &= *at >= x;
		}
		if (keep)
			continue;
		if (!(rule = view_add_rule(&p->del)))
			goto out;
		*rule = *x;
	}
	for (size_t j = 0; j < d->want.n_rules; j++) {
		if (rule_in(have, v->n_rules, &d->want.rules[j]))
			continue;
		if (!(rule = view_add_rule(&p->add)))
			goto out;
		*rule = d->want.rules[j];
	}
	r = 0;
out:
	free(want);
	free(have);
	return r;
}

static int plan_add_route(struct rr_plan *p, const struct rr_route *want, bool replace)
{
	bool *rep = realloc(p->routes_replace, (p->add.n_routes + 1) * sizeof(*rep));
	struct rr_route *route;

	if (!rep)
		return -ENOMEM;
	p->routes_replace = rep;
	p->routes_replace[p->add.n_routes] = replace;
	if (!(route = view_add_route(&p->add)))
		return -ENOMEM;
	*route = *want;
	return 0;
}

/* The routes of sorted[0..n) with the key of r: [*first, *first + count). */
static size_t same_key(const struct rr_route **sorted, size_t n, const struct rr_route *r,
		       size_t *first)
{
	size_t lo = 0, hi = n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (route_key_cmp(sorted[mid], r) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < n && route_key_cmp(sorted[end], r) == 0; end++)
		;
	*first = lo;
	return end - lo;
}

static int plan_routes(struct rr_plan *p, const struct rr_desired *d, const struct rr_observed *o,
		       uint8_t proto)
{
	const struct rr_view *v = o->view;
	const struct rr_route **have = (const struct rr_route **)sorted_ptrs(
		v->routes, v->n_routes, sizeof(*v->routes), route_ptr_cmp);
	const struct rr_route **want = (const struct rr_route **)sorted_ptrs(
		d->want.routes, d->want.n_routes, sizeof(*d->want.routes), route_ptr_cmp);
	struct rr_route *route;
	size_t first, n;
	int r = -ENOMEM;

	if (!have || !want)
		goto out;
	/* Pass 0: routes without a gateway (connected prefixes); pass 1: via a gateway. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < d->want.n_routes; j++) {
			const struct rr_route *w = &d->want.routes[j];
			const struct rr_route *foreign = NULL;
			bool present = false, ours_same_key = false;

			if ((pass == 0) != (w->gw.family == 0))
				continue;
			n = same_key(have, v->n_routes, w, &first);
			for (size_t i = first; i < first + n && !present; i++) {
				present = route_same(have[i], w);
				ours_same_key |= have[i]->protocol == proto;
				if (have[i]->protocol != proto)
					foreign = have[i];
			}
			if (present)
				continue;
			if (foreign && !ours_same_key) {
				if (!(route = view_add_route(&p->conflicts)))
					goto out;
				*route = *foreign;
				continue;
			}
			if ((r = plan_add_route(p, w, ours_same_key)) < 0)
				goto out;
			r = -ENOMEM;
		}
	}
	for (size_t i = 0; i < v->n_routes; i++) {
		const struct rr_route *rt = &v->routes[i];

		if (rt->protocol != proto || !plan_table_listed(o->tables, o->n_tables, rt->table))
			continue;
		if (same_key(want, d->want.n_routes, rt, &first))
			continue;
		if (!(route = view_add_route(&p->del)))
			goto out;
		*route = *rt;
	}
	r = 0;
out:
	free(have);
	free(want);
	return r;
}

/*
 * The table is ours and intact when the kernel's listing hashes to what it
 * did right after our last change (the store's record, so this holds across
 * processes). Intact and current: nothing to do. Intact but for another
 * config: a delta touching only the interfaces that changed. Otherwise
 * (absent, modified by someone else, unknown): replaced whole, atomically.
 */
static int plan_nft(struct rr_plan *p, const struct rr_desired *d, const struct rr_observed *o)
{
	const struct ruleset_state *rec = o->nft_record;
	bool intact = o->nft.present && rec && rec->listing_hash == o->nft.listing_hash;
	int r;

	if (!d->nft_text) {
		if (!o->nft.present)
			return 0;
		p->nft = RR_NFT_DELETE;
		p->nft_commands = strdup(RULESET_DELETE);
		return p->nft_commands ? 0 : -ENOMEM;
	}
	if (intact && rec->text_hash == d->nft.text_hash)
		return 0;
	if (intact) {
		r = ruleset_render_delta(rec, d->config, &p->nft_commands);
		if (r == 0 && p->nft_commands) {
			p->nft = RR_NFT_DELTA;
			return 0;
		}
		if (r == -ENOMEM)
			return r;
	}
	p->nft = RR_NFT_REPLACE;
	return ruleset_replace_commands(d->nft_text, &p->nft_commands);
}

static int name_cmp(const void *a, const void *b)
{
	return strncmp(a, b, IFNAMSIZ);
}

/* The names of d->sysctls sorted, for a binary search each. */
static char (*sorted_names(const struct rr_desired *d))[IFNAMSIZ]
{
	char (*names)[IFNAMSIZ] = malloc((d->n_sysctls + 1) * IFNAMSIZ);

	if (!names)
		return NULL;
	memcpy(names, d->sysctls, d->n_sysctls * IFNAMSIZ);
	qsort(names, d->n_sysctls, IFNAMSIZ, name_cmp);
	return names;
}

static bool desired_sysctl(char (*names)[IFNAMSIZ], size_t n, const char *name)
{
	char key[IFNAMSIZ] = {0};

	snprintf(key, sizeof(key), "%s", name);
	return bsearch(key, names, n, IFNAMSIZ, name_cmp) != NULL;
}

static const struct rr_saved_sysctl *saved_find(const struct rr_observed *o, int ifindex)
{
	for (size_t i = 0; i < o->n_saved; i++)
		if (o->saved[i].ifindex == ifindex)
			return &o->saved[i];
	return NULL;
}

static int sysctl_push(struct rr_sysctl_change **v, size_t *n, const struct rr_sysctl_change *c)
{
	struct rr_sysctl_change *p = realloc(*v, (*n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	*v = p;
	p[(*n)++] = *c;
	return 0;
}

/*
 * A saved value belongs to an interface by index: while that interface is
 * tracked (under whatever name) it stays saved; once it is not, the value is
 * written back to it; when it is gone, the value went with it.
 */
static int plan_sysctls(struct rr_plan *p, const struct rr_desired *d, const struct rr_observed *o)
{
	char (*names)[IFNAMSIZ] = sorted_names(d);
	struct rr_vindex x;
	int r = -ENOMEM;

	if (!names || vindex_build(&x, o->view, RT_TABLE_MAIN) < 0) {
		free(names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->n_saved; i++) {
		const struct rr_link *l = vindex_link_by_index(&x, o->saved[i].ifindex);
		struct rr_sysctl_change c = {.ifindex = o->saved[i].ifindex,
					     .value = o->saved[i].value};

		if (l && desired_sysctl(names, d->n_sysctls, l->name))
			continue;
		c.write = l != NULL;
		snprintf(c.name, sizeof(c.name), "%s", l ? l->name : o->saved[i].name);
		if ((r = sysctl_push(&p->sysctl_restore, &p->n_sysctl_restore, &c)) < 0)
			goto out;
	}
	for (size_t i = 0; i < o->n_sysctls; i++) {
		const struct rr_sysctl_observed *s = &o->sysctls[i];
		struct rr_sysctl_change c = {.ifindex = s->ifindex, .value = 1, .write = true};

		if (s->value == 1 || !desired_sysctl(names, d->n_sysctls, s->name))
			continue;
		memcpy(c.name, s->name, IFNAMSIZ);
		/* Keep the first value seen: a later one is our own, or a reset of ours. */
		c.drift = s->drift;
		c.save = !saved_find(o, s->ifindex) && !s->drift;
		c.found = s->value;
		if ((r = sysctl_push(&p->sysctl_set, &p->n_sysctl_set, &c)) < 0)
			goto out;
	}
	r = 0;
out:
	vindex_clear(&x);
	free(names);
	return r;
}

int plan_compute(const struct rr_desired *d, const struct rr_observed *o, uint8_t proto,
		 struct rr_plan *ret)
{
	struct rr_plan p = {0};
	int r;

	if ((r = plan_rules(&p, d, o->view, proto)) < 0 ||
	    (r = plan_routes(&p, d, o, proto)) < 0 || (r = plan_nft(&p, d, o)) < 0 ||
	    (r = plan_sysctls(&p, d, o)) < 0) {
		plan_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void plan_clear(struct rr_plan *p)
{
	view_clear(&p->add);
	view_clear(&p->del);
	view_clear(&p->conflicts);
	free(p->routes_replace);
	free(p->nft_commands);
	free(p->sysctl_set);
	free(p->sysctl_restore);
	*p = (struct rr_plan){0};
}

size_t plan_size(const struct rr_plan *p)
{
	return p->del.n_rules + p->add.n_rules + p->del.n_routes + p->add.n_routes +
	       (p->nft != RR_NFT_KEEP) + p->n_sysctl_set + p->n_sysctl_restore;
}
