/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

/*
 * The marking rules: one nftables table, `inet replyroute`, rendered from the
 * config alone (it matches interfaces by name, so it never changes when a
 * link comes, goes or renumbers). Pure text; nft.h runs it.
 */

#include <stdint.h>

#include "config.h"

#define RULESET_TABLE "replyroute"
#define RULESET_DELETE "delete table inet " RULESET_TABLE "\n"
/* How ruleset_replace_commands() begins: declared first, so the delete is valid either way. */
#define RULESET_REPLACE_HEAD "table inet " RULESET_TABLE "\n" RULESET_DELETE
/*
 * After iptables' mangle chains (-150), whatever the load order: a whole-mark
 * writer there (MARK --set-mark) cannot overwrite the bits we set after it,
 * and our bits are what the re-route and the RPDB see.
 */
#define RULESET_PRIORITY "mangle + 1"
/* Local address -> jump ct_M, filled by the engine from the view (pickup.h). */
#define RULESET_ADDR_MAP4 "addr_mark4"
#define RULESET_ADDR_MAP6 "addr_mark6"

/* The table's text, or *ret = NULL when nothing is configured. */
int ruleset_render(const struct rr_config *c, char **ret);

/*
 * What a table holds, beyond its text: the (interface, mark) pairs and the
 * mask, so that a config change can be applied as a delta that leaves the
 * other interfaces' objects alone. The store keeps the one installed last,
 * with hashes of its text and of the kernel's listing right after.
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

int ruleset_state_from_config(const struct rr_config *c, struct ruleset_state *ret);
void ruleset_state_clear(struct ruleset_state *s);
uint64_t ruleset_hash(const char *s);

/*
 * The commands that turn the table installed for `old` into the one for c,
 * touching only the interfaces that differ: *ret = NULL when there is
 * nothing to do, -EINVAL when a delta cannot do it (another mask).
 */
int ruleset_render_delta(const struct ruleset_state *old, const struct rr_config *c, char **ret);
/* Close an open_memstream of commands: *ret is its text, or NULL when it wrote none. */
int ruleset_commands_close(FILE *f, char **buf, size_t *len, char **ret);

/* The table replaced whole by text (NULL: deleted) in one transaction. */
int ruleset_replace_commands(const char *text, char **ret);
