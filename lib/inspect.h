/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A read-only snapshot of the kernel for --explain and --audit: links,
 * addresses and the routes of the tables that matter (view.h), the whole RPDB with every
 * selector (rulewalk.h) and, on request, what the nft ruleset does
 * (nftscan.h). Changes nothing; runs beside a daemon.
 */

#include "config.h"
#include "nftscan.h"
#include "rulewalk.h"
#include "view.h"

enum { INSPECT_NFT = 1 << 0 };

struct inspect {
	struct rr_view view;
	struct rr_xrule *rules;
	size_t n_rules;
	struct nfts nft;
};

/*
 * Routes only of the tables the rules look up and of tables[]: a foreign
 * table no rule points to costs nothing, whatever its size.
 */
int inspect_read(struct inspect *k, unsigned flags, const uint32_t *tables, size_t n_tables);
void inspect_clear(struct inspect *k);

/* The table replyroute's own rule for mark/mask looks up (0: none): an automatic table. */
uint32_t inspect_our_table(const struct inspect *k, uint32_t mark, uint32_t mask);
/* The table of configured interface ic: Table=, or the one its rule looks up. */
uint32_t inspect_iface_table(const struct inspect *k, const struct rr_config *c,
			     const struct rr_iface_conf *ic);
