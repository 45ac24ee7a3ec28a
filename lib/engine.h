/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The reconcile engine: observed (netlink dump) -> desired -> plan -> apply,
 * plus the nft table and the sysctls. Used by --once, --cleanup, --dry-run
 * and the daemon alike.
 */

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "desired.h"
#include "view.h"

enum {
	RR_DIRTY_LINKS = 1 << 0,
	RR_DIRTY_ADDRS = 1 << 1,
	RR_DIRTY_ROUTES = 1 << 2,
	RR_DIRTY_RULES = 1 << 3,
	RR_DIRTY_NFT = 1 << 4,
	RR_DIRTY_ALL = (1 << 5) - 1,
};

struct rr_engine;

int engine_new(const char *statedir, struct rr_engine **ret);
void engine_free(struct rr_engine *e);

/* Takes ownership of c; the old config's objects go at the next reconcile. */
void engine_set_config(struct rr_engine *e, struct rr_config *c);
const struct rr_config *engine_config(struct rr_engine *e);

/*
 * Bring the kernel to the desired state. `dirty` says which parts of the
 * kernel view to read again. Returns the number of changes made, or a
 * negative errno (each failure is logged once here).
 */
int engine_reconcile(struct rr_engine *e, unsigned dirty);

/* Print the desired state to out, changing nothing. */
int engine_dry_run(struct rr_engine *e, FILE *out);

/* Remove everything tagged as replyroute's and restore saved sysctls. */
int engine_cleanup(struct rr_engine *e);

/* Per-interface summary for STATUS=, valid after a reconcile. */
const char *engine_status(struct rr_engine *e);

/* Whether a route change in this table can matter (main, ours, or not yet known). */
bool engine_table_relevant(struct rr_engine *e, uint32_t table);

/* nftables transactions of ours so far, to recognise their NEWGEN notifications. */
uint64_t engine_nft_commits(struct rr_engine *e);

/* Netlink port id of the command socket, to recognise our own notifications. */
uint32_t engine_nl_port(struct rr_engine *e);
