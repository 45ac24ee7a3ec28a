/* SPDX-License-Identifier: MIT */
#include "desired.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/icmpv6.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "markrules.h"
#include "vindex.h"
#include "value.h"

#define FAMILY_INDEX(f) ((f) == AF_INET6)
static const int families[2] = {AF_INET, AF_INET6};

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static bool addr_is_link_local6(const struct rr_addr *a)
{
	return a->family == AF_INET6 && a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}

/* An address replyroute may use: global scope, DAD done and passed. */
static bool ifaddr_usable(const struct rr_ifaddr *a)
{
	if (a->scope != RT_SCOPE_UNIVERSE)
		return false;
	if (a->local.family == AF_INET6 && addr_is_link_local6(&a->local))
		return false;
	return !(a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));
}

/* Lower is better: not deprecated, then primary; ties go to the kernel's order. */
static int ifaddr_cmp(const struct rr_ifaddr *a, const struct rr_ifaddr *b)
{
	int da = !!(a->flags & IFA_F_DEPRECATED), db = !!(b->flags & IFA_F_DEPRECATED);
	int sa = !!(a->flags & IFA_F_SECONDARY), sb = !!(b->flags & IFA_F_SECONDARY);

	if (da != db)
		return da - db;
	return sa - sb;
}

static const struct rr_ifaddr *pick_source(const struct rr_vindex *x, int ifindex, int family,
					   const struct rr_addr *sticky)
{
	const struct rr_view *v = x->v;
	const struct rr_ifaddr *best = NULL;
	size_t first, n = vindex_addrs(x, ifindex, &first);

	for (size_t k = first; k < first + n; k++) {
		const struct rr_ifaddr *a = &v->addrs[x->addrs[k]];

		if (a->local.family != family || !ifaddr_usable(a))
			continue;
		if (!best || ifaddr_cmp(a, best) < 0)
			best = a;
	}
	/* Keep last time's choice while it is usable and no worse (not deprecated). */
	for (size_t k = first; best && sticky && sticky->family && k < first + n; k++) {
		const struct rr_ifaddr *a = &v->addrs[x->addrs[k]];

		if (rr_addr_eq(&a->local, sticky) && ifaddr_usable(a) &&
		    !((a->flags & IFA_F_DEPRECATED) && !(best->flags & IFA_F_DEPRECATED)))
			return a;
	}
	return best;
}

/* Main's routes through ifindex of one family, not ours: each i with fn(route) true. */
#define FOR_MAIN_ROUTES(x, ifindex, fam, proto_, r)                                       \
	for (size_t first_, n_ = vindex_routes((x), (ifindex), &first_), k_ = first_;       \
	     k_ < first_ + n_; k_++)                                                        \
		if (((r) = &(x)->v->routes[(x)->routes[k_]])->family == (fam) &&            \
		    (r)->protocol != (proto_) && (r)->type == RTN_UNICAST)

/* Lower is preferred: RFC 4191 high, medium, low (RTA_PREF 1, 0, 3). */
static int pref_rank(uint8_t pref)
{
	return pref == ICMPV6_ROUTER_PREF_HIGH ? 0 : pref == ICMPV6_ROUTER_PREF_LOW ? 2 : 1;
}

static int router_cmp(const void *a, const void *b)
{
	const struct rr_route *x = *(const struct rr_route *const *)a;
	const struct rr_route *y = *(const struct rr_route *const *)b;

	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	return pref_rank(x->pref) - pref_rank(y->pref);
}

/*
 * The default routes of main through ifindex, best first: IPv4 the
 * lowest-metric one; IPv6 every router (from router advertisements or
 * configured), so that marked traffic fails over from a dead router exactly
 * as unmarked traffic does. Returns how many (at most max).
 */
static size_t learn_gateways(const struct rr_vindex *x, int ifindex, int family, uint8_t proto,
			     const struct rr_route **out, size_t max)
{
	const struct rr_route *r;
	size_t n = 0;

	FOR_MAIN_ROUTES(x, ifindex, family, proto, r) {
		if (r->dst_len != 0 || n == max)
			continue;
		out[n++] = r;
	}
	qsort(out, n, sizeof(*out), router_cmp);
	return family == AF_INET && n > 1 ? 1 : n;
}

/* An on-link prefix of the interface in main, however it got there (kernel, DHCP client, admin). */
static bool onlink_prefix(const struct rr_route *r)
{
	if (r->dst_len == 0 || r->gw.family)
		return false;
	/* fe80::/64 stays out: replies to link-local peers are routed by the socket's scope. */
	return !(r->dst_len >= 10 && addr_is_link_local6(&r->dst));
}

