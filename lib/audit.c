/* SPDX-License-Identifier: MIT */
#include "audit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "rr-build.h"
#include "value.h"
#include "vindex.h"

#define AUDIT_TEXT(buf, ...) snprintf((buf), sizeof(buf), __VA_ARGS__)

struct audit_warning *audit_add(struct audit_report *r, const char *check,
				const char *subject)
{
	struct audit_warning *w = realloc(r->w, (r->n + 1) * sizeof(*w));

	if (!w)
		return NULL;
	r->w = w;
	w = &w[r->n++];
	memset(w, 0, sizeof(*w));
	AUDIT_TEXT(w->check, "%s", check);
	AUDIT_TEXT(w->subject, "%s", subject);
	return w;
}

static int audit_max(struct audit_conf2 c)
{
	return c.all > c.dev ? c.all : c.dev;
}

static int audit_rp_filter(const struct audit_facts *f, size_t i, struct audit_report *r)
{
	const struct audit_iface *s = &f->ifs[i];
	const char *name = VALUE_NAME_SHOWN(f->config->ifaces[i].name);
	struct audit_warning *w;

	/* The kernel takes the maximum of all and the interface for both. */
	if (audit_max(s->rp_filter) != 1 || audit_max(s->src_valid_mark) > 0)
		return 0;
	if (!(w = audit_add(r, "rp_filter", name)))
		return -ENOMEM;
	AUDIT_TEXT(w->message,
		   "strict rp_filter (all=%d, %s=%d) without src_valid_mark (all=%d, %s=%d): "
		   "marked packets are validated against the unmarked route back, and dropped "
		   "when it leaves through another interface",
		   s->rp_filter.all, name, s->rp_filter.dev, s->src_valid_mark.all, name,
		   s->src_valid_mark.dev);
	AUDIT_TEXT(w->fix,
		   "sysctl net.ipv4.conf.%s.src_valid_mark=1 (replyrouted sets it while it runs), "
		   "or loose rp_filter: net.ipv4.conf.%s.rp_filter=2", name, name);
	return 0;
}

static int audit_networkd_one(const struct audit_facts *f, const char *name,
			      const struct audit_setting *s, const char *key, const char *what,
			      struct audit_report *r)
{
	struct audit_warning *w;

	if (s->value == 0)
		return 0;
	if (!(w = audit_add(r, "networkd", name)))
		return -ENOMEM;
	AUDIT_TEXT(w->message,
		   "systemd-networkd manages %s and %s=%s (%s): it deletes %s it did not make, "
		   "replyroute's included, whenever it configures the link",
		   name, key, "yes", s->value < 0 ? "the default" : s->where,
		   what);
	AUDIT_TEXT(w->fix, "%s=no in the [Network] section of "
		   "/etc/systemd/networkd.conf.d/replyroute.conf, then networkctl reload", key);
	return 0;
}

static int audit_networkd(const struct audit_facts *f, size_t i, struct audit_report *r)
{
	const char *name = VALUE_NAME_SHOWN(f->config->ifaces[i].name);
	int e;

	if (!f->nd.running || !f->ifs[i].nd_managed)
		return 0;
	if ((e = audit_networkd_one(f, name, &f->nd.rules, "ManageForeignRoutingPolicyRules",
				    "routing policy rules", r)) < 0)
		return e;
	return audit_networkd_one(f, name, &f->nd.routes, "ManageForeignRoutes", "routes", r);
}

