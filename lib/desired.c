/* SPDX-License-Identifier: MIT */
#include "desired.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uset.h"
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

static const struct rr_ifaddr *pick_source(const struct rr_view *v, int ifindex, int family,
					   const struct rr_addr *sticky)
{
	const struct rr_ifaddr *best = NULL;

	for (size_t i = 0; i < v->n_addrs; i++) {
		const struct rr_ifaddr *a = &v->addrs[i];

		if (a->ifindex != ifindex || a->local.family != family || !ifaddr_usable(a))
			continue;
		if (!best || ifaddr_cmp(a, best) < 0)
			best = a;
	}
	/* Keep last time's choice while it is usable and no worse (not deprecated). */
	for (size_t i = 0; best && sticky && sticky->family && i < v->n_addrs; i++) {
		const struct rr_ifaddr *a = &v->addrs[i];

		if (a->ifindex == ifindex && rr_addr_eq(&a->local, sticky) && ifaddr_usable(a) &&
		    !((a->flags & IFA_F_DEPRECATED) && !(best->flags & IFA_F_DEPRECATED)))
			return a;
	}
	return best;
}

/* The lowest-metric default route of the main table through ifindex. */
static const struct rr_route *learn_gateway(const struct rr_view *v, int ifindex, int family,
					     uint8_t proto)
{
	const struct rr_route *best = NULL;

	for (size_t i = 0; i < v->n_routes; i++) {
		const struct rr_route *r = &v->routes[i];

		if (r->family != family || r->table != RT_TABLE_MAIN || r->dst_len != 0 ||
		    r->type != RTN_UNICAST || r->oif != ifindex || r->protocol == proto)
			continue;
		if (!best || r->metric < best->metric)
			best = r;
	}
	return best;
}

static bool gateway_on_link(const struct rr_view *v, int ifindex, const struct rr_addr *gw)
{
	if (addr_is_link_local6(gw))
		return true;
	for (size_t i = 0; i < v->n_addrs; i++) {
		const struct rr_ifaddr *a = &v->addrs[i];

		/* Without its prefix route the kernel does not see the subnet as on-link. */
		if (a->ifindex != ifindex || a->local.family != gw->family ||
		    (a->flags & IFA_F_NOPREFIXROUTE))
			continue;
		if (a->peer.family ? rr_addr_eq(&a->peer, gw)
				   : rr_addr_in_prefix(gw, &a->local, a->prefixlen))
			return true;
	}
	return false;
}

static bool link_operational(const struct rr_link *l)
{
	return (l->flags & IFF_UP) && (l->flags & IFF_LOWER_UP) && !(l->flags & IFF_LOOPBACK);
}

/* Append unless one with that key is there already: the first wins (own prefixes come first). */
static int add_route(struct rr_view *want, const struct rr_route *r)
{
	struct rr_route *n;

	for (size_t i = 0; i < want->n_routes; i++)
		if (route_same_key(&want->routes[i], r))
			return 0;
	if (!(n = view_add_route(want)))
		return -ENOMEM;
	*n = *r;
	return 0;
}

static int add_rule(struct rr_view *want, const struct rr_rule *r)
{
	struct rr_rule *n;

	for (size_t i = 0; i < want->n_rules; i++)
		if (rule_same(&want->rules[i], r))
			return 0;
	if (!(n = view_add_rule(want)))
		return -ENOMEM;
	*n = *r;
	return 0;
}

/* The prefix route of a connected address, as the kernel would install it in main. */
static bool connected_route(const struct rr_ifaddr *a, struct rr_route *r)
{
	if (!ifaddr_usable(a) || (a->flags & IFA_F_NOPREFIXROUTE))
		return false;
	r->dst = a->peer.family ? a->peer : a->local;
	r->dst_len = a->peer.family ? family_bits(a->local.family) : a->prefixlen;
	if (!a->peer.family && r->dst_len == family_bits(a->local.family))
		return false;
	rr_addr_mask(&r->dst, r->dst_len);
	r->oif = a->ifindex;
	r->src = a->local;
	r->scope = a->local.family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	return true;
}

