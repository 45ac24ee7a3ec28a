/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The marking rules: one nftables table, `inet replyroute`, rendered from the
 * config alone (it matches interfaces by name, so it never changes when a
 * link comes, goes or renumbers) and always replaced in one transaction.
 */

#include <stdint.h>

#include "config.h"

#define RULESET_TABLE "replyroute"

/* The table's text, or *ret = NULL when nothing is configured. */
int ruleset_render(const struct rr_config *c, char **ret);

/*
 * What was installed, kept in a file so that another process (a restart, a
 * second --once) knows it too: hashes of the text and of the kernel's listing
 * right after, and the (interface, mark) pairs, so that a config change can
 * be applied as a delta that leaves the other interfaces' objects alone.
 */
struct ruleset_entry {
	char name[IFNAMSIZ];
	uint32_t mark;
};

struct ruleset_state {
	uint64_t text_hash, listing_hash;
	uint32_t mask;
	struct ruleset_entry *entries;
	size_t n_entries;
};

int ruleset_state_read(const char *path, struct ruleset_state *ret);
int ruleset_state_write(const char *path, const struct ruleset_state *s);
int ruleset_state_from_config(const struct rr_config *c, struct ruleset_state *ret);
void ruleset_state_clear(struct ruleset_state *s);
uint64_t ruleset_hash(const char *s);

/*
 * The commands that turn the table installed for `old` into the one for c,
 * touching only the interfaces that differ: *ret = NULL when there is
 * nothing to do, -EINVAL when a delta cannot do it (another mask).
 */
int ruleset_render_delta(const struct ruleset_state *old, const struct rr_config *c, char **ret);

struct rr_ruleset;
int ruleset_open(struct rr_ruleset **ret);
void ruleset_close(struct rr_ruleset *n);

/* Replace the table with text (NULL: delete it) in one transaction. */
int ruleset_replace(struct rr_ruleset *n, const char *text);
/* How many transactions of ours changed the ruleset (each ends with a NEWGEN). */
uint64_t ruleset_commits(const struct rr_ruleset *n);
/* Run nft commands (e.g. a delta) as one transaction. */
int ruleset_apply(struct rr_ruleset *n, const char *commands);
/* The kernel's listing of the table; -ENOENT when there is none. */
int ruleset_list(struct rr_ruleset *n, char **ret);
/* libnftables' message for the last failure ("" if none). */
const char *ruleset_error(struct rr_ruleset *n);
