/* SPDX-License-Identifier: MIT */
#include "events.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "engine.h"
#include "ruleset.h"

/* The length of the message if its header fits in len and tells the truth, else 0. */
static size_t events_msg_len(const struct nlmsghdr *h, size_t len)
{
	if (len < NLMSG_HDRLEN || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len)
		return 0;
	return h->nlmsg_len;
}

/*
 * The first attribute of this type after a family header of hdrlen bytes:
 * its payload length, with *ret pointing at the payload; -ENOENT if there is
 * none; -EBADMSG if the message or an attribute before it does not fit.
 */
static int events_attr(const struct nlmsghdr *h, size_t len, size_t hdrlen, uint16_t type,
		       const void **ret)
{
	size_t n = events_msg_len(h, len), off = NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen);

	if (n < NLMSG_HDRLEN + hdrlen)
		return -EBADMSG;
	while (off + NLA_HDRLEN <= n) {
		const struct nlattr *a = (const struct nlattr *)((const char *)h + off);

		if (a->nla_len < NLA_HDRLEN || a->nla_len > n - off)
			return -EBADMSG;
		if ((a->nla_type & NLA_TYPE_MASK) == type) {
			*ret = (const char *)a + NLA_HDRLEN;
			return a->nla_len - NLA_HDRLEN;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return -ENOENT;
}

/* Whether the attribute is the NUL-terminated string s (as libnl's nla_strcmp() wants it). */
static bool events_attr_is(const struct nlmsghdr *h, size_t len, size_t hdrlen, uint16_t type,
			   const char *s)
{
	const void *p;
	int n = events_attr(h, len, hdrlen, type, &p);

	return s && n >= 0 && (size_t)n == strlen(s) + 1 && memcmp(p, s, (size_t)n) == 0;
}

/*
 * The table of a route message: RTA_TABLE (tables past 255), else rtm_table;
 * 0 if the message is malformed. 0 counts as relevant: a needless reconcile
 * costs little, a missed change leaves the kernel wrong.
 */
static uint32_t events_route_table(const struct nlmsghdr *h, size_t len)
{
	struct rtmsg rtm;
	uint32_t table;
	const void *p;
	int n = events_attr(h, len, sizeof(rtm), RTA_TABLE, &p);

	if (n == -EBADMSG || (n >= 0 && n < (int)sizeof(table)))
		return 0;
	if (n >= 0) {
		memcpy(&table, p, sizeof(table));
		return table;
	}
	memcpy(&rtm, NLMSG_DATA(h), sizeof(rtm));
	return rtm.rtm_table;
}

/* Copy attribute type of exactly n bytes into out; false if absent or of another size. */
static bool events_attr_copy(const struct nlmsghdr *h, size_t len, size_t hdrlen, uint16_t type,
			     void *out, size_t n)
{
	const void *p;
	int r = events_attr(h, len, hdrlen, type, &p);

	if (r < 0 || (size_t)r != n)
		return false;
	memcpy(out, p, n);
	return true;
}

static void events_addr(const struct nlmsghdr *h, size_t len, size_t hdrlen, uint16_t type,
			int family, struct rr_addr *out)
{
	size_t n = family == AF_INET ? 4 : 16;

	if (events_attr_copy(h, len, hdrlen, type, out->bytes, n))
		out->family = family;
}

/*
 * A route of main through one interface that is not tracked: neither a
 * gateway nor an on-link prefix replyroute copies. Without RTA_OIF (a
 * multipath route, a blackhole) it may matter.
 */
static bool events_main_route_foreign(const struct rr_events *ev, const struct nlmsghdr *h,
				      size_t len)
{
	int oif;

	if (!ev->link_relevant ||
	    !events_attr_copy(h, len, sizeof(struct rtmsg), RTA_OIF, &oif, sizeof(oif)))
		return false;
	return !ev->link_relevant(oif, ev->userdata);
}

/* A DELROUTE of ours: its key (table, destination, metric). false: not ours or malformed. */
static bool events_route_removal(const struct rr_events *ev, const struct nlmsghdr *h,
				 size_t len, struct rr_removal *rm)
{
	struct rtmsg rtm;

	if (events_msg_len(h, len) < NLMSG_HDRLEN + sizeof(rtm))
		return false;
	memcpy(&rtm, NLMSG_DATA(h), sizeof(rtm));
	if (rtm.rtm_protocol != ev->own_proto ||
	    (rtm.rtm_family != AF_INET && rtm.rtm_family != AF_INET6))
		return false;
	rm->rt.family = rtm.rtm_family;
	rm->rt.dst_len = rtm.rtm_dst_len;
	rm->rt.protocol = rtm.rtm_protocol;
	rm->rt.type = rtm.rtm_type;
	rm->rt.table = events_route_table(h, len);
	events_addr(h, len, sizeof(rtm), RTA_DST, rtm.rtm_family, &rm->rt.dst);
	rm->rt.dst.family = rtm.rtm_family; /* a default route has no RTA_DST */
	events_attr_copy(h, len, sizeof(rtm), RTA_PRIORITY, &rm->rt.metric, sizeof(uint32_t));
	return true;
}

/* A DELRULE of ours: its key (priority, selectors, table). */
static bool events_rule_removal(const struct rr_events *ev, const struct nlmsghdr *h, size_t len,
				struct rr_removal *rm)
{
	struct fib_rule_hdr frh;
	uint8_t proto = 0;

	if (events_msg_len(h, len) < NLMSG_HDRLEN + sizeof(frh))
		return false;
	memcpy(&frh, NLMSG_DATA(h), sizeof(frh));
	if (!events_attr_copy(h, len, sizeof(frh), FRA_PROTOCOL, &proto, 1) ||
	    proto != ev->own_proto || (frh.family != AF_INET && frh.family != AF_INET6))
		return false;
	rm->rule = true;
	rm->r.family = frh.family;
	rm->r.protocol = proto;
	rm->r.action = frh.action;
	rm->r.src_len = frh.src_len;
	rm->r.table = frh.table;
	events_attr_copy(h, len, sizeof(frh), FRA_TABLE, &rm->r.table, sizeof(uint32_t));
	events_attr_copy(h, len, sizeof(frh), FRA_PRIORITY, &rm->r.priority, sizeof(uint32_t));
	events_attr_copy(h, len, sizeof(frh), FRA_FWMARK, &rm->r.fwmark, sizeof(uint32_t));
	events_attr_copy(h, len, sizeof(frh), FRA_FWMASK, &rm->r.fwmask, sizeof(uint32_t));
	if (frh.src_len)
		events_addr(h, len, sizeof(frh), FRA_SRC, frh.family, &rm->r.src);
	return true;
}

/*
 * One of ours deleted at another process's request: its port is in the
 * notification (the kernel's own deletions, with an address or a link,
 * carry port 0).
 */
static void events_removal(struct rr_events *ev, const struct nlmsghdr *h, size_t len)
{
	struct rr_removal rm = {.port = h->nlmsg_pid};
	bool ours;

	if (!ev->removed || !ev->own_proto || h->nlmsg_pid == 0)
		return;
	ours = h->nlmsg_type == RTM_DELRULE ? events_rule_removal(ev, h, len, &rm)
					    : events_route_removal(ev, h, len, &rm);
	if (ours)
		ev->removed(&rm, ev->userdata);
}

unsigned events_rtnl(struct rr_events *ev, const struct nlmsghdr *h, size_t len)
{
	uint32_t table;

	if (len < NLMSG_HDRLEN)
		return 0;
	/* Echoes of our own requests tell nothing new. */
	if (h->nlmsg_pid && h->nlmsg_pid == ev->own_port)
		return 0;
	switch (h->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return RR_DIRTY_LINKS;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		/* Only a tracked interface's addresses are used: others never matter. */
		if (events_msg_len(h, len) >= NLMSG_HDRLEN + sizeof(struct ifaddrmsg) &&
		    ev->link_relevant) {
			struct ifaddrmsg ifa;

			memcpy(&ifa, NLMSG_DATA(h), sizeof(ifa));
			if (!ev->link_relevant((int)ifa.ifa_index, ev->userdata))
				return 0;
		}
		return RR_DIRTY_ADDRS;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (h->nlmsg_type == RTM_DELROUTE)
			events_removal(ev, h, len);
		/* Routes of other tables (local, someone's policy tables) never matter. */
		table = events_route_table(h, len);
		if (table == RT_TABLE_MAIN && events_main_route_foreign(ev, h, len))
			return 0;
		if (table == 0 || !ev->table_relevant || ev->table_relevant(table, ev->userdata))
			return RR_DIRTY_ROUTES;
		return 0;
	case RTM_NEWRULE:
	case RTM_DELRULE:
		if (h->nlmsg_type == RTM_DELRULE)
			events_removal(ev, h, len);
		return RR_DIRTY_RULES;
	default:
		return 0;
	}
}

/*
 * NEWGEN ends each nftables transaction and names the process that made it.
 * The pid is the initial PID namespace's: inside a container it is not
 * getpid(). There, a commit of ours still pending is matched by the process
 * name (notifications come in commit order).
 */
static unsigned events_nft_gen(struct rr_events *ev, const struct nlmsghdr *h, size_t len)
{
	bool pending = ev->own_commits && ev->own_commits(ev->userdata) > ev->commits_seen;
	bool ours_table = ev->batch_ours_table, own;
	uint32_t pid = 0;
	const void *p;

	if (events_attr(h, len, sizeof(struct nfgenmsg), NFTA_GEN_PROC_PID, &p) >=
	    (int)sizeof(pid)) {
		memcpy(&pid, p, sizeof(pid));
		pid = ntohl(pid);
	}
	own = (pid && pid == ev->own_pid) ||
	      (pending &&
	       events_attr_is(h, len, sizeof(struct nfgenmsg), NFTA_GEN_PROC_NAME, ev->own_comm));
	if (own && pending)
		ev->commits_seen++;
	ev->batch_ours_table = false;
	return ours_table && !own ? RR_DIRTY_NFT : 0;
}

unsigned events_nfnl(struct rr_events *ev, const struct nlmsghdr *h, size_t len)
{
	struct nfgenmsg g;

	/* Too short to be an nf_tables message, or lying about its length: nothing to learn. */
	if (events_msg_len(h, len) < NLMSG_HDRLEN + sizeof(g) ||
	    NFNL_SUBSYS_ID(h->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return 0;
	if (NFNL_MSG_TYPE(h->nlmsg_type) == NFT_MSG_NEWGEN)
		return events_nft_gen(ev, h, len);
	memcpy(&g, NLMSG_DATA(h), sizeof(g));
	/* Attribute 1 names the table in every nf_tables object message. */
	if (g.nfgen_family == NFPROTO_INET && events_attr_is(h, len, sizeof(g), 1, RULESET_TABLE))
		ev->batch_ours_table = true;
	return 0;
}
