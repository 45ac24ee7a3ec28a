/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * `replyrouted --status`: what the operator needs to see, gathered beside a
 * running daemon without disturbing it (no lock, no write) or without one.
 * Three sources: the config, the daemon's state file (statefile.h) and the
 * kernel, read now: the desired state and the plan against what is there
 * (engine_inspect()), the effective rp_filter and src_valid_mark, and the
 * counters of replyroute's nft chains. The reads that are not the engine's go
 * through a probe, so that a test can serve fixed values.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "engine.h"
#include "statefile.h"

struct status_probe {
	/* The daemon's state file (statefile_read()). */
	int (*state)(void *data, struct statefile *ret);
	/* The pid holding the instance lock (0: none), looked up without taking it. */
	int (*lock_holder)(void *data);
	/* net.ipv4.conf.IFNAME.KEY (IFNAME may be "all"). */
	int (*sysctl)(void *data, const char *ifname, const char *key, int *ret);
	/* `nft list table inet replyroute` with the counters' values (-ENOENT: none). */
	int (*counters)(void *data, char **ret);
	/* CLOCK_REALTIME, microseconds. */
	uint64_t (*now)(void *data);
	void *data;
};

/* The real thing for the runtime directory dir; status_probe_close() frees it. */
int status_probe_kernel(const char *dir, struct status_probe *ret);
void status_probe_close(struct status_probe *p);

struct status_family {
	struct rr_addr src, gw; /* src.family 0: the family is not in use */
	bool p2p;
};

/* A sysctl the kernel takes the maximum of: net.ipv4.conf.{all,IF}.KEY; -1: unknown. */
struct status_sysctl {
	int effective, all, iface;
};

struct status_iface {
	const struct rr_iface_conf *conf;
	const char *state; /* statefile_state_name(), or "conflict" */
	uint32_t table;
	struct status_family fam[2]; /* IPv4, IPv6 */
	char **diffs;                /* what differs from the desired state now */
	size_t n_diffs;
	struct status_sysctl rp_filter, src_valid_mark;
	bool counted; /* new_conns is known */
	uint64_t new_conns;
	const struct statefile_iface *daemon;      /* NULL: no daemon, or it does not know it */
	const struct statefile_removal **removals; /* of its objects, by someone else */
	size_t n_removals;
};

struct status {
	uint64_t now;
	const char *config_path;
	const struct rr_config *config; /* NULL: the file is not valid; only the daemon is shown */
	/* The daemon: running (pid), its state file (state_error < 0: not read). */
	int pid;
	bool running, stale;
	int state_error;
	bool config_changed; /* the daemon runs another config than the file */
	struct statefile daemon;
	/* The nft table. */
	bool nft_present, nft_in_sync;
	/* Differences that belong to no configured interface (leftovers). */
	char **diffs;
	size_t n_diffs;
	struct status_iface *ifaces;
	size_t n_ifaces;
};

/*
 * Fill st (status_clear() it); e: an engine with c set, which only reads.
 * c NULL (the file at config_path is not valid): the daemon only, no kernel.
 */
int status_gather(struct status *st, const char *config_path, const struct rr_config *c,
		  struct rr_engine *e, const struct status_probe *probe);
void status_clear(struct status *st);
/* All in sync: the kernel holds exactly the desired state. */
bool status_in_sync(const struct status *st);

enum status_format {
	STATUS_HUMAN,
	STATUS_JSON,
	STATUS_PROMETHEUS,
};

/* "human", "json", "prometheus"; -EINVAL otherwise. */
int status_format_parse(const char *s, enum status_format *ret);
void status_print(const struct status *st, enum status_format f, FILE *out);

/*
 * The whole of `replyrouted --status` with e's config (NULL: config_path is
 * not valid) and runtime directory: returns 0 or a negative errno (logged).
 */
int status_run(struct rr_engine *e, const char *config_path, enum status_format f, FILE *out);
