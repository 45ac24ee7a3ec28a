/* SPDX-License-Identifier: MIT */
#include "nftscan.h"

#include <errno.h>
#include <jansson.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"

/* The map of ruleset.c that sends a new connection of a tracked interface to its mark. */
#define NFTS_IFACE_MAP "iface_mark"

static const char *js(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key)) ?: "";
}

/* The mark that a key object names ({"meta": {"key": "mark"}} or {"ct": ...}): "meta", "ct" or NULL. */
static const char *nfts_mark_key(json_t *k)
{
	if (!json_is_object(k))
		return NULL;
	if (!strcmp(js(json_object_get(k, "meta"), "key"), "mark"))
		return "meta";
	if (!strcmp(js(json_object_get(k, "ct"), "key"), "mark"))
		return "ct";
	return NULL;
}

static bool nfts_same_key(json_t *k, const char *key)
{
	const char *x = nfts_mark_key(k);

	return x && !strcmp(x, key);
}

/* Operand n of a binary operation {"op": [a, b]}. */
static json_t *nfts_arg(json_t *v, const char *op, size_t n)
{
	json_t *a = json_object_get(v, op);

	return json_is_array(a) && json_array_size(a) == 2 ? json_array_get(a, n) : NULL;
}

/*
 * The bits a write of value to key may change: KEY & A | B changes ~A | B,
 * KEY | B and KEY ^ B change B, KEY & A changes ~A; anything else (a
 * constant, another mark, a map) may change every bit.
 */
static bool nfts_bits(json_t *value, const char *key, uint32_t *bits)
{
	json_t *a = nfts_arg(value, "|", 0), *b = nfts_arg(value, "|", 1);

	if (a && json_is_integer(b)) {
		if (nfts_same_key(a, key)) {
			*bits = (uint32_t)json_integer_value(b);
			return true;
		}
		if (nfts_same_key(nfts_arg(a, "&", 0), key) && json_is_integer(nfts_arg(a, "&", 1))) {
			*bits = ~(uint32_t)json_integer_value(nfts_arg(a, "&", 1)) |
				(uint32_t)json_integer_value(b);
			return true;
		}
		return false;
	}
	if (nfts_same_key(nfts_arg(value, "^", 0), key) && json_is_integer(nfts_arg(value, "^", 1))) {
		*bits = (uint32_t)json_integer_value(nfts_arg(value, "^", 1));
		return true;
	}
	if (nfts_same_key(nfts_arg(value, "&", 0), key) && json_is_integer(nfts_arg(value, "&", 1))) {
		*bits = ~(uint32_t)json_integer_value(nfts_arg(value, "&", 1));
		return true;
	}
	return false;
}

static struct nfts_item *nfts_add(struct nfts *s, json_t *rule, enum nfts_kind kind)
{
	struct nfts_item *n = realloc(s->items, (s->n_items + 1) * sizeof(*n));

