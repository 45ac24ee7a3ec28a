/* SPDX-License-Identifier: MIT */
/* Unit tests of the pure parts: desired state and plan. No privileges, no kernel. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desired.h"
#include "pickup.h"
#include "plan.h"
#include "ruleset.h"
#include "check.h"

#define PROTO 205


static struct rr_addr A(const char *s)
{
	struct rr_addr a = {0};

	if (rr_addr_parse(s, &a) < 0) {
		fprintf(stderr, "bad address in test: %s\n", s);
		exit(2);
	}
	return a;
}

static void link_add(struct rr_view *v, int ifindex, const char *name, unsigned flags)
{
	struct rr_link *l = view_add_link(v);

	l->ifindex = ifindex;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->flags = flags;
}

/* An on-link route in main, as the kernel or a DHCP client installs it. */
static struct rr_route *prefix_add(struct rr_view *v, int ifindex, const char *dst, unsigned plen,
				   uint8_t proto, uint32_t metric)
{
	struct rr_route *r = view_add_route(v);

	r->dst = A(dst);
	r->family = r->dst.family;
	r->dst_len = (uint8_t)plen;
	rr_addr_mask(&r->dst, plen);
	r->table = RT_TABLE_MAIN;
	r->metric = metric;
	r->protocol = proto;
	r->scope = r->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	r->type = RTN_UNICAST;
	r->oif = ifindex;
	return r;
}

/* An address, and its prefix route in main as the kernel adds it (not with noprefixroute). */
static void addr_add(struct rr_view *v, int ifindex, const char *local, unsigned plen,
		     unsigned flags)
{
	struct rr_ifaddr *a = view_add_addr(v);
	struct rr_addr l = A(local);

	a->ifindex = ifindex;
	a->local = l;
	a->prefixlen = (uint8_t)plen;
	a->flags = flags;
	a->scope = RT_SCOPE_UNIVERSE;
	if (!(flags & IFA_F_NOPREFIXROUTE) && plen < (l.family == AF_INET ? 32u : 128u))
		prefix_add(v, ifindex, local, plen, RTPROT_KERNEL, l.family == AF_INET ? 0 : 256);
}

static const struct rr_rule *find_rule(const struct rr_desired *d, int family, uint8_t action,
				       uint32_t priority)
{
	for (size_t i = 0; i < d->want.n_rules; i++)
		if (d->want.rules[i].family == family && d->want.rules[i].action == action &&
		    d->want.rules[i].priority == priority)
			return &d->want.rules[i];
	return NULL;
}

/*
 * The rules of one family with one active interface at priority 1000: the
 * gate (998), the iif rule (999), the fwmark rule (1000), the anchor (1001).
 */
static void check_rules1(const struct rr_desired *d, int family, const char *iif, uint32_t table)
{
	const struct rr_rule *r = find_rule(d, family, FR_ACT_GOTO, 998);

	CHECK(r && r->fwmark == 0 && r->fwmask == 0xff && r->target == 1001 && r->protocol == PROTO);
	r = find_rule(d, family, FR_ACT_NOP, 1001);
	CHECK(r && r->protocol == PROTO && r->fwmask == 0);
	r = find_rule(d, family, FR_ACT_TO_TBL, 999);
	CHECK(r && r->table == RT_TABLE_MAIN && strcmp(r->iifname, iif) == 0 && r->fwmark == 1 &&
	      r->fwmask == 0xff);
	r = find_rule(d, family, FR_ACT_TO_TBL, 1000);
	CHECK(r && r->table == table && !r->iifname[0] && r->fwmark == 1 && r->fwmask == 0xff &&
	      r->protocol == PROTO);
}

static void default_add(struct rr_view *v, int ifindex, const char *gw, uint32_t metric)
{
	struct rr_route *r = view_add_route(v);
	struct rr_addr g = gw ? A(gw) : (struct rr_addr){0};

	r->family = gw ? g.family : AF_INET;
	r->table = RT_TABLE_MAIN;
	r->dst.family = r->family;
	r->metric = metric;
	r->protocol = RTPROT_BOOT;
	r->type = RTN_UNICAST;
	r->oif = ifindex;
	r->gw = g;
}