static bool gateway_on_link(const struct rr_view *want, size_t from, const struct rr_addr *gw)
{
	if (addr_is_link_local6(gw))
		return true;
	for (size_t i = from; i < want->n_routes; i++) {
		const struct rr_route *p = &want->routes[i];

		if (!p->gw.family && p->dst_len && rr_addr_in_prefix(gw, &p->dst, p->dst_len))
			return true;
	}
	return false;
}

static bool link_operational(const struct rr_link *l)
{
	return (l->flags & IFF_UP) && (l->flags & IFF_LOWER_UP) && !(l->flags & IFF_LOOPBACK);
}

static int add_route(struct rr_view *want, const struct rr_route *r)
{
	struct rr_route *n = view_add_route(want);

	if (!n)
		return -ENOMEM;
	*n = *r;
	return 0;
}

static int add_rule(struct rr_view *want, const struct rr_rule *r)
{
	struct rr_rule *n = view_add_rule(want);

	if (!n)
		return -ENOMEM;
	*n = *r;
	return 0;
}

#define MAX_ROUTERS 16

/* Table T: I's own on-link prefixes first, then its default route(s). */
static int iface_routes(struct rr_desired *d, struct rr_iface_status *st, const struct rr_vindex *x,
			const struct rr_link *link, const struct rr_route *base, unsigned fi,
			uint8_t proto)
{
	const struct rr_iface_conf *ic = st->conf;
	const struct rr_addr *cgw = fi ? &ic->gateway6 : &ic->gateway4;
	const struct rr_route *routers[MAX_ROUTERS], *m;
	size_t n_routers = 0, prefixes = d->want.n_routes, first, n;
	struct rr_route r;
	uint32_t metric = 0;
	int ret;

	FOR_MAIN_ROUTES(x, link->ifindex, base->family, proto, m) {
		if (!onlink_prefix(m))
			continue;
		r = *base;
		r.dst = m->dst;
		r.dst_len = m->dst_len;
		r.scope = base->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
		if ((ret = add_route(&d->want, &r)) < 0)
			return ret;
	}
	/*
	 * And the prefix of each address the kernel gives one (not noprefixroute):
	 * it announces the address before it adds that route, so the first look
	 * after an address change already has it (the copy above dedups it).
	 */
	n = vindex_addrs(x, link->ifindex, &first);
	for (size_t k = first; k < first + n; k++) {
		const struct rr_ifaddr *a = &x->v->addrs[x->addrs[k]];
		unsigned bits = base->family == AF_INET ? 32 : 128;

		if (a->local.family != base->family || !ifaddr_usable(a) ||
		    (a->flags & IFA_F_NOPREFIXROUTE) || (!a->peer.family && a->prefixlen >= bits))
			continue;
		r = *base;
		r.dst = a->peer.family ? a->peer : a->local;
		r.dst_len = a->peer.family ? (uint8_t)bits : a->prefixlen;
		rr_addr_mask(&r.dst, r.dst_len);
		r.scope = base->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
		if ((ret = add_route(&d->want, &r)) < 0)
			return ret;
	}
	if (cgw->family) {
		st->gw[fi] = *cgw;
		routers[n_routers++] = NULL;
	} else {
		n_routers = learn_gateways(x, link->ifindex, base->family, proto, routers, MAX_ROUTERS);
		if (n_routers && routers[0]->gw.family)
			st->gw[fi] = routers[0]->gw;
		else if (n_routers)
			st->p2p[fi] = true;
	}
	for (size_t i = 0; i < n_routers; i++) {
		r = *base;
		if (routers[i] && !routers[i]->gw.family) {
			/* A default route without a gateway: point-to-point. */
			r.scope = base->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
		} else if (routers[i]) {
			r.gw = routers[i]->gw;
			r.pref = routers[i]->pref;
			r.expires = routers[i]->expires;
		} else {
			r.gw = *cgw;
		}
		/* Distinct metrics in the same order: equal ones would merge into one multipath route. */
		r.metric = i == 0 ? base->metric : metric + 1;
		metric = r.metric;
		if (r.gw.family)
			r.onlink = !gateway_on_link(&d->want, prefixes, &r.gw);
		if ((ret = add_route(&d->want, &r)) < 0)
			return ret;
	}
	if (!n_routers && st->p2p[fi]) {
		r = *base;
		r.scope = base->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
		if ((ret = add_route(&d->want, &r)) < 0)
			return ret;
	}
	return 0;
}

