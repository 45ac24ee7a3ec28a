/* SPDX-License-Identifier: MIT */
#include "recorder.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct rr_addr rec_addr(const char *s)
{
	struct rr_addr a = {0};

	if (rr_addr_parse(s, &a) < 0) {
		fprintf(stderr, "bad address in test: %s\n", s);
		exit(2);
	}
	return a;
}

void recorder_init(struct recorder *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->log_f = open_memstream(&rec->log, &rec->log_len);
	if (!rec->log_f)
		abort();
}

void recorder_done(struct recorder *rec)
{
	fclose(rec->log_f);
	free(rec->log);
	free(rec->nft_listing);
	view_clear(&rec->kernel);
}

char *recorder_take(struct recorder *rec)
{
	char *s;

	fflush(rec->log_f);
	s = strdup(rec->log ? rec->log : "");
	fclose(rec->log_f);
	free(rec->log);
	rec->log = NULL;
	rec->log_len = 0;
	rec->log_f = open_memstream(&rec->log, &rec->log_len);
	if (!s || !rec->log_f)
		abort();
	return s;
}

void recorder_link(struct recorder *rec, int ifindex, const char *name, unsigned flags)
{
	struct rr_link *l = view_add_link(&rec->kernel);

	l->ifindex = ifindex;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->flags = flags;
}

void recorder_rename(struct recorder *rec, int ifindex, const char *name)
{
	for (size_t i = 0; i < rec->kernel.n_links; i++)
		if (rec->kernel.links[i].ifindex == ifindex)
			snprintf(rec->kernel.links[i].name, IFNAMSIZ, "%s", name);
}

void recorder_addr(struct recorder *rec, int ifindex, const char *cidr)
{
	struct rr_ifaddr *a = view_add_addr(&rec->kernel);
	char buf[64];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", cidr);
	slash = strchr(buf, '/');
	*slash = '\0';
	a->ifindex = ifindex;
	a->local = rec_addr(buf);
	a->prefixlen = (uint8_t)atoi(slash + 1);
	a->scope = RT_SCOPE_UNIVERSE;
	/* As the kernel does: the prefix route in main. */
	if (a->prefixlen < (a->local.family == AF_INET ? 32 : 128)) {
		struct rr_route *r = view_add_route(&rec->kernel);
		struct rr_addr dst = rec_addr(buf);

		rr_addr_mask(&dst, a->prefixlen);
		*r = (struct rr_route){.family = dst.family, .table = RT_TABLE_MAIN, .dst = dst,
				       .dst_len = a->prefixlen, .protocol = RTPROT_KERNEL,
				       .type = RTN_UNICAST, .oif = ifindex,
				       .metric = dst.family == AF_INET ? 0 : 256,
				       .scope = dst.family == AF_INET ? RT_SCOPE_LINK
								      : RT_SCOPE_UNIVERSE};
	}
}

void recorder_default(struct recorder *rec, int ifindex, const char *gw)
{
	struct rr_route *r = view_add_route(&rec->kernel);

	r->gw = rec_addr(gw);
	r->family = r->gw.family;
	r->dst.family = r->family;
	r->table = RT_TABLE_MAIN;
	r->protocol = RTPROT_BOOT;
	r->type = RTN_UNICAST;
	r->oif = ifindex;
}

void recorder_nft_tamper(struct recorder *rec)
{
	char *s = NULL;

	if (asprintf(&s, "%s# tampered\n", rec->nft_listing ? rec->nft_listing : "") < 0)
		abort();
	free(rec->nft_listing);
	rec->nft_listing = s;
}

/* Record a call; returns the injected failure for it, or 0. */
static int rec_call(struct recorder *rec, const char *line)
{
	fprintf(rec->log_f, "%s\n", line);
	if (rec->fail_count > 0 && rec->fail_prefix &&
	    strncmp(line, rec->fail_prefix, strlen(rec->fail_prefix)) == 0) {
		rec->fail_count--;
		return rec->fail_errno;
	}
	return 0;
}

static bool rec_table_wanted(const uint32_t *tables, size_t n, uint32_t t)
{
	for (size_t i = 0; tables && i < n; i++)
		if (tables[i] == t)
			return true;
	return !tables;
}

static int rec_dump(void *data, struct rr_view *v, unsigned parts, const uint32_t *tables,
		    size_t n_tables)
{
	struct recorder *rec = data;
	const struct rr_view *k = &rec->kernel;

	if (rec->dump_fail_count > 0) {
		rec->dump_fail_count--;
		return rec->dump_fail_errno;
	}
#define COPY(part, arr, n)                                                      \
	if (parts & (part)) {                                                   \
		free(v->arr);                                                   \
		v->arr = calloc(k->n + 1, sizeof(*k->arr));                     \
		if (!v->arr)                                                    \
			return -ENOMEM;                                         \
		if (k->n)                                                       \
			memcpy(v->arr, k->arr, k->n * sizeof(*k->arr));         \
		v->n = k->n;                                                    \
	}
	COPY(RR_PART_LINKS, links, n_links)
	COPY(RR_PART_ADDRS, addrs, n_addrs)
	COPY(RR_PART_ROUTES, routes, n_routes)
	COPY(RR_PART_RULES, rules, n_rules)
#undef COPY
	/* As the kernel's strict dump: only the tables asked for. */
	if (parts & RR_PART_ROUTES) {
		size_t n = 0;

		for (size_t i = 0; i < v->n_routes; i++)
			if (rec_table_wanted(tables, n_tables, v->routes[i].table))
				v->routes[n++] = v->routes[i];
		v->n_routes = n;
		rec->dumped_tables = tables ? n_tables : 0;
	}
	return 0;
}

