/* SPDX-License-Identifier: MIT */
#include "fibquery.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/rtnl.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kroute.h"

struct fq {
	struct nl_sock *sk;
	int error;
	/* the current request's receiver */
	struct fq_lookup *lookup;
	struct rr_xrule *rules;
	size_t n_rules, cap_rules;
	int parse_error;
};

static int fq_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct fq *q = arg;

	q->error = e->error;
	return NL_STOP;
}

int fq_open(struct fq **ret)
{
	struct fq *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	if (!(q->sk = nl_socket_alloc())) {
		free(q);
		return -ENOMEM;
	}
	if ((r = nl_connect(q->sk, NETLINK_ROUTE)) < 0) {
		fq_close(q);
		return kr_errno(r);
	}
	/* A lookup's answer is its only reply: no ACK after it to be read by the next one. */
	nl_socket_disable_auto_ack(q->sk);
	*ret = q;
	return 0;
}

void fq_close(struct fq *q)
{
	if (!q)
		return;
	nl_socket_free(q->sk);
	free(q->rules);
	free(q);
}

int fq_ifindex(const char *name)
{
	return name && name[0] ? (int)if_nametoindex(name) : 0;
}

static uint32_t fq_u32(struct nlattr *a, uint32_t def)
{
	return a && nla_len(a) >= 4 ? nla_get_u32(a) : def;
}

static uint8_t fq_u8(struct nlattr *a)
{
	return a && nla_len(a) >= 1 ? nla_get_u8(a) : 0;
}

static void fq_addr(struct nlattr *a, int family, struct rr_addr *out)
{
	size_t len = family == AF_INET ? 4 : 16;

	if (!a || (size_t)nla_len(a) < len)
		return;
	out->family = family;
	memcpy(out->bytes, nla_data(a), len);
}

static void fq_name(struct nlattr *a, char *out)
{
	char name[IF_NAMESIZE] = "";

	if (a && nla_len(a) >= 4 && if_indextoname(nla_get_u32(a), name))
		snprintf(out, IFNAMSIZ, "%s", name);
}

/* The first nexthop of a multipath route (a fibmatch answer may be one). */
static void fq_multipath(struct nlattr *mp, struct fq_lookup *l, int family)
{
	struct rtnexthop *nh = nla_data(mp);
	struct nlattr *tb[RTA_MAX + 1];

	if (nla_len(mp) < (int)sizeof(*nh) || nh->rtnh_len < sizeof(*nh) ||
	    nh->rtnh_len > nla_len(mp))
		return;
	if (!l->oif[0] && nh->rtnh_ifindex) {
		char name[IF_NAMESIZE];

		if (if_indextoname((unsigned)nh->rtnh_ifindex, name))
			snprintf(l->oif, sizeof(l->oif), "%s", name);
	}
	if (nla_parse(tb, RTA_MAX, (struct nlattr *)RTNH_DATA(nh),
		      (int)nh->rtnh_len - (int)RTNH_LENGTH(0), NULL) >= 0)
		fq_addr(tb[RTA_GATEWAY], family, &l->gw);
}

static int fq_route_msg(struct nl_msg *msg, void *arg)
{
	struct fq *q = arg;
	struct fq_lookup *l = q->lookup;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[RTA_MAX + 1];
	struct rtmsg *rtm;

	if (h->nlmsg_type != RTM_NEWROUTE || !l ||
	    nlmsg_parse(h, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return NL_SKIP;
	rtm = nlmsg_data(h);
	l->type = rtm->rtm_type;
	l->table = fq_u32(tb[RTA_TABLE], rtm->rtm_table);
	l->protocol = rtm->rtm_protocol;
	l->dst_len = rtm->rtm_dst_len;
	l->metric = fq_u32(tb[RTA_PRIORITY], 0);
	fq_name(tb[RTA_OIF], l->oif);
	fq_addr(tb[RTA_GATEWAY], rtm->rtm_family, &l->gw);
	fq_addr(tb[RTA_PREFSRC], rtm->rtm_family, &l->prefsrc);
	fq_addr(tb[RTA_DST], rtm->rtm_family, &l->dst);
	if (!l->dst.family)
		l->dst.family = rtm->rtm_family;
	if (tb[RTA_MULTIPATH])
		fq_multipath(tb[RTA_MULTIPATH], l, rtm->rtm_family);
	q->lookup = NULL;
	return NL_OK;
}

static int fq_recv(struct fq *q, nl_recvmsg_msg_cb_t fn)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int r;

	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fn, q);
	nl_cb_err(cb, NL_CB_CUSTOM, fq_err, q);
	r = nl_recvmsgs(q->sk, cb);
	nl_cb_put(cb);
	return r;
}

