/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "expand.h"
#include "explain.h"
#include "inspect.h"
#include "nftscan.h"

/* The interface that holds the address the client connects to. */
static const char *ex_iif_of(const struct rr_view *v, const struct rr_addr *to)
{
	for (size_t i = 0; i < v->n_addrs; i++)
		if (rr_addr_eq(&v->addrs[i].local, to)) {
			const struct rr_link *l = view_link_by_index(v, v->addrs[i].ifindex);

			return l ? l->name : NULL;
		}
	return NULL;
}

/* The interface as configured; an automatic table is the one replyroute's rule looks up. */
static void ex_iface(const struct rr_config *c, const struct inspect *k, const char *name,
		     struct explain_iface *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; c && i < c->n_ifaces; i++) {
		const struct rr_iface_conf *ic = &c->ifaces[i];

		if (strcmp(ic->name, name))
			continue;
		ret->tracked = true;
		ret->mark = ic->mark;
		ret->mask = c->mask;
		ret->priority = ic->priority;
		ret->table = inspect_iface_table(k, c, ic);
		ret->marking = nfts_marks(&k->nft, name);
	}
}

int explain_run(const struct rr_config *c, struct explain_flow *flow, bool json, FILE *out,
		char *err, size_t errlen)
{
	struct explain_input in = {.flow = *flow};
	struct rr_config *x = NULL;
	struct inspect k;
	struct fq *q = NULL;
	const char *iif;
	int r;

	if ((r = inspect_read(&k, INSPECT_NFT, NULL, 0)) < 0) {
		snprintf(err, errlen, "cannot read the kernel state: %s", strerror(-r));
		return r;
	}
	if (!in.flow.iif[0]) {
		if (!(iif = ex_iif_of(&k.view, &in.flow.to))) {
			snprintf(err, errlen, "no interface holds the --to address: give --iif");
			inspect_clear(&k);
			return -EINVAL;
		}
		snprintf(in.flow.iif, sizeof(in.flow.iif), "%s", iif);
	}
	/* A pattern's interfaces, as the daemon tracks them. */
	if ((r = expand_config_stored(c, &k.view, &x)) < 0) {
		snprintf(err, errlen, "expanding interface patterns: %s", strerror(-r));
		inspect_clear(&k);
		return r;
	}
	ex_iface(x ? x : c, &k, in.flow.iif, &in.iface);
	config_free(x);
	in.rules = k.rules;
	in.n_rules = k.n_rules;
	in.view = &k.view;
	if ((r = fq_open(&q)) < 0) {
		snprintf(err, errlen, "netlink: %s", strerror(-r));
		inspect_clear(&k);
		return r;
	}
	for (int i = 0; i < EXQ_N && r >= 0; i++) {
		if (!explain_question(&in, (enum explain_q)i, &in.q[i]))
			continue;
		in.asked[i] = true;
		r = fq_lookup(q, &in.q[i]);
	}
	if (r < 0)
		snprintf(err, errlen, "route lookup: %s", strerror(-r));
	else
		r = explain_print(&in, json, out);
	fq_close(q);
	inspect_clear(&k);
	return r;
}