static ssize_t rec_find_rule(const struct recorder *rec, const struct rr_rule *r)
{
	for (size_t i = 0; i < rec->kernel.n_rules; i++)
		if (rule_same(&rec->kernel.rules[i], r))
			return (ssize_t)i;
	return -1;
}

static int rec_rule(void *data, const struct rr_rule *r, bool add)
{
	struct recorder *rec = data;
	char line[320];
	ssize_t i = rec_find_rule(rec, r);
	int err;

	backend_format_rule(add ? "add" : "del", r, line, sizeof(line));
	if ((err = rec_call(rec, line)) < 0)
		return err;
	if (add && i >= 0)
		return -EEXIST;
	if (!add && i < 0)
		return -ENOENT;
	if (add)
		*view_add_rule(&rec->kernel) = *r;
	else
		rec->kernel.rules[i] = rec->kernel.rules[--rec->kernel.n_rules];
	return 0;
}

static int rec_rule_add(void *data, const struct rr_rule *r)
{
	return rec_rule(data, r, true);
}

static int rec_rule_del(void *data, const struct rr_rule *r)
{
	return rec_rule(data, r, false);
}

static ssize_t rec_find_route(const struct recorder *rec, const struct rr_route *r)
{
	for (size_t i = 0; i < rec->kernel.n_routes; i++)
		if (route_same_key(&rec->kernel.routes[i], r))
			return (ssize_t)i;
	return -1;
}

static int rec_route(void *data, const struct rr_route *r, const char *verb)
{
	struct recorder *rec = data;
	char line[320];
	ssize_t i = rec_find_route(rec, r);
	int err;

	backend_format_route(verb, r, &rec->kernel, line, sizeof(line));
	if ((err = rec_call(rec, line)) < 0)
		return err;
	if (verb[0] == 'a' && i >= 0)
		return -EEXIST;
	if (verb[0] == 'd') {
		if (i < 0)
			return -ESRCH;
		rec->kernel.routes[i] = rec->kernel.routes[--rec->kernel.n_routes];
		return 0;
	}
	if (i >= 0)
		rec->kernel.routes[i] = *r;
	else
		*view_add_route(&rec->kernel) = *r;
	return 0;
}

static int rec_route_add(void *data, const struct rr_route *r)
{
	return rec_route(data, r, "add");
}

static int rec_route_replace(void *data, const struct rr_route *r)
{
	return rec_route(data, r, "replace");
}

static int rec_route_del(void *data, const struct rr_route *r)
{
	return rec_route(data, r, "del");
}

static int rec_nft_list(void *data, char **ret)
{
	struct recorder *rec = data;

	*ret = NULL;
	if (!rec->nft_present)
		return -ENOENT;
	*ret = strdup(rec->nft_listing ? rec->nft_listing : "");
	return *ret ? 0 : -ENOMEM;
}

/* "nft replace table", "nft delete table", or each command of a delta. */
static int rec_nft_apply(void *data, const char *commands)
{
	struct recorder *rec = data;
	char *s = NULL;
	int err;

	if (strncmp(commands, "table inet replyroute\ndelete table", 34) == 0) {
		if ((err = rec_call(rec, "nft replace table inet replyroute")) < 0)
			return err;
		rec->nft_present = true;
		free(rec->nft_listing);
		rec->nft_listing = strdup(commands);
		return 0;
	}
	if (strncmp(commands, "delete table inet replyroute", 28) == 0) {
		if ((err = rec_call(rec, "nft delete table inet replyroute")) < 0)
			return err;
		if (!rec->nft_present)
			return -ENOENT;
		rec->nft_present = false;
		return 0;
	}
	for (const char *p = commands; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];

		snprintf(line, sizeof(line), "nft %.*s", (int)n, p);
		if ((err = rec_call(rec, line)) < 0)
			return err;
		p += n + (nl != NULL);
	}
	if (!rec->nft_present)
		return -ENOENT;
	if (asprintf(&s, "%s%s", rec->nft_listing, commands) < 0)
		return -ENOMEM;
	free(rec->nft_listing);
	rec->nft_listing = s;
	return 0;
}

static int rec_ifindex(const struct recorder *rec, const char *ifname)
{
	const struct rr_link *l = view_link_by_name(&rec->kernel, ifname);

	return l && l->ifindex < REC_MAX_IFINDEX ? l->ifindex : -1;
}

static int rec_sysctl_get(void *data, const char *ifname, int *ret)
{
	struct recorder *rec = data;
	int i = rec_ifindex(rec, ifname);

	if (i < 0)
		return -ENOENT;
	*ret = rec->sysctl[i];
	return 0;
}

static int rec_sysctl_set(void *data, const char *ifname, int value)
{
	struct recorder *rec = data;
	int i = rec_ifindex(rec, ifname), err;
	char line[128];

	snprintf(line, sizeof(line), "sysctl net.ipv4.conf.%s.src_valid_mark=%d", ifname, value);
	if ((err = rec_call(rec, line)) < 0)
		return err;
	if (i < 0)
		return -ENOENT;
	rec->sysctl[i] = value;
	return 0;
}

static const struct rr_backend_ops recorder_ops = {
	.dump = rec_dump,
	.rule_add = rec_rule_add,
	.rule_del = rec_rule_del,
	.route_add = rec_route_add,
	.route_replace = rec_route_replace,
	.route_del = rec_route_del,
	.nft_list = rec_nft_list,
	.nft_apply = rec_nft_apply,
	.sysctl_get = rec_sysctl_get,
	.sysctl_set = rec_sysctl_set,
};

struct rr_backend recorder_backend(struct recorder *rec)
{
	return (struct rr_backend){.ops = &recorder_ops, .data = rec};
}
