/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Interface patterns: a [Interface] whose Name= is a shell glob (`wan*`,
 * `ens[4-9]`) tracks every link whose name it matches, each with a mark and
 * a table of its own. The engine works on an expanded config: the sections
 * with a plain name as they are, then one section per matching link, in name
 * order. A link matched by two sections belongs to the first (in the order of
 * the file and its drop-ins).
 *
 * What a name got is kept in the state directory (`$STATE_DIRECTORY`,
 * /var/lib/replyroute), file `allocations`, one "NAME MARK TABLE" per line, so
 * that an interface keeps its mark and table across restarts and reboots and
 * while it is away; a name no pattern matches any more is forgotten, and one
 * whose mark another section now uses (or MarkMask= leaves out) gets a new
 * one. Marks are the lowest free inside MarkMask=, tables allocated as for a
 * section without Table= (desired_assign_tables).
 */

#include "config.h"
#include "view.h"

struct rr_alloc_entry {
	char name[IFNAMSIZ];
	uint32_t mark, table; /* table 0: not allocated yet */
};

struct rr_alloc {
	struct rr_alloc_entry *v; /* sorted by name */
	size_t n;
	bool dirty; /* changed since loaded or saved */
};

#define RR_ALLOC_FILE "allocations"

/* $STATE_DIRECTORY (systemd's, when it names one directory), else /var/lib/replyroute. */
const char *alloc_state_dir(void);
/* Missing file: empty. Lines that are not valid are skipped. */
int alloc_load(const char *dir, struct rr_alloc *a);
int alloc_save(const char *dir, struct rr_alloc *a);
void alloc_clear(struct rr_alloc *a);
struct rr_alloc_entry *alloc_find(const struct rr_alloc *a, const char *name);

bool config_has_patterns(const struct rr_config *c);
/*
 * The expanded config: base's plain sections, then one per link of v that a
 * pattern section matches first (with base's settings, the name of the link,
 * its mark from a, allocated there when new). It shares base's strings and
 * must be freed (config_free) before base.
 */
int expand_config(const struct rr_config *base, const struct rr_view *v, struct rr_alloc *a,
		  struct rr_config **ret);
/*
 * For the commands that only look (--audit, --explain): c expanded with the
 * state directory's allocations, nothing written; *ret NULL when c has no
 * pattern or is an expansion already.
 */
int expand_config_stored(const struct rr_config *c, const struct rr_view *v, struct rr_config **ret);