#define UP (IFF_UP | IFF_LOWER_UP | IFF_RUNNING)

static struct rr_iface_conf iface(const char *name, uint32_t table, uint32_t mark)
{
	struct rr_iface_conf c = {.table = table, .mark = mark, .priority = 1000};

	snprintf(c.name, sizeof(c.name), "%s", name);
	return c;
}

static struct rr_config config1(struct rr_iface_conf *ic)
{
	return (struct rr_config){.mask = 0xff, .priority = 1000, .ifaces = ic, .n_ifaces = 1};
}

static const struct rr_route *find_route(const struct rr_desired *d, const char *dst,
					 unsigned len)
{
	struct rr_addr a = A(dst);

	for (size_t i = 0; i < d->want.n_routes; i++)
		if (d->want.routes[i].dst_len == len && rr_addr_eq(&d->want.routes[i].dst, &a))
			return &d->want.routes[i];
	return NULL;
}

/* The seed: eth0 management, eth1 public with a configured gateway. */
static void seed_view(struct rr_view *v)
{
	link_add(v, 1, "lo", IFF_UP | IFF_LOOPBACK | IFF_LOWER_UP);
	link_add(v, 2, "eth0", UP);
	link_add(v, 3, "eth1", UP);
	addr_add(v, 2, "192.0.2.2", 24, 0);
	addr_add(v, 3, "203.0.113.2", 24, 0);
	default_add(v, 3, "203.0.113.1", 0);
}

static void test_seed(void)
{
	struct rr_iface_conf ic = iface("eth1", 100, 0x1);
	struct rr_config c;
	struct rr_view v = {0};
	struct rr_desired d = {0};
	const struct rr_route *r;
	char status[256];

	ic.gateway4 = A("203.0.113.1");
	c = config1(&ic);
	seed_view(&v);
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	CHECK(d.want.n_rules == 4);
	check_rules1(&d, AF_INET, "eth1", 100);
	CHECK(d.want.n_routes == 2);
	r = find_route(&d, "0.0.0.0", 0);
	CHECK(r && r->oif == 3 && rr_addr_eq(&r->gw, &ic.gateway4) && !r->onlink);
	CHECK(r && rr_addr_eq(&r->src, &(struct rr_addr){0}) == false);
	r = find_route(&d, "203.0.113.0", 24);
	CHECK(r && r->oif == 3 && r->scope == RT_SCOPE_LINK && r->table == 100);
	/* Not the host's other connected prefixes: forwarded packets find them in main (iif rule). */
	CHECK(find_route(&d, "192.0.2.0", 24) == NULL);
	CHECK(d.n_sysctls == 1 && strcmp(d.sysctls[0], "eth1") == 0);
	desired_status(&d, status, sizeof(status));
	CHECK(strcmp(status, "eth1: 203.0.113.2 via 203.0.113.1, table 100") == 0);
	desired_clear(&d);
	view_clear(&v);
}

static void test_learned_gateway_lowest_metric(void)
{
	struct rr_iface_conf ic = iface("eth1", 100, 0x1);
	struct rr_config c = config1(&ic);
	struct rr_view v = {0};
	struct rr_desired d = {0};
	const struct rr_route *r;

	seed_view(&v); /* default via 203.0.113.1 metric 0 on eth1 */
	default_add(&v, 3, "203.0.113.9", 50);
	default_add(&v, 2, "192.0.2.1", 10); /* another interface: never learned */
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	r = find_route(&d, "0.0.0.0", 0);
	CHECK(r && strcmp(inet_ntoa(r->gw.v4), "203.0.113.1") == 0);
	desired_clear(&d);
	for (size_t i = 0; i < v.n_routes; i++) /* now .9 has the lowest metric */
		if (v.routes[i].dst_len == 0 && v.routes[i].metric == 0)
			v.routes[i].metric = 100;
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	r = find_route(&d, "0.0.0.0", 0);
	CHECK(r && strcmp(inet_ntoa(r->gw.v4), "203.0.113.9") == 0);
	desired_clear(&d);
	view_clear(&v);
}

