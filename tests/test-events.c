/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/events: which dirty bits a notification sets. The
 * messages are built byte by byte; no kernel, no privileges.
 */
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "events.h"
#include "check.h"

#define OWN_PORT 4242
#define OWN_PID 100
#define OWN_COMM "replyrouted"
#define TABLE_OURS 1000 /* relevant, past 255: only RTA_TABLE can name it */
#define TABLE_OTHER 2000

#define CHECK_STR(got, want)                                                             \
	do {                                                                             \
		const char *g_ = (got), *w_ = (want);                                    \
		if (strcmp(g_, w_) != 0) {                                               \
			fprintf(stderr, "%s:%d: %s\n  got:  %s\n  want: %s\n", __FILE__, \
				__LINE__, #got, g_, w_);                                 \
			failures++;                                                      \
		}                                                                        \
	} while (0)

/* One message under construction; the union keeps it aligned like a real receive buffer. */
struct msg {
	union {
		struct nlmsghdr h;
		unsigned char b[256];
	} u;
	size_t len; /* bytes handed to the classifier; nlmsg_len unless a test cuts it */
};

static void msg_put(struct msg *m, const void *data, size_t len)
{
	if (m->u.h.nlmsg_len + NLMSG_ALIGN(len) > sizeof(m->u.b)) {
		fprintf(stderr, "test message too long\n");
		exit(2);
	}
	memcpy(m->u.b + m->u.h.nlmsg_len, data, len);
	m->u.h.nlmsg_len += NLMSG_ALIGN(len);
	m->len = m->u.h.nlmsg_len;
}

/* A header and the family header (ifinfomsg, rtmsg, nfgenmsg...). */
static struct msg msg_new(uint16_t type, uint32_t port, const void *fam, size_t famlen)
{
	struct msg m = {.u.h = {.nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = type, .nlmsg_pid = port}};

	msg_put(&m, fam, famlen);
	return m;
}

static void msg_attr(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type};

	msg_put(m, &a, sizeof(a));
	msg_put(m, data, len);
}

static void msg_u32(struct msg *m, uint16_t type, uint32_t v)
{
	msg_attr(m, type, &v, sizeof(v));
}

static void msg_str(struct msg *m, uint16_t type, const char *s)
{
	msg_attr(m, type, s, strlen(s) + 1);
}

static struct msg link_msg(uint16_t type, uint32_t port)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = 2};

	return msg_new(type, port, &ifi, sizeof(ifi));
}

static struct msg addr_msg(uint16_t type, uint32_t port)
{
	struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = 2};

	return msg_new(type, port, &ifa, sizeof(ifa));
}

static struct msg route_msg(uint16_t type, uint32_t port, uint8_t rtm_table)
{
	struct rtmsg rtm = {.rtm_family = AF_INET, .rtm_table = rtm_table,
			    .rtm_type = RTN_UNICAST};

	return msg_new(type, port, &rtm, sizeof(rtm));
}

static struct msg rule_msg(uint16_t type, uint32_t port)
{
	struct fib_rule_hdr frh = {.family = AF_INET, .table = RT_TABLE_MAIN,
				   .action = FR_ACT_TO_TBL};

	return msg_new(type, port, &frh, sizeof(frh));
}

/* An nf_tables object message (table, chain, rule, set...) naming its table. */
static struct msg nft_obj(uint16_t type, uint8_t family, const char *table)
{
	struct nfgenmsg g = {.nfgen_family = family, .version = NFNETLINK_V0};
	struct msg m = msg_new((uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | type), 0, &g, sizeof(g));

	msg_str(&m, 1, table);
	return m;
}

/* The NEWGEN that ends a transaction, naming the committing process. */
static struct msg nft_gen(uint32_t pid, const char *comm)
{
	struct nfgenmsg g = {.nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0};
	struct msg m = msg_new(NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN, 0, &g, sizeof(g));

	msg_u32(&m, NFTA_GEN_ID, htonl(7));
	msg_u32(&m, NFTA_GEN_PROC_PID, htonl(pid));
	msg_str(&m, NFTA_GEN_PROC_NAME, comm);
	return m;
}