	if (!n)
		return NULL;
	s->items = n;
	n = &n[s->n_items++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	snprintf(n->family, sizeof(n->family), "%s", js(rule, "family"));
	snprintf(n->table, sizeof(n->table), "%s", js(rule, "table"));
	snprintf(n->chain, sizeof(n->chain), "%s", js(rule, "chain"));
	n->handle = (uint64_t)json_integer_value(json_object_get(rule, "handle"));
	return n;
}

/* An interface the rule requires ("iifname == eth1"), remembered for the rule's items. */
static void nfts_iface(json_t *match, char *iif, char *oif)
{
	const char *k = js(json_object_get(json_object_get(match, "left"), "meta"), "key");
	const char *v = json_string_value(json_object_get(match, "right"));

	if (!v || strcmp(js(match, "op"), "=="))
		return;
	if (!strcmp(k, "iifname"))
		snprintf(iif, IFNAMSIZ, "%s", v);
	else if (!strcmp(k, "oifname"))
		snprintf(oif, IFNAMSIZ, "%s", v);
}

static void nfts_mark_what(struct nfts_item *it, json_t *value)
{
	const char *src = nfts_mark_key(value);

	if (json_is_integer(value))
		snprintf(it->what, sizeof(it->what), "%s mark set %#llx", it->ct ? "ct" : "meta",
			 (unsigned long long)json_integer_value(value));
	else if (src)
		snprintf(it->what, sizeof(it->what), "%s mark set %s mark", it->ct ? "ct" : "meta",
			 src);
	else if (it->whole)
		snprintf(it->what, sizeof(it->what), "%s mark set (an expression)",
			 it->ct ? "ct" : "meta");
	else
		snprintf(it->what, sizeof(it->what), "%s mark set, changing bits %#x",
			 it->ct ? "ct" : "meta", it->bits);
}

/* One expression of a rule: an item of interest, or nothing (0). */
static int nfts_expr(struct nfts *s, json_t *rule, json_t *e, const char *iif, const char *oif)
{
	json_t *m = json_object_get(e, "mangle"), *xt = json_object_get(e, "xt");
	const char *key = m ? nfts_mark_key(json_object_get(m, "key")) : NULL;
	const char *xname = js(xt, "name");
	struct nfts_item *it;
	enum nfts_kind kind;

	if (key)
		kind = NFTS_MARK_WRITE;
	else if (!strcmp(xname, "MARK") || !strcmp(xname, "CONNMARK"))
		kind = NFTS_XT_MARK;
	else if (json_object_get(e, "notrack") || !strcmp(xname, "NOTRACK") || !strcmp(xname, "CT"))
		kind = NFTS_NOTRACK;
	else if (json_object_get(e, "dnat"))
		kind = NFTS_DNAT;
	else
		return 0;
	if (!(it = nfts_add(s, rule, kind)))
		return -ENOMEM;
	snprintf(it->iif, sizeof(it->iif), "%s", iif);
	snprintf(it->oif, sizeof(it->oif), "%s", oif);
	if (kind == NFTS_MARK_WRITE) {
		json_t *value = json_object_get(m, "value");

		it->ct = !strcmp(key, "ct");
		it->whole = !nfts_bits(value, key, &it->bits);
		nfts_mark_what(it, value);
	} else if (*xname) {
		snprintf(it->what, sizeof(it->what), "iptables target %s", xname);
	} else {
		snprintf(it->what, sizeof(it->what), "%s", kind == NFTS_DNAT ? "dnat" : "notrack");
	}
	return 0;
}

static bool nfts_ours(json_t *o)
{
	return !strcmp(js(o, "family"), "inet") && !strcmp(js(o, "table"), RULESET_TABLE);
}

/* fib saddr ... without mark: the reverse path lookup of strict rp_filter, blind to marks. */
static bool nfts_fib_nomark(json_t *match)
{
	json_t *flags = json_object_get(json_object_get(json_object_get(match, "left"), "fib"),
					"flags");
	bool saddr = false, mark = false;
	json_t *f;
	size_t i;

	json_array_foreach(flags, i, f) {
		saddr |= !strcmp(json_string_value(f) ?: "", "saddr");
		mark |= !strcmp(json_string_value(f) ?: "", "mark");
	}
	return saddr && !mark;
}

static int nfts_rule(struct nfts *s, json_t *rule, json_t *forward_chains)
{
	char iif[IFNAMSIZ] = "", oif[IFNAMSIZ] = "", key[200];
	bool fib = false;
	json_t *e;
	size_t i;
	int r;

	json_array_foreach(json_object_get(rule, "expr"), i, e) {
		json_t *match = json_object_get(e, "match");

		if (match) {
			nfts_iface(match, iif, oif);
			fib |= nfts_fib_nomark(match);
		} else if ((r = nfts_expr(s, rule, e, iif, oif)) < 0) {
			return r;
		}
	}
	if (fib) {
		struct nfts_item *it = nfts_add(s, rule, NFTS_FIB_NOMARK);

		if (!it)
			return -ENOMEM;
		snprintf(it->iif, sizeof(it->iif), "%s", iif);
		snprintf(it->what, sizeof(it->what), "a fib saddr check without mark");
	}
	snprintf(key, sizeof(key), "%s %s %s", js(rule, "family"), js(rule, "table"),
		 js(rule, "chain"));
	if (json_object_get(forward_chains, key)) {
		struct nfts_item *it = nfts_add(s, rule, NFTS_FORWARD);

		if (!it)
			return -ENOMEM;
		snprintf(it->iif, sizeof(it->iif), "%s", iif);
		snprintf(it->oif, sizeof(it->oif), "%s", oif);
		snprintf(it->what, sizeof(it->what), "a rule in a forward chain");
	}
	return 0;
}

/* The interfaces inet replyroute's iface_mark map marks. */
static int nfts_map(struct nfts *s, json_t *map)
{
	json_t *e;
	size_t i;

	if (!nfts_ours(map) || strcmp(js(map, "name"), NFTS_IFACE_MAP))
		return 0;
	json_array_foreach(json_object_get(map, "elem"), i, e) {
		const char *name = json_string_value(json_array_get(e, 0));
		char(*n)[IFNAMSIZ];

		if (!name)
			continue;
		if (!(n = realloc(s->marked, (s->n_marked + 1) * sizeof(*n))))
			return -ENOMEM;
		s->marked = n;
		snprintf(s->marked[s->n_marked++], IFNAMSIZ, "%s", name);
	}
	return 0;
}

static int nfts_walk(struct nfts *s, json_t *list)
{
	json_t *forward = json_object(), *o;
	char key[200];
	size_t i;
	int r = 0;

	if (!forward)
		return -ENOMEM;
	json_array_foreach(list, i, o) {
		json_t *c = json_object_get(o, "chain"), *t = json_object_get(o, "table");

		if (t && !strcmp(js(t, "family"), "inet") && !strcmp(js(t, "name"), RULESET_TABLE))
			s->ours = true;
		if (!c || strcmp(js(c, "hook"), "forward"))
			continue;
		snprintf(key, sizeof(key), "%s %s %s", js(c, "family"), js(c, "table"), js(c, "name"));
		json_object_set_new(forward, key, json_true());
	}
	json_array_foreach(list, i, o) {
		json_t *rule = json_object_get(o, "rule"), *map = json_object_get(o, "map");

		if (map)
			r = nfts_map(s, map);
		else if (rule && !nfts_ours(rule))
			r = nfts_rule(s, rule, forward);
		if (r < 0)
			break;
	}
	json_decref(forward);
	return r;
}

int nfts_parse(const char *text, struct nfts *ret)
{
	json_t *root = json_loads(text, 0, NULL);
	json_t *list = json_object_get(root, "nftables");
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_array(list)) {
		json_decref(root);
		return -EINVAL;
	}
	r = nfts_walk(ret, list);
	json_decref(root);
	if (r < 0)
		nfts_free(ret);
	return r;
}

