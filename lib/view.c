/* SPDX-License-Identifier: MIT */
#include "view.h"

#include <linux/fib_rules.h>
#include <linux/icmpv6.h>
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

bool route_expires_close(uint32_t a, uint32_t b)
{
	if (!a || !b)
		return a == b;
	return (a > b ? a - b : b - a) <= 2;
}

bool route_same(const struct rr_route *a, const struct rr_route *b)
{
	return route_same_key(a, b) && a->protocol == b->protocol && a->scope == b->scope &&
	       a->type == b->type && a->oif == b->oif && rr_addr_eq(&a->gw, &b->gw) &&
	       rr_addr_eq(&a->src, &b->src) && a->onlink == b->onlink && a->pref == b->pref &&
	       route_expires_close(a->expires, b->expires);
}

#define CMP(x, y)                                   \
	do {                                        \
		if ((x) != (y))                     \
			return (x) < (y) ? -1 : 1;  \
	} while (0)

static int addr_cmp(const struct rr_addr *a, const struct rr_addr *b)
{
	CMP(a->family, b->family);
	return memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : a->family ? 16 : 0);
}

int route_key_cmp(const struct rr_route *a, const struct rr_route *b)
{
	CMP(a->family, b->family);
	CMP(a->table, b->table);
	CMP(a->dst_len, b->dst_len);
	CMP(a->metric, b->metric);
	return addr_cmp(&a->dst, &b->dst);
}

int rule_cmp(const struct rr_rule *a, const struct rr_rule *b)
{
	int r;

	CMP(a->family, b->family);
	CMP(a->priority, b->priority);
	CMP(a->table, b->table);
	CMP(a->fwmark, b->fwmark);
	CMP(a->fwmask, b->fwmask);
	CMP(a->src_len, b->src_len);
	CMP(a->protocol, b->protocol);
	CMP(a->action, b->action);
	CMP(a->target, b->target);
	CMP(a->other, b->other);
	if ((r = addr_cmp(&a->src, &b->src)))
		return r;
	return strncmp(a->iifname, b->iifname, IFNAMSIZ);
}

bool rule_same_key(const struct rr_rule *a, const struct rr_rule *b)
{
	return a->family == b->family && a->priority == b->priority && a->table == b->table &&
	       a->fwmark == b->fwmark && a->fwmask == b->fwmask && a->src_len == b->src_len &&
	       rr_addr_eq(&a->src, &b->src) && a->action == b->action && a->target == b->target &&
	       strncmp(a->iifname, b->iifname, IFNAMSIZ) == 0;
}

bool rule_same(const struct rr_rule *a, const struct rr_rule *b)
{
	return rule_cmp(a, b) == 0;
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
	if (r->expires && strlen(buf) + 24 < len)
		snprintf(buf + strlen(buf), len - strlen(buf), " expires %usec", r->expires);
	if (r->pref && strlen(buf) + 12 < len)
		strcat(buf, r->pref == ICMPV6_ROUTER_PREF_HIGH ? " pref high" : " pref low");
}

void rule_format(const struct rr_rule *r, char *buf, size_t len)
{
	char src[INET6_ADDRSTRLEN + 8] = "";
	char s[INET6_ADDRSTRLEN];
	char mark[32] = "", iif[VALUE_NAME_ESCAPED + 8] = "", action[32];
	char name[VALUE_NAME_ESCAPED];

	if (r->src.family)
		snprintf(src, sizeof(src), " from %s/%u", rr_addr_str(&r->src, s, sizeof(s)),
			 r->src_len);
	if (r->iifname[0])
		snprintf(iif, sizeof(iif), " iif %s", value_name_escape(r->iifname, name, sizeof(name)));
	if (r->fwmark || r->fwmask)
		snprintf(mark, sizeof(mark), " fwmark %#x/%#x", r->fwmark, r->fwmask);
	if (r->action == FR_ACT_GOTO)
		snprintf(action, sizeof(action), "goto %u", r->target);
	else if (r->action == FR_ACT_NOP)
		snprintf(action, sizeof(action), "nop");
	else
		snprintf(action, sizeof(action), "lookup %u", r->table);
	snprintf(buf, len, "%spriority %u%s%s%s %s proto %u", r->family == AF_INET6 ? "-6 " : "",
		 r->priority, src, iif, mark, action, r->protocol);
}
