/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Questions to the kernel's FIB, read-only: the whole RPDB with every
 * selector (RTM_GETRULE), and single route lookups (RTM_GETROUTE) as
 * `ip route get` asks them. The answers are plain structs for the pure
 * cores of --explain and --audit.
 */

#include <linux/netlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "rulewalk.h"

/* One route lookup: a packet, and what the kernel said. */
struct fq_lookup {
	/* the question */
	struct rr_packet pkt;
	bool fibmatch; /* RTM_F_FIB_MATCH: the matched route, not the resulting dst */
	/* the answer; error: 0 or the kernel's negative errno */
	int error;
	uint8_t type; /* RTN_* */
	uint32_t table;
	char oif[IFNAMSIZ];
	struct rr_addr gw, prefsrc, dst; /* dst/dst_len: the matched prefix (fibmatch) */
	uint8_t dst_len;
	uint8_t protocol;
	uint32_t metric;
};

struct fq;

int fq_open(struct fq **ret);
void fq_close(struct fq *q);

/* Ask the kernel; fills the answer half of l. Returns 0 or a negative errno of the
 * request itself (the lookup's own failure goes to l->error). */
int fq_lookup(struct fq *q, struct fq_lookup *l);

/* Every rule of both families, in the kernel's order; *ret is malloc'ed. */
int fq_rules(struct fq *q, struct rr_xrule **ret, size_t *n);

/* Parse one RTM_NEWRULE message; 0, or -EINVAL when it is not one. */
int fq_rule_parse(const struct nlmsghdr *h, struct rr_xrule *ret);

/* The ifindex of a name (0: none), and back ("" when unknown). */
int fq_ifindex(const char *name);