void nfts_free(struct nfts *s)
{
	free(s->items);
	free(s->marked);
	memset(s, 0, sizeof(*s));
}

bool nfts_marks(const struct nfts *s, const char *ifname)
{
	for (size_t i = 0; i < s->n_marked; i++)
		if (!strcmp(s->marked[i], ifname))
			return true;
	return false;
}

/* One command's JSON output, its items appended to all (the metainfo left out). */
static int nfts_list_json(struct nft_ctx *ctx, const char *cmd, json_t *all)
{
	json_t *doc, *items, *o;
	const char *out;
	size_t i;

	if (nft_run_cmd_from_buffer(ctx, cmd) != 0)
		return -EIO;
	out = nft_ctx_get_output_buffer(ctx);
	if (!out || !*out)
		return 0;
	if (!(doc = json_loads(out, 0, NULL)))
		return -EINVAL;
	items = json_object_get(doc, "nftables");
	json_array_foreach(items, i, o)
		if (!json_object_get(o, "metainfo") && json_array_append(all, o) < 0) {
			json_decref(doc);
			return -ENOMEM;
		}
	json_decref(doc);
	return 0;
}

/*
 * The ruleset as JSON, but replyroute's own table only as its presence and
 * its interface map: libnftables 1.0.6 reads freed memory when it prints a
 * table declared with `flags owner` as JSON (seen with valgrind), so the
 * tables are listed as text first and each other one asked for in JSON.
 */
int nfts_fetch(char **ret)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	json_t *all = json_array(), *doc = NULL;
	char *tables = NULL, *line, *save = NULL, cmd[320];
	const char *out;
	bool ours = false;
	int r = -ENOMEM;

	*ret = NULL;
	if (!ctx || !all || nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
		goto out;
	if (nft_run_cmd_from_buffer(ctx, "list tables") != 0) {
		r = -EIO;
		goto out;
	}
	out = nft_ctx_get_output_buffer(ctx);
	if (!(tables = strdup(out ? out : "")))
		goto out;
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
	r = 0;
	for (line = strtok_r(tables, "\n", &save); line && r >= 0; line = strtok_r(NULL, "\n", &save)) {
		char family[16], name[256];

		if (sscanf(line, "table %15s %255s", family, name) != 2)
			continue;
		if (!strcmp(family, "inet") && !strcmp(name, RULESET_TABLE)) {
			ours = true;
			continue;
		}
		snprintf(cmd, sizeof(cmd), "list table %s %s", family, name);
		r = nfts_list_json(ctx, cmd, all);
	}
	if (r >= 0 && ours) {
		json_t *t = json_pack("{s:{s:s,s:s}}", "table", "family", "inet", "name", RULESET_TABLE);

		if (!t || json_array_append_new(all, t) < 0)
			r = -ENOMEM;
		else
			r = nfts_list_json(ctx, "list map inet " RULESET_TABLE " " NFTS_IFACE_MAP, all);
	}
	if (r < 0)
		goto out;
	r = -ENOMEM;
	if (!(doc = json_pack("{s:O}", "nftables", all)) || !(*ret = json_dumps(doc, 0)))
		goto out;
	r = 0;
out:
	json_decref(doc);
	json_decref(all);
	free(tables);
	if (ctx)
		nft_ctx_free(ctx);
	return r;
}
