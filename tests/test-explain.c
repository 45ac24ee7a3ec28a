/* SPDX-License-Identifier: MIT */
/*
 * --explain's pure core: the rule walk (goto, nop, iif, fwmark/mask,
 * from/to, suppress_prefixlength, throw, l3mdev, actions), the lookups it
 * asks, and golden text and JSON for fixed kernel answers
 * (tests/expected/explain-*). No privileges, no kernel.
 */
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/msg.h>

#include "explain.h"
#include "check.h"
#include "golden.h"

static const char *expected;

#define A check_addr

/* A rule: "PRIO ACTION TABLE/TARGET" plus selectors set by the caller. */
static struct rr_xrule R(uint32_t prio, uint8_t action, uint32_t table_or_target)
{
	struct rr_xrule r = {.family = AF_INET, .priority = prio, .action = action,
			     .suppress_prefixlen = -1, .protocol = 2};

	if (action == FR_ACT_GOTO)
		r.goto_target = table_or_target;
	else
		r.table = table_or_target;
	return r;
}

static void route(struct rr_view *v, uint32_t table, const char *dst, uint8_t len, const char *gw,
		  int oif, uint8_t type, uint8_t proto)
{
	struct rr_route *r = view_add_route(v);

	*r = (struct rr_route){.family = AF_INET, .table = table, .dst = A(dst), .dst_len = len,
			       .oif = oif, .type = type, .protocol = proto};
	if (gw)
		r->gw = A(gw);
}

static void link(struct rr_view *v, int ifindex, const char *name)
{
	struct rr_link *l = view_add_link(v);

	l->ifindex = ifindex;
	snprintf(l->name, sizeof(l->name), "%s", name);
}

/* The seed host: eth0 (2) management, eth1 (3) public; table 100 replyroute's. */
static void seed_view(struct rr_view *v)
{
	link(v, 1, "lo");
	link(v, 2, "eth0");
	link(v, 3, "eth1");
	route(v, RT_TABLE_LOCAL, "203.0.113.2", 32, NULL, 3, RTN_LOCAL, 2);
	route(v, RT_TABLE_LOCAL, "192.0.2.2", 32, NULL, 2, RTN_LOCAL, 2);
	route(v, RT_TABLE_MAIN, "0.0.0.0", 0, "203.0.113.1", 3, RTN_UNICAST, 3);
	route(v, RT_TABLE_MAIN, "198.51.100.0", 24, "192.0.2.1", 2, RTN_UNICAST, 3);
	route(v, RT_TABLE_MAIN, "192.0.2.0", 24, NULL, 2, RTN_UNICAST, 2);
	route(v, RT_TABLE_MAIN, "203.0.113.0", 24, NULL, 3, RTN_UNICAST, 2);
	route(v, 100, "0.0.0.0", 0, "203.0.113.1", 3, RTN_UNICAST, 205);
	route(v, 100, "203.0.113.0", 24, NULL, 3, RTN_UNICAST, 205);
}

static size_t seed_rules(struct rr_xrule *r)
{
	size_t n = 0;

	r[n++] = R(0, FR_ACT_TO_TBL, RT_TABLE_LOCAL);
	r[n] = R(1000, FR_ACT_TO_TBL, 100);
	r[n].fwmark = 0x1;
	r[n].fwmask = 0xff;
	r[n++].protocol = 205;
	r[n++] = R(32766, FR_ACT_TO_TBL, RT_TABLE_MAIN);
	r[n++] = R(32767, FR_ACT_TO_TBL, RT_TABLE_DEFAULT);
	return n;
}

static struct rr_packet P(const char *src, const char *dst, const char *iif, uint32_t mark)
{
	struct rr_packet p = {.family = AF_INET, .mark = mark};

	if (src)
		p.src = A(src);
	p.dst = A(dst);
	snprintf(p.iif, sizeof(p.iif), "%s", iif ? iif : "");
	return p;
}

static uint32_t walk_table(const struct rr_xrule *r, size_t n, const struct rr_view *v,
			   struct rr_packet p, size_t *steps)
{
	struct rw_result res;

	rw_walk(r, n, v, &p, &res);
	if (steps)
		*steps = res.n_steps;
	return rw_table(r, &res);
}

