/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * plan: a pure function of (desired, observed) -> what to add, replace and
 * remove, for every kind of state: rules, routes, the nft table and the
 * sysctls. The engine applies a plan in one fixed order (engine.c); --dry-run
 * prints it; --cleanup is the plan against an empty desired state.
 */

#include <stdbool.h>
#include <stdint.h>

#include "desired.h"
#include "ruleset.h"
#include "store.h"
#include "view.h"

/* The nft table as last listed (or as left by our own last change). */
struct rr_nft_observed {
	bool present;
	uint64_t listing_hash;
};

/* src_valid_mark of a desired interface, as read. */
struct rr_sysctl_observed {
	char name[IFNAMSIZ];
	int ifindex;
	int value;
	bool drift; /* it was 1 when last seen: someone else reset it */
};

struct rr_observed {
	const struct rr_view *view;
	struct rr_nft_observed nft;
	const struct ruleset_state *nft_record; /* what we installed last (store); NULL: none */
	const struct rr_sysctl_observed *sysctls;
	size_t n_sysctls;
	const struct rr_saved_sysctl *saved; /* values to put back one day (store) */
	size_t n_saved;
	const uint32_t *tables; /* tables replyroute may touch (plan_tables: sorted) */
	size_t n_tables;
};

enum rr_nft_action {
	RR_NFT_KEEP,
	RR_NFT_DELTA,   /* only the interfaces that changed */
	RR_NFT_REPLACE, /* the whole table, atomically */
	RR_NFT_DELETE,
};

struct rr_sysctl_change {
	char name[IFNAMSIZ];
	int ifindex;
	int value;  /* to write */
	bool save;  /* record `found` in the store first: it is the interface's own value */
	int found;
	bool write; /* false: only forget the record (the interface took its value along) */
	bool drift; /* reset by someone else after we set it */
};

struct rr_plan {
	struct rr_view add, del;  /* rules and routes; added routes in a working order */
	bool *routes_replace;     /* per add.routes[i]: one of ours with that key is there */
	enum rr_nft_action nft;
	char *nft_commands;
	struct rr_sysctl_change *sysctl_set; /* before anything else: src_valid_mark=1 */
	size_t n_sysctl_set;
	struct rr_sysctl_change *sysctl_restore; /* after everything else */
	size_t n_sysctl_restore;
	/*
	 * Someone else's routes holding the key of one of ours in our table:
	 * not touched (replyroute never changes what is not its own), reported.
	 */
	struct rr_view conflicts;
};

/*
 * Only objects tagged with proto are ever deleted; routes only in o->tables.
 * Routes without a gateway are added before those with one (a gateway must be
 * reachable when its route is added).
 */
int plan_compute(const struct rr_desired *d, const struct rr_observed *o, uint8_t proto,
		 struct rr_plan *ret);
void plan_clear(struct rr_plan *p);
/* Changes in the plan, all kinds counted. */
size_t plan_size(const struct rr_plan *p);

/*
 * Tables replyroute may touch: `own` (configured or allocated; 0 skipped) plus
 * those its rules in v point at; sorted, each once.
 */
int plan_tables(const uint32_t *own, size_t n_own, const struct rr_view *v, uint8_t proto,
		uint32_t **ret, size_t *ret_n);
/* Whether t is in a list made by plan_tables(). */
bool plan_table_listed(const uint32_t *tables, size_t n, uint32_t t);
