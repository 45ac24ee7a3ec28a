/* SPDX-License-Identifier: MIT */
#include "ruleset.h"

#include <errno.h>
#include <inttypes.h>
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

uint64_t ruleset_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; s && *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

void ruleset_state_clear(struct ruleset_state *s)
{
	free(s->entries);
	*s = (struct ruleset_state){0};
}

int ruleset_state_from_config(const struct rr_config *c, struct ruleset_state *ret)
{
	struct ruleset_state s = {.mask = c->mask};

	s.entries = calloc(c->n_ifaces ? c->n_ifaces : 1, sizeof(*s.entries));
	if (!s.entries)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		memcpy(s.entries[i].name, c->ifaces[i].name, IFNAMSIZ);
		s.entries[i].mark = c->ifaces[i].mark;
	}
	s.n_entries = c->n_ifaces;
	*ret = s;
	return 0;
}

int ruleset_state_read(const char *path, struct ruleset_state *ret)
{
	struct ruleset_state s = {0};
	char name[IFNAMSIZ + 1] = "";
	uint32_t mark;
	FILE *f = fopen(path, "re");
	int r = 0;

	if (!f)
		return -errno;
	if (fscanf(f, "%" SCNx64 " %" SCNx64 " %" SCNx32, &s.text_hash, &s.listing_hash,
		   &s.mask) != 3)
		r = -EINVAL;
	while (r == 0 && fscanf(f, "%15s %" SCNx32, name, &mark) == 2) {
		void *p = realloc(s.entries, (s.n_entries + 1) * sizeof(*s.entries));

		if (!p) {
			r = -ENOMEM;
			break;
		}
		s.entries = p;
		memset(&s.entries[s.n_entries], 0, sizeof(*s.entries));
		memcpy(s.entries[s.n_entries].name, name, IFNAMSIZ - 1);
		s.entries[s.n_entries++].mark = mark;
	}
	fclose(f);
	if (r < 0) {
		ruleset_state_clear(&s);
		return r;
	}
	*ret = s;
	return 0;
}

int ruleset_state_write(const char *path, const struct ruleset_state *s)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fprintf(f, "%016" PRIx64 " %016" PRIx64 " %#" PRIx32 "\n", s->text_hash, s->listing_hash,
		s->mask);
	for (size_t i = 0; i < s->n_entries; i++)
		fprintf(f, "%s %#" PRIx32 "\n", s->entries[i].name, s->entries[i].mark);
	return fclose(f) == 0 ? 0 : -errno;
}

static bool state_has(const struct ruleset_state *s, const char *name, uint32_t mark)
{
	for (size_t i = 0; i < s->n_entries; i++)
		if (s->entries[i].mark == mark && strcmp(s->entries[i].name, name) == 0)
			return true;
	return false;
}

static bool state_has_mark(const struct ruleset_state *s, uint32_t mark)
{
	for (size_t i = 0; i < s->n_entries; i++)
		if (s->entries[i].mark == mark)
			return true;
	return false;
}

int ruleset_render_delta(const struct ruleset_state *old, const struct rr_config *c, char **ret)
{
	struct ruleset_state new;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	*ret = NULL;
	if (old->mask != c->mask || c->n_ifaces == 0)
		return -EINVAL;
	if ((r = ruleset_state_from_config(c, &new)) < 0)
		return r;
	f = open_memstream(&buf, &len);
	if (!f) {
		ruleset_state_clear(&new);
		return -ENOMEM;
	}
	/* Removals first: an interface may move to another mark in the same transaction. */
	for (size_t i = 0; i < old->n_entries; i++) {
		const struct ruleset_entry *e = &old->entries[i];

		if (!state_has(&new, e->name, e->mark))
			fprintf(f, "delete element inet " RULESET_TABLE " iface_mark { \"%s\" }\n",
				e->name);
		if (!state_has_mark(&new, e->mark))
			fprintf(f, "delete element inet " RULESET_TABLE " mark_restore { %#x }\n"
				   "delete chain inet " RULESET_TABLE " ct_%#x\n"
				   "delete chain inet " RULESET_TABLE " pkt_%#x\n",
				e->mark, e->mark, e->mark);
	}
	for (size_t i = 0; i < new.n_entries; i++) {
		const struct ruleset_entry *e = &new.entries[i];
		uint32_t keep = ~c->mask;

		if (!state_has_mark(old, e->mark))
			fprintf(f, "add chain inet " RULESET_TABLE " ct_%#x\n"
				   "add rule inet " RULESET_TABLE " ct_%#x ct mark set ct mark & %#x | %#x\n"
				   "add chain inet " RULESET_TABLE " pkt_%#x\n"
				   "add rule inet " RULESET_TABLE " pkt_%#x meta mark set meta mark & %#x | %#x\n"
				   "add element inet " RULESET_TABLE " mark_restore { %#x : jump pkt_%#x }\n",
				e->mark, e->mark, keep, e->mark, e->mark, e->mark, keep, e->mark, e->mark,
				e->mark);
		if (!state_has(old, e->name, e->mark))
			fprintf(f, "add element inet " RULESET_TABLE " iface_mark { \"%s\" : jump ct_%#x }\n",
				e->name, e->mark);
	}
	ruleset_state_clear(&new);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	if (len == 0) {
		free(buf);
		buf = NULL;
	}
	*ret = buf;
	return 0;
}

struct rr_ruleset {
	struct nft_ctx *ctx;
	uint64_t commits; /* transactions that changed the ruleset */
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
	if (r == 0)
		n->commits++;
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

int ruleset_apply(struct rr_ruleset *n, const char *commands)
{
	int r = ruleset_run(n, commands);

	if (r == 0)
		n->commits++;
	return r;
}

uint64_t ruleset_commits(const struct rr_ruleset *n)
{
	return n->commits;
}
