/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * --explain: the kernel's decisions for one flow, with and without the
 * tracked interface's mark, and a verdict. The core is pure: it says which
 * lookups to ask (explain_question), and renders the answers it is given
 * (explain_print); explain-kernel.c asks the kernel. Golden tests feed it
 * answers by hand.
 */

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "fibquery.h"
#include "rulewalk.h"
#include "view.h"

struct explain_flow {
	int family;
	struct rr_addr from, to;  /* the remote client, the host's address it connects to */
	struct rr_addr forward_to; /* family 0: none; else the LAN host a DNAT sends it to */
	char iif[IFNAMSIZ];       /* where it arrives */
	uint8_t ipproto;          /* 0: any */
	uint16_t sport, dport;    /* the client's port, the port it connects to */
};

/* The arriving interface as replyroute knows it. */
struct explain_iface {
	bool tracked;  /* in the config */
	bool marking;  /* replyroute's nft table marks its new connections now */
	uint32_t mark, mask, table, priority; /* table 0: not allocated yet */
};

/* The lookups, in the order they are asked (later ones may depend on earlier answers). */
enum explain_q {
	EXQ_IN,           /* the arriving packet, unmarked (a DNAT: to forward_to) */
	EXQ_IN_MARKED,    /* the same with the mark */
	EXQ_REPLY,        /* the reply, unmarked (a DNAT: arriving from the LAN) */
	EXQ_REPLY_FIB,    /* its matched route */
	EXQ_REPLY_MARKED,
	EXQ_REPLY_MARKED_FIB,
	EXQ_N,
};

struct explain_input {
	struct explain_flow flow;
	struct explain_iface iface;
	struct fq_lookup q[EXQ_N];
	bool asked[EXQ_N];
	const struct rr_xrule *rules; /* the RPDB, the kernel's order */
	size_t n_rules;
	const struct rr_view *view;   /* every table's routes, and the links */
};

/* The mark a packet of this flow carries (0 while replyroute does not mark it). */
uint32_t explain_mark(const struct explain_input *in);
/* The marked twin of an unmarked lookup (EXQ_IN, EXQ_REPLY, EXQ_REPLY_FIB). */
enum explain_q explain_marked(enum explain_q plain);
/* The one of plain and its marked twin that the flow really meets. */
enum explain_q explain_effective(const struct explain_input *in, enum explain_q plain);
/* Whether lookup q is to be asked, and its packet; depends on the answers before q. */
bool explain_question(const struct explain_input *in, enum explain_q q, struct fq_lookup *ret);
/* The `ip route get ...` command that repeats lookup l. */
void explain_command(const struct fq_lookup *l, char *buf, size_t len);

/* A lookup of an arriving packet that source validation (rp_filter) refused. */
bool explain_rejected(const struct fq_lookup *l);

struct explain_verdict {
	bool symmetric;
	char reason[512];
};
void explain_verdict(const struct explain_input *in, struct explain_verdict *ret);

/* The whole explanation, as text or as JSON. */
int explain_print(const struct explain_input *in, bool json, FILE *out);

/*
 * Ask the kernel about flow (explain-kernel.c) and print the explanation; an
 * empty flow->iif is the interface holding flow->to. c may be NULL. On
 * failure a negative errno, and err says why.
 */
int explain_run(const struct rr_config *c, struct explain_flow *flow, bool json, FILE *out,
		char *err, size_t errlen);