static void test_walk_seed(void)
{
	struct rr_view v = {0};
	struct rr_xrule r[8];
	size_t n, steps;
	char buf[256];

	seed_view(&v);
	n = seed_rules(r);
	/* Unmarked: local has nothing for 198.51.100.10, main has the /24. */
	CHECK(walk_table(r, n, &v, P("203.0.113.2", "198.51.100.10", NULL, 0), &steps) ==
	      RT_TABLE_MAIN);
	CHECK(steps == 2);
	/* Marked 0x101: the mask 0xff keeps only 0x1. */
	CHECK(walk_table(r, n, &v, P("203.0.113.2", "198.51.100.10", NULL, 0x101), &steps) == 100);
	CHECK(walk_table(r, n, &v, P("203.0.113.2", "198.51.100.10", NULL, 0x2), NULL) ==
	      RT_TABLE_MAIN);
	/* Local delivery. */
	CHECK(walk_table(r, n, &v, P("198.51.100.10", "203.0.113.2", "eth1", 0x1), &steps) ==
	      RT_TABLE_LOCAL);
	CHECK(steps == 1);
	rw_rule_format(&r[1], buf, sizeof(buf));
	CHECK(!strcmp(buf, "1000: from all fwmark 0x1/0xff lookup 100 proto 205"));
	view_clear(&v);
}

/*
 * The layout the per-interface tables are moving to: a gate that sends
 * unmarked packets past every per-interface rule to a nop anchor, an
 * `iif I fwmark M/K lookup main` rule before the mark rule.
 */
static void test_walk_gate(void)
{
	struct rr_view v = {0};
	struct rr_xrule r[8];
	size_t n = 0, steps;

	seed_view(&v);
	r[n++] = R(0, FR_ACT_TO_TBL, RT_TABLE_LOCAL);
	r[n] = R(998, FR_ACT_GOTO, 1100);
	r[n].fwmask = 0xff; /* fwmark 0/0xff: no replyroute mark */
	n++;
	r[n] = R(999, FR_ACT_TO_TBL, RT_TABLE_MAIN);
	snprintf(r[n].iif, sizeof(r[n].iif), "eth1");
	r[n].fwmark = 0x1;
	r[n++].fwmask = 0xff;
	r[n] = R(1000, FR_ACT_TO_TBL, 100);
	r[n].fwmark = 0x1;
	r[n++].fwmask = 0xff;
	r[n++] = R(1100, FR_ACT_NOP, 0);
	r[n++] = R(32766, FR_ACT_TO_TBL, RT_TABLE_MAIN);

	/* Unmarked: local, the gate jumps to the anchor, nop, main. */
	CHECK(walk_table(r, n, &v, P("203.0.113.2", "198.51.100.10", NULL, 0), &steps) ==
	      RT_TABLE_MAIN);
	CHECK(steps == 4); /* local, the gate, the anchor it jumped to (nop), main */
	/* Marked, locally generated (iif lo): the iif rule does not match; table 100. */
	CHECK(walk_table(r, n, &v, P("203.0.113.2", "198.51.100.10", NULL, 0x1), NULL) == 100);
	/* Marked, arriving on eth1 for another address: main first. */
	CHECK(walk_table(r, n, &v, P("198.51.100.10", "192.0.2.7", "eth1", 0x1), NULL) ==
	      RT_TABLE_MAIN);
	/* Without a route there for the address, main goes on to table 100. */
	view_clear(&v);
	link(&v, 3, "eth1");
	route(&v, 100, "0.0.0.0", 0, "203.0.113.1", 3, RTN_UNICAST, 205);
	CHECK(walk_table(r, n, &v, P("198.51.100.10", "192.0.2.7", "eth1", 0x1), NULL) == 100);
	view_clear(&v);
}

