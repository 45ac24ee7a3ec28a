/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * An index of a view, built once per computation so that looking up a link,
 * an interface's addresses or its routes in main costs a binary search, not a
 * scan of everything: the work per event must not grow with N x state.
 */

#include "view.h"

struct rr_vindex {
	const struct rr_view *v;
	const struct rr_link **by_name;	 /* links sorted by name */
	const struct rr_link **by_index; /* links sorted by ifindex */
	size_t *addrs;	/* indexes into v->addrs, sorted by ifindex, then kernel order */
	size_t *routes; /* indexes of main's routes, sorted by oif, then dump order */
	size_t n_routes;
};

int vindex_build(struct rr_vindex *x, const struct rr_view *v, uint32_t main_table);
void vindex_clear(struct rr_vindex *x);
const struct rr_link *vindex_link_by_name(const struct rr_vindex *x, const char *name);
const struct rr_link *vindex_link_by_index(const struct rr_vindex *x, int ifindex);
/* The range [*first, *first + n) of x->addrs / x->routes for ifindex; returns n. */
size_t vindex_addrs(const struct rr_vindex *x, int ifindex, size_t *first);
size_t vindex_routes(const struct rr_vindex *x, int oif, size_t *first);