static int fq_put_addr(struct nl_msg *m, int type, const struct rr_addr *a)
{
	return nla_put(m, type, a->family == AF_INET ? 4 : 16, a->bytes);
}

static int fq_lookup_msg(struct nl_msg *m, const struct fq_lookup *l)
{
	const struct rr_packet *p = &l->pkt;
	struct rtmsg rtm = {
		.rtm_family = (uint8_t)p->family,
		.rtm_dst_len = p->family == AF_INET ? 32 : 128,
		.rtm_src_len = p->src.family ? (p->family == AF_INET ? 32 : 128) : 0,
		.rtm_flags = RTM_F_LOOKUP_TABLE | (l->fibmatch ? RTM_F_FIB_MATCH : 0),
	};
	int iif = fq_ifindex(p->iif);

	if (p->iif[0] && !iif)
		return -ENODEV;
	if (nlmsg_append(m, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    fq_put_addr(m, RTA_DST, &p->dst) < 0 ||
	    (p->src.family && fq_put_addr(m, RTA_SRC, &p->src) < 0) ||
	    (iif && nla_put_u32(m, RTA_IIF, (uint32_t)iif) < 0) ||
	    (p->mark && nla_put_u32(m, RTA_MARK, p->mark) < 0) ||
	    (p->ipproto && nla_put_u8(m, RTA_IP_PROTO, p->ipproto) < 0) ||
	    (p->sport && nla_put_u16(m, RTA_SPORT, htons(p->sport)) < 0) ||
	    (p->dport && nla_put_u16(m, RTA_DPORT, htons(p->dport)) < 0))
		return -ENOMEM;
	return 0;
}

int fq_lookup(struct fq *q, struct fq_lookup *l)
{
	struct nl_msg *m = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST);
	int r;

	if (!m)
		return -ENOMEM;
	l->error = 0;
	l->type = 0;
	l->table = 0;
	l->oif[0] = '\0';
	l->gw = l->prefsrc = l->dst = (struct rr_addr){0};
	if ((r = fq_lookup_msg(m, l)) < 0) {
		nlmsg_free(m);
		if (r == -ENODEV)
			l->error = r;
		return r == -ENODEV ? 0 : r;
	}
	q->error = 0;
	q->lookup = l;
	r = nl_send_auto(q->sk, m);
	nlmsg_free(m);
	if (r >= 0)
		r = fq_recv(q, fq_route_msg);
	if (q->error < 0) {
		l->error = q->error;
		r = 0;
	}
	q->lookup = NULL;
	return r < 0 ? kr_errno(r) : 0;
}

static void fq_range(struct nlattr *a, uint16_t out[2])
{
	struct fib_rule_port_range pr;

	if (!a || nla_len(a) < (int)sizeof(pr))
		return;
	memcpy(&pr, nla_data(a), sizeof(pr));
	out[0] = pr.start;
	out[1] = pr.end;
}

static void fq_str(struct nlattr *a, char *out)
{
	if (a)
		snprintf(out, IFNAMSIZ, "%.*s", nla_len(a), (const char *)nla_data(a));
}