static void test_no_gateway(void)
{
	struct rr_iface_conf ic = iface("eth1", 100, 0x1);
	struct rr_config c = config1(&ic);
	struct rr_view v = {0};
	struct rr_desired d = {0};
	char status[256];

	link_add(&v, 3, "eth1", UP);
	addr_add(&v, 3, "203.0.113.2", 24, 0);
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	CHECK(find_route(&d, "0.0.0.0", 0) == NULL);
	CHECK(find_route(&d, "203.0.113.0", 24) != NULL);
	CHECK(d.want.n_rules == 4);
	desired_status(&d, status, sizeof(status));
	CHECK(strstr(status, "no gateway") != NULL);
	desired_clear(&d);
	view_clear(&v);
}

static void test_onlink_gateway(void)
{
	struct rr_iface_conf ic = iface("eth1", 100, 0x1);
	struct rr_config c = config1(&ic);
	struct rr_view v = {0};
	struct rr_desired d = {0};
	const struct rr_route *r;

	link_add(&v, 3, "eth1", UP);
	addr_add(&v, 3, "203.0.113.2", 32, 0); /* a /32 lease */
	ic.gateway4 = A("198.51.100.1");
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	r = find_route(&d, "0.0.0.0", 0);
	CHECK(r && r->onlink);
	CHECK(find_route(&d, "203.0.113.2", 32) == NULL); /* no prefix route for a /32 */
	desired_clear(&d);
	view_clear(&v);
}

static void test_point_to_point(void)
{
	struct rr_iface_conf ic = iface("tun0", 100, 0x1);
	struct rr_config c = config1(&ic);
	struct rr_view v = {0};
	struct rr_desired d = {0};
	const struct rr_route *r;
	struct rr_ifaddr *a;

	link_add(&v, 5, "tun0", UP | IFF_POINTOPOINT);
	addr_add(&v, 5, "198.18.0.2", 32, 0);
	a = &v.addrs[0];
	a->peer = A("198.18.0.1");
	prefix_add(&v, 5, "198.18.0.1", 32, RTPROT_KERNEL, 0);
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	r = find_route(&d, "0.0.0.0", 0);
	CHECK(r && r->gw.family == 0 && r->oif == 5 && r->scope == RT_SCOPE_LINK);
	r = find_route(&d, "198.18.0.1", 32);
	CHECK(r && r->oif == 5);
	desired_clear(&d);
	view_clear(&v);
}

static void test_absent_and_down(void)
{
	struct rr_iface_conf ic = iface("eth1", 100, 0x1);
	struct rr_config c = config1(&ic);
	struct rr_view v = {0};
	struct rr_desired d = {0};
	char status[256];

	link_add(&v, 2, "eth0", UP);
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	CHECK(d.want.n_rules == 0 && d.want.n_routes == 0 && d.n_sysctls == 0);
	desired_status(&d, status, sizeof(status));
	CHECK(strcmp(status, "eth1: waiting for link") == 0);
	desired_clear(&d);

	link_add(&v, 3, "eth1", 0);
	addr_add(&v, 3, "203.0.113.2", 24, 0);
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	CHECK(d.want.n_rules == 0 && d.want.n_routes == 0);
	CHECK(d.n_sysctls == 1); /* present: the sysctl is set even while down */
	desired_status(&d, status, sizeof(status));
	CHECK(strcmp(status, "eth1: link down") == 0);
	desired_clear(&d);

	v.links[1].flags = IFF_UP; /* up, no carrier */
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	CHECK(d.want.n_rules == 0 && d.want.n_routes == 0);
	desired_status(&d, status, sizeof(status));
	CHECK(strcmp(status, "eth1: no carrier") == 0);
	desired_clear(&d);
	view_clear(&v);
}