static int audit_nm(const struct audit_facts *f, size_t i, struct audit_report *r)
{
	uint32_t t = f->ifs[i].table;
	struct audit_warning *w;

	if (!f->nm_running || !t)
		return 0;
	for (size_t j = 0; j < f->n_nm; j++) {
		const struct audit_nm_conn *c = &f->nm[j];
		const char *fam = c->table4 == t ? "ipv4" : "ipv6";

		if (c->table4 != t && c->table6 != t)
			continue;
		if (!(w = audit_add(r, "networkmanager", VALUE_NAME_SHOWN(f->config->ifaces[i].name))))
			return -ENOMEM;
		if (c->defaults)
			AUDIT_TEXT(w->message, "NetworkManager's default for every connection (%s) is "
				   "%s.route-table=%u", c->file, fam, t);
		else
			AUDIT_TEXT(w->message, "NetworkManager's connection %s (interface %s) has "
				   "%s.route-table=%u", c->file, c->iface[0] ? c->iface : "any", fam, t);
		snprintf(w->message + strlen(w->message), sizeof(w->message) - strlen(w->message),
			 ", table %u of replyroute: NetworkManager syncs that table and deletes the "
			 "routes it did not add", t);
		AUDIT_TEXT(w->fix, "give the connection another %s.route-table "
			   "(nmcli connection modify ... %s.route-table N), or this interface "
			   "another Table=", fam, fam);
	}
	return 0;
}

/* The selectors a catch-all rule lacks: it matches any packet carrying mark. */
static bool audit_catch_all(const struct rr_xrule *x, uint32_t mark)
{
	return !x->src_len && !x->dst_len && !x->iif[0] && !x->oif[0] && !x->ipproto && !x->tos &&
	       !x->uid_set && !x->sport[1] && !x->dport[1] && !x->invert &&
	       !((x->fwmark ^ mark) & x->fwmask);
}

/* Whether foreign rule x keeps packets with mark from rule priority p of table t. */
static bool audit_diverts(const struct rr_xrule *x, uint32_t mark, uint32_t p, uint32_t t)
{
	if (!audit_catch_all(x, mark) || x->suppress_prefixlen >= 0)
		return false;
	switch (x->action) {
	case FR_ACT_TO_TBL: return x->table != t && x->table != RT_TABLE_LOCAL;
	case FR_ACT_GOTO: return x->goto_target > p;
	case FR_ACT_NOP: return false;
	default: return true;
	}
}

static int audit_shadow(const struct audit_facts *f, size_t i, struct audit_report *r)
{
	const struct rr_iface_conf *ic = &f->config->ifaces[i];
	const char *name = VALUE_NAME_SHOWN(ic->name);
	uint32_t p = ic->priority, m = ic->mark;
	struct audit_warning *w;
	char rule[256];

	for (size_t j = 0; j < f->k->n_rules; j++) {
		const struct rr_xrule *x = &f->k->rules[j];
		const char *why;

		if (x->protocol == RR_PROTO || x->priority > p)
			continue;
		if (x->l3mdev)
			why = "an l3mdev (VRF) rule before or beside replyroute's: "
			      "traffic of a VRF never reaches replyroute's rule";
		else if (x->priority == p && !((x->fwmark ^ m) & x->fwmask) && x->action != FR_ACT_NOP)
			why = "a rule at replyroute's own priority: which of them the kernel meets "
			      "first depends on the order they were added in";
		else if (x->priority < p && audit_diverts(x, m, p, f->ifs[i].table))
			why = "a catch-all rule before replyroute's: packets carrying the mark "
			      "never reach replyroute's rule";
		else
			continue;
		rw_rule_format(x, rule, sizeof(rule));
		if (!(w = audit_add(r, "shadowing-rule", name)))
			return -ENOMEM;
		AUDIT_TEXT(w->message, "%s rule '%s' is %s (replyroute's for %s: priority %u, "
			   "fwmark %#x/%#x)", x->family == AF_INET6 ? "IPv6" : "IPv4", rule, why, name,
			   p, m, f->config->mask);
		AUDIT_TEXT(w->fix, "give that rule a priority above %u, or %s a Priority= below %u",
			   p, name, x->priority);
	}
	return 0;
}

static int audit_foreign_routes(const struct audit_facts *f, size_t i, struct audit_report *r)
{
	const struct rr_view *v = &f->k->view;
	uint32_t t = f->ifs[i].table;
	size_t n = 0, first = 0;
	struct audit_warning *w;
	char route[256];

	for (size_t j = 0; t && j < v->n_routes; j++)
		if (v->routes[j].table == t && v->routes[j].protocol != RR_PROTO && !n++)
			first = j;
	if (!n)
		return 0;
	route_format(&v->routes[first], v, route, sizeof(route));
	if (!(w = audit_add(r, "foreign-routes", VALUE_NAME_SHOWN(f->config->ifaces[i].name))))
		return -ENOMEM;
	AUDIT_TEXT(w->message, "table %u, replyroute's, holds %zu route(s) it did not add, "
		   "e.g. %s: marked replies may follow them", t, n, route);
	AUDIT_TEXT(w->fix, "delete them (ip route flush table %u proto %u), or give %s "
		   "another Table=", t, v->routes[first].protocol,
		   VALUE_NAME_SHOWN(f->config->ifaces[i].name));
	return 0;
}

