/* SPDX-License-Identifier: MIT */
#include "nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"

struct rr_nft {
	struct nft_ctx *ctx;
	uint64_t commits;
	char error[512];
};

int nft_open(struct rr_nft **ret)
{
	struct rr_nft *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!n->ctx || nft_ctx_buffer_output(n->ctx) != 0 || nft_ctx_buffer_error(n->ctx) != 0) {
		nft_close(n);
		return -ENOMEM;
	}
	/* Listings compared by hash leave the counters out: packets change nothing of ours. */
	nft_ctx_output_set_flags(n->ctx, nft_ctx_output_get_flags(n->ctx) | NFT_CTX_OUTPUT_STATELESS);
	*ret = n;
	return 0;
}

void nft_close(struct rr_nft *n)
{
	if (!n)
		return;
	if (n->ctx)
		nft_ctx_free(n->ctx);
	free(n);
}

/* Run cmd; keep libnftables' error on one line for the log. */
static int nft_run(struct rr_nft *n, const char *cmd)
{
	int r = nft_run_cmd_from_buffer(n->ctx, cmd);
	const char *err = nft_ctx_get_error_buffer(n->ctx);
	size_t l;

	snprintf(n->error, sizeof(n->error), "%s", r == 0 || !err ? "" : err);
	l = strlen(n->error);
	while (l && (n->error[l - 1] == '\n' || n->error[l - 1] == ' '))
		n->error[--l] = '\0';
	for (char *p = n->error; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return r == 0 ? 0 : -EIO;
}

int nft_apply(struct rr_nft *n, const char *commands)
{
	int r = nft_run(n, commands);

	if (r == 0)
		n->commits++;
	return r;
}

int nft_list(struct rr_nft *n, char **ret)
{
	const char *out;
	int r;

	*ret = NULL;
	r = nft_run(n, "list table inet " RULESET_TABLE);
	out = nft_ctx_get_output_buffer(n->ctx);
	if (r < 0)
		return strstr(n->error, "No such file") ? -ENOENT : r;
	*ret = strdup(out ? out : "");
	return *ret ? 0 : -ENOMEM;
}

int nft_list_counters(struct rr_nft *n, char **ret)
{
	unsigned flags = nft_ctx_output_get_flags(n->ctx);
	int r;

	nft_ctx_output_set_flags(n->ctx, flags & ~NFT_CTX_OUTPUT_STATELESS);
	r = nft_list(n, ret);
	nft_ctx_output_set_flags(n->ctx, flags);
	return r;
}

const char *nft_error(const struct rr_nft *n)
{
	return n->error;
}

uint64_t nft_commits(const struct rr_nft *n)
{
	return n->commits;
}