struct fixture {
	uint64_t commits; /* what own_commits() answers */
};

static bool fixture_table_relevant(uint32_t table, void *userdata)
{
	return table == RT_TABLE_MAIN || table == TABLE_OURS;
}

static uint64_t fixture_commits(void *userdata)
{
	struct fixture *f = userdata;

	return f->commits;
}

static struct rr_events events_new(struct fixture *f)
{
	return (struct rr_events){
		.own_port = OWN_PORT,
		.own_pid = OWN_PID,
		.own_comm = OWN_COMM,
		.table_relevant = fixture_table_relevant,
		.own_commits = fixture_commits,
		.userdata = f,
	};
}

static const char *bits_text(unsigned bits)
{
	static const char *const names[] = {"links", "addrs", "routes", "rules", "nft"};
	static char s[64];

	s[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bits & 1u << i)
			snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s%s", s[0] ? "|" : "",
				 names[i]);
	if (bits & ~(unsigned)RR_DIRTY_ALL)
		snprintf(s + strlen(s), sizeof(s) - strlen(s), "|%#x?", bits & ~(unsigned)RR_DIRTY_ALL);
	return s[0] ? s : "-";
}

/*
 * Hands the message over in a heap buffer of exactly m->len bytes, so that
 * valgrind and ASan see any read past what the classifier was given.
 */
static unsigned classify(unsigned (*fn)(struct rr_events *, const struct nlmsghdr *, size_t),
			 struct rr_events *ev, const struct msg *m)
{
	void *p = malloc(m->len ? m->len : 1);
	unsigned bits;

	if (!p)
		exit(2);
	memcpy(p, m->u.b, m->len);
	bits = fn(ev, p, m->len);
	free(p);
	return bits;
}

static const char *rtnl(struct rr_events *ev, struct msg m)
{
	return bits_text(classify(events_rtnl, ev, &m));
}

/* Feeds nftables messages in order: each one's bits, then the commits recognised as ours. */
static const char *nfnl(struct rr_events *ev, int n, ...)
{
	static char s[256];
	va_list ap;

	s[0] = '\0';
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		struct msg m = va_arg(ap, struct msg);

		snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s ",
			 bits_text(classify(events_nfnl, ev, &m)));
	}
	va_end(ap);
	snprintf(s + strlen(s), sizeof(s) - strlen(s), "seen=%llu",
		 (unsigned long long)ev->commits_seen);
	return s;
}

static void test_rtnl_types(void)
{
	struct fixture f = {0};
	struct rr_events ev = events_new(&f);

	CHECK_STR(rtnl(&ev, link_msg(RTM_NEWLINK, 0)), "links");
	CHECK_STR(rtnl(&ev, link_msg(RTM_DELLINK, 0)), "links");
	CHECK_STR(rtnl(&ev, addr_msg(RTM_NEWADDR, 0)), "addrs");
	CHECK_STR(rtnl(&ev, addr_msg(RTM_DELADDR, 0)), "addrs");
	CHECK_STR(rtnl(&ev, route_msg(RTM_NEWROUTE, 0, RT_TABLE_MAIN)), "routes");
	CHECK_STR(rtnl(&ev, route_msg(RTM_DELROUTE, 0, RT_TABLE_MAIN)), "routes");
	CHECK_STR(rtnl(&ev, rule_msg(RTM_NEWRULE, 0)), "rules");
	CHECK_STR(rtnl(&ev, rule_msg(RTM_DELRULE, 0)), "rules");
	/* Another process's request is news. */
	CHECK_STR(rtnl(&ev, link_msg(RTM_NEWLINK, 31337)), "links");
	/* Neighbours are not watched. */
	CHECK_STR(rtnl(&ev, msg_new(RTM_NEWNEIGH, 0, &(struct ndmsg){0}, sizeof(struct ndmsg))),
		  "-");
}