/* An nft item that concerns interface name: it names it, or no interface at all. */
static bool audit_on(const struct nfts_item *it, const char *name)
{
	return (!it->iif[0] || !strcmp(it->iif, name)) && (!it->oif[0] || !strcmp(it->oif, name));
}

static bool audit_v4(const struct nfts_item *it)
{
	return !strcmp(it->family, "ip") || !strcmp(it->family, "inet");
}

static int audit_forwarding(const struct audit_facts *f, size_t i, struct audit_report *r)
{
	const char *name = f->config->ifaces[i].name;
	const struct nfts *s = &f->k->nft;
	bool v4 = f->ifs[i].forwarding == 0, v6 = f->ip6_forwarding == 0;
	struct audit_warning *w;

	for (size_t j = 0; j < s->n_items && (v4 || v6); j++) {
		const struct nfts_item *it = &s->items[j];
		bool is4;

		/* Forwarded on arrival at name: where it leaves does not matter. */
		if ((it->kind != NFTS_DNAT && it->kind != NFTS_FORWARD) ||
		    (it->iif[0] && strcmp(it->iif, name)))
			continue;
		is4 = audit_v4(it);
		if (!(is4 ? v4 : v6 && (!strcmp(it->family, "ip6"))))
			continue;
		if (!(w = audit_add(r, "forwarding", VALUE_NAME_SHOWN(name))))
			return -ENOMEM;
		AUDIT_TEXT(w->message, "%s forwarding is off (net.%s.conf.%s.forwarding=0) but %s %s "
			   "chain %s (handle %llu) has %s: forwarded connections arriving on %s are "
			   "dropped", is4 ? "IPv4" : "IPv6", is4 ? "ipv4" : "ipv6",
			   is4 ? VALUE_NAME_SHOWN(name) : "all", it->family, it->table, it->chain,
			   (unsigned long long)it->handle, it->what, VALUE_NAME_SHOWN(name));
		AUDIT_TEXT(w->fix, "%s", is4 ? "sysctl net.ipv4.ip_forward=1" :
			   "sysctl net.ipv6.conf.all.forwarding=1");
		*(is4 ? &v4 : &v6) = false; /* once per family */
	}
	return 0;
}

/* One warning of check for each nft item of kind that concerns interface i. */
static int audit_nft_each(const struct audit_facts *f, size_t i, enum nfts_kind kind,
			  const char *check,
			  void (*fill)(struct audit_warning *, const struct nfts_item *, const char *),
			  struct audit_report *r)
{
	const char *name = f->config->ifaces[i].name;
	const struct nfts *s = &f->k->nft;
	struct audit_warning *w;

	for (size_t j = 0; j < s->n_items; j++) {
		if (s->items[j].kind != kind || !audit_on(&s->items[j], name))
			continue;
		if (!(w = audit_add(r, check, VALUE_NAME_SHOWN(name))))
			return -ENOMEM;
		fill(w, &s->items[j], VALUE_NAME_SHOWN(name));
	}
	return 0;
}

static void audit_notrack_text(struct audit_warning *w, const struct nfts_item *it,
			       const char *name)
{
	AUDIT_TEXT(w->message, "%s %s chain %s (handle %llu): %s%s applies to %s: untracked "
		   "connections get no conntrack mark, so their replies are routed unmarked",
		   it->family, it->table, it->chain, (unsigned long long)it->handle, it->what,
		   strstr(it->what, "CT") ? " (may be --notrack)" : "", name);
	AUDIT_TEXT(w->fix, "exempt %s from it (iifname != \"%s\"), or remove it", name, name);
}

