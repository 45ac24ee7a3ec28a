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

static bool pickup_has(const struct pickup_set *s, const struct pickup_elem *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->elems[i].mark == e->mark && rr_addr_eq(&s->elems[i].addr, &e->addr))
			return true;
	return false;
}

int pickup_desired(const struct rr_config *c, const struct rr_view *v, struct pickup_set *ret)
{
	struct pickup_set s = {.known = true};

	*ret = s;
	if (!c || !(s.elems = calloc(v->n_addrs + 1, sizeof(*s.elems))))
		return c ? -ENOMEM : 0;
	for (size_t i = 0; i < v->n_addrs; i++) {
		const struct rr_ifaddr *a = &v->addrs[i];
		const struct rr_iface_conf *ic;
		struct pickup_elem e;

		if (a->scope >= RT_SCOPE_LINK || !(ic = pickup_iface(c, v, a->ifindex)) ||
		    pickup_ambiguous(v, a))
			continue;
		e = (struct pickup_elem){.addr = a->local, .mark = ic->mark};
		if (!pickup_has(&s, &e))
			s.elems[s.n++] = e;
	}
	*ret = s;
	return 0;
}

void pickup_set_clear(struct pickup_set *s)
{
	free(s->elems);
	*s = (struct pickup_set){0};
}

static void pickup_line(FILE *f, const char *verb, const struct pickup_elem *e)
{
	char buf[INET6_ADDRSTRLEN];

	if (!rr_addr_str(&e->addr, buf, sizeof(buf)))
		return;
	fprintf(f, "%s element inet " RULESET_TABLE " %s { %s", verb,
		e->addr.family == AF_INET ? RULESET_ADDR_MAP4 : RULESET_ADDR_MAP6, buf);
	if (*verb == 'a')
		fprintf(f, " : jump ct_%#x", e->mark);
	fprintf(f, " }\n");
}

int pickup_render(const struct pickup_set *old, const struct pickup_set *new, bool add,
		  char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	*ret = NULL;
	if (!(f = open_memstream(&buf, &len)))
		return -errno;
	if (!old->known)
		fprintf(f, "flush map inet " RULESET_TABLE " " RULESET_ADDR_MAP4 "\n"
			   "flush map inet " RULESET_TABLE " " RULESET_ADDR_MAP6 "\n");
	for (size_t i = 0; add && i < new->n; i++)
		if (!old->known || !pickup_has(old, &new->elems[i]))
			pickup_line(f, "add", &new->elems[i]);
	for (size_t i = 0; !add && old->known && i < old->n; i++)
		if (!pickup_has(new, &old->elems[i]))
			pickup_line(f, "delete", &old->elems[i]);
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