static int iface_family(struct rr_desired *d, struct rr_iface_status *st, const struct rr_vindex *x,
			const struct rr_config *c, const struct rr_link *link, int family,
			uint8_t proto, const struct rr_sticky *sticky)
{
	const struct rr_iface_conf *ic = st->conf;
	unsigned fi = FAMILY_INDEX(family);
	const struct rr_ifaddr *src =
		pick_source(x, link->ifindex, family, sticky ? &sticky->src[fi] : NULL);
	const struct rr_route base = {
		.family = family,
		.table = st->table,
		.dst.family = family,
		.metric = family == AF_INET6 ? 1024 : 0,
		.protocol = proto,
		.type = RTN_UNICAST,
		.oif = link->ifindex,
		.src = src ? src->local : (struct rr_addr){0},
	};
	struct rr_rule rule;
	size_t first, n;
	int ret;

	if (!src)
		return 0;
	st->src[fi] = src->local;
	st->p2p[fi] = (link->flags & IFF_POINTOPOINT) || src->peer.family;
	if ((ret = iface_routes(d, st, x, link, &base, fi, proto)) < 0)
		return ret;

	n = ic->source_rules ? vindex_addrs(x, link->ifindex, &first) : 0;
	for (size_t k = first; k < first + n; k++) {
		const struct rr_ifaddr *a = &x->v->addrs[x->addrs[k]];

		if (a->local.family != family || !ifaddr_usable(a))
			continue;
		rule = (struct rr_rule){.family = family, .table = st->table, .protocol = proto,
					.action = FR_ACT_TO_TBL, .src = a->local,
					.src_len = family_bits(family)};
		rule.priority = UINT32_MAX; /* the anchor's: set once all interfaces are known */
		if ((ret = add_rule(&d->want, &rule)) < 0)
			return ret;
	}
	return 1;
}

/* The nft table: rendered from the config alone. */
static int desired_nft(struct rr_desired *d, const struct rr_config *c)
{
	int r;

	if ((r = ruleset_render(c, &d->nft_text)) < 0)
		return r;
	if ((r = ruleset_state_from_config(c, &d->nft)) < 0)
		return r;
	d->nft.text_hash = ruleset_hash(d->nft_text);
	return 0;
}

/* Drop later copies with the same key, keeping the order of the first ones; n log n. */
struct dedup {
	const struct rr_view *want;
	size_t at;
};

static int dedup_route_cmp(const void *a, const void *b)
{
	const struct dedup *x = a, *y = b;
	int r = route_key_cmp(&x->want->routes[x->at], &y->want->routes[y->at]);

	return r ? r : (x->at > y->at) - (x->at < y->at);
}

static int dedup_rule_cmp(const void *a, const void *b)
{
	const struct dedup *x = a, *y = b;
	int r = rule_cmp(&x->want->rules[x->at], &y->want->rules[y->at]);

	return r ? r : (x->at > y->at) - (x->at < y->at);
}

static int dedup(struct rr_view *want)
{
	size_t n = want->n_routes > want->n_rules ? want->n_routes : want->n_rules, m = 0;
	struct dedup *k = malloc((n + 1) * sizeof(*k));
	bool *drop = calloc(n + 1, sizeof(*drop));

	if (!k || !drop) {
		free(k);
		free(drop);
		return -ENOMEM;
	}
	for (size_t i = 0; i < want->n_routes; i++)
		k[i] = (struct dedup){want, i};
	qsort(k, want->n_routes, sizeof(*k), dedup_route_cmp);
	for (size_t i = 1; i < want->n_routes; i++)
		drop[k[i].at] = route_same_key(&want->routes[k[i - 1].at], &want->routes[k[i].at]);
	for (size_t i = 0; i < want->n_routes; i++)
		if (!drop[i])
			want->routes[m++] = want->routes[i];
	want->n_routes = m;
	memset(drop, 0, (n + 1) * sizeof(*drop));
	m = 0;
	for (size_t i = 0; i < want->n_rules; i++)
		k[i] = (struct dedup){want, i};
	qsort(k, want->n_rules, sizeof(*k), dedup_rule_cmp);
	for (size_t i = 1; i < want->n_rules; i++)
		drop[k[i].at] = rule_same(&want->rules[k[i - 1].at], &want->rules[k[i].at]);
	for (size_t i = 0; i < want->n_rules; i++)
		if (!drop[i])
			want->rules[m++] = want->rules[i];
	want->n_rules = m;
	free(k);
	free(drop);
	return 0;
}

static const struct rr_sticky *sticky_find(const struct rr_sticky *sticky, size_t n, size_t i,
					   const char *name)
{
	/* Usually the same position: the config did not change. */
	if (i < n && strcmp(sticky[i].name, name) == 0)
		return &sticky[i];
	for (size_t j = 0; j < n; j++)
		if (strcmp(sticky[j].name, name) == 0)
			return &sticky[j];
	return NULL;
}

int desired_compute(const struct rr_config *c, const uint32_t *tables, const struct rr_view *v,
		    uint8_t proto, const struct rr_sticky *sticky, size_t n_sticky,
		    struct rr_desired *ret)
{
	static const struct rr_config none = {.mask = RR_DEFAULT_MASK};
	struct rr_desired d = {0};
	struct rr_vindex x;
	int r;

