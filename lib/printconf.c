/* SPDX-License-Identifier: MIT */
/*
 * The config printed back in normalised form: every key, defaults filled in,
 * itself a config that reads back to the same (the golden tests check it).
 * Read from drop-ins too, it says in comments which files were read and
 * where each section came from.
 */
#include "config.h"

#include <inttypes.h>

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
