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
	bool own; /* install the table with `flags owner` (the daemon, until the kernel refuses) */
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

/*
 * libnftables says the kernel's errno only as strerror() text inside its
 * message: find it back, so that callers can tell EPERM from the rest.
 */
static int nft_errno(const char *msg)
{
	static const int known[] = {EPERM,   EACCES, ENOENT,	 EEXIST,     EBUSY,
				    ENOMEM,  ENOSPC, EOPNOTSUPP, EAFNOSUPPORT, EPROTONOSUPPORT,
				    ENOBUFS, EINVAL, EMFILE,	 ENFILE};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(msg, strerror(known[i])))
			return -known[i];
	return -EIO;
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
	return r == 0 ? 0 : nft_errno(n->error);
}

static bool nft_listing_owned(const char *listing)
{
	return listing && strstr(listing, "\n\tflags owner\n");
}

/*
 * An owned table is replaced by its owner without the declaration that makes
 * the delete valid either way (declaring it without the flag is refused),
 * and an unowned one cannot take the flag: what comes first depends on what
 * is there. text: the table's, after RULESET_REPLACE_HEAD.
 */
static int nft_replace_owned(struct rr_nft *n, const char *text)
{
	static const char table[] = "table inet " RULESET_TABLE " {\n";
	char *listing = NULL, *cmd = NULL;
	const char *head;
	int r = nft_list(n, &listing);

	if (r < 0 && r != -ENOENT)
		return r;
	head = r == -ENOENT ? "" : nft_listing_owned(listing) ? RULESET_DELETE : RULESET_REPLACE_HEAD;
	free(listing);
	if (strncmp(text, table, sizeof(table) - 1) != 0)
		r = asprintf(&cmd, "%s%s", head, text);
	else
		r = asprintf(&cmd, "%s%s\tflags owner\n%s", head, table, text + sizeof(table) - 1);
	if (r < 0)
		return -ENOMEM;
	r = nft_run(n, cmd);
	free(cmd);
	return r;
}

int nft_apply(struct rr_nft *n, const char *commands)
{
	static const char head[] = RULESET_REPLACE_HEAD;
	const char *text = commands + sizeof(head) - 1;
	int r;

	if (!n->own || strncmp(commands, head, sizeof(head) - 1) != 0 || !*text) {
		r = nft_run(n, commands);
	} else {
		r = nft_replace_owned(n, text);
		/* A kernel before 5.12 does not know the flag: the table as before. */
		if (r == -EOPNOTSUPP || r == -EINVAL) {
			n->own = false;
			r = nft_run(n, commands);
		}
	}
	if (r == 0)
		n->commits++;
	return r;
}

/*
 * Drop what the table holds of the engine's own elements (pickup.h) from a
 * listing: they follow the addresses, not the config, and the listing's hash
 * tells whether someone else changed the table.
 */
static void nft_listing_strip(char *s)
{
	static const char map4[] = "\tmap " RULESET_ADDR_MAP4 " {", map6[] = "\tmap " RULESET_ADDR_MAP6 " {";
	char *out = s, *line = s;
	bool in_map = false, in_elements = false;

	while (*line) {
		char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line + 1) : strlen(line);

		if (strncmp(line, map4, sizeof(map4) - 1) == 0 ||
		    strncmp(line, map6, sizeof(map6) - 1) == 0)
			in_map = true;
		else if (strncmp(line, "\t}", 2) == 0 && (line[2] == '\n' || !line[2]))
			in_map = in_elements = false;
		else if (in_map && strncmp(line, "\t\telements = ", 13) == 0)
			in_elements = true;
		if (!in_elements) {
			memmove(out, line, len);
			out += len;
		}
		line += len;
	}
	*out = '\0';
}

int nft_list(struct rr_nft *n, char **ret)
{
	const char *out;
	char *s;
	int r;

	*ret = NULL;
	r = nft_run(n, "list table inet " RULESET_TABLE);
	out = nft_ctx_get_output_buffer(n->ctx);
	if (r < 0)
		return strstr(n->error, "No such file") ? -ENOENT : r;
	/* Not owned while it should be: not the table the daemon installs, replace it. */
	if (asprintf(&s, "%s%s", out ? out : "",
		     n->own && !nft_listing_owned(out) ? "# not owned\n" : "") < 0)
		return -ENOMEM;
	nft_listing_strip(s);
	*ret = s;
	return 0;
}

void nft_own(struct rr_nft *n)
{
	n->own = true;
}

bool nft_owned(const struct rr_nft *n)
{
	return n->own;
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