static int audit_notrack(const struct audit_facts *f, size_t i, struct audit_report *r)
{
	return audit_nft_each(f, i, NFTS_NOTRACK, "notrack", audit_notrack_text, r);
}

static void audit_fib_text(struct audit_warning *w, const struct nfts_item *it, const char *name)
{
	AUDIT_TEXT(w->message, "%s %s chain %s (handle %llu): a reverse path check (fib saddr . "
		   "iif) without the mark: packets arriving on %s whose way back is not %s fail it "
		   "however replyroute marks them", it->family, it->table, it->chain,
		   (unsigned long long)it->handle, name, name);
	AUDIT_TEXT(w->fix, "look the mark up too: fib saddr . mark . iif oif missing drop");
}

/* nft's reverse path filter (IPv6 has no rp_filter) without the mark: strict rp_filter's twin. */
static int audit_fib(const struct audit_facts *f, size_t i, struct audit_report *r)
{
	return audit_nft_each(f, i, NFTS_FIB_NOMARK, "nft-rpfilter", audit_fib_text, r);
}

static int audit_marks(const struct audit_facts *f, struct audit_report *r)
{
	const struct nfts *s = &f->k->nft;
	uint32_t k = f->config->mask;
	struct audit_warning *w;
	char subject[200];

	for (size_t j = 0; j < s->n_items; j++) {
		const struct nfts_item *it = &s->items[j];

		if (it->kind == NFTS_MARK_WRITE ? !it->whole && !(it->bits & k) :
						  it->kind != NFTS_XT_MARK)
			continue;
		AUDIT_TEXT(subject, "%s %s chain %s", it->family, it->table, it->chain);
		if (!(w = audit_add(r, "mark-writer", subject)))
			return -ENOMEM;
		if (it->kind == NFTS_XT_MARK)
			AUDIT_TEXT(w->message, "handle %llu: %s may write mark bits inside MarkMask "
				   "%#x (nft cannot show an iptables target's mask)",
				   (unsigned long long)it->handle, it->what, k);
		else
			AUDIT_TEXT(w->message, "handle %llu: '%s' %s MarkMask %#x, replyroute's bits",
				   (unsigned long long)it->handle, it->what,
				   it->whole ? "writes the whole mark, overwriting" : "changes bits inside",
				   k);
		AUDIT_TEXT(w->fix, "write only bits outside %#x (%s mark set %s mark & %#x | VALUE; "
			   "iptables: --set-xmark VALUE/MASK with MASK outside it), or move "
			   "replyroute's MarkMask= to bits nobody else uses", k, it->ct ? "ct" : "meta",
			   it->ct ? "ct" : "meta", ~k);
	}
	return 0;
}

/* A global IPv4 address of a present tracked interface (its index in the config). */
struct arp_addr {
	uint32_t addr; /* host order */
	unsigned plen;
	size_t iface;
};

struct arp_pair {
	size_t i, j; /* i < j */
	uint32_t net;
	unsigned plen;
};

static int arp_addr_cmp(const void *a, const void *b)
{
	const struct arp_addr *x = a, *y = b;

	return (x->addr > y->addr) - (x->addr < y->addr);
}

static int arp_pair_cmp(const void *a, const void *b)
{
	const struct arp_pair *x = a, *y = b;

	if (x->i != y->i)
		return x->i < y->i ? -1 : 1;
	return (x->j > y->j) - (x->j < y->j);
}

