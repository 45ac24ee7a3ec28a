/* SPDX-License-Identifier: MIT */
#pragma once

/* The rtnetlink back end (libnl-route-3): dump the kernel into a view, apply changes. */

#include "view.h"

struct rr_kroute;

int kr_open(struct rr_kroute **ret);
void kr_close(struct rr_kroute *n);
/* Port id of the command socket: notifications carrying it are our own echoes. */
uint32_t kr_port(struct rr_kroute *n);

enum {
	KR_DUMP_LINKS = 1 << 0,
	KR_DUMP_ADDRS = 1 << 1,
	KR_DUMP_ROUTES = 1 << 2, /* all tables */
	KR_DUMP_RULES = 1 << 3,
	KR_DUMP_ALL = (1 << 4) - 1,
};

/* Read the given parts of the kernel state into v, replacing what v had of them. */
int kr_dump(struct rr_kroute *n, struct rr_view *v, unsigned parts);

/* Negative errno; adding what exists and deleting what is gone return 0. */
int kr_rule_add(struct rr_kroute *n, const struct rr_rule *r);
int kr_rule_del(struct rr_kroute *n, const struct rr_rule *r);
int kr_route_add(struct rr_kroute *n, const struct rr_route *r, bool replace);
int kr_route_del(struct rr_kroute *n, const struct rr_route *r);

/* libnl error code to errno. */
int kr_errno(int nlerr);
