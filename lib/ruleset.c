/* SPDX-License-Identifier: MIT */
#include "ruleset.h"

#include <errno.h>
#include <inttypes.h>
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
		   "\tset ifaces {\n"
		   "\t\ttype ifname\n"
		   "\t\telements = {");
	for (size_t i = 0; i < c->n_ifaces; i++)
		fprintf(f, "%s \"%s\"", i ? "," : "", c->ifaces[i].name);
	fprintf(f, " }\n\t}\n"
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
		   "\tmap " RULESET_ADDR_MAP4 " {\n\t\ttype ipv4_addr : verdict\n\t}\n"
		   "\tmap " RULESET_ADDR_MAP6 " {\n\t\ttype ipv6_addr : verdict\n\t}\n"
		   "\tchain prerouting {\n"
		   "\t\ttype filter hook prerouting priority " RULESET_PRIORITY "; policy accept;\n"
		   "\t\tct mark & %#x == 0 jump unmarked_in\n"
		   "\t\tct state invalid meta l4proto tcp iifname @ifaces fib daddr . iif type local iifname vmap @iface_mark\n"
		   "\t\tct mark & %#x vmap @mark_restore\n"
		   "\t}\n"
		   "\tchain unmarked_in {\n"
		   "\t\tct state new tcp flags & (syn | ack) != syn fib daddr . iif type != local return\n"
		   "\t\tct state new iifname vmap @iface_mark\n"
		   "\t\tct state established ct direction original iifname @ifaces fib daddr . iif type local iifname vmap @iface_mark\n"
		   "\t}\n"
		   "\tchain output {\n"
		   "\t\ttype route hook output priority " RULESET_PRIORITY "; policy accept;\n"
		   "\t\tct mark & %#x == 0 jump unmarked_out\n"
		   "\t\tct state invalid meta l4proto tcp ip saddr vmap @" RULESET_ADDR_MAP4 "\n"
		   "\t\tct state invalid meta l4proto tcp ip6 saddr vmap @" RULESET_ADDR_MAP6 "\n"
		   "\t\tct mark & %#x vmap @mark_restore\n"
		   "\t}\n"
		   "\tchain unmarked_out {\n"
		   "\t\tct state established ct direction reply ip saddr vmap @" RULESET_ADDR_MAP4 "\n"
		   "\t\tct state established ct direction reply ip6 saddr vmap @" RULESET_ADDR_MAP6 "\n"
		   "\t\tct state new tcp flags & (syn | ack) != syn ip saddr vmap @" RULESET_ADDR_MAP4 "\n"
		   "\t\tct state new tcp flags & (syn | ack) != syn ip6 saddr vmap @" RULESET_ADDR_MAP6 "\n"
		   "\t}\n",
		c->mask, c->mask, c->mask, c->mask);
	for (size_t i = 0; i < c->n_ifaces; i++) {
		uint32_t m = c->ifaces[i].mark;

		/*
		 * The packet first: for a packet conntrack cannot track (a FIN
		 * after a flush) only that takes, reading `ct mark` ends the rule.
		 */
		fprintf(f, "\tchain ct_%#x {\n\t\tcounter meta mark set meta mark & %#x | %#x "
			   "ct mark set ct mark & %#x | %#x\n\t}\n",
			m, keep, m, keep, m);
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
			fprintf(f, "delete element inet " RULESET_TABLE " iface_mark { \"%s\" }\n"
				   "delete element inet " RULESET_TABLE " ifaces { \"%s\" }\n",
				e->name, e->name);
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
				   "add rule inet " RULESET_TABLE " ct_%#x counter meta mark set meta mark & %#x | %#x "
				   "ct mark set ct mark & %#x | %#x\n"
				   "add chain inet " RULESET_TABLE " pkt_%#x\n"
				   "add rule inet " RULESET_TABLE " pkt_%#x meta mark set meta mark & %#x | %#x\n"
				   "add element inet " RULESET_TABLE " mark_restore { %#x : jump pkt_%#x }\n",
				e->mark, e->mark, keep, e->mark, keep, e->mark, e->mark, e->mark, keep,
				e->mark, e->mark, e->mark);
		if (!state_has(old, e->name, e->mark))
			fprintf(f, "add element inet " RULESET_TABLE " iface_mark { \"%s\" : jump ct_%#x }\n"
				   "add element inet " RULESET_TABLE " ifaces { \"%s\" }\n",
				e->name, e->mark, e->name);
	}
	ruleset_state_clear(&new);
	return ruleset_commands_close(f, &buf, &len, ret);
}

int ruleset_commands_close(FILE *f, char **buf, size_t *len, char **ret)
{
	*ret = NULL;
	if (fclose(f) != 0) {
		free(*buf);
		return -ENOMEM;
	}
	if (*len == 0)
		free(*buf);
	else
		*ret = *buf;
	return 0;
}

int ruleset_replace_commands(const char *text, char **ret)
{
	/* Declaring the table first makes the delete valid whether or not it exists. */
	static const char head[] = RULESET_REPLACE_HEAD;

	return asprintf(ret, "%s%s", head, text ? text : "") < 0 ? -ENOMEM : 0;
}