/* The addresses of the present tracked interfaces, sorted: by config index via the link's name. */
static size_t arp_addrs(const struct audit_facts *f, struct arp_addr *out)
{
	const struct rr_view *v = &f->k->view;
	struct rr_vindex x;
	size_t n = 0;
	int *iface_of = NULL; /* by ifindex */
	int max_index = 0;

	for (size_t i = 0; i < v->n_links; i++)
		max_index = v->links[i].ifindex > max_index ? v->links[i].ifindex : max_index;
	if (vindex_build(&x, v, RT_TABLE_MAIN) < 0)
		return 0;
	if (!(iface_of = malloc(((size_t)max_index + 1) * sizeof(*iface_of)))) {
		vindex_clear(&x);
		return 0;
	}
	for (int i = 0; i <= max_index; i++)
		iface_of[i] = -1;
	for (size_t i = 0; i < f->config->n_ifaces; i++) {
		const struct rr_link *l;

		if (f->ifs[i].present && (l = vindex_link_by_name(&x, f->config->ifaces[i].name)) &&
		    l->ifindex > 0)
			iface_of[l->ifindex] = (int)i;
	}
	vindex_clear(&x);
	for (size_t k = 0; k < v->n_addrs; k++) {
		const struct rr_ifaddr *p = &v->addrs[k];

		if (p->local.family != AF_INET || p->scope != RT_SCOPE_UNIVERSE || p->ifindex <= 0 ||
		    p->ifindex > max_index || iface_of[p->ifindex] < 0)
			continue;
		out[n++] = (struct arp_addr){ntohl(p->local.v4.s_addr), p->prefixlen,
					     (size_t)iface_of[p->ifindex]};
	}
	free(iface_of);
	qsort(out, n, sizeof(*out), arp_addr_cmp);
	return n;
}

static uint32_t prefix_mask(unsigned plen)
{
	return plen == 0 ? 0 : plen >= 32 ? UINT32_MAX : ~(UINT32_MAX >> plen);
}

/*
 * Two tracked interfaces with addresses in one IPv4 subnet (the shorter of
 * their prefixes): each address's own prefix is a range of the sorted
 * addresses, so the pairs cost n log n, not n^2 per interface.
 */