static void test_several_addresses(void)
{
	struct rr_iface_conf ic = iface("eth1", 100, 0x1);
	struct rr_config c = config1(&ic);
	struct rr_view v = {0};
	struct rr_desired d = {0};
	const struct rr_route *r;

	ic.source_rules = true;
	link_add(&v, 3, "eth1", UP);
	addr_add(&v, 3, "203.0.113.20", 24, 0);
	addr_add(&v, 3, "203.0.113.10", 24, IFA_F_SECONDARY);
	addr_add(&v, 3, "198.51.100.7", 24, 0);
	default_add(&v, 3, "203.0.113.1", 0);
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	/* Primary before secondary, then the kernel's order: 203.0.113.20. */
	CHECK(d.ifaces[0].src[0].family == AF_INET &&
	      strcmp(inet_ntoa(d.ifaces[0].src[0].v4), "203.0.113.20") == 0);
	r = find_route(&d, "0.0.0.0", 0);
	CHECK(r && rr_addr_eq(&r->src, &d.ifaces[0].src[0]));
	CHECK(find_route(&d, "203.0.113.0", 24) && find_route(&d, "198.51.100.0", 24));
	/* iif and fwmark rules, gate and anchor, one source rule per address at the anchor's priority. */
	CHECK(d.want.n_rules == 7);
	CHECK(find_rule(&d, AF_INET, FR_ACT_TO_TBL, 1001) && find_rule(&d, AF_INET, FR_ACT_TO_TBL, 1001)->src_len == 32);
	desired_clear(&d);

	/* Sticky: last time's source stays while usable, even when not the first. */
	{
		struct rr_sticky st = {.name = "eth1", .src = {A("198.51.100.7")}};

		CHECK(desired_compute(&c, NULL, &v, PROTO, &st, 1, &d) == 0);
		CHECK(strcmp(inet_ntoa(d.ifaces[0].src[0].v4), "198.51.100.7") == 0);
		desired_clear(&d);
		/* Gone: the usual choice again. */
		st.src[0] = A("198.51.100.99");
		CHECK(desired_compute(&c, NULL, &v, PROTO, &st, 1, &d) == 0);
		CHECK(strcmp(inet_ntoa(d.ifaces[0].src[0].v4), "203.0.113.20") == 0);
		desired_clear(&d);
	}
	view_clear(&v);
}

static void test_ipv6(void)
{
	struct rr_iface_conf ic = iface("eth1", 100, 0x1);
	struct rr_config c = config1(&ic);
	struct rr_view v = {0};
	struct rr_desired d = {0};
	const struct rr_route *r;
	struct rr_ifaddr *ll;

	link_add(&v, 3, "eth1", UP);
	addr_add(&v, 3, "2001:db8:1::2", 64, IFA_F_TENTATIVE);
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	CHECK(d.want.n_rules == 0); /* a tentative address is waited for */
	CHECK(d.ifaces[0].state == RR_IFACE_NO_ADDRESS);
	desired_clear(&d);

	v.addrs[0].flags = 0;
	addr_add(&v, 3, "2001:db8:1::9", 64, IFA_F_DADFAILED);
	ll = view_add_addr(&v);
	ll->ifindex = 3;
	ll->local = A("fe80::2");
	ll->prefixlen = 64;
	ll->scope = RT_SCOPE_LINK;
	prefix_add(&v, 3, "fe80::", 64, RTPROT_KERNEL, 256);
	default_add(&v, 3, "fe80::1", 1024);
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	CHECK(d.want.n_rules == 4);
	check_rules1(&d, AF_INET6, "eth1", 100);
	r = find_route(&d, "::", 0);
	CHECK(r && r->metric == 1024 && !r->onlink && r->gw.family == AF_INET6);
	CHECK(r && rr_addr_eq(&r->src, &(struct rr_addr){0}) == false);
	CHECK(strcmp(inet_ntop(AF_INET6, &d.ifaces[0].src[1].v6, (char[64]){0}, 64),
		     "2001:db8:1::2") == 0);
	CHECK(find_route(&d, "2001:db8:1::", 64) != NULL);
	CHECK(find_route(&d, "fe80::", 64) == NULL);
	desired_clear(&d);
	view_clear(&v);
}