int fq_rule_parse(const struct nlmsghdr *h, struct rr_xrule *ret)
{
	struct nlattr *tb[FRA_MAX + 1];
	struct fib_rule_hdr *frh;

	if (h->nlmsg_type != RTM_NEWRULE ||
	    nlmsg_parse((struct nlmsghdr *)h, sizeof(*frh), tb, FRA_MAX, NULL) < 0)
		return -EINVAL;
	frh = nlmsg_data(h);
	*ret = (struct rr_xrule){
		.family = frh->family,
		.action = frh->action,
		.priority = fq_u32(tb[FRA_PRIORITY], 0),
		.table = fq_u32(tb[FRA_TABLE], frh->table),
		.goto_target = fq_u32(tb[FRA_GOTO], 0),
		.src_len = frh->src_len,
		.dst_len = frh->dst_len,
		.tos = frh->tos,
		.invert = frh->flags & FIB_RULE_INVERT,
		.l3mdev = fq_u8(tb[FRA_L3MDEV]),
		.suppress_prefixlen = (int)fq_u32(tb[FRA_SUPPRESS_PREFIXLEN], UINT32_MAX),
		.protocol = fq_u8(tb[FRA_PROTOCOL]),
		.ipproto = fq_u8(tb[FRA_IP_PROTO]),
	};
	if (ret->suppress_prefixlen > 128)
		ret->suppress_prefixlen = -1;
	kr_rule_mark((struct nlmsghdr *)h, &ret->fwmark, &ret->fwmask);
	fq_addr(tb[FRA_SRC], frh->family, &ret->src);
	fq_addr(tb[FRA_DST], frh->family, &ret->dst);
	fq_str(tb[FRA_IIFNAME], ret->iif);
	fq_str(tb[FRA_OIFNAME], ret->oif);
	fq_range(tb[FRA_SPORT_RANGE], ret->sport);
	fq_range(tb[FRA_DPORT_RANGE], ret->dport);
	if (tb[FRA_UID_RANGE] && nla_len(tb[FRA_UID_RANGE]) >= (int)sizeof(struct fib_rule_uid_range)) {
		struct fib_rule_uid_range u;

		memcpy(&u, nla_data(tb[FRA_UID_RANGE]), sizeof(u));
		ret->uid_set = true;
		ret->uid[0] = u.start;
		ret->uid[1] = u.end;
	}
	return 0;
}

static int fq_rule_msg(struct nl_msg *msg, void *arg)
{
	struct fq *q = arg;
	struct rr_xrule r;

	/* IPv4 and IPv6 only: the multicast RPDBs (ipmr, ip6mr) route nothing of ours. */
	if (fq_rule_parse(nlmsg_hdr(msg), &r) < 0 || (r.family != AF_INET && r.family != AF_INET6))
		return NL_SKIP;
	if (q->n_rules == q->cap_rules) {
		size_t cap = q->cap_rules ? 2 * q->cap_rules : 16;
		struct rr_xrule *n = realloc(q->rules, cap * sizeof(*n));

		if (!n) {
			q->parse_error = -ENOMEM;
			return NL_STOP;
		}
		q->rules = n;
		q->cap_rules = cap;
	}
	q->rules[q->n_rules++] = r;
	return NL_OK;
}

int fq_rules(struct fq *q, struct rr_xrule **ret, size_t *n)
{
	int r;

	q->n_rules = 0;
	q->parse_error = 0;
	q->error = 0;
	/* AF_UNSPEC: every family the kernel has, each in its own order. */
	r = nl_rtgen_request(q->sk, RTM_GETRULE, AF_UNSPEC, NLM_F_DUMP);
	if (r >= 0)
		r = fq_recv(q, fq_rule_msg);
	if (q->parse_error)
		return q->parse_error;
	if (q->error < 0)
		return q->error;
	if (r < 0)
		return kr_errno(r);
	*ret = q->rules;
	*n = q->n_rules;
	q->rules = NULL;
	q->n_rules = q->cap_rules = 0;
	return 0;
}