static int audit_arp(const struct audit_facts *f, struct audit_report *r)
{
	const struct rr_view *v = &f->k->view;
	struct arp_addr *a = calloc(v->n_addrs + 1, sizeof(*a));
	struct arp_pair *pairs = NULL;
	size_t n = a ? arp_addrs(f, a) : 0, n_pairs = 0, cap = 0;
	int ret = a ? 0 : -ENOMEM;

	for (size_t x = 0; x < n && ret == 0; x++) {
		uint32_t mask = prefix_mask(a[x].plen), net = a[x].addr & mask;
		struct arp_addr key = {.addr = net};
		size_t lo = 0, hi = n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (arp_addr_cmp(&a[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t y = lo; y < n && (a[y].addr & mask) == net; y++) {
			struct arp_pair *p;

			if (a[y].iface == a[x].iface || a[y].plen < a[x].plen)
				continue;
			if (n_pairs == cap) {
				cap = cap ? 2 * cap : 16;
				if (!(p = realloc(pairs, cap * sizeof(*pairs)))) {
					ret = -ENOMEM;
					break;
				}
				pairs = p;
			}
			pairs[n_pairs++] = (struct arp_pair){
				a[x].iface < a[y].iface ? a[x].iface : a[y].iface,
				a[x].iface < a[y].iface ? a[y].iface : a[x].iface, net, a[x].plen};
		}
	}
	if (n_pairs)
		qsort(pairs, n_pairs, sizeof(*pairs), arp_pair_cmp);
	for (size_t k = 0; k < n_pairs && ret == 0; k++) {
		const struct audit_iface *ai = &f->ifs[pairs[k].i], *bj = &f->ifs[pairs[k].j];
		const char *ni = f->config->ifaces[pairs[k].i].name, *nj = f->config->ifaces[pairs[k].j].name;
		struct audit_warning *w;
		char subject[96], net[INET6_ADDRSTRLEN];
		struct in_addr in = {.s_addr = htonl(pairs[k].net)};

		/* The first subnet found for a pair stands for it. */
		if (k && !arp_pair_cmp(&pairs[k - 1], &pairs[k]))
			continue;
		if (audit_max(ai->arp_ignore) && audit_max(ai->arp_announce) &&
		    audit_max(bj->arp_ignore) && audit_max(bj->arp_announce))
			continue;
		inet_ntop(AF_INET, &in, net, sizeof(net));
		AUDIT_TEXT(subject, "%s %s", VALUE_NAME_SHOWN(ni), VALUE_NAME_SHOWN(nj));
		if (!(w = audit_add(r, "arp", subject))) {
			ret = -ENOMEM;
			break;
		}
		AUDIT_TEXT(w->message, "%s and %s share %s/%u with arp_ignore=%d/%d and "
			   "arp_announce=%d/%d: each answers ARP for the other's address, so "
			   "traffic for one arrives on the other (ARP flux)",
			   VALUE_NAME_SHOWN(ni), VALUE_NAME_SHOWN(nj), net, pairs[k].plen,
			   audit_max(ai->arp_ignore), audit_max(bj->arp_ignore),
			   audit_max(ai->arp_announce), audit_max(bj->arp_announce));
		AUDIT_TEXT(w->fix, "sysctl net.ipv4.conf.%s.arp_ignore=1 net.ipv4.conf.%s.arp_announce=2 "
			   "and the same for %s", VALUE_NAME_SHOWN(ni), VALUE_NAME_SHOWN(ni),
			   VALUE_NAME_SHOWN(nj));
	}
	free(a);
	free(pairs);
	return ret;
}

static int audit_udp(const struct audit_facts *f, struct audit_report *r)
{
	struct audit_warning *w;
	char subject[64];

	for (size_t j = 0; j < f->n_udp; j++) {
		const struct audit_udp *u = &f->udp[j];

		AUDIT_TEXT(subject, "udp %s:%u", u->family == AF_INET6 ? "[::]" : "0.0.0.0", u->port);
		if (!(w = audit_add(r, "udp-wildcard", subject)))
			return -ENOMEM;
		AUDIT_TEXT(w->message, "a UDP socket (inode %lu%s%s) is bound to the wildcard "
			   "address: its replies take the source address of the route back, so they "
			   "can leave as new, unmarked flows from another address", u->inode,
			   u->owner[0] ? ", " : "", u->owner);
		AUDIT_TEXT(w->fix, "bind the service to each address (one socket per address), or "
			   "have it answer from the address it was asked on (IP_PKTINFO)");
	}
	return 0;
}

int audit_check(const struct audit_facts *f, struct audit_report *ret)
{
	/* present: only while the interface exists (sysctls, addresses, its link's manager). */
	static const struct {
		int (*fn)(const struct audit_facts *, size_t, struct audit_report *);
		bool present;
	} per_iface[] = {
		{audit_rp_filter, true},     {audit_networkd, true},	   {audit_nm, false},
		{audit_shadow, false},	     {audit_foreign_routes, false}, {audit_forwarding, true},
		{audit_notrack, false},	     {audit_fib, false},
	};
	size_t n = f->config ? f->config->n_ifaces : 0;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < n && r >= 0; i++)
		for (size_t c = 0; c < sizeof(per_iface) / sizeof(per_iface[0]) && r >= 0; c++)
			if (f->ifs[i].present || !per_iface[c].present)
				r = per_iface[c].fn(f, i, ret);
	if (r >= 0 && n)
		r = audit_arp(f, ret);
	if (r >= 0 && n)
		r = audit_marks(f, ret);
	if (r >= 0 && n)
		r = audit_udp(f, ret);
	if (r < 0)
		audit_report_free(ret);
	return r;
}

void audit_report_free(struct audit_report *r)
{
	free(r->w);
	memset(r, 0, sizeof(*r));
}

int audit_print(const struct audit_report *r, bool json, FILE *out)
{
	json_t *root, *list;
	int e;

	if (!json) {
		for (size_t i = 0; i < r->n; i++)
			fprintf(out, "warning: %s: %s: %s\n  fix: %s\n", r->w[i].check, r->w[i].subject,
				r->w[i].message, r->w[i].fix);
		fprintf(out, "%zu warning(s)\n", r->n);
		return 0;
	}
	if (!(list = json_array()))
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(list, json_pack("{s:o,s:o,s:o,s:o}", "check",
						      json_text(r->w[i].check), "subject",
						      json_text(r->w[i].subject), "message",
						      json_text(r->w[i].message), "fix",
						      json_text(r->w[i].fix)));
	root = json_pack("{s:o,s:I}", "warnings", list, "count", (json_int_t)r->n);
	e = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return e < 0 ? -EIO : 0;
}
