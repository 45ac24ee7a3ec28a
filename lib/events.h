/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Which parts of the kernel view a netlink notification makes dirty. Pure:
 * it reads the message and the callbacks below, nothing else, so that a test
 * can feed it crafted messages. Without table_relevant every table is
 * relevant; without own_commits no commit of ours is ever pending.
 */

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "view.h"

/* One of our rules or routes removed by someone else (a request, not the kernel itself). */
struct rr_removal {
	bool rule;            /* else a route */
	struct rr_rule r;     /* the key fields of the rule ... */
	struct rr_route rt;   /* ... or of the route */
	uint32_t port;        /* netlink port of the process that asked */
};

/* What a notification makes dirty: the RR_DIRTY_* bits of engine.h (links, addrs, routes, rules, nft). */
struct rr_events {
	/* Set by the owner before use. */
	uint32_t own_port;        /* netlink port id of our command socket: its echoes tell nothing new */
	uint32_t own_pid;         /* getpid() */
	const char *own_comm;     /* program_invocation_short_name, for commits inside a PID namespace */
	bool (*table_relevant)(uint32_t table, void *userdata); /* may a route change in this table matter */
	/* may an address of this link, or a route of main through it, matter (NULL: all may) */
	bool (*link_relevant)(int ifindex, void *userdata);
	uint64_t (*own_commits)(void *userdata);                /* nftables transactions of ours so far */
	void *userdata;
	uint8_t own_proto;        /* replyroute's routing protocol number */
	/* Called for each removal of one of ours (own_proto) asked by another process. */
	void (*removed)(const struct rr_removal *rm, void *userdata);
	/* Private state between messages. */
	uint64_t commits_seen;
	bool batch_ours_table;
};

/* The RR_DIRTY_* bits one rtnetlink notification sets (0: ignore it). len is the bytes available at h. */
unsigned events_rtnl(struct rr_events *ev, const struct nlmsghdr *h, size_t len);
/* The same for one nfnetlink (NFNLGRP_NFTABLES) notification. */
unsigned events_nfnl(struct rr_events *ev, const struct nlmsghdr *h, size_t len);