static void test_walk_selectors(void)
{
	struct rr_view v = {0};
	struct rr_xrule r[8];
	struct rw_result res;
	size_t n = 0;
	struct rr_packet p;
	char buf[256];

	seed_view(&v);
	route(&v, 200, "198.51.100.0", 24, NULL, 2, RTN_THROW, 3);
	route(&v, 201, "0.0.0.0", 0, "192.0.2.1", 2, RTN_UNICAST, 3);
	r[n] = R(10, FR_ACT_TO_TBL, 201);
	r[n].src = A("192.0.2.0");
	r[n++].src_len = 24;                    /* from 192.0.2.0/24: no */
	r[n] = R(20, FR_ACT_TO_TBL, 200);      /* a throw route: next */
	r[n].dst = A("198.51.100.0");
	r[n++].dst_len = 24;
	r[n] = R(30, FR_ACT_TO_TBL, 201);      /* default suppressed */
	r[n++].suppress_prefixlen = 0;
	r[n] = R(40, FR_ACT_TO_TBL, 201);
	r[n++].l3mdev = true;                   /* not judged */
	r[n] = R(50, FR_ACT_BLACKHOLE, 0);
	r[n].ipproto = IPPROTO_UDP;             /* tcp: no */
	n++;
	r[n] = R(60, FR_ACT_UNREACHABLE, 0);
	r[n].sport[0] = r[n].sport[1] = 22;     /* sport 22: yes */
	n++;
	p = P("203.0.113.2", "198.51.100.10", NULL, 0);
	p.ipproto = IPPROTO_TCP;
	p.sport = 22;
	rw_walk(r, n, &v, &p, &res);
	CHECK(res.done && res.n_steps == 4);
	CHECK(res.steps[0].outcome == RW_THROW && res.steps[0].rule == 1);
	CHECK(res.steps[1].outcome == RW_SUPPRESSED && res.steps[1].rule == 2);
	CHECK(res.steps[2].outcome == RW_SKIPPED && res.steps[2].rule == 3);
	CHECK(res.steps[3].outcome == RW_ACTION && res.steps[3].rule == 5);
	CHECK(rw_table(r, &res) == 0);
	rw_rule_format(&r[2], buf, sizeof(buf));
	CHECK(!strcmp(buf, "30: from all lookup 201 suppress_prefixlength 0 proto 2"));
	rw_rule_format(&r[5], buf, sizeof(buf));
	CHECK(!strcmp(buf, "60: from all sport 22-22 unreachable proto 2"));
	/* TOS and uid ranges: a local packet is root's, with TOS 0. */
	r[6] = R(5, FR_ACT_BLACKHOLE, 0);
	r[6].tos = 0x10;
	r[7] = R(6, FR_ACT_BLACKHOLE, 0);
	r[7].uid_set = true;
	r[7].uid[0] = 1000;
	r[7].uid[1] = 1999;
	CHECK(!rw_rule_matches(&r[6], &p) && !rw_rule_matches(&r[7], &p));
	r[7].uid[0] = 0;
	CHECK(rw_rule_matches(&r[7], &p));
	rw_rule_format(&r[7], buf, sizeof(buf));
	CHECK(!strcmp(buf, "6: from all uidrange 0-1999 blackhole proto 2"));
	/* invert: "not from 192.0.2.0/24" matches 203.0.113.2. */
	r[0].invert = true;
	rw_walk(r, 1, &v, &p, &res);
	CHECK(res.done && rw_table(r, &res) == 201);
	view_clear(&v);
}

/* Fill the packets the core asks for, then the kernel's answers of the seed. */
static void ask(struct explain_input *in, enum explain_q q)
{
	in->asked[q] = explain_question(in, q, &in->q[q]);
}

static void answer(struct explain_input *in, enum explain_q q, int error, uint8_t type,
		   uint32_t table, const char *oif, const char *gw)
{
	struct fq_lookup *l = &in->q[q];

	ask(in, q);
	l->error = error;
	l->type = type;
	l->table = table;
	snprintf(l->oif, sizeof(l->oif), "%s", oif ? oif : "");
	if (gw)
		l->gw = A(gw);
	l->dst.family = AF_INET;
	if (l->fibmatch && table == RT_TABLE_MAIN) {
		l->dst = A("198.51.100.0");
		l->dst_len = 24;
		l->protocol = 3;
	} else if (l->fibmatch) {
		l->protocol = 205;
	}
}

static void seed_input(struct explain_input *in, bool marking)
{
	in->flow = (struct explain_flow){.family = AF_INET, .from = A("198.51.100.10"),
					 .to = A("203.0.113.2"), .iif = "eth1",
					 .ipproto = IPPROTO_TCP, .sport = 40000, .dport = 22};
	in->iface = (struct explain_iface){.tracked = true, .marking = marking, .mark = 0x1,
					   .mask = 0xff, .table = 100, .priority = 1000};
}

static void print_both(const struct explain_input *in, const char *name)
{
	char txt[128], json[128];

	snprintf(txt, sizeof(txt), "%s.txt", name);
	snprintf(json, sizeof(json), "%s.json", name);
	GOLDEN(expected, txt, CHECK(explain_print(in, false, out) == 0));
	GOLDEN(expected, json, CHECK(explain_print(in, true, out) == 0));
}

