/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A recording back end for engine tests: it serves a hand-built kernel view,
 * changes it the way the kernel would for each call (so a second reconcile
 * sees the first one's work), and writes every change down as an `ip`-like
 * line. A failure can be injected for calls whose line starts with a prefix.
 */

#include <stdbool.h>

#include "backend.h"
#include "view.h"

#define REC_MAX_IFINDEX 64

struct recorder {
	struct rr_view kernel;       /* links, addresses, routes, rules */
	int sysctl[REC_MAX_IFINDEX]; /* src_valid_mark by ifindex */
	bool nft_present;
	char *nft_listing;           /* what `nft list table` prints */
	char *log;                   /* the recorded lines */
	size_t log_len;
	FILE *log_f;
	const char *fail_prefix;     /* calls whose line starts with it fail ... */
	int fail_errno;              /* ... with this ... */
	int fail_count;              /* ... this many times */
	int dump_fail_errno, dump_fail_count;
	size_t dumped_tables;        /* tables asked for in the last route dump (0: all) */
};

void recorder_init(struct recorder *rec);
void recorder_done(struct recorder *rec);
/* A back end serving rec; backend_close() leaves rec alone. */
struct rr_backend recorder_backend(struct recorder *rec);
/* The lines recorded since the last take, and forget them. Caller frees. */
char *recorder_take(struct recorder *rec);

/* Hand-built kernel state. */
void recorder_link(struct recorder *rec, int ifindex, const char *name, unsigned flags);
void recorder_addr(struct recorder *rec, int ifindex, const char *cidr);
void recorder_default(struct recorder *rec, int ifindex, const char *gw);
void recorder_rename(struct recorder *rec, int ifindex, const char *name);
/* Someone else changes the nft table (a different listing). */
void recorder_nft_tamper(struct recorder *rec);
