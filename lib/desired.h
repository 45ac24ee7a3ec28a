/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * desired: a pure function of (config, allocated tables, observed view) ->
 * everything of DESIGN §1: the rules, routes, the nft table's content and the
 * sysctls. plan.h compares it with what is there.
 */

#include "config.h"
#include "ruleset.h"
#include "view.h"

enum rr_iface_state {
	RR_IFACE_ABSENT,
	RR_IFACE_DOWN,
	RR_IFACE_NO_CARRIER,
	RR_IFACE_NO_ADDRESS,
	RR_IFACE_ACTIVE,
};

struct rr_iface_status {
	const struct rr_iface_conf *conf;
	uint32_t table;
	enum rr_iface_state state;
	struct rr_addr src[2]; /* [0] IPv4, [1] IPv6; family 0: not in use */
	struct rr_addr gw[2];  /* family 0: none */
	bool p2p[2];
};

struct rr_desired {
	const struct rr_config *config;
	struct rr_view want; /* rules and routes only */
	char *nft_text;            /* the whole table; NULL: no table */
	struct ruleset_state nft;  /* its entries and mask, text_hash of nft_text */
	char (*sysctls)[IFNAMSIZ]; /* interfaces that get src_valid_mark=1 */
	size_t n_sysctls;
	struct rr_iface_status *ifaces; /* one per configured interface, config order */
	size_t n_ifaces;
};

/*
 * tables[i] is interface i's table: Table= where configured; for one with
 * Table= omitted and tables[i] == 0, the one replyroute's own rule for its
 * mark already looks up (stable across restarts), else the lowest number from
 * RR_AUTO_TABLE_BASE that no rt_tables name, no other interface, and no rule
 * or route in the kernel uses. Returns how many were allocated now, or
 * -ENOMEM (tables then holds the configured ones and any from before).
 */
int desired_assign_tables(const struct rr_config *c, const struct rr_view *v, uint8_t proto,
			  uint32_t *tables);

/*
 * The sources chosen last time, by interface name: one that is still usable
 * stays chosen, so that adding an address never moves existing replies.
 */
struct rr_sticky {
	char name[IFNAMSIZ];
	struct rr_addr src[2];
};

/* tables: per interface as above (NULL: the configured ones). c NULL: nothing wanted. */
int desired_compute(const struct rr_config *c, const uint32_t *tables, const struct rr_view *v,
		    uint8_t proto, const struct rr_sticky *sticky, size_t n_sticky,
		    struct rr_desired *ret);
void desired_clear(struct rr_desired *d);

/* "eth1: 203.0.113.2 via 203.0.113.1, table 100; eth2: waiting for link" */
void desired_status(const struct rr_desired *d, char *buf, size_t len);