static void test_rtnl_own_echo(void)
{
	struct fixture f = {0};
	struct rr_events ev = events_new(&f);

	CHECK_STR(rtnl(&ev, link_msg(RTM_NEWLINK, OWN_PORT)), "-");
	CHECK_STR(rtnl(&ev, addr_msg(RTM_DELADDR, OWN_PORT)), "-");
	CHECK_STR(rtnl(&ev, route_msg(RTM_NEWROUTE, OWN_PORT, RT_TABLE_MAIN)), "-");
	CHECK_STR(rtnl(&ev, rule_msg(RTM_NEWRULE, OWN_PORT)), "-");
	/* Port 0 is the kernel's own notification, never an echo. */
	ev.own_port = 0;
	CHECK_STR(rtnl(&ev, rule_msg(RTM_NEWRULE, 0)), "rules");
}

static void test_route_tables(void)
{
	struct fixture f = {0};
	struct rr_events ev = events_new(&f);
	struct msg m;

	CHECK_STR(rtnl(&ev, route_msg(RTM_NEWROUTE, 0, RT_TABLE_LOCAL)), "-");
	CHECK_STR(rtnl(&ev, route_msg(RTM_NEWROUTE, 0, 0)), "routes");

	/* RTA_TABLE overrides rtm_table, either way. */
	m = route_msg(RTM_NEWROUTE, 0, RT_TABLE_COMPAT);
	msg_u32(&m, RTA_OIF, 2);
	msg_u32(&m, RTA_TABLE, TABLE_OURS);
	CHECK_STR(rtnl(&ev, m), "routes");
	m = route_msg(RTM_DELROUTE, 0, RT_TABLE_MAIN);
	msg_u32(&m, RTA_TABLE, TABLE_OTHER);
	CHECK_STR(rtnl(&ev, m), "-");
	m = route_msg(RTM_DELROUTE, 0, RT_TABLE_LOCAL);
	msg_u32(&m, RTA_TABLE, RT_TABLE_MAIN);
	CHECK_STR(rtnl(&ev, m), "routes");
}

/* A route message that cannot be read counts as relevant, whatever its table. */
static void test_route_malformed(void)
{
	struct fixture f = {0};
	struct rr_events ev = events_new(&f);
	struct msg m, ok;
	uint16_t half = 1;

	ok = route_msg(RTM_NEWROUTE, 0, RT_TABLE_LOCAL);
	msg_u32(&ok, RTA_TABLE, TABLE_OTHER);
	CHECK_STR(rtnl(&ev, ok), "-");

	/* Cut inside RTA_TABLE, inside its header, inside the rtmsg. */
	m = ok;
	m.len -= 2;
	CHECK_STR(rtnl(&ev, m), "routes");
	m.len = NLMSG_HDRLEN + sizeof(struct rtmsg) + 2;
	CHECK_STR(rtnl(&ev, m), "routes");
	m.len = NLMSG_HDRLEN + 4;
	CHECK_STR(rtnl(&ev, m), "routes");

	/* nlmsg_len too small for the rtmsg, though the bytes are there. */
	m = ok;
	m.u.h.nlmsg_len = NLMSG_HDRLEN + 4;
	CHECK_STR(rtnl(&ev, m), "routes");

	/* An attribute longer than the message. */
	m = ok;
	((struct nlattr *)(m.u.b + NLMSG_HDRLEN + sizeof(struct rtmsg)))->nla_len = 200;
	CHECK_STR(rtnl(&ev, m), "routes");

	/* An attribute shorter than its own header. */
	m = ok;
	((struct nlattr *)(m.u.b + NLMSG_HDRLEN + sizeof(struct rtmsg)))->nla_len = 2;
	CHECK_STR(rtnl(&ev, m), "routes");

	/* RTA_TABLE too short for a u32. */
	m = route_msg(RTM_NEWROUTE, 0, RT_TABLE_LOCAL);
	msg_attr(&m, RTA_TABLE, &half, sizeof(half));
	CHECK_STR(rtnl(&ev, m), "routes");

	/* Not even a whole netlink header: nothing to say. */
	m = ok;
	m.len = NLMSG_HDRLEN - 1;
	CHECK_STR(rtnl(&ev, m), "-");
	m.len = 0;
	CHECK_STR(rtnl(&ev, m), "-");
}