/* The plan: converged means empty; foreign objects are never deleted. */
/* Plan rules and routes against v (no nft table, no sysctls observed). */
static int plan_rr(const struct rr_config *c, const struct rr_desired *d, const struct rr_view *v,
		   struct rr_plan *p, size_t *ret_n_tables)
{
	uint32_t own[8];
	uint32_t *tables = NULL;
	size_t n_tables = 0;
	struct rr_observed o = {.view = v};
	int r;

	for (size_t i = 0; i < c->n_ifaces; i++)
		own[i] = c->ifaces[i].table;
	if ((r = plan_tables(own, c->n_ifaces, v, PROTO, &tables, &n_tables)) < 0)
		return r;
	o.tables = tables;
	o.n_tables = n_tables;
	r = plan_compute(d, &o, PROTO, p);
	free(tables);
	if (ret_n_tables)
		*ret_n_tables = n_tables;
	return r;
}

static size_t plan_rr_size(const struct rr_plan *p)
{
	return p->add.n_rules + p->add.n_routes + p->del.n_rules + p->del.n_routes;
}

static void test_plan(void)
{
	struct rr_iface_conf ic = iface("eth1", 100, 0x1);
	struct rr_config c = config1(&ic);
	struct rr_view v = {0};
	struct rr_desired d = {0};
	struct rr_plan p = {0};
	size_t n_tables;
	struct rr_rule *foreign_rule, *stale_rule;
	struct rr_route *foreign_route;

	seed_view(&v);
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	CHECK(plan_rr(&c, &d, &v, &p, NULL) == 0);
	CHECK(p.add.n_rules == 4 && p.add.n_routes == 2 && !p.del.n_rules && !p.del.n_routes);
	plan_clear(&p);

	/* Pretend it was applied, plus a foreign rule and route in our table. */
	for (size_t i = 0; i < d.want.n_routes; i++)
		*view_add_route(&v) = d.want.routes[i];
	for (size_t i = 0; i < d.want.n_rules; i++)
		*view_add_rule(&v) = d.want.rules[i];
	foreign_rule = view_add_rule(&v);
	*foreign_rule = *find_rule(&d, AF_INET, FR_ACT_TO_TBL, 1000);
	foreign_rule->protocol = RTPROT_BOOT;
	foreign_route = view_add_route(&v);
	*foreign_route = d.want.routes[0];
	foreign_route->protocol = RTPROT_STATIC;
	foreign_route->dst_len = 8;
	CHECK(plan_rr(&c, &d, &v, &p, NULL) == 0);
	CHECK(plan_rr_size(&p) == 0);
	plan_clear(&p);

	/* A leftover of an earlier run pointing at table 200: its routes there go too. */
	stale_rule = view_add_rule(&v);
	*stale_rule = *find_rule(&d, AF_INET, FR_ACT_TO_TBL, 1000);
	stale_rule->table = 200;
	{
		struct rr_route *stale = view_add_route(&v);

		*stale = d.want.routes[0];
		stale->table = 200;
	}
	CHECK(plan_rr(&c, &d, &v, &p, &n_tables) == 0);
	CHECK(n_tables == 2);
	CHECK(p.del.n_rules == 1 && p.del.rules[0].table == 200);
	CHECK(p.del.n_routes == 1 && p.del.routes[0].table == 200);
	CHECK(p.add.n_rules == 0 && p.add.n_routes == 0);
	plan_clear(&p);

	/* Gateway changed: our default route is replaced, not deleted and added. */
	desired_clear(&d);
	ic.gateway4 = A("203.0.113.254");
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	CHECK(plan_rr(&c, &d, &v, &p, NULL) == 0);
	CHECK(p.add.n_routes == 1 && p.routes_replace[0]);
	CHECK(p.del.n_routes == 1 && p.del.routes[0].table == 200);
	plan_clear(&p);
	desired_clear(&d);
	view_clear(&v);
}

