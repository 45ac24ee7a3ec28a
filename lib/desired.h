/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * desired: a pure function of (config, observed view) -> the rules, routes
 * and sysctls of DESIGN §1; plan: a pure diff of desired against what the
 * view shows as replyroute's (tagged with proto).
 */

#include "config.h"
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
	enum rr_iface_state state;
	struct rr_addr src[2]; /* [0] IPv4, [1] IPv6; family 0: not in use */
	struct rr_addr gw[2];  /* family 0: none */
	bool p2p[2];
};

struct rr_desired {
	struct rr_view want; /* rules and routes only */
	char (*sysctls)[IFNAMSIZ]; /* interfaces that get src_valid_mark=1 */
	size_t n_sysctls;
	struct rr_iface_status *ifaces; /* one per configured interface, config order */
	size_t n_ifaces;
};

/*
 * Give every interface with Table= omitted a table: the one replyroute's own
 * rule for its mark already looks up (stable across restarts), else the
 * lowest number from RR_AUTO_TABLE_BASE that no rt_tables name, no other
 * interface, and no rule or route in the kernel uses. Returns how many.
 */
int desired_assign_tables(struct rr_config *c, const struct rr_view *v, uint8_t proto);

/*
 * The sources chosen last time, by interface name: one that is still usable
 * stays chosen, so that adding an address never moves existing replies.
 */
struct rr_sticky {
	char name[IFNAMSIZ];
	struct rr_addr src[2];
};

int desired_compute(const struct rr_config *c, const struct rr_view *v, uint8_t proto,
		    const struct rr_sticky *sticky, size_t n_sticky, struct rr_desired *ret);
void desired_clear(struct rr_desired *d);

/* "eth1: 203.0.113.2 via 203.0.113.1, table 100; eth2: waiting for link" */
void desired_status(const struct rr_desired *d, char *buf, size_t len);

struct rr_plan {
	struct rr_view add, del;  /* rules and routes only */
	bool *routes_replace;     /* per add.routes[i]: one of ours with that key is there */
};

/*
 * Compare desired with the view. Only objects tagged with proto are ever
 * deleted; routes only in tables of `tables` (the configured ones and those
 * replyroute's own rules point at).
 */
int plan_compute(const struct rr_desired *d, const struct rr_view *v, uint8_t proto,
		 const uint32_t *tables, size_t n_tables, struct rr_plan *ret);
void plan_clear(struct rr_plan *p);
size_t plan_size(const struct rr_plan *p);

/* Tables replyroute may touch: configured ones plus those its rules in v point at. */
int plan_tables(const struct rr_config *c, const struct rr_view *v, uint8_t proto,
		uint32_t **ret, size_t *ret_n);