#define OURS_BATCH                                                                 \
	nft_obj(NFT_MSG_NEWTABLE, NFPROTO_INET, "replyroute"),                     \
		nft_obj(NFT_MSG_NEWCHAIN, NFPROTO_INET, "replyroute"),             \
		nft_obj(NFT_MSG_NEWRULE, NFPROTO_INET, "replyroute")

static void test_nft_foreign(void)
{
	struct fixture f = {0};
	struct rr_events ev = events_new(&f);

	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, nft_gen(555, "nft")), "- - - nft seen=0");
	/* The batch ended: a transaction touching nothing of ours follows. */
	CHECK_STR(nfnl(&ev, 2, nft_obj(NFT_MSG_NEWTABLE, NFPROTO_INET, "fw"), nft_gen(555, "nft")),
		  "- - seen=0");
	/* A deletion counts as much as an addition. */
	CHECK_STR(nfnl(&ev, 2, nft_obj(NFT_MSG_DELRULE, NFPROTO_INET, "replyroute"),
		       nft_gen(556, "nft")),
		  "- nft seen=0");
}

static void test_nft_own_pid(void)
{
	struct fixture f = {.commits = 1};
	struct rr_events ev = events_new(&f);

	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, nft_gen(OWN_PID, OWN_COMM)), "- - - - seen=1");
	/* Ours though not pending (not counted yet): still nothing new, nothing to advance. */
	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, nft_gen(OWN_PID, OWN_COMM)), "- - - - seen=1");
	/* Somebody else changing our table right after. */
	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, nft_gen(555, "nft")), "- - - nft seen=1");
}

/* Inside a PID namespace NEWGEN carries the initial namespace's pid, not getpid(). */
static void test_nft_own_name(void)
{
	struct fixture f = {.commits = 2};
	struct rr_events ev = events_new(&f);

	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, nft_gen(7777, OWN_COMM)), "- - - - seen=1");
	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, nft_gen(7777, OWN_COMM)), "- - - - seen=2");
	/* Nothing pending any more: a process of the same name elsewhere is not us. */
	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, nft_gen(7777, OWN_COMM)), "- - - nft seen=2");
	/* The name must match whole: a prefix is another program. */
	f.commits = 3;
	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, nft_gen(7777, "replyroute")), "- - - nft seen=2");
	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, nft_gen(7777, "replyrouted2")), "- - - nft seen=2");
}

static void test_nft_name_not_pending(void)
{
	struct fixture f = {0};
	struct rr_events ev = events_new(&f);

	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, nft_gen(7777, OWN_COMM)), "- - - nft seen=0");
}

static void test_nft_other_tables(void)
{
	struct fixture f = {0};
	struct rr_events ev = events_new(&f);

	CHECK_STR(nfnl(&ev, 3, nft_obj(NFT_MSG_NEWTABLE, NFPROTO_INET, "other"),
		       nft_obj(NFT_MSG_NEWRULE, NFPROTO_INET, "other"), nft_gen(555, "nft")),
		  "- - - seen=0");
	/* Our name in another family is somebody else's table. */
	CHECK_STR(nfnl(&ev, 3, nft_obj(NFT_MSG_NEWTABLE, NFPROTO_IPV4, "replyroute"),
		       nft_obj(NFT_MSG_NEWRULE, NFPROTO_IPV6, "replyroute"), nft_gen(555, "nft")),
		  "- - - seen=0");
	/* A prefix of our name is another table. */
	CHECK_STR(nfnl(&ev, 2, nft_obj(NFT_MSG_NEWTABLE, NFPROTO_INET, "replyroutex"),
		       nft_gen(555, "nft")),
		  "- - seen=0");
}