static int iface_family(struct rr_desired *d, struct rr_iface_status *st, const struct rr_view *v,
			const struct rr_config *c, const struct rr_link *link, int family,
			uint8_t proto, const struct rr_sticky *sticky, const bool *addr_up)
{
	const struct rr_iface_conf *ic = st->conf;
	unsigned fi = FAMILY_INDEX(family);
	const struct rr_ifaddr *src =
		pick_source(v, link->ifindex, family, sticky ? &sticky->src[fi] : NULL);
	const struct rr_addr *cgw = family == AF_INET ? &ic->gateway4 : &ic->gateway6;
	struct rr_route base = {
		.family = family,
		.table = st->table,
		.dst.family = family,
		.metric = family == AF_INET6 ? 1024 : 0,
		.protocol = proto,
		.type = RTN_UNICAST,
	};
	struct rr_route r;
	int ret;

	if (!src)
		return 0;
	st->src[fi] = src->local;
	st->p2p[fi] = (link->flags & IFF_POINTOPOINT) || src->peer.family;

	r = base;
	r.oif = link->ifindex;
	r.src = src->local;
	if (cgw->family) {
		st->gw[fi] = *cgw;
	} else {
		const struct rr_route *def = learn_gateway(v, link->ifindex, family, proto);

		if (def && def->gw.family)
			st->gw[fi] = def->gw;
		else if (def)
			st->p2p[fi] = true;
	}
	if (st->gw[fi].family) {
		r.gw = st->gw[fi];
		r.onlink = !gateway_on_link(v, link->ifindex, &r.gw);
		if ((ret = add_route(&d->want, &r)) < 0)
			return ret;
	} else if (st->p2p[fi]) {
		r.scope = family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
		if ((ret = add_route(&d->want, &r)) < 0)
			return ret;
	}

	/* Connected prefixes: the tracked interface's first, then every other up link's. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < v->n_addrs; i++) {
			const struct rr_ifaddr *a = &v->addrs[i];

			if (a->local.family != family || !addr_up[i])
				continue;
			if ((pass == 0) != (a->ifindex == link->ifindex))
				continue;
			r = base;
			if (!connected_route(a, &r))
				continue;
			if (pass == 0)
				r.src = src->local;
			if ((ret = add_route(&d->want, &r)) < 0)
				return ret;
		}
	}

	const struct rr_rule base_rule = {
		.family = family,
		.priority = ic->priority,
		.table = st->table,
		.protocol = proto,
		.action = FR_ACT_TO_TBL,
	};
	struct rr_rule rule = base_rule;

	rule.fwmark = ic->mark;
	rule.fwmask = c->mask;
	if ((ret = add_rule(&d->want, &rule)) < 0)
		return ret;
	for (size_t i = 0; ic->source_rules && i < v->n_addrs; i++) {
		const struct rr_ifaddr *a = &v->addrs[i];

		if (a->ifindex != link->ifindex || a->local.family != family || !ifaddr_usable(a))
			continue;
		rule = base_rule;
		rule.src = a->local;
		rule.src_len = family_bits(family);
		if ((ret = add_rule(&d->want, &rule)) < 0)
			return ret;
	}
	return 1;
}

/*
 * The table numbers an automatic table must avoid, each set sorted once:
 * allocating n tables is then n log n, not n times everything taken.
 */
struct taken_tables {
	uint32_t *ours;	   /* reserved, configured, named in rt_tables */
	uint32_t *added;   /* allocated by this call, kept sorted */
	uint32_t *foreign; /* in someone else's rule or route */
	size_t n_ours, n_added, n_foreign;
};

static void taken_clear(struct taken_tables *tt)
{
	free(tt->ours);
	free(tt->added);
	free(tt->foreign);
}

static int taken_init(struct taken_tables *tt, const struct rr_config *c, const uint32_t *tables,
		      const struct rr_view *v, uint8_t proto)
{
	static const uint32_t reserved[] = {0, RT_TABLE_DEFAULT, RT_TABLE_MAIN, RT_TABLE_LOCAL};

	*tt = (struct taken_tables){0};
	tt->ours = calloc(4 + c->n_ifaces + c->n_named_tables, sizeof(*tt->ours));
	tt->added = calloc(c->n_ifaces + 1, sizeof(*tt->added));
	tt->foreign = calloc(v->n_rules + v->n_routes + 1, sizeof(*tt->foreign));
	if (!tt->ours || !tt->added || !tt->foreign) {
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
	for (size_t i = 0; i < v->n_rules; i++)
		if (v->rules[i].protocol != proto)
			tt->foreign[tt->n_foreign++] = v->rules[i].table;
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
		for (size_t j = 0; j < v->n_rules && !tables[i]; j++) {
			const struct rr_rule *r = &v->rules[j];

			if (r->protocol == proto && r->fwmark == ic->mark && r->fwmask == c->mask &&
			    !r->src.family && !taken_has(&tt, r->table, false))
				tables[i] = r->table;
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

int desired_compute(const struct rr_config *c, const uint32_t *tables, const struct rr_view *v,
		    uint8_t proto, const struct rr_sticky *sticky, size_t n_sticky,
		    struct rr_desired *ret)
{
	static const struct rr_config none = {.mask = RR_DEFAULT_MASK};
	struct rr_desired d = {0};
	bool *addr_up = calloc(v->n_addrs + 1, sizeof(*addr_up));
	int r = -ENOMEM;

	if (!addr_up)
		return -ENOMEM;
	if (!c)
		c = &none;
	d.config = c;
	if ((r = desired_nft(&d, c)) < 0)
		goto fail;
	r = -ENOMEM;
	/* Once, not per interface: whether each address's link is up. */
	for (size_t i = 0; i < v->n_addrs; i++) {
		const struct rr_link *l = view_link_by_index(v, v->addrs[i].ifindex);

		addr_up[i] = l && link_operational(l);
	}
	d.ifaces = calloc(c->n_ifaces ? c->n_ifaces : 1, sizeof(*d.ifaces));
	d.sysctls = calloc(c->n_ifaces ? c->n_ifaces : 1, sizeof(*d.sysctls));
	if (!d.ifaces || !d.sysctls)
		goto fail;
	d.n_ifaces = c->n_ifaces;

	for (size_t i = 0; i < c->n_ifaces; i++) {
		struct rr_iface_status *st = &d.ifaces[i];
		const struct rr_link *link = view_link_by_name(v, c->ifaces[i].name);
		const struct rr_sticky *stick = NULL;
		bool any = false;

		for (size_t j = 0; j < n_sticky && !stick; j++)
			if (strcmp(sticky[j].name, c->ifaces[i].name) == 0)
				stick = &sticky[j];
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
		if (!(link->flags & IFF_LOWER_UP)) {
			st->state = RR_IFACE_NO_CARRIER;
			continue;
		}
		for (unsigned f = 0; f < 2; f++) {
			r = iface_family(&d, st, v, c, link, families[f], proto, stick, addr_up);
			if (r < 0)
				goto fail;
			any |= r > 0;
		}
		st->state = any ? RR_IFACE_ACTIVE : RR_IFACE_NO_ADDRESS;
	}
	free(addr_up);
	*ret = d;
	return 0;
fail:
	free(addr_up);
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
