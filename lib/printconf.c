/* SPDX-License-Identifier: MIT */
/*
 * The config printed back in normalised form: every key, defaults filled in,
 * itself a config that reads back to the same (the golden tests check it).
 * Read from drop-ins too, it says in comments which files were read and
 * where each section came from.
 */
#include "config.h"

#include <fnmatch.h>
#include <inttypes.h>

/* An interface name that a pattern also matches: the first section wins (said, not an error). */
static void printconf_overlaps(const struct rr_config *c, size_t i, FILE *out)
{
	const struct rr_iface_conf *ifc = &c->ifaces[i];

	for (size_t j = 0; j < c->n_ifaces; j++) {
		const struct rr_iface_conf *o = &c->ifaces[j];

		if (j == i || ifc->pattern == o->pattern)
			continue;
		/* One is a name, the other a pattern that matches it. */
		if (fnmatch(ifc->pattern ? ifc->name : o->name, ifc->pattern ? o->name : ifc->name, 0))
			continue;
		fprintf(out, "# also %s Name=%s: the first section wins (%s)\n",
			ifc->pattern ? "matches" : "matched by", o->name,
			i < j ? "this one" : "that one");
	}
}

void config_print(const struct rr_config *c, FILE *out)
{
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; c->origins && i < c->n_files; i++)
		fprintf(out, "# %s %s\n", i ? "then" : "read", c->files[i]);
	if (c->origins)
		fprintf(out, "\n# %s\n", c->global_origin ?: "no [Global]: defaults");
	fprintf(out, "[Global]\nMarkMask=0x%" PRIx32 "\nPriority=%" PRIu32 "\n", c->mask,
		c->priority);
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct rr_iface_conf *ifc = &c->ifaces[i];

		fputc('\n', out);
		if (c->origins)
			fprintf(out, "# %s\n", c->origins[i]);
		fprintf(out, "[Interface]\nName=%s\n", ifc->name);
		printconf_overlaps(c, i, out);
		if (ifc->pattern) {
			fprintf(out, "# a pattern: every matching interface is tracked, with a mark and "
				     "a table of its own, kept in the state directory\nPriority=%" PRIu32
				     "\nSourceRules=%s\n", ifc->priority, ifc->source_rules ? "yes" : "no");
			continue;
		}
		if (ifc->table_auto)
			fprintf(out, "# Table= allocated at run time, from %u\n", RR_AUTO_TABLE_BASE);
		else
			fprintf(out, "Table=%" PRIu32 "\n", ifc->table);
		fprintf(out, "%sMark=0x%" PRIx32 "%s\nPriority=%" PRIu32 "\n",
			ifc->mark_auto ? "# " : "", ifc->mark, ifc->mark_auto ? " (allocated)" : "",
			ifc->priority);
		if (ifc->gateway4.family && rr_addr_str(&ifc->gateway4, buf, sizeof(buf)))
			fprintf(out, "Gateway=%s\n", buf);
		if (ifc->gateway6.family && rr_addr_str(&ifc->gateway6, buf, sizeof(buf)))
			fprintf(out, "Gateway=%s\n", buf);
		fprintf(out, "SourceRules=%s\n", ifc->source_rules ? "yes" : "no");
	}
}