static void test_nft_malformed(void)
{
	struct fixture f = {0};
	struct rr_events ev = events_new(&f);
	struct msg m, gen;
	uint16_t half = 1;

	/* Handed fewer bytes than nlmsg_len says: it names nothing. */
	m = nft_obj(NFT_MSG_NEWRULE, NFPROTO_INET, "replyroute");
	m.len -= 4;
	CHECK_STR(nfnl(&ev, 2, m, nft_gen(555, "nft")), "- - seen=0");
	/* The name attribute claims more than the message holds. */
	m = nft_obj(NFT_MSG_NEWRULE, NFPROTO_INET, "replyroute");
	m.u.h.nlmsg_len -= 4;
	m.len = m.u.h.nlmsg_len;
	CHECK_STR(nfnl(&ev, 2, m, nft_gen(555, "nft")), "- - seen=0");
	/* No nfgenmsg at all. */
	m = nft_obj(NFT_MSG_NEWRULE, NFPROTO_INET, "replyroute");
	m.u.h.nlmsg_len = m.len = NLMSG_HDRLEN + 2;
	CHECK_STR(nfnl(&ev, 2, m, nft_gen(555, "nft")), "- - seen=0");
	/* Not nf_tables (conntrack's subsystem): ignored even if it looked like ours. */
	m = nft_obj(NFT_MSG_NEWRULE, NFPROTO_INET, "replyroute");
	m.u.h.nlmsg_type = NFNL_SUBSYS_CTNETLINK << 8 | NFT_MSG_NEWRULE;
	CHECK_STR(nfnl(&ev, 2, m, nft_gen(555, "nft")), "- - seen=0");

	/*
	 * A NEWGEN that cannot be read is ignored, as daemon.c did before:
	 * the batch stays marked until the next one ends it.
	 */
	gen = nft_gen(555, "nft");
	gen.len = NLMSG_HDRLEN + 2;
	CHECK_STR(nfnl(&ev, 3, OURS_BATCH), "- - - seen=0");
	CHECK_STR(nfnl(&ev, 2, gen, nft_gen(555, "nft")), "- nft seen=0");

	/* A PROC_PID too short for a u32 is not read: the commit is not known as ours. */
	f.commits = 1;
	gen = msg_new(NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN, 0,
		      &(struct nfgenmsg){.nfgen_family = AF_UNSPEC}, sizeof(struct nfgenmsg));
	msg_attr(&gen, NFTA_GEN_PROC_PID, &half, sizeof(half));
	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, gen), "- - - nft seen=0");
	/* A NEWGEN whose name runs past its end: only the pid can say it is ours. */
	gen = nft_gen(7777, OWN_COMM);
	gen.u.h.nlmsg_len -= 4;
	gen.len = gen.u.h.nlmsg_len;
	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, gen), "- - - nft seen=0");
	gen = nft_gen(OWN_PID, OWN_COMM);
	gen.u.h.nlmsg_len -= 4;
	gen.len = gen.u.h.nlmsg_len;
	CHECK_STR(nfnl(&ev, 4, OURS_BATCH, gen), "- - - - seen=1");
}

static struct rr_removal removal_seen;
static int removals;

static void fixture_removed(const struct rr_removal *rm, void *userdata)
{
	removal_seen = *rm;
	removals++;
}

