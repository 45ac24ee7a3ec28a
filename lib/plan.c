/* SPDX-License-Identifier: MIT */
#include "plan.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

static int table_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

bool plan_table_listed(const uint32_t *tables, size_t n, uint32_t t)
{
	return n && bsearch(&t, tables, n, sizeof(*tables), table_cmp);
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
	qsort(t, n, sizeof(*t), table_cmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || t[m - 1] != t[i])
			t[m++] = t[i];
	*ret = t;
	*ret_n = m;
	return 0;
}

static int plan_rules(struct rr_plan *p, const struct rr_desired *d, const struct rr_view *v,
		      uint8_t proto)
{
	struct rr_rule *rule;

	for (size_t i = 0; i < v->n_rules; i++) {
		const struct rr_rule *r = &v->rules[i];
		bool wanted = false;

		if (r->protocol != proto)
			continue;
		for (size_t j = 0; j < d->want.n_rules && !wanted; j++)
			wanted = rule_same(r, &d->want.rules[j]);
		/* A second identical copy (never added by us, but possible) goes too. */
		for (size_t j = 0; j < i && wanted; j++)
			if (rule_same(r, &v->rules[j]))
				wanted = false;
		if (wanted)
			continue;
		if (!(rule = view_add_rule(&p->del)))
			return -ENOMEM;
		*rule = *r;
	}
	for (size_t j = 0; j < d->want.n_rules; j++) {
		bool present = false;

		for (size_t i = 0; i < v->n_rules && !present; i++)
			present = rule_same(&v->rules[i], &d->want.rules[j]);
		if (present)
			continue;
		if (!(rule = view_add_rule(&p->add)))
			return -ENOMEM;
		*rule = d->want.rules[j];
	}
	return 0;
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

static int plan_routes(struct rr_plan *p, const struct rr_desired *d, const struct rr_observed *o,
		       uint8_t proto)
{
	const struct rr_view *v = o->view;
	struct rr_route *route;
	int r;

	/* Pass 0: routes without a gateway (connected prefixes); pass 1: via a gateway. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < d->want.n_routes; j++) {
			const struct rr_route *want = &d->want.routes[j];
			const struct rr_route *foreign = NULL;
			bool present = false, ours_same_key = false;

			if ((pass == 0) != (want->gw.family == 0))
				continue;
			for (size_t i = 0; i < v->n_routes && !present; i++) {
				const struct rr_route *rt = &v->routes[i];

				present = route_same(rt, want);
				if (route_same_key(rt, want)) {
					ours_same_key |= rt->protocol == proto;
					if (rt->protocol != proto)
						foreign = rt;
				}
			}
			if (present)
				continue;
			if (foreign && !ours_same_key) {
				if (!(route = view_add_route(&p->conflicts)))
					return -ENOMEM;
				*route = *foreign;
				continue;
			}
			if ((r = plan_add_route(p, want, ours_same_key)) < 0)
				return r;
		}
	}
	for (size_t i = 0; i < v->n_routes; i++) {
		const struct rr_route *rt = &v->routes[i];
		bool keep = false;

		if (rt->protocol != proto || !plan_table_listed(o->tables, o->n_tables, rt->table))
			continue;
		for (size_t j = 0; j < d->want.n_routes && !keep; j++)
			keep = route_same_key(rt, &d->want.routes[j]);
		if (keep)
			continue;
		if (!(route = view_add_route(&p->del)))
			return -ENOMEM;
		*route = *rt;
	}
	return 0;
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

static bool desired_sysctl(const struct rr_desired *d, const char *name)
{
	for (size_t i = 0; i < d->n_sysctls; i++)
		if (strcmp(d->sysctls[i], name) == 0)
			return true;
	return false;
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
	int r;

	for (size_t i = 0; i < o->n_saved; i++) {
		const struct rr_link *l = view_link_by_index(o->view, o->saved[i].ifindex);
		struct rr_sysctl_change c = {.ifindex = o->saved[i].ifindex,
					     .value = o->saved[i].value};

		if (l && desired_sysctl(d, l->name))
			continue;
		c.write = l != NULL;
		snprintf(c.name, sizeof(c.name), "%s", l ? l->name : o->saved[i].name);
		if ((r = sysctl_push(&p->sysctl_restore, &p->n_sysctl_restore, &c)) < 0)
			return r;
	}
	for (size_t i = 0; i < o->n_sysctls; i++) {
		const struct rr_sysctl_observed *s = &o->sysctls[i];
		struct rr_sysctl_change c = {.ifindex = s->ifindex, .value = 1, .write = true};

		if (s->value == 1 || !desired_sysctl(d, s->name))
			continue;
		memcpy(c.name, s->name, IFNAMSIZ);
		/* Keep the first value seen: a later one is our own, or a reset of ours. */
		c.drift = s->drift;
		c.save = !saved_find(o, s->ifindex) && !s->drift;
		c.found = s->value;
		if ((r = sysctl_push(&p->sysctl_set, &p->n_sysctl_set, &c)) < 0)
			return r;
	}
	return 0;
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
