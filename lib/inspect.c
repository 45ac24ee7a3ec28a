/* SPDX-License-Identifier: MIT */
#include "inspect.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <stdlib.h>
#include <string.h>

#include "fibquery.h"
#include "kroute.h"
#include "rr-build.h"

/* The tables the rules look up, and extra ones: the only routes a lookup can meet. */
static int inspect_tables(const struct inspect *k, const uint32_t *extra, size_t n_extra,
			  uint32_t **ret, size_t *n)
{
	uint32_t *t = malloc((k->n_rules + n_extra + 1) * sizeof(*t));

	*n = 0;
	if (!(*ret = t))
		return -ENOMEM;
	for (size_t i = 0; i < k->n_rules + n_extra; i++) {
		uint32_t x = i < k->n_rules ? (k->rules[i].action == FR_ACT_TO_TBL ? k->rules[i].table : 0) :
					      extra[i - k->n_rules];
		bool seen = x == 0;

		for (size_t j = 0; j < *n && !seen; j++)
			seen = t[j] == x;
		if (!seen)
			t[(*n)++] = x;
	}
	return 0;
}

int inspect_read(struct inspect *k, unsigned flags, const uint32_t *tables, size_t n_tables)
{
	struct rr_kroute *kr = NULL;
	struct fq *q = NULL;
	uint32_t *t = NULL;
	size_t n_t = 0;
	char *json = NULL;
	int r;

	memset(k, 0, sizeof(*k));
	if ((r = fq_open(&q)) < 0)
		return r;
	r = fq_rules(q, &k->rules, &k->n_rules);
	fq_close(q);
	if (r >= 0 && (r = inspect_tables(k, tables, n_tables, &t, &n_t)) >= 0 &&
	    (r = kr_open(&kr)) >= 0) {
		r = kr_dump(kr, &k->view, RR_PART_LINKS | RR_PART_ADDRS, NULL, 0);
		if (r >= 0)
			r = kr_dump(kr, &k->view, RR_PART_ROUTES, t, n_t);
		kr_close(kr);
	}
	free(t);
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
