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
 */

#include "config.h"
#include "view.h"

/*
 * The commands that make both maps hold exactly the addresses of c's
 * interfaces in v, as one transaction (flush, then add); *ret = NULL when
 * nothing is configured (there is no table).
 */
int pickup_render(const struct rr_config *c, const struct rr_view *v, char **ret);
