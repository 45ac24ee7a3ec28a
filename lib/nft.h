/* SPDX-License-Identifier: MIT */
#pragma once

/* The nftables half of the kernel back end (libnftables): run commands, list our table. */

#include <stdbool.h>
#include <stdint.h>

struct rr_nft;

int nft_open(struct rr_nft **ret);
void nft_close(struct rr_nft *n);

/*
 * Run nft commands as one transaction; on failure the kernel's errno (-EIO
 * when libnftables' message names none) with nft_error() set.
 */
int nft_apply(struct rr_nft *n, const char *commands);
/* The kernel's listing of inet replyroute, counters left out; -ENOENT when there is none. */
int nft_list(struct rr_nft *n, char **ret);
/* The same with the counters' values (for --status). */
int nft_list_counters(struct rr_nft *n, char **ret);
/*
 * From now on the table is installed with `flags owner`: bound to this
 * context's netlink socket, out of other processes' reach (`flush ruleset`
 * passes it by, their changes get EPERM), gone when the socket closes. Only
 * for a process that stays (the daemon). A kernel that refuses the flag
 * turns it off again: nft_owned() says which.
 */
void nft_own(struct rr_nft *n);
bool nft_owned(const struct rr_nft *n);
/* libnftables' message for the last failure ("" if none). */
const char *nft_error(const struct rr_nft *n);
/* Transactions of ours that changed the ruleset (each ends with a NEWGEN). */
uint64_t nft_commits(const struct rr_nft *n);
