/* SPDX-License-Identifier: MIT */
#include "pickup.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ruleset.h"
#include "vindex.h"

/* Elements by address, then mark: sets are kept sorted, membership is a binary search. */
static int elem_cmp(const void *a, const void *b)
{
	const struct pickup_elem *x = a, *y = b;
	int r;

	if (x->addr.family != y->addr.family)
		return x->addr.family < y->addr.family ? -1 : 1;
	if ((r = memcmp(x->addr.bytes, y->addr.bytes, sizeof(x->addr.bytes))))
		return r;
	return (x->mark > y->mark) - (x->mark < y->mark);
}

bool pickup_has(const struct pickup_set *s, const struct pickup_elem *e)
{
	return s->n && bsearch(e, s->elems, s->n, sizeof(*s->elems), elem_cmp);
}

/* A tracked link: its index and its interface's mark, sorted by index. */
struct tracked {
	int ifindex;
	uint32_t mark;
};

static int tracked_cmp(const void *a, const void *b)
{
	const struct tracked *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

/* An address and its link, sorted by address: the same address on two links is no evidence. */
static int local_cmp(const void *a, const void *b)
{
	const struct pickup_elem *x = a, *y = b;

	if (x->addr.family != y->addr.family)
		return x->addr.family < y->addr.family ? -1 : 1;
	return memcmp(x->addr.bytes, y->addr.bytes, sizeof(x->addr.bytes));
}

int pickup_desired(const struct rr_config *c, const struct rr_view *v, struct pickup_set *ret)
{
	struct pickup_set s = {.known = true};
	struct tracked *t = NULL;
	struct pickup_elem *locals = NULL; /* mark holds the ifindex here */
	struct rr_vindex x = {0};
	size_t n_t = 0, m = 0;
	int r = -ENOMEM;

	*ret = s;
	if (!c)
		return 0;
	s.elems = calloc(v->n_addrs + 1, sizeof(*s.elems));
	t = calloc(c->n_ifaces + 1, sizeof(*t));
	locals = calloc(v->n_addrs + 1, sizeof(*locals));
	if (!s.elems || !t || !locals || vindex_build(&x, v, RT_TABLE_MAIN) < 0)
		goto out;
	for (size_t i = 0; i < c->n_ifaces; i++) {
		const struct rr_link *l = vindex_link_by_name(&x, c->ifaces[i].name);

		if (l)
			t[n_t++] = (struct tracked){l->ifindex, c->ifaces[i].mark};
	}
	qsort(t, n_t, sizeof(*t), tracked_cmp);
	for (size_t i = 0; i < v->n_addrs; i++)
		locals[i] = (struct pickup_elem){.addr = v->addrs[i].local,
						 .mark = (uint32_t)v->addrs[i].ifindex};
	qsort(locals, v->n_addrs, sizeof(*locals), local_cmp);
	for (size_t i = 0; i < v->n_addrs; i++) {
		const struct rr_ifaddr *a = &v->addrs[i];
		struct tracked key = {.ifindex = a->ifindex}, *ti;
		struct pickup_elem *at;
		bool ambiguous = false;

		if (a->scope >= RT_SCOPE_LINK ||
		    !(ti = bsearch(&key, t, n_t, sizeof(*t), tracked_cmp)))
			continue;
		at = bsearch(&(struct pickup_elem){.addr = a->local}, locals, v->n_addrs,
			     sizeof(*locals), local_cmp);
		while (at > locals && local_cmp(at - 1, at) == 0)
			at--;
		for (; at < locals + v->n_addrs && rr_addr_eq(&at->addr, &a->local); at++)
			ambiguous |= at->mark != (uint32_t)a->ifindex;
		if (!ambiguous)
			s.elems[s.n++] = (struct pickup_elem){.addr = a->local, .mark = ti->mark};
	}
	qsort(s.elems, s.n, sizeof(*s.elems), elem_cmp);
	for (size_t i = 0; i < s.n; i++)
		if (m == 0 || elem_cmp(&s.elems[m - 1], &s.elems[i]) != 0)
			s.elems[m++] = s.elems[i];
	s.n = m;
	*ret = s;
	s.elems = NULL;
	r = 0;
out:
	vindex_clear(&x);
	free(s.elems);
	free(t);
	free(locals);
	return r;
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
	return ruleset_commands_close(f, &buf, &len, ret);
}
