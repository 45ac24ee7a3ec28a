/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The RPDB as the kernel walks it, in plain structs: every selector and
 * action of a rule (not only what replyroute installs), and a pure walk of a
 * packet through the rules and the tables of a view. Used by --explain to
 * name the rule behind the kernel's answer, and by --audit.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "view.h"

struct rr_xrule {
	int family;
	uint32_t priority;
	uint8_t action; /* FR_ACT_* */
	uint32_t table;
	uint32_t goto_target; /* FR_ACT_GOTO: the priority it jumps to */
	uint32_t fwmark, fwmask; /* mask 0: no mark match */
	struct rr_addr src, dst;
	uint8_t src_len, dst_len;
	char iif[IFNAMSIZ], oif[IFNAMSIZ]; /* "": any */
	uint8_t ipproto;
	uint8_t tos;                 /* IPv4 TOS / DSCP; 0: any */
	uint16_t sport[2], dport[2]; /* ranges; 0-0: any */
	bool uid_set;                /* a uid range: uid[0]..uid[1] */
	uint32_t uid[2];
	bool l3mdev, invert;
	int suppress_prefixlen; /* -1: none */
	uint8_t protocol;
};

/*
 * A packet as a route lookup sees it; iif "" is a locally generated packet
 * (the kernel: lo), sent by root as `ip route get` asks it (uid 0); an
 * arriving packet has no uid, and TOS 0.
 */
struct rr_packet {
	int family;
	struct rr_addr src, dst;
	char iif[IFNAMSIZ];
	uint32_t mark;
	uint8_t ipproto;
	uint16_t sport, dport;
};

/* Why the walk stopped at a rule, or went on. */
enum rw_outcome {
	RW_NO_ROUTE,  /* the table has no route for dst: next rule */
	RW_SUPPRESSED, /* suppress_prefixlength: next rule */
	RW_THROW,     /* a throw route: next rule */
	RW_ROUTE,     /* a route: done */
	RW_ACTION,    /* blackhole, unreachable, prohibit: done */
	RW_GOTO,      /* jumped */
	RW_NOP,       /* nop: next rule */
	RW_SKIPPED,   /* matched, but a selector the walk cannot judge (l3mdev): next rule */
};

#define RW_MAX_STEPS 64

struct rw_step {
	size_t rule;      /* index into the rules */
	enum rw_outcome outcome;
	ssize_t route;    /* index into the view's routes for RW_ROUTE/RW_THROW/RW_SUPPRESSED, else -1 */
};

struct rw_result {
	struct rw_step steps[RW_MAX_STEPS]; /* the rules whose selectors matched, in order */
	size_t n_steps;
	bool done;        /* the last step decided (RW_ROUTE or RW_ACTION) */
	bool truncated;   /* more than RW_MAX_STEPS matched, or a goto loop */
};

/* The rule's selectors match the packet (l3mdev never does: the walk knows no VRFs). */
bool rw_rule_matches(const struct rr_xrule *r, const struct rr_packet *p);
/* The longest-prefix route for dst in table (lowest metric among equals); -1: none. */
ssize_t rw_table_lookup(const struct rr_view *v, int family, uint32_t table,
			const struct rr_addr *dst);
/* Walk rules (in the kernel's order) for p; routes of every table in v. */
void rw_walk(const struct rr_xrule *rules, size_t n, const struct rr_view *v,
	     const struct rr_packet *p, struct rw_result *ret);
/* The table the walk ended in (0: none: an action, or nothing matched). */
uint32_t rw_table(const struct rr_xrule *rules, const struct rw_result *res);

/* `ip rule`-like text: "1000: from all fwmark 0x1/0xff lookup 100 proto 205". */
void rw_rule_format(const struct rr_xrule *r, char *buf, size_t len);
/* A table as ip prints it: "main", "local", "default" or the number. */
const char *rw_table_name(uint32_t table, char *buf, size_t len);
