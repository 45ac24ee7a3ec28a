/* SPDX-License-Identifier: MIT */
#pragma once

/* The nftables half of the kernel back end (libnftables): run commands, list our table. */

#include <stdint.h>

struct rr_nft;

int nft_open(struct rr_nft **ret);
void nft_close(struct rr_nft *n);

/* Run nft commands as one transaction; -EIO with nft_error() set on failure. */
int nft_apply(struct rr_nft *n, const char *commands);
/* The kernel's listing of inet replyroute, counters left out; -ENOENT when there is none. */
int nft_list(struct rr_nft *n, char **ret);
/* The same with the counters' values (for --status). */
int nft_list_counters(struct rr_nft *n, char **ret);
/* libnftables' message for the last failure ("" if none). */
const char *nft_error(const struct rr_nft *n);
/* Transactions of ours that changed the ruleset (each ends with a NEWGEN). */
uint64_t nft_commits(const struct rr_nft *n);
