/* SPDX-License-Identifier: MIT */
#include "view.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"

void view_clear(struct rr_view *v)
{
	free(v->links);
	free(v->addrs);
	free(v->routes);
	free(v->rules);
	*v = (struct rr_view){0};
}

const struct rr_link *view_link_by_name(const struct rr_view *v, const char *name)
{
	for (size_t i = 0; i < v->n_links; i++)
		if (strcmp(v->links[i].name, name) == 0)
			return &v->links[i];
	return NULL;
}

const struct rr_link *view_link_by_index(const struct rr_view *v, int ifindex)
{
	for (size_t i = 0; i < v->n_links; i++)
		if (v->links[i].ifindex == ifindex)
			return &v->links[i];
	return NULL;
}

/* Append one zeroed element; the capacity is implied by the count: 4, 8, 16, ... */
static void *grow(void *array, size_t *n, size_t size)
{
	char *p = array;

	if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
		p = realloc(array, (*n ? *n * 2 : 4) * size);
		if (!p)
			return NULL;
	}
	memset(p + *n * size, 0, size);
	(*n)++;
	return p;
}

#define VIEW_ADD(v, field, count)                                                  \
	do {                                                                       \
		void *p_ = grow((v)->field, &(v)->count, sizeof(*(v)->field));      \
		if (!p_)                                                           \
			return NULL;                                               \
		(v)->field = p_;                                                   \
		return &(v)->field[(v)->count - 1];                                \
	} while (0)

struct rr_link *view_add_link(struct rr_view *v) { VIEW_ADD(v, links, n_links); }
struct rr_ifaddr *view_add_addr(struct rr_view *v) { VIEW_ADD(v, addrs, n_addrs); }
struct rr_route *view_add_route(struct rr_view *v) { VIEW_ADD(v, routes, n_routes); }
struct rr_rule *view_add_rule(struct rr_view *v) { VIEW_ADD(v, rules, n_rules); }

bool route_same_key(const struct rr_route *a, const struct rr_route *b)
{
	return a->family == b->family && a->table == b->table && a->dst_len == b->dst_len &&
	       rr_addr_eq(&a->dst, &b->dst) && a->metric == b->metric;
}

bool route_same(const struct rr_route *a, const struct rr_route *b)
{
	return route_same_key(a, b) && a->protocol == b->protocol && a->scope == b->scope &&
	       a->type == b->type && a->oif == b->oif && rr_addr_eq(&a->gw, &b->gw) &&
	       rr_addr_eq(&a->src, &b->src) && a->onlink == b->onlink;
}

bool rule_same_key(const struct rr_rule *a, const struct rr_rule *b)
{
	return a->family == b->family && a->priority == b->priority && a->table == b->table &&
	       a->fwmark == b->fwmark && a->fwmask == b->fwmask && a->src_len == b->src_len &&
	       rr_addr_eq(&a->src, &b->src);
}

bool rule_same(const struct rr_rule *a, const struct rr_rule *b)
{
	return rule_same_key(a, b) && a->protocol == b->protocol && a->action == b->action &&
	       a->other == b->other;
}

void route_format(const struct rr_route *r, const struct rr_view *v, char *buf, size_t len)
{
	char dst[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN], src[INET6_ADDRSTRLEN];
	char dev[VALUE_NAME_ESCAPED] = "";
	const struct rr_link *l = v ? view_link_by_index(v, r->oif) : NULL;
	char prefix[INET6_ADDRSTRLEN + 8];

	if (r->oif)
		value_name_escape(l ? l->name : "?", dev, sizeof(dev));
	if (r->dst_len == 0)
		snprintf(prefix, sizeof(prefix), "default");
	else
		snprintf(prefix, sizeof(prefix), "%s/%u", rr_addr_str(&r->dst, dst, sizeof(dst)),
			 r->dst_len);
	snprintf(buf, len, "%s%s %s%s%s%s%s%s%s table %u proto %u%s metric %u",
		 r->family == AF_INET6 ? "-6 " : "", prefix, r->gw.family ? "via " : "",
		 r->gw.family ? rr_addr_str(&r->gw, gw, sizeof(gw)) : "", r->gw.family ? " " : "",
		 r->oif ? "dev " : "", dev, r->src.family ? " src " : "",
		 r->src.family ? rr_addr_str(&r->src, src, sizeof(src)) : "", r->table, r->protocol,
		 r->scope == RT_SCOPE_LINK ? " scope link" : "", r->metric);
	if (r->onlink && strlen(buf) + 8 < len)
		strcat(buf, " onlink");
}

void rule_format(const struct rr_rule *r, char *buf, size_t len)
{
	char src[INET6_ADDRSTRLEN + 8] = "";
	char s[INET6_ADDRSTRLEN];
	char mark[32] = "";

	if (r->src.family)
		snprintf(src, sizeof(src), " from %s/%u", rr_addr_str(&r->src, s, sizeof(s)),
			 r->src_len);
	if (r->fwmark || r->fwmask)
		snprintf(mark, sizeof(mark), " fwmark %#x/%#x", r->fwmark, r->fwmask);
	snprintf(buf, len, "%spriority %u%s%s lookup %u proto %u",
		 r->family == AF_INET6 ? "-6 " : "", r->priority, src, mark, r->table,
		 r->protocol);
}