static void test_explain_seed(void)
{
	struct explain_input in = {0};
	struct explain_verdict v;
	struct rr_view view = {0};
	struct rr_xrule rules[8];
	char cmd[256];

	seed_view(&view);
	in.rules = rules;
	in.n_rules = seed_rules(rules);
	in.view = &view;

	/* Before: nothing marks; the SYN fails source validation. */
	seed_input(&in, false);
	answer(&in, EXQ_IN, -EINVAL, 0, 0, NULL, NULL);
	answer(&in, EXQ_IN_MARKED, -EINVAL, 0, 0, NULL, NULL);
	answer(&in, EXQ_REPLY, 0, RTN_UNICAST, RT_TABLE_MAIN, "eth0", "192.0.2.1");
	answer(&in, EXQ_REPLY_FIB, 0, RTN_UNICAST, RT_TABLE_MAIN, "eth0", "192.0.2.1");
	answer(&in, EXQ_REPLY_MARKED, 0, RTN_UNICAST, RT_TABLE_MAIN, "eth0", "192.0.2.1");
	answer(&in, EXQ_REPLY_MARKED_FIB, 0, RTN_UNICAST, RT_TABLE_MAIN, "eth0", "192.0.2.1");
	explain_verdict(&in, &v);
	CHECK(!v.symmetric);
	explain_command(&in.q[EXQ_IN_MARKED], cmd, sizeof(cmd));
	CHECK(!strcmp(cmd, "ip route get 203.0.113.2 from 198.51.100.10 iif eth1 mark 0x1 "
			   "ipproto tcp sport 40000 dport 22"));
	explain_command(&in.q[EXQ_REPLY_MARKED_FIB], cmd, sizeof(cmd));
	CHECK(!strcmp(cmd, "ip route get 198.51.100.10 from 203.0.113.2 mark 0x1 "
			   "ipproto tcp sport 22 dport 40000 fibmatch"));
	print_both(&in, "explain-before");

	/* After: marked, accepted, the reply through table 100. */
	memset(in.q, 0, sizeof(in.q));
	seed_input(&in, true);
	answer(&in, EXQ_IN, -EINVAL, 0, 0, NULL, NULL);
	answer(&in, EXQ_IN_MARKED, 0, RTN_LOCAL, RT_TABLE_LOCAL, "lo", NULL);
	answer(&in, EXQ_REPLY, 0, RTN_UNICAST, RT_TABLE_MAIN, "eth0", "192.0.2.1");
	answer(&in, EXQ_REPLY_FIB, 0, RTN_UNICAST, RT_TABLE_MAIN, "eth0", "192.0.2.1");
	answer(&in, EXQ_REPLY_MARKED, 0, RTN_UNICAST, 100, "eth1", "203.0.113.1");
	answer(&in, EXQ_REPLY_MARKED_FIB, 0, RTN_UNICAST, 100, "eth1", "203.0.113.1");
	explain_verdict(&in, &v);
	CHECK(v.symmetric);
	print_both(&in, "explain-after");

	/* The kernel says table 200 where the walk ends in 100: the kernel's answer stands. */
	answer(&in, EXQ_REPLY_MARKED, 0, RTN_UNICAST, 200, "eth0", "192.0.2.1");
	explain_verdict(&in, &v);
	CHECK(!v.symmetric && strstr(v.reason, "leaves through eth0 (table 200), not eth1"));
	print_both(&in, "explain-disagree");
	view_clear(&view);
}

/* A port-forward: the reply is asked from the LAN interface the inbound answer named. */
static void test_explain_forward(void)
{
	struct explain_input in = {0};
	struct rr_view view = {0};
	struct rr_xrule rules[8];

	seed_view(&view);
	in.rules = rules;
	in.n_rules = seed_rules(rules);
	in.view = &view;
	seed_input(&in, true);
	in.flow.forward_to = A("198.18.10.2");
	in.flow.dport = 8080;
	answer(&in, EXQ_IN, -EINVAL, 0, 0, NULL, NULL);
	answer(&in, EXQ_IN_MARKED, 0, RTN_UNICAST, 100, "lan1", NULL);
	CHECK(!strcmp(in.q[EXQ_IN_MARKED].pkt.iif, "eth1"));
	CHECK(rr_addr_eq(&in.q[EXQ_IN_MARKED].pkt.dst, &in.flow.forward_to));
	answer(&in, EXQ_REPLY, 0, RTN_UNICAST, RT_TABLE_MAIN, "eth0", "192.0.2.1");
	CHECK(!strcmp(in.q[EXQ_REPLY].pkt.iif, "lan1"));
	CHECK(rr_addr_eq(&in.q[EXQ_REPLY].pkt.src, &in.flow.forward_to));
	answer(&in, EXQ_REPLY_FIB, 0, RTN_UNICAST, RT_TABLE_MAIN, "eth0", "192.0.2.1");
	answer(&in, EXQ_REPLY_MARKED, 0, RTN_UNICAST, 100, "eth1", "203.0.113.1");
	answer(&in, EXQ_REPLY_MARKED_FIB, 0, RTN_UNICAST, 100, "eth1", "203.0.113.1");
	print_both(&in, "explain-forward");

	/* Not forwarded (the inbound failed): the LAN side from main's route to the LAN host. */
	in.q[EXQ_IN_MARKED].error = -EHOSTUNREACH;
	CHECK(explain_question(&in, EXQ_REPLY, &in.q[EXQ_REPLY]) &&
	      !strcmp(in.q[EXQ_REPLY].pkt.iif, "eth1")); /* main's default */
	link(&view, 4, "lan1");
	route(&view, RT_TABLE_MAIN, "198.18.10.0", 24, NULL, 4, RTN_UNICAST, 2);
	CHECK(explain_question(&in, EXQ_REPLY, &in.q[EXQ_REPLY]) &&
	      !strcmp(in.q[EXQ_REPLY].pkt.iif, "lan1"));
	view_clear(&view);
}

