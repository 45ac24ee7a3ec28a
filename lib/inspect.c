/* SPDX-License-Identifier: MIT */
#include "inspect.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <stdlib.h>
#include <string.h>

#include "fibquery.h"
#include "kroute.h"
#include "rr-build.h"

int inspect_read(struct inspect *k, unsigned flags)
{
	struct rr_kroute *kr = NULL;
	struct fq *q = NULL;
	char *json = NULL;
	int r;

	memset(k, 0, sizeof(*k));
	if ((r = kr_open(&kr)) < 0)
		return r;
	r = kr_dump(kr, &k->view, RR_PART_ALL, NULL, 0);
	kr_close(kr);
	if (r >= 0 && (r = fq_open(&q)) >= 0) {
		r = fq_rules(q, &k->rules, &k->n_rules);
		fq_close(q);
	}
	if (r >= 0 && (flags & INSPECT_NFT) && (r = nfts_fetch(&json)) >= 0)
		r = nfts_parse(json, &k->nft);
	free(json);
	if (r < 0)
		inspect_clear(k);
	return r;
}

void inspect_clear(struct inspect *k)
{
	view_clear(&k->view);
	free(k->rules);
	nfts_free(&k->nft);
	memset(k, 0, sizeof(*k));
}

uint32_t inspect_our_table(const struct inspect *k, uint32_t mark, uint32_t mask)
{
	for (size_t i = 0; i < k->n_rules; i++) {
		const struct rr_xrule *r = &k->rules[i];

		if (r->protocol == RR_PROTO && r->action == FR_ACT_TO_TBL && r->fwmark == mark &&
		    r->fwmask == mask && !r->iif[0])
			return r->table;
	}
	return 0;
}

uint32_t inspect_iface_table(const struct inspect *k, const struct rr_config *c,
			     const struct rr_iface_conf *ic)
{
	return ic->table_auto ? inspect_our_table(k, ic->mark, c->mask) : ic->table;
}
