/* SPDX-License-Identifier: MIT */
#include "ruleset.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ruleset_render(const struct rr_config *c, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	uint32_t keep = ~c->mask;

	*ret = NULL;
	if (c->n_ifaces == 0)
		return 0;
	f = open_memstream(&buf, &len);
	if (!f)
		return -errno;
	fprintf(f, "table inet " RULESET_TABLE " {\n"
		   "\tcomment \"managed by replyrouted: reply routing by connection mark\"\n"
		   "\tmap iface_mark {\n"
		   "\t\ttype ifname : verdict\n"
		   "\t\telements = {");
	for (size_t i = 0; i < c->n_ifaces; i++)
		fprintf(f, "%s \"%s\" : jump ct_%#x", i ? "," : "", c->ifaces[i].name,
			c->ifaces[i].mark);
	fprintf(f, " }\n\t}\n"
		   "\tmap mark_restore {\n"
		   "\t\ttype mark : verdict\n"
		   "\t\telements = {");
	for (size_t i = 0; i < c->n_ifaces; i++)
		fprintf(f, "%s %#x : jump pkt_%#x", i ? "," : "", c->ifaces[i].mark,
			c->ifaces[i].mark);
	fprintf(f, " }\n\t}\n"
		   "\tchain prerouting {\n"
		   "\t\ttype filter hook prerouting priority mangle; policy accept;\n"
		   "\t\tct state new iifname vmap @iface_mark\n"
		   "\t\tct mark & %#x vmap @mark_restore\n"
		   "\t}\n"
		   "\tchain output {\n"
		   "\t\ttype route hook output priority mangle; policy accept;\n"
		   "\t\tct mark & %#x vmap @mark_restore\n"
		   "\t}\n",
		c->mask, c->mask);
	for (size_t i = 0; i < c->n_ifaces; i++) {
		uint32_t m = c->ifaces[i].mark;

		fprintf(f, "\tchain ct_%#x {\n\t\tct mark set ct mark & %#x | %#x\n\t}\n", m, keep, m);
		fprintf(f, "\tchain pkt_%#x {\n\t\tmeta mark set meta mark & %#x | %#x\n\t}\n", m,
			keep, m);
	}
	fprintf(f, "}\n");
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

struct rr_ruleset {
	struct nft_ctx *ctx;
	char error[512];
};

int ruleset_open(struct rr_ruleset **ret)
{
	struct rr_ruleset *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!n->ctx) {
		free(n);
		return -ENOMEM;
	}
	if (nft_ctx_buffer_output(n->ctx) != 0 || nft_ctx_buffer_error(n->ctx) != 0) {
		ruleset_close(n);
		return -ENOMEM;
	}
	*ret = n;
	return 0;
}

void ruleset_close(struct rr_ruleset *n)
{
	if (!n)
		return;
	nft_ctx_free(n->ctx);
	free(n);
}

static int ruleset_run(struct rr_ruleset *n, const char *cmd)
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

int ruleset_replace(struct rr_ruleset *n, const char *text)
{
	/* Declaring the table first makes the delete valid whether or not it exists. */
	static const char head[] = "table inet " RULESET_TABLE "\n"
				   "delete table inet " RULESET_TABLE "\n";
	char *cmd;
	int r;

	if (asprintf(&cmd, "%s%s", head, text ? text : "") < 0)
		return -ENOMEM;
	r = ruleset_run(n, cmd);
	free(cmd);
	return r;
}

int ruleset_list(struct rr_ruleset *n, char **ret)
{
	const char *out;
	int r;

	*ret = NULL;
	r = ruleset_run(n, "list table inet " RULESET_TABLE);
	out = nft_ctx_get_output_buffer(n->ctx);
	if (r < 0)
		return strstr(n->error, "No such file") ? -ENOENT : r;
	*ret = strdup(out ? out : "");
	return *ret ? 0 : -ENOMEM;
}

const char *ruleset_error(struct rr_ruleset *n)
{
	return n->error;
}