static void test_ruleset(void)
{
	struct rr_iface_conf ics[2] = {iface("eth1", 100, 0x1), iface("eth2", 101, 0x2)};
	struct rr_config c = {.mask = 0xff00, .priority = 1000, .ifaces = ics, .n_ifaces = 2};
	char *text = NULL;

	ics[0].mark = 0x100;
	ics[1].mark = 0x200;
	CHECK(ruleset_render(&c, &text) == 0 && text);
	/* One lookup per packet whatever the number of interfaces. */
	CHECK(strstr(text, "ct state new iifname vmap @iface_mark"));
	CHECK(strstr(text, "\"eth1\" : jump ct_0x100, \"eth2\" : jump ct_0x200"));
	CHECK(strstr(text, "ct mark & 0xff00 vmap @mark_restore"));
	/* Bits outside the mask are kept. */
	CHECK(strstr(text, "ct mark set ct mark & 0xffff00ff | 0x200"));
	CHECK(strstr(text, "meta mark set meta mark & 0xffff00ff | 0x100"));
	/* After iptables' mangle (-150), whichever was loaded first. */
	CHECK(strstr(text, "type filter hook prerouting priority mangle + 1;"));
	CHECK(strstr(text, "type route hook output priority mangle + 1;"));
	/* Unmarked connections only are looked at for pickups, by interface and by address. */
	CHECK(strstr(text, "ct mark & 0xff00 == 0 jump unmarked_in"));
	CHECK(strstr(text, "ct mark & 0xff00 == 0 jump unmarked_out"));
	CHECK(strstr(text, "elements = { \"eth1\", \"eth2\" }"));
	free(text);
	c.n_ifaces = 0;
	CHECK(ruleset_render(&c, &text) == 0 && text == NULL);
}

/* A config change touches only the interfaces that changed. */
static void test_ruleset_delta(void)
{
	struct rr_iface_conf ics[3] = {iface("eth1", 100, 0x1), iface("eth2", 101, 0x2),
				       iface("eth3", 102, 0x3)};
	struct rr_config c = {.mask = 0xff, .priority = 1000, .ifaces = ics, .n_ifaces = 2};
	struct ruleset_state old = {0};
	char *d = NULL;

	CHECK(ruleset_state_from_config(&c, &old) == 0);
	CHECK(ruleset_render_delta(&old, &c, &d) == 0 && d == NULL);
	/* eth2 removed, eth3 added. */
	ics[1] = ics[2];
	CHECK(ruleset_render_delta(&old, &c, &d) == 0 && d);
	CHECK(d && strstr(d, "delete element inet replyroute iface_mark { \"eth2\" }"));
	CHECK(d && strstr(d, "delete element inet replyroute ifaces { \"eth2\" }"));
	CHECK(d && strstr(d, "add element inet replyroute ifaces { \"eth3\" }"));
	CHECK(d && strstr(d, "delete chain inet replyroute ct_0x2"));
	CHECK(d && strstr(d, "add element inet replyroute iface_mark { \"eth3\" : jump ct_0x3 }"));
	CHECK(d && strstr(d, "add rule inet replyroute pkt_0x3 meta mark set meta mark & 0xffffff00 | 0x3"));
	CHECK(d && !strstr(d, "eth1") && !strstr(d, "0x1 "));
	free(d);
	/* Another mask cannot be a delta. */
	c.mask = 0xff00;
	CHECK(ruleset_render_delta(&old, &c, &d) == -EINVAL);
	ruleset_state_clear(&old);
}

