/* SPDX-License-Identifier: MIT */
#include "pickup.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "ruleset.h"

/* The tracked interface a link is, or NULL. */
static const struct rr_iface_conf *pickup_iface(const struct rr_config *c, const struct rr_view *v,
						 int ifindex)
{
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct rr_link *l = view_link_by_name(v, c->ifaces[i].name);

		if (l && l->ifindex == ifindex)
			return &c->ifaces[i];
	}
	return NULL;
}

/* The same address on another link: no evidence of one interface. */
static bool pickup_ambiguous(const struct rr_view *v, const struct rr_ifaddr *a)
{
	for (size_t i = 0; i < v->n_addrs; i++)
		if (v->addrs[i].ifindex != a->ifindex && rr_addr_eq(&v->addrs[i].local, &a->local))
			return true;
	return false;
}

static void pickup_family(FILE *f, const struct rr_config *c, const struct rr_view *v, int family,
			  const char *map)
{
	char buf[INET6_ADDRSTRLEN];
	size_t n = 0;

	fprintf(f, "flush map inet " RULESET_TABLE " %s\n", map);
	for (size_t i = 0; i < v->n_addrs; i++) {
		const struct rr_ifaddr *a = &v->addrs[i];
		const struct rr_iface_conf *ic;

		if (a->local.family != family || a->scope >= RT_SCOPE_LINK ||
		    !(ic = pickup_iface(c, v, a->ifindex)) || pickup_ambiguous(v, a) ||
		    !rr_addr_str(&a->local, buf, sizeof(buf)))
			continue;
		if (n++ == 0)
			fprintf(f, "add element inet " RULESET_TABLE " %s {", map);
		else
			fputc(',', f);
		fprintf(f, " %s : jump ct_%#x", buf, ic->mark);
	}
	if (n)
		fprintf(f, " }\n");
}

int pickup_render(const struct rr_config *c, const struct rr_view *v, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	*ret = NULL;
	if (!c || c->n_ifaces == 0)
		return 0;
	if (!(f = open_memstream(&buf, &len)))
		return -errno;
	pickup_family(f, c, v, AF_INET, RULESET_ADDR_MAP4);
	pickup_family(f, c, v, AF_INET6, RULESET_ADDR_MAP6);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}
