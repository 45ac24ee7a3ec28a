/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the whole nftables ruleset (iptables-nft's tables included) does that
 * matters to replyroute, read from `nft -j list ruleset` (libnftables' JSON
 * output, parsed with jansson): who writes mark bits, notrack, DNAT,
 * forward chains, and which interfaces replyroute's own table marks.
 * nfts_parse() is pure; nfts_fetch() asks the kernel.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nfts_kind {
	NFTS_MARK_WRITE, /* meta mark set / ct mark set */
	NFTS_XT_MARK,    /* iptables-nft's MARK or CONNMARK target: its values are not in the JSON */
	NFTS_NOTRACK,    /* notrack, or iptables-nft's NOTRACK / CT target */
	NFTS_DNAT,
	NFTS_FORWARD,    /* a rule in a base chain at hook forward */
	NFTS_FIB_NOMARK, /* a reverse path check (fib saddr ...) that leaves the mark out */
};

struct nfts_item {
	enum nfts_kind kind;
	char family[8], table[64], chain[64];
	uint64_t handle;
	bool ct;        /* NFTS_MARK_WRITE: the conntrack mark (else the packet mark) */
	bool whole;     /* NFTS_MARK_WRITE: every bit may change */
	uint32_t bits;  /* NFTS_MARK_WRITE, !whole: the bits that may change */
	char iif[IFNAMSIZ], oif[IFNAMSIZ]; /* the rule matches only this interface ("": any) */
	char what[64];  /* "meta mark set 0x10", "xt MARK", "notrack", ... */
};

struct nfts {
	struct nfts_item *items;
	size_t n_items;
	char (*marked)[IFNAMSIZ]; /* the keys of inet replyroute's map iface_mark */
	size_t n_marked;
	bool ours; /* table inet replyroute exists */
};

/* Parse the JSON text; items of table inet replyroute are left out. 0, -EINVAL or -ENOMEM. */
int nfts_parse(const char *json, struct nfts *ret);
void nfts_free(struct nfts *s);
/* Whether replyroute's table marks the new connections of ifname. */
bool nfts_marks(const struct nfts *s, const char *ifname);

/* `nft -j list ruleset` through libnftables; *ret is malloc'ed. */
int nfts_fetch(char **ret);
