/* SPDX-License-Identifier: MIT */
#pragma once

/* The rtnetlink back end (libnl-route-3): dump the kernel into a view, apply changes. */

#include <linux/netlink.h>
#include <stdint.h>

#include "view.h"
#include "nlop.h"

struct rr_kroute;

int kr_open(struct rr_kroute **ret);
void kr_close(struct rr_kroute *n);
/* Port id of the command socket: notifications carrying it are our own echoes. */
uint32_t kr_port(struct rr_kroute *n);

/*
 * Read the given RR_PART_* parts of the kernel state into v, replacing what v
 * had of them; routes only of the given tables (NULL: all tables).
 */
int kr_dump(struct rr_kroute *n, struct rr_view *v, unsigned parts, const uint32_t *tables,
	    size_t n_tables);

/* Negative errno, the kernel's own: -EEXIST, -ENOENT/-ESRCH are left to the caller. */
/* Many changes in order, acknowledged together: each op's result set. */
int kr_batch(struct rr_kroute *n, struct rr_nl_op *ops, size_t count);
int kr_rule_add(struct rr_kroute *n, const struct rr_rule *r);
int kr_rule_del(struct rr_kroute *n, const struct rr_rule *r);
int kr_route_add(struct rr_kroute *n, const struct rr_route *r, bool replace);
int kr_route_del(struct rr_kroute *n, const struct rr_route *r);

/*
 * The fwmark match of an RTM_NEWRULE message, from its raw attributes:
 * libnl's getters return all ones both for "no mark" and for a real
 * 0xffffffff/0xffffffff, so such a rule of ours would look like another.
 * No FRA_FWMARK and no FRA_FWMASK: 0/0, no mark match.
 */
void kr_rule_mark(struct nlmsghdr *h, uint32_t *mark, uint32_t *mask);

/* An IPv6 route's router preference (RTA_PREF) and seconds left (RTA_CACHEINFO). */
void kr_route_extra(struct nlmsghdr *h, uint8_t *pref, uint32_t *expires);

/* libnl error code to errno. */
int kr_errno(int nlerr);