/* The address maps: tracked interfaces' own addresses, element by element. */
static void test_pickup(void)
{
	struct rr_iface_conf ic = iface("eth1", 100, 0x1);
	struct rr_config c = config1(&ic);
	struct rr_view v = {0};
	struct pickup_set old = {0}, want = {0};
	char *cmds = NULL;

	seed_view(&v);
	addr_add(&v, 3, "2001:db8:113::2", 64, 0);
	addr_add(&v, 3, "fe80::2", 64, 0);
	v.addrs[v.n_addrs - 1].scope = RT_SCOPE_LINK;
	/* The same address on eth0 too: no evidence of one interface. */
	addr_add(&v, 3, "198.18.0.9", 24, 0);
	addr_add(&v, 2, "198.18.0.9", 24, 0);
	CHECK(pickup_desired(&c, &v, &want) == 0 && want.n == 2);
	/* Not known yet: a flush, then all of them. */
	CHECK(pickup_render(&old, &want, true, &cmds) == 0 && cmds);
	CHECK(cmds && strcmp(cmds, "flush map inet replyroute addr_mark4\n"
				   "flush map inet replyroute addr_mark6\n"
				   "add element inet replyroute addr_mark4 { 203.0.113.2 : jump ct_0x1 }\n"
				   "add element inet replyroute addr_mark6 { 2001:db8:113::2 : jump ct_0x1 }\n") == 0);
	free(cmds);
	/* Known: only what changed, deletions apart from additions. */
	old = want;
	want = (struct pickup_set){0};
	v.addrs[1].local = A("203.0.113.3");
	CHECK(pickup_desired(&c, &v, &want) == 0 && want.n == 2);
	CHECK(pickup_render(&old, &want, false, &cmds) == 0 && cmds &&
	      strcmp(cmds, "delete element inet replyroute addr_mark4 { 203.0.113.2 }\n") == 0);
	free(cmds);
	CHECK(pickup_render(&old, &want, true, &cmds) == 0 && cmds &&
	      strcmp(cmds, "add element inet replyroute addr_mark4 { 203.0.113.3 : jump ct_0x1 }\n") == 0);
	free(cmds);
	CHECK(pickup_render(&want, &want, true, &cmds) == 0 && !cmds);
	pickup_set_clear(&old);
	pickup_set_clear(&want);
	view_clear(&v);
}

static void test_assign_tables(void)
{
	struct rr_iface_conf ics[3] = {iface("eth1", 0, 0x1), iface("eth2", 1001, 0x2),
				       iface("eth3", 0, 0x3)};
	uint32_t named[] = {1000};
	struct rr_config c = {.mask = 0xff, .ifaces = ics, .n_ifaces = 3, .named_tables = named,
			      .n_named_tables = 1};
	struct rr_view v = {0};
	struct rr_route *foreign = view_add_route(&v);
	struct rr_rule *ours;
	uint32_t tables[3] = {0};

	ics[0].table_auto = ics[2].table_auto = true;
	foreign->table = 1002; /* someone's route */
	foreign->protocol = RTPROT_STATIC;
	CHECK(desired_assign_tables(&c, &v, PROTO, tables) == 2);
	/* 1000 named in rt_tables, 1001 configured, 1002 in use. */
	CHECK(tables[0] == 1003 && tables[1] == 1001 && tables[2] == 1004);
	CHECK(desired_assign_tables(&c, &v, PROTO, tables) == 0);
	CHECK(ics[0].table == 0 && ics[2].table == 0); /* the config is not written to */

	/* A restart finds replyroute's own rule for the mark and keeps its table. */
	memset(tables, 0, sizeof(tables));
	ours = view_add_rule(&v);
	*ours = (struct rr_rule){.family = AF_INET, .table = 1500, .fwmark = 0x3, .fwmask = 0xff,
				 .protocol = PROTO, .action = FR_ACT_TO_TBL};
	CHECK(desired_assign_tables(&c, &v, PROTO, tables) == 2);
	CHECK(tables[2] == 1500 && tables[0] == 1003);
	view_clear(&v);
}

/*
 * The kernel's walk of the rules (fib_rules_lookup): by priority, equal ones
 * in the order added; goto jumps to the first rule of its target priority.
 * Returns the table the packet is looked up in first (0: none of ours
 * decided, the walk reached past the anchor), and how many rules it visited.
 */
static int rule_prio_cmp(const void *a, const void *b)
{
	const struct rr_rule *x = *(const struct rr_rule *const *)a;
	const struct rr_rule *y = *(const struct rr_rule *const *)b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return (x > y) - (x < y);
}