	if (!c)
		c = &none;
	if ((r = vindex_build(&x, v, RT_TABLE_MAIN)) < 0)
		return r;
	d.config = c;
	if ((r = desired_nft(&d, c)) < 0)
		goto fail;
	r = -ENOMEM;
	d.ifaces = calloc(c->n_ifaces ? c->n_ifaces : 1, sizeof(*d.ifaces));
	d.sysctls = calloc(c->n_ifaces ? c->n_ifaces : 1, sizeof(*d.sysctls));
	if (!d.ifaces || !d.sysctls)
		goto fail;
	d.n_ifaces = c->n_ifaces;

	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct rr_iface_status *st = &d.ifaces[i];
		const struct rr_link *link = vindex_link_by_name(&x, c->ifaces[i].name);
		const struct rr_sticky *stick = sticky_find(sticky, n_sticky, i, c->ifaces[i].name);
		bool any = false;

		st->conf = &c->ifaces[i];
		st->table = tables ? tables[i] : c->ifaces[i].table;
		if (!link) {
			st->state = RR_IFACE_ABSENT;
			continue;
		}
		memcpy(d.sysctls[d.n_sysctls++], st->conf->name, IFNAMSIZ);
		if (!(link->flags & IFF_UP)) {
			st->state = RR_IFACE_DOWN;
			continue;
		}
		if (!link_operational(link)) {
			st->state = RR_IFACE_NO_CARRIER;
			continue;
		}
		for (unsigned f = 0; f < 2; f++) {
			r = iface_family(&d, st, &x, c, link, families[f], proto, stick);
			if (r < 0)
				goto fail;
			any |= r > 0;
		}
		st->state = any ? RR_IFACE_ACTIVE : RR_IFACE_NO_ADDRESS;
	}
	if ((r = markrules_add(&d, c, proto)) < 0 || (r = dedup(&d.want)) < 0)
		goto fail;
	vindex_clear(&x);
	*ret = d;
	return 0;
fail:
	vindex_clear(&x);
	desired_clear(&d);
	return r;
}

void desired_clear(struct rr_desired *d)
{
	view_clear(&d->want);
	free(d->nft_text);
	ruleset_state_clear(&d->nft);
	free(d->sysctls);
	free(d->ifaces);
	*d = (struct rr_desired){0};
}

__attribute__((format(printf, 4, 5)))
static size_t status_append(char *buf, size_t len, size_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (at >= len)
		return at;
	va_start(ap, fmt);
	n = vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
	return n < 0 ? at : at + (size_t)n;
}

#define DESIRED_STATUS_EACH 8

void desired_status(const struct rr_desired *d, char *buf, size_t len)
{
	static const char *const what[] = {
		[RR_IFACE_ABSENT] = "waiting for link",
		[RR_IFACE_DOWN] = "link down",
		[RR_IFACE_NO_CARRIER] = "no carrier",
		[RR_IFACE_NO_ADDRESS] = "no usable address",
	};
	size_t at = 0;

	if (len)
		buf[0] = '\0';
	if (d->n_ifaces == 0)
		status_append(buf, len, at, "no interfaces configured");
	/* Many: counted by state, a line that fits (replyrouted --status lists them all). */
	if (d->n_ifaces > DESIRED_STATUS_EACH) {
		size_t n[RR_IFACE_ACTIVE + 1] = {0};

		for (size_t i = 0; i < d->n_ifaces; i++)
			n[d->ifaces[i].state]++;
		at = status_append(buf, len, at, "%zu interfaces: %zu active", d->n_ifaces,
				   n[RR_IFACE_ACTIVE]);
		for (int s = RR_IFACE_ABSENT; s < RR_IFACE_ACTIVE; s++)
			if (n[s])
				at = status_append(buf, len, at, ", %zu %s", n[s], what[s]);
		return;
	}
	for (size_t i = 0; i < d->n_ifaces; i++) {
		const struct rr_iface_status *st = &d->ifaces[i];
		char a[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN], name[VALUE_NAME_ESCAPED];

		at = status_append(buf, len, at, "%s%s:", i ? "; " : "",
				   value_name_escape(st->conf->name, name, sizeof(name)));
		if (st->state != RR_IFACE_ACTIVE) {
			at = status_append(buf, len, at, " %s", what[st->state]);
			continue;
		}
		for (unsigned f = 0; f < 2; f++) {
			if (!st->src[f].family)
				continue;
			at = status_append(buf, len, at, " %s", rr_addr_str(&st->src[f], a, sizeof(a)));
			if (st->gw[f].family)
				at = status_append(buf, len, at, " via %s,",
						   rr_addr_str(&st->gw[f], g, sizeof(g)));
			else
				at = status_append(buf, len, at, "%s",
						   st->p2p[f] ? " point-to-point," : " no gateway,");
		}
		at = status_append(buf, len, at, " table %u", st->table);
	}
}
