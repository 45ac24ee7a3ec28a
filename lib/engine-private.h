/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The engine's state, shared by its three files: engine.c (observe, compute,
 * plan: the reconcile itself), apply.c (a plan's changes, in order, through
 * the back end) and conflict.c (objects of ours that someone else removes or
 * shadows). Nothing outside those includes this.
 */

#include <time.h>

#include "engine.h"
#include "expand.h"
#include "pickup.h"
#include "plan.h"
#include "statefile.h"
#include "store.h"

#define REMOVAL_QUIET_USEC (60 * 1000000ULL)
#define REMOVAL_HOLD_MIN_USEC (100 * 1000ULL)
#define REMOVAL_HOLD_MAX_USEC (30 * 1000000ULL)

/* An object of ours that someone else keeps removing. */
struct removal {
	struct rr_removal what;
	unsigned count;
	unsigned total;         /* every removal since the engine started, for --status */
	uint64_t last, hold_until;
	uint64_t last_realtime; /* the last one's wall-clock time (usec), for --status */
	char who[64];
};

/* An interface's STATUS clause and since when it holds (engine_track), for --status. */
struct iface_track {
	char name[IFNAMSIZ];
	enum rr_iface_state state;
	uint32_t table, mark;
	char clause[STATEFILE_TEXT];
	char was[STATEFILE_TEXT];
	uint64_t since; /* CLOCK_REALTIME usec */
};

struct rr_engine {
	struct rr_config *config; /* immutable; NULL: nothing configured; base's expansion with patterns */
	struct rr_config *base;   /* as loaded */
	struct rr_alloc alloc;    /* what the names a pattern matched got (expand.h) */
	bool alloc_loaded;
	bool alloc_warned;
	bool expand_pending;      /* links read or config set since the last expansion */
	uint32_t *tables;         /* per configured interface: configured or allocated (0: not yet) */
	bool all_allocated;       /* no 0 in tables */
	uint32_t *in_use;         /* tables replyroute may touch, sorted (engine_tables_in_use) */
	size_t n_in_use;
	struct rr_backend be;
	char *statedir;
	unsigned pending;         /* RR_DIRTY_*: read again and apply before it is clear */
	bool view_valid;
	struct rr_view view;
	uint32_t *tracked;        /* ifindexes of the links a section takes (a uset.h set) */
	size_t n_tracked;
	struct rr_nft_observed nft;
	struct ruleset_state nft_record; /* what we installed last; mask 0: none */
	struct pickup_set pickup; /* what the address maps hold (pickup.h) */
	struct rr_saved_sysctl *saved;
	size_t n_saved;
	struct rr_sysctl_observed *sysctls;
	size_t n_sysctls;
	struct rr_sticky *sticky; /* sources chosen by the last reconcile */
	size_t n_sticky;
	char status[4096];
	char conflicts[1024]; /* foreign routes holding our keys, as last reported */
	struct removal *removals;
	size_t n_removals;
	struct iface_track *track;
	size_t n_track;
};

static inline uint64_t engine_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

size_t engine_n_ifaces(const struct rr_engine *e);
const char *engine_nft_error(struct rr_engine *e, int r);

/* apply.c: apply p through be; commit: keep what was done (not --dry-run). */
int engine_apply(struct rr_engine *e, const struct rr_backend *be, const struct rr_desired *d,
		 const struct rr_plan *p, bool commit);

static inline uint64_t engine_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* track.c: remember each interface's clause of d, and when it last changed. */
void engine_track(struct rr_engine *e, const struct rr_desired *d);

/* conflict.c; describe: "rule …" or "route …" as in the log. */
void removal_describe(const struct rr_engine *e, const struct removal *m, char *buf, size_t len);
void engine_hold_back(struct rr_engine *e, struct rr_plan *p);
void engine_conflicts(struct rr_engine *e, const struct rr_plan *p);
