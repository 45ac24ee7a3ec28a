/* SPDX-License-Identifier: MIT */
/*
 * The parts of the rtnetlink back end that need no kernel: reading a rule's
 * mark from a message as the kernel sends it in a dump.
 */
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/route/rule.h>
#include <stdio.h>
#include <stdlib.h>

#include "kroute.h"
#include "check.h"


/*
 * An RTM_NEWRULE as fib_nl_fill_rule() writes it: FRA_FWMARK when the mark
 * is not 0, FRA_FWMASK when either is not.
 */
static struct nl_msg *rule_msg(uint32_t mark, uint32_t mask)
{
	struct fib_rule_hdr frh = {.family = AF_INET, .table = 0, .action = FR_ACT_TO_TBL};
	struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWRULE, NLM_F_MULTI);

	if (!m || nlmsg_append(m, &frh, sizeof(frh), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(m, FRA_TABLE, 1000) < 0 || nla_put_u32(m, FRA_PRIORITY, 1000) < 0 ||
	    (mark && nla_put_u32(m, FRA_FWMARK, mark) < 0) ||
	    ((mark || mask) && nla_put_u32(m, FRA_FWMASK, mask) < 0)) {
		fprintf(stderr, "cannot build a message\n");
		exit(2);
	}
	return m;
}

static void check_mark(uint32_t mark, uint32_t mask, uint32_t want_mark, uint32_t want_mask)
{
	struct nl_msg *m = rule_msg(mark, mask);
	uint32_t got_mark = 42, got_mask = 42;

	kr_rule_mark(nlmsg_hdr(m), &got_mark, &got_mask);
	if (got_mark != want_mark || got_mask != want_mask) {
		fprintf(stderr, "%#x/%#x read back as %#x/%#x, expected %#x/%#x\n", mark, mask,
			got_mark, got_mask, want_mark, want_mask);
		failures++;
	}
	nlmsg_free(m);
}

int main(void)
{
	check_mark(0, 0, 0, 0);
	check_mark(0x1, 0xff, 0x1, 0xff);
	/* libnl's rtnl_rule_get_mark()/get_mask() say 0xffffffff for both of these. */
	check_mark(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu);
	check_mark(0x80000000u, 0xffffffffu, 0x80000000u, 0xffffffffu);
	check_mark(0, 0xff, 0, 0xff);

	/* A mark without a mask: the kernel's default mask. */
	{
		struct fib_rule_hdr frh = {.family = AF_INET, .action = FR_ACT_TO_TBL};
		struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWRULE, 0);
		uint32_t mark, mask;

		CHECK(m && nlmsg_append(m, &frh, sizeof(frh), NLMSG_ALIGNTO) == 0);
		CHECK(nla_put_u32(m, FRA_FWMARK, 0x5) == 0);
		kr_rule_mark(nlmsg_hdr(m), &mark, &mask);
		CHECK(mark == 0x5 && mask == 0xffffffffu);
		nlmsg_free(m);
	}
	/* Too short for a rule header: no mark, not a read past the end. */
	{
		struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWRULE, 0);
		uint32_t mark = 1, mask = 1;

		kr_rule_mark(nlmsg_hdr(m), &mark, &mask);
		CHECK(mark == 0 && mask == 0);
		nlmsg_free(m);
	}
	return check_done("kroute");
}
