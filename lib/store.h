/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The runtime state directory ($RUNTIME_DIRECTORY, /run/replyroute): what must
 * outlive one process, so that a restart or `--cleanup` from another process
 * knows it too. Two records:
 *  - sysctl/IFINDEX: "VALUE NAME", the src_valid_mark an interface had before
 *    replyroute first set it. Keyed by index, so the value follows the
 *    interface through renames (two tracked names swapped keep theirs).
 *  - nft: the nft table replyroute installed last (ruleset.h).
 * /run is empty after a reboot, so an index is never reused under a record.
 */

#include <net/if.h>
#include <stddef.h>

#include "ruleset.h"

struct rr_saved_sysctl {
	int ifindex;
	char name[IFNAMSIZ]; /* the name when it was saved (a hint; the index decides) */
	int value;
};

/* Every saved value, sorted by index; *ret_n = 0 when none. */
int store_sysctl_load(const char *dir, struct rr_saved_sysctl **ret, size_t *ret_n);
int store_sysctl_save(const char *dir, const struct rr_saved_sysctl *s);
int store_sysctl_forget(const char *dir, int ifindex);

/* -ENOENT when there is none (nothing installed, or by a version without it). */
int store_nft_read(const char *dir, struct ruleset_state *ret);
int store_nft_write(const char *dir, const struct ruleset_state *s);
int store_nft_remove(const char *dir);