/* RTM_NEWRULE as the kernel sends it: every selector the walk knows, parsed back. */
static void test_rule_parse(void)
{
	struct fib_rule_hdr frh = {.family = AF_INET, .src_len = 24, .action = FR_ACT_GOTO,
				   .flags = FIB_RULE_INVERT, .tos = 0x10};
	struct fib_rule_port_range sp = {.start = 1000, .end = 2000};
	struct fib_rule_uid_range uid = {.start = 1000, .end = 1999};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWRULE, 0);
	struct rr_addr src = A("192.0.2.0");
	struct rr_xrule r;
	char buf[256];

	CHECK(m != NULL);
	if (!m)
		return;
	CHECK(nlmsg_append(m, &frh, sizeof(frh), NLMSG_ALIGNTO) == 0);
	nla_put_u32(m, FRA_PRIORITY, 998);
	nla_put_u32(m, FRA_GOTO, 1100);
	nla_put_u32(m, FRA_FWMARK, 0);
	nla_put_u32(m, FRA_FWMASK, 0xff);
	nla_put(m, FRA_SRC, 4, src.bytes);
	nla_put_string(m, FRA_IIFNAME, "eth1");
	nla_put(m, FRA_SPORT_RANGE, sizeof(sp), &sp);
	nla_put(m, FRA_UID_RANGE, sizeof(uid), &uid);
	nla_put_u8(m, FRA_PROTOCOL, 205);
	nla_put_u8(m, FRA_IP_PROTO, IPPROTO_TCP);
	CHECK(fq_rule_parse(nlmsg_hdr(m), &r) == 0);
	CHECK(r.priority == 998 && r.action == FR_ACT_GOTO && r.goto_target == 1100);
	CHECK(r.fwmark == 0 && r.fwmask == 0xff && r.invert && r.tos == 0x10);
	CHECK(r.src_len == 24 && rr_addr_eq(&r.src, &src) && !strcmp(r.iif, "eth1"));
	CHECK(r.sport[0] == 1000 && r.sport[1] == 2000 && r.uid_set && r.uid[1] == 1999);
	CHECK(r.suppress_prefixlen == -1 && !r.l3mdev && r.protocol == 205);
	rw_rule_format(&r, buf, sizeof(buf));
	CHECK(!strcmp(buf, "998: not from 192.0.2.0/24 fwmark 0/0xff iif eth1 ipproto 6 tos 0x10 "
			   "uidrange 1000-1999 sport 1000-2000 goto 1100 proto 205"));
	nlmsg_free(m);

	/* l3mdev and suppress_prefixlength; a message of another type is refused. */
	frh = (struct fib_rule_hdr){.family = AF_INET6, .action = FR_ACT_TO_TBL};
	m = nlmsg_alloc_simple(RTM_NEWRULE, 0);
	nlmsg_append(m, &frh, sizeof(frh), NLMSG_ALIGNTO);
	nla_put_u8(m, FRA_L3MDEV, 1);
	nla_put_u32(m, FRA_SUPPRESS_PREFIXLEN, 0);
	nla_put_u32(m, FRA_TABLE, 1000);
	CHECK(fq_rule_parse(nlmsg_hdr(m), &r) == 0);
	CHECK(r.l3mdev && r.suppress_prefixlen == 0 && r.table == 1000 && r.family == AF_INET6);
	nlmsg_hdr(m)->nlmsg_type = RTM_NEWROUTE;
	CHECK(fq_rule_parse(nlmsg_hdr(m), &r) == -EINVAL);
	nlmsg_free(m);
}

int main(int argc, char **argv)
{
	expected = argc > 1 ? argv[1] : "tests/expected";
	test_rule_parse();
	test_walk_seed();
	test_walk_gate();
	test_walk_selectors();
	test_explain_seed();
	test_explain_forward();
	return check_done("explain");
}
