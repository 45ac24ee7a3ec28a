/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The observed kernel state, in plain structs: what the netlink back end
 * dumps, what the pure functions (desired, diff) read, and what unit tests
 * build by hand.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* <linux/if.h>, which clashes with <net/if.h> */
#endif

struct rr_link {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags; /* IFF_* including IFF_LOWER_UP */
};

struct rr_ifaddr {
	int ifindex;
	struct rr_addr local;
	struct rr_addr peer; /* family 0 unless a point-to-point peer was given */
	uint8_t prefixlen;
	uint8_t scope;  /* RT_SCOPE_* */
	uint32_t flags; /* IFA_F_* */
};

/* A route: everything replyroute compares or installs. */
struct rr_route {
	int family;
	uint32_t table;
	struct rr_addr dst; /* family set even for a default route */
	uint8_t dst_len;
	uint32_t metric;
	uint8_t protocol;
	uint8_t scope;
	uint8_t type;        /* RTN_* */
	int oif;             /* 0: none */
	struct rr_addr gw;   /* family 0: none */
	struct rr_addr src;  /* preferred source; family 0: none */
	bool onlink;
	uint8_t pref;        /* IPv6 router preference, RTA_PREF (0: medium, the default) */
	uint32_t expires;    /* seconds left; 0: does not expire */
};

struct rr_rule {
	int family;
	uint32_t priority;
	uint32_t table;
	uint32_t fwmark, fwmask;
	struct rr_addr src; /* family 0: any */
	uint8_t src_len;
	uint8_t protocol;
	uint8_t action;          /* FR_ACT_* */
	char iifname[IFNAMSIZ];  /* "": any input interface */
	uint32_t target;         /* FR_ACT_GOTO: the priority it jumps to */
	bool other;              /* carries selectors replyroute never sets */
};

/* The parts of a view, each read whole by one dump. */
enum {
	RR_PART_LINKS = 1 << 0,
	RR_PART_ADDRS = 1 << 1,
	RR_PART_ROUTES = 1 << 2,
	RR_PART_RULES = 1 << 3,
	RR_PART_ALL = (1 << 4) - 1,
};

struct rr_view {
	struct rr_link *links;
	size_t n_links;
	struct rr_ifaddr *addrs;
	size_t n_addrs;
	struct rr_route *routes;
	size_t n_routes;
	struct rr_rule *rules;
	size_t n_rules;
};

void view_clear(struct rr_view *v);
const struct rr_link *view_link_by_name(const struct rr_view *v, const char *name);
const struct rr_link *view_link_by_index(const struct rr_view *v, int ifindex);

/* Append helpers (used by back ends and tests); return NULL on ENOMEM. */
struct rr_link *view_add_link(struct rr_view *v);
struct rr_ifaddr *view_add_addr(struct rr_view *v);
struct rr_route *view_add_route(struct rr_view *v);
struct rr_rule *view_add_rule(struct rr_view *v);

bool route_same_key(const struct rr_route *a, const struct rr_route *b);
bool route_same(const struct rr_route *a, const struct rr_route *b);
/* What a removal notification names a rule by: selectors, priority and table. */
bool rule_same_key(const struct rr_rule *a, const struct rr_rule *b);
bool rule_same(const struct rr_rule *a, const struct rr_rule *b);
/* Total orders: 0 exactly when route_same_key / rule_same. */
int route_key_cmp(const struct rr_route *a, const struct rr_route *b);
int rule_cmp(const struct rr_rule *a, const struct rr_rule *b);
/* Remaining lifetimes as equal as two readings a moment apart can be. */
bool route_expires_close(uint32_t a, uint32_t b);

/* "ip route"-like and "ip rule"-like text, for logs and --dry-run. */
void route_format(const struct rr_route *r, const struct rr_view *v, char *buf, size_t len);
void rule_format(const struct rr_rule *r, char *buf, size_t len);