/* One of ours deleted by another process: its key and the port reach the owner; the kernel's own and foreign objects do not. */
static void test_removals(void)
{
	struct fixture f = {0};
	struct rr_events ev = events_new(&f);
	struct msg m;
	uint8_t proto = 205;
	uint32_t dst = htonl(0xcb007100);

	ev.own_proto = 205;
	ev.removed = fixture_removed;
	m = rule_msg(RTM_DELRULE, 1234);
	msg_u32(&m, FRA_PRIORITY, 1000);
	msg_u32(&m, FRA_FWMARK, 0x1);
	msg_u32(&m, FRA_FWMASK, 0xff);
	msg_u32(&m, FRA_TABLE, TABLE_OURS);
	msg_attr(&m, FRA_PROTOCOL, &proto, 1);
	CHECK_STR(rtnl(&ev, m), "rules");
	CHECK(removals == 1 && removal_seen.rule && removal_seen.port == 1234 &&
	      removal_seen.r.priority == 1000 && removal_seen.r.fwmark == 1 &&
	      removal_seen.r.fwmask == 0xff && removal_seen.r.table == TABLE_OURS);
	/* The same by the kernel itself (port 0), or by us: not a removal by someone else. */
	m.u.h.nlmsg_pid = 0;
	rtnl(&ev, m);
	m.u.h.nlmsg_pid = OWN_PORT;
	rtnl(&ev, m);
	CHECK(removals == 1);
	/* Someone else's rule (another protocol, or none given): not ours. */
	m = rule_msg(RTM_DELRULE, 1234);
	msg_u32(&m, FRA_PRIORITY, 1000);
	CHECK_STR(rtnl(&ev, m), "rules");
	CHECK(removals == 1);

	m = route_msg(RTM_DELROUTE, 77, RT_TABLE_UNSPEC);
	((struct rtmsg *)NLMSG_DATA(&m.u.h))->rtm_protocol = 205;
	((struct rtmsg *)NLMSG_DATA(&m.u.h))->rtm_dst_len = 24;
	msg_u32(&m, RTA_TABLE, TABLE_OURS);
	msg_u32(&m, RTA_DST, dst);
	msg_u32(&m, RTA_PRIORITY, 0);
	CHECK_STR(rtnl(&ev, m), "routes");
	CHECK(removals == 2 && !removal_seen.rule && removal_seen.port == 77 &&
	      removal_seen.rt.table == TABLE_OURS && removal_seen.rt.dst_len == 24 &&
	      removal_seen.rt.dst.v4.s_addr == dst);
	/* Truncated before its attributes: no removal reported, still dirty. */
	m.len = NLMSG_HDRLEN + sizeof(struct rtmsg) - 1;
	CHECK_STR(rtnl(&ev, m), "routes");
	CHECK(removals == 2);
}

/* Only ifindex 2 is tracked here. */
static bool fixture_link_relevant(int ifindex, void *userdata)
{
	return ifindex == 2;
}

/* Addresses of other links, and main's routes through them, wake nothing. */
static void test_untracked_links(void)
{
	struct fixture f = {0};
	struct rr_events ev = events_new(&f);
	struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = 7};
	struct msg m;

	ev.link_relevant = fixture_link_relevant;
	CHECK_STR(rtnl(&ev, addr_msg(RTM_NEWADDR, 0)), "addrs");
	CHECK_STR(rtnl(&ev, msg_new(RTM_NEWADDR, 0, &ifa, sizeof(ifa))), "-");
	CHECK_STR(rtnl(&ev, msg_new(RTM_DELADDR, 0, &ifa, sizeof(ifa))), "-");
	/* Links: always (a rename may make one tracked). */
	CHECK_STR(rtnl(&ev, link_msg(RTM_NEWLINK, 0)), "links");
	m = route_msg(RTM_NEWROUTE, 0, RT_TABLE_MAIN);
	msg_u32(&m, RTA_OIF, 7);
	CHECK_STR(rtnl(&ev, m), "-");
	m = route_msg(RTM_NEWROUTE, 0, RT_TABLE_MAIN);
	msg_u32(&m, RTA_OIF, 2);
	CHECK_STR(rtnl(&ev, m), "routes");
	/* No RTA_OIF (multipath): may matter. */
	CHECK_STR(rtnl(&ev, route_msg(RTM_NEWROUTE, 0, RT_TABLE_MAIN)), "routes");
	/* Our table through any link: always. */
	m = route_msg(RTM_DELROUTE, 0, RT_TABLE_UNSPEC);
	msg_u32(&m, RTA_TABLE, TABLE_OURS);
	msg_u32(&m, RTA_OIF, 7);
	CHECK_STR(rtnl(&ev, m), "routes");
}

int main(void)
{
	test_removals();
	test_untracked_links();
	test_rtnl_types();
	test_rtnl_own_echo();
	test_route_tables();
	test_route_malformed();
	test_nft_foreign();
	test_nft_own_pid();
	test_nft_own_name();
	test_nft_name_not_pending();
	test_nft_other_tables();
	test_nft_malformed();
	return check_done("events");
}