static uint32_t walk(const struct rr_desired *d, int family, const char *iif, uint32_t mark,
		     unsigned *visited)
{
	const struct rr_rule **r = calloc(d->want.n_rules + 1, sizeof(*r));
	size_t n = 0;
	uint32_t table = 0;

	for (size_t i = 0; i < d->want.n_rules; i++)
		if (d->want.rules[i].family == family && !d->want.rules[i].src.family)
			r[n++] = &d->want.rules[i];
	qsort(r, n, sizeof(*r), rule_prio_cmp);
	*visited = 0;
	for (size_t i = 0; i < n && !table; i++) {
		(*visited)++;
		if ((mark ^ r[i]->fwmark) & r[i]->fwmask)
			continue;
		if (r[i]->iifname[0] && strcmp(r[i]->iifname, iif) != 0)
			continue;
		if (r[i]->action == FR_ACT_GOTO) {
			size_t j = 0;

			while (j < n && r[j]->priority != r[i]->target)
				j++;
			CHECK(j < n && j > i); /* resolved, forward */
			i = j - 1;
		} else if (r[i]->action == FR_ACT_TO_TBL) {
			table = r[i]->table;
		}
	}
	free(r);
	return table;
}

/* Many interfaces: a tree of goto rules; every packet still finds its table, in few rules. */
static void test_mark_tree(void)
{
	enum { N = 300 };
	struct rr_iface_conf ic[N];
	struct rr_config c = {.mask = 0xffff, .priority = 1000, .ifaces = ic, .n_ifaces = N};
	struct rr_view v = {0};
	struct rr_desired d = {0};
	unsigned visited, most = 0;
	uint32_t last = 0;

	for (int i = 0; i < N; i++) {
		char name[IFNAMSIZ], addr[32];

		snprintf(name, sizeof(name), "up%d", i);
		/* Marks not in order of the config, with gaps. */
		ic[i] = iface(name, 1000 + (uint32_t)i, (uint32_t)((i * 7919) % 40000 + 1));
		link_add(&v, 10 + i, name, UP);
		snprintf(addr, sizeof(addr), "198.19.%d.%d", i / 4, (i % 4) * 64 + 1);
		addr_add(&v, 10 + i, addr, 26, 0);
	}
	CHECK(desired_compute(&c, NULL, &v, PROTO, NULL, 0, &d) == 0);
	/* 2 per interface, N - 1 tree nodes, gate and anchor. */
	CHECK(d.want.n_rules == 3 * N + 1);
	for (int i = 0; i < N; i++) {
		CHECK(walk(&d, AF_INET, "lo", ic[i].mark, &visited) == ic[i].table);
		most = visited > most ? visited : most;
		CHECK(walk(&d, AF_INET, ic[i].name, ic[i].mark, &visited) == RT_TABLE_MAIN);
		most = visited > most ? visited : most;
		/* Another interface's mark arriving here: a reply, by that one's table. */
		CHECK(walk(&d, AF_INET, ic[(i + 1) % N].name, ic[i].mark, &visited) == ic[i].table);
	}
	/* Depth: at most one node per bit of the mask, then the pair. */
	CHECK(most <= 1 + 16 + 2);
	CHECK(walk(&d, AF_INET, "lo", 0, &visited) == 0 && visited == 2); /* gate, anchor */
	CHECK(walk(&d, AF_INET, "lo", 0x10000, &visited) == 0 && visited == 2); /* not our bits */
	CHECK(walk(&d, AF_INET, "lo", 0xfffe, &visited) == 0); /* no such mark: falls through */
	for (size_t i = 0; i < d.want.n_rules; i++)
		last = d.want.rules[i].priority > last ? d.want.rules[i].priority : last;
	CHECK(last == 998 + 3 * N); /* the anchor: right after the tree */
	desired_clear(&d);
	view_clear(&v);
}

int main(void)
{
	test_seed();
	test_mark_tree();
	test_learned_gateway_lowest_metric();
	test_no_gateway();
	test_onlink_gateway();
	test_point_to_point();
	test_absent_and_down();
	test_several_addresses();
	test_ipv6();
	test_plan();
	test_ruleset();
	test_ruleset_delta();
	test_assign_tables();
	test_pickup();
	return check_done("desired/plan");
}
