/* SPDX-License-Identifier: MIT */
#include "vindex.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int link_name_cmp(const void *a, const void *b)
{
	const struct rr_link *x = *(const struct rr_link *const *)a;
	const struct rr_link *y = *(const struct rr_link *const *)b;

	return strncmp(x->name, y->name, IFNAMSIZ);
}

static int link_index_cmp(const void *a, const void *b)
{
	const struct rr_link *x = *(const struct rr_link *const *)a;
	const struct rr_link *y = *(const struct rr_link *const *)b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

/* qsort has no context argument: the key of each element is paired with it. */
struct keyed {
	int key;
	size_t at;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return (x->key > y->key) - (x->key < y->key);
	return (x->at > y->at) - (x->at < y->at);
}

static size_t *sort_keyed(struct keyed *k, size_t n)
{
	size_t *out = malloc((n + 1) * sizeof(*out));

	if (!out)
		return NULL;
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (size_t i = 0; i < n; i++)
		out[i] = k[i].at;
	return out;
}

int vindex_build(struct rr_vindex *x, const struct rr_view *v, uint32_t main_table)
{
	size_t n = v->n_addrs > v->n_routes ? v->n_addrs : v->n_routes, m = 0;
	struct keyed *k = malloc((n + 1) * sizeof(*k));

	*x = (struct rr_vindex){.v = v};
	x->by_name = malloc((v->n_links + 1) * sizeof(*x->by_name));
	x->by_index = malloc((v->n_links + 1) * sizeof(*x->by_index));
	if (!k || !x->by_name || !x->by_index)
		goto fail;
	for (size_t i = 0; i < v->n_links; i++)
		x->by_name[i] = x->by_index[i] = &v->links[i];
	qsort(x->by_name, v->n_links, sizeof(*x->by_name), link_name_cmp);
	qsort(x->by_index, v->n_links, sizeof(*x->by_index), link_index_cmp);
	for (size_t i = 0; i < v->n_addrs; i++)
		k[i] = (struct keyed){.key = v->addrs[i].ifindex, .at = i};
	if (!(x->addrs = sort_keyed(k, v->n_addrs)))
		goto fail;
	for (size_t i = 0; i < v->n_routes; i++)
		if (v->routes[i].table == main_table)
			k[m++] = (struct keyed){.key = v->routes[i].oif, .at = i};
	if (!(x->routes = sort_keyed(k, m)))
		goto fail;
	x->n_routes = m;
	free(k);
	return 0;
fail:
	free(k);
	vindex_clear(x);
	return -ENOMEM;
}

void vindex_clear(struct rr_vindex *x)
{
	free(x->by_name);
	free(x->by_index);
	free(x->addrs);
	free(x->routes);
	*x = (struct rr_vindex){0};
}

const struct rr_link *vindex_link_by_name(const struct rr_vindex *x, const char *name)
{
	struct rr_link key = {0};
	const struct rr_link *kp = &key, **r;

	snprintf(key.name, sizeof(key.name), "%s", name);
	r = bsearch(&kp, x->by_name, x->v->n_links, sizeof(*x->by_name), link_name_cmp);
	return r ? *r : NULL;
}

const struct rr_link *vindex_link_by_index(const struct rr_vindex *x, int ifindex)
{
	struct rr_link key = {.ifindex = ifindex};
	const struct rr_link *kp = &key, **r;

	r = bsearch(&kp, x->by_index, x->v->n_links, sizeof(*x->by_index), link_index_cmp);
	return r ? *r : NULL;
}

/* The first of idx[0..n) whose key is >= ifindex, then how many equal it. */
static size_t range(const size_t *idx, size_t n, int ifindex, int (*key)(const struct rr_view *, size_t),
		    const struct rr_view *v, size_t *first)
{
	size_t lo = 0, hi = n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key(v, idx[mid]) < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < n && key(v, idx[end]) == ifindex; end++)
		;
	*first = lo;
	return end - lo;
}

static int addr_key(const struct rr_view *v, size_t i)
{
	return v->addrs[i].ifindex;
}

static int route_key(const struct rr_view *v, size_t i)
{
	return v->routes[i].oif;
}

size_t vindex_addrs(const struct rr_vindex *x, int ifindex, size_t *first)
{
	return range(x->addrs, x->v->n_addrs, ifindex, addr_key, x->v, first);
}

size_t vindex_routes(const struct rr_vindex *x, int oif, size_t *first)
{
	return range(x->routes, x->n_routes, oif, route_key, x->v, first);
}
