/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The reconcile engine, one path for every kind of state:
 *   observe (back end) -> desired (pure) -> plan (pure) -> apply (back end).
 * Used by --once, --cleanup, --dry-run and the daemon alike.
 *
 * Work is never lost: what a caller marks dirty stays pending in the engine
 * until a reconcile has applied everything; any failure makes the next one
 * read and check everything again, whatever the caller marks then.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "backend.h"
#include "config.h"
#include "desired.h"
#include "events.h"
#include "plan.h"
#include "statefile.h"
#include "view.h"

enum {
	RR_DIRTY_LINKS = RR_PART_LINKS,
	RR_DIRTY_ADDRS = RR_PART_ADDRS,
	RR_DIRTY_ROUTES = RR_PART_ROUTES,
	RR_DIRTY_RULES = RR_PART_RULES,
	RR_DIRTY_NFT = 1 << 4,    /* list the nft table again */
	RR_DIRTY_SYSCTL = 1 << 5, /* read src_valid_mark again */
	RR_DIRTY_ALL = (1 << 6) - 1,
};

struct rr_engine;

/*
 * be: the back end, owned by the engine from now on (NULL: the real kernel).
 * statedir: where what must outlive the process is kept (store.h).
 */
int engine_new(const char *statedir, struct rr_backend *be, struct rr_engine **ret);
void engine_free(struct rr_engine *e);

/* Takes ownership of c (NULL: nothing configured); the old config's objects go at the next reconcile. */
void engine_set_config(struct rr_engine *e, struct rr_config *c);
const struct rr_config *engine_config(struct rr_engine *e);
/* The runtime directory given to engine_new(). */
const char *engine_statedir(const struct rr_engine *e);

/*
 * Bring the kernel to the desired state. `dirty` adds to the parts of the
 * kernel to read again. Returns the number of changes made, or a negative
 * errno (each failure is logged once here; -EINTR: a dump was interrupted
 * by concurrent changes, i.e. the kernel is busy).
 */
int engine_reconcile(struct rr_engine *e, unsigned dirty);
/* RR_DIRTY_* parts still to be read or applied (non-zero after a failure). */
unsigned engine_pending(const struct rr_engine *e);

/* Print the desired state and the plan to out, changing nothing. */
int engine_dry_run(struct rr_engine *e, FILE *out);

/* Remove everything tagged as replyroute's and restore saved sysctls (the plan against nothing). */
int engine_cleanup(struct rr_engine *e);

/*
 * For --status: observe everything, compute the desired state and the plan
 * against what is there, and change nothing. view points into the engine
 * (valid until its next call); clear with engine_inspection_clear().
 */
struct rr_inspection {
	struct rr_desired desired;
	struct rr_plan plan;
	const struct rr_view *view;
	bool nft_present;
};
int engine_inspect(struct rr_engine *e, struct rr_inspection *ret);
void engine_inspection_clear(struct rr_inspection *in);

/*
 * What the daemon publishes (statefile.h): each interface's state, table,
 * mark and last change, the removals of our objects by someone else, and
 * whether the nft table is ours; s->ifaces and s->removals are allocated
 * here (statefile_clear()), the daemon's own fields are left alone.
 */
int engine_state(const struct rr_engine *e, struct statefile *s);

/* Per-interface summary for STATUS=, valid after a reconcile. */
const char *engine_status(struct rr_engine *e);
/* The table of configured interface i (0: not allocated yet). */
uint32_t engine_table(const struct rr_engine *e, size_t i);

/*
 * One of ours removed at another process's request (who: for the log). It is
 * re-added, but counted per object: from the third removal in a row (none
 * more than REMOVAL_QUIET_USEC apart) the re-add waits, doubling from 100 ms
 * to 30 s, and STATUS names the conflict.
 */
void engine_note_removal(struct rr_engine *e, const struct rr_removal *rm, const char *who);
/* CLOCK_MONOTONIC usec when a held-back re-add is due (0: nothing held). */
uint64_t engine_hold_until(const struct rr_engine *e);

/* Whether a route change in this table can matter (main, ours, or not yet known). */
bool engine_table_relevant(struct rr_engine *e, uint32_t table);
/* May a change of this link's addresses, or of main's routes through it, matter. */
bool engine_link_relevant(struct rr_engine *e, int ifindex);
/* nftables transactions of ours so far, to recognise their NEWGEN notifications. */
uint64_t engine_nft_commits(struct rr_engine *e);
/* The daemon's table is owned by its netlink socket from now on (nft.h: nft_own). */
void engine_nft_own(struct rr_engine *e);
/* Whether it is (false: --once, or a kernel without `flags owner`). */
bool engine_nft_owned(struct rr_engine *e);
/* Netlink port id of the command socket, to recognise our own notifications. */
uint32_t engine_nl_port(struct rr_engine *e);
