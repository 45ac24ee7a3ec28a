/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The local addresses of the tracked interfaces, for the nft maps
 * addr_mark4/addr_mark6 (address -> jump ct_M). The output chain looks a
 * locally generated packet of an unmarked connection up in them: a reply of
 * a connection from before the daemon started, or the first packet of a TCP
 * connection conntrack picks up mid-stream (after `conntrack -F`), whose
 * source is an address of a tracked interface, gets that interface's mark.
 * An address held by two interfaces is no evidence and is left out; so are
 * link-scope addresses (the same fe80:: is on every link).
 *
 * The elements change one by one, so that a config change touches only the
 * changed interfaces' objects: deletions before the table's own delta (an
 * element jumps to a chain the delta may delete), additions after it (to a
 * chain the delta may add).
 */

#include <stdbool.h>

#include "config.h"
#include "view.h"

struct pickup_elem {
	struct rr_addr addr;
	uint32_t mark;
};

/* What the maps hold; known = false: not known (start, after a failure). */
struct pickup_set {
	struct pickup_elem *elems;
	size_t n;
	bool known;
};

/* The elements c's interfaces in v call for, sorted (by address, then mark). */
int pickup_desired(const struct rr_config *c, const struct rr_view *v, struct pickup_set *ret);
void pickup_set_clear(struct pickup_set *s);
/* Whether s (sorted, as pickup_desired makes it) holds e. */
bool pickup_has(const struct pickup_set *s, const struct pickup_elem *e);

/*
 * The commands that take the maps from old toward new: the deletions (add
 * false), or the additions (add true). When old is not known: a flush, then
 * (add true) all of new. *ret = NULL: nothing to do.
 */
int pickup_render(const struct pickup_set *old, const struct pickup_set *new, bool add,
		  char **ret);
