/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The marking rules: one nftables table, `inet replyroute`, rendered from the
 * config alone (it matches interfaces by name, so it never changes when a
 * link comes, goes or renumbers) and always replaced in one transaction.
 */

#include "config.h"

#define RULESET_TABLE "replyroute"

/* The table's text, or *ret = NULL when nothing is configured. */
int ruleset_render(const struct rr_config *c, char **ret);

struct rr_ruleset;
int ruleset_open(struct rr_ruleset **ret);
void ruleset_close(struct rr_ruleset *n);

/* Replace the table with text (NULL: delete it) in one transaction. */
int ruleset_replace(struct rr_ruleset *n, const char *text);
/* The kernel's listing of the table; -ENOENT when there is none. */
int ruleset_list(struct rr_ruleset *n, char **ret);
/* libnftables' message for the last failure ("" if none). */
const char *ruleset_error(struct rr_ruleset *n);
