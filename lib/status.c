/* SPDX-License-Identifier: MIT */
/*
 * --status, the gathering: the daemon's state file, the desired state and
 * the plan against the kernel now (engine_inspect(), which changes nothing),
 * and per interface what differs, its sysctls and its nft counter.
 */
#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"

/* A streak of removals counts as a conflict while it goes on (conflict.c's minute). */
#define STATUS_CONFLICT_USEC (60 * 1000000ULL)

__attribute__((format(printf, 3, 4)))
static int diff_add(char ***v, size_t *n, const char *fmt, ...)
{
	char **p = realloc(*v, (*n + 1) * sizeof(**v));
	va_list ap;
	int r;

	if (!p)
		return -ENOMEM;
	*v = p;
	va_start(ap, fmt);
	r = vasprintf(&p[*n], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void diffs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The interface an object belongs to: by table; a rule without one of ours, by mark. */
static struct status_iface *iface_of(struct status *st, uint32_t table, const struct rr_rule *rule)
{
	for (size_t i = 0; i < st->n_ifaces; i++)
		if (st->ifaces[i].table && st->ifaces[i].table == table)
			return &st->ifaces[i];
	for (size_t i = 0; rule && i < st->n_ifaces; i++)
		if (rule->fwmark == st->ifaces[i].conf->mark && rule->fwmask == st->config->mask)
			return &st->ifaces[i];
	return NULL;
}

static int diff_object(struct status *st, const char *what, const struct rr_rule *rule,
		       const struct rr_route *route, const struct rr_view *v)
{
	struct status_iface *x = iface_of(st, rule ? rule->table : route->table, rule);
	char text[256];

	if (rule)
		rule_format(rule, text, sizeof(text));
	else
		route_format(route, v, text, sizeof(text));
	if (x)
		return diff_add(&x->diffs, &x->n_diffs, "%s %s %s", what, rule ? "rule" : "route",
				text);
	return diff_add(&st->diffs, &st->n_diffs, "%s %s %s", what, rule ? "rule" : "route", text);
}

/* The plan against the kernel, object by object, as differences of their interface. */
static int status_diffs(struct status *st, const struct rr_inspection *in)
{
	const struct rr_plan *p = &in->plan;
	int r = 0;

	for (size_t i = 0; r == 0 && i < p->add.n_rules; i++)
		r = diff_object(st, "missing:", &p->add.rules[i], NULL, in->view);
	for (size_t i = 0; r == 0 && i < p->del.n_rules; i++)
		r = diff_object(st, "not wanted:", &p->del.rules[i], NULL, in->view);
	for (size_t i = 0; r == 0 && i < p->add.n_routes; i++)
		r = diff_object(st, p->routes_replace[i] ? "differs, should be:" : "missing:", NULL,
				&p->add.routes[i], in->view);
	for (size_t i = 0; r == 0 && i < p->del.n_routes; i++)
		r = diff_object(st, "not wanted:", NULL, &p->del.routes[i], in->view);
	for (size_t i = 0; r == 0 && i < p->conflicts.n_routes; i++)
		r = diff_object(st, "foreign, holds the place of one of ours:", NULL,
				&p->conflicts.routes[i], in->view);
	for (size_t i = 0; r == 0 && i < p->n_sysctl_set; i++) {
		const struct rr_sysctl_change *c = &p->sysctl_set[i];

		for (size_t j = 0; r == 0 && j < st->n_ifaces; j++)
			if (!strcmp(st->ifaces[j].conf->name, c->name))
				r = diff_add(&st->ifaces[j].diffs, &st->ifaces[j].n_diffs,
					     "src_valid_mark is %d, replyroute sets %d", c->found,
					     c->value);
	}
	for (size_t i = 0; r == 0 && i < p->n_sysctl_restore; i++)
		r = diff_add(&st->diffs, &st->n_diffs, "src_valid_mark of %s to be restored to %d",
			     VALUE_NAME_SHOWN(p->sysctl_restore[i].name), p->sysctl_restore[i].value);
	/* The marking is everyone's: a table that differs makes no interface right. */
	for (size_t j = 0; r == 0 && !st->nft_in_sync && j < st->n_ifaces; j++)
		r = diff_add(&st->ifaces[j].diffs, &st->ifaces[j].n_diffs,
			     st->nft_present ? "nft table inet replyroute differs from replyroute's"
					     : "nft table inet replyroute missing");
	return r;
}

static void status_sysctl(const struct status_probe *probe, const char *name, const char *key,
			  struct status_sysctl *s)
{
	*s = (struct status_sysctl){-1, -1, -1};
	if (probe->sysctl(probe->data, "all", key, &s->all) < 0)
		s->all = -1;
	if (probe->sysctl(probe->data, name, key, &s->iface) < 0)
		s->iface = -1;
	/* The kernel uses the larger of the two (rp_filter, src_valid_mark alike). */
	if (s->all >= 0 && s->iface >= 0)
		s->effective = s->all > s->iface ? s->all : s->iface;
}

/* The packets counted in chain ct_MARK of a listing with counters: the new connections marked. */
static bool status_counter(const char *listing, uint32_t mark, uint64_t *ret)
{
	char head[32];
	const char *p, *end, *c;

	snprintf(head, sizeof(head), "chain ct_%#x {", mark);
	if (!listing || !(p = strstr(listing, head)))
		return false;
	end = strchr(p, '}');
	c = strstr(p, "counter packets ");
	if (!c || (end && c > end))
		return false;
	return sscanf(c, "counter packets %" SCNu64, ret) == 1;
}

/* The daemon: its state file, and whether it runs (the lock's holder, not taken). */
static void status_daemon(struct status *st, const struct status_probe *probe)
{
	int holder = probe->lock_holder(probe->data);

	st->state_error = probe->state(probe->data, &st->daemon);
	if (st->state_error < 0)
		st->daemon = (struct statefile){0};
	st->pid = holder > 0 ? holder : st->daemon.pid;
	st->running = holder > 0;
	/* A state file of a process that no longer holds the lock is a leftover. */
	st->stale = st->state_error == 0 && st->daemon.pid != holder;
	/* Not valid: not what the daemon runs, whatever that is. */
	st->config_changed = st->running && !st->stale &&
			     (!st->config ||
			      st->daemon.config_hash != statefile_config_hash(st->config));
}

static void status_iface_daemon(struct status *st, struct status_iface *x)
{
	bool conflict = false;

	if (!st->running || st->stale)
		return;
	for (size_t i = 0; i < st->daemon.n_ifaces; i++)
		if (!strcmp(st->daemon.ifaces[i].name, x->conf->name))
			x->daemon = &st->daemon.ifaces[i];
	x->removals = calloc(st->daemon.n_removals + 1, sizeof(*x->removals));
	for (size_t i = 0; x->removals && i < st->daemon.n_removals; i++) {
		const struct statefile_removal *m = &st->daemon.removals[i];

		if (strcmp(m->iface, x->conf->name))
			continue;
		x->removals[x->n_removals++] = m;
		conflict |= m->streak >= 2 && st->now - m->last < STATUS_CONFLICT_USEC;
	}
	if (conflict && !strcmp(x->state, "active"))
		x->state = "conflict";
}

static int status_ifaces(struct status *st, const struct rr_inspection *in,
			 const struct status_probe *probe)
{
	char *listing = NULL;
	int r;

	st->n_ifaces = in->desired.n_ifaces;
	st->ifaces = calloc(st->n_ifaces + 1, sizeof(*st->ifaces));
	if (!st->ifaces)
		return -ENOMEM;
	if (probe->counters(probe->data, &listing) < 0)
		listing = NULL;
	for (size_t i = 0; i < st->n_ifaces; i++) {
		const struct rr_iface_status *d = &in->desired.ifaces[i];
		struct status_iface *x = &st->ifaces[i];

		x->conf = d->conf;
		x->state = statefile_state_name(d->state);
		x->table = d->table;
		for (unsigned f = 0; f < 2; f++)
			x->fam[f] = (struct status_family){d->src[f], d->gw[f], d->p2p[f]};
		status_sysctl(probe, d->conf->name, "rp_filter", &x->rp_filter);
		status_sysctl(probe, d->conf->name, "src_valid_mark", &x->src_valid_mark);
		x->counted = status_counter(listing, d->conf->mark, &x->new_conns);
	}
	free(listing);
	if ((r = status_diffs(st, in)) < 0)
		return r;
	for (size_t i = 0; i < st->n_ifaces; i++) {
		struct status_iface *x = &st->ifaces[i];

		for (size_t j = 0; j < in->plan.conflicts.n_routes; j++)
			if (in->plan.conflicts.routes[j].table == x->table && !strcmp(x->state, "active"))
				x->state = "conflict";
		status_iface_daemon(st, x);
	}
	return 0;
}

int status_gather(struct status *st, const char *config_path, const struct rr_config *c,
		  struct rr_engine *e, const struct status_probe *probe)
{
	struct rr_inspection in;
	int r;

	*st = (struct status){
		.config = c,
		.config_path = c ? c->path : config_path,
		.now = probe->now(probe->data),
	};
	status_daemon(st, probe);
	/* Without a config there is no desired state to hold the kernel against. */
	if (!c)
		return 0;
	if ((r = engine_inspect(e, &in)) < 0)
		return r;
	st->nft_present = in.nft_present;
	st->nft_in_sync = in.plan.nft == RR_NFT_KEEP;
	r = status_ifaces(st, &in, probe);
	engine_inspection_clear(&in);
	return r;
}

void status_clear(struct status *st)
{
	for (size_t i = 0; st->ifaces && i < st->n_ifaces; i++) {
		diffs_free(st->ifaces[i].diffs, st->ifaces[i].n_diffs);
		free(st->ifaces[i].removals);
	}
	free(st->ifaces);
	diffs_free(st->diffs, st->n_diffs);
	statefile_clear(&st->daemon);
	*st = (struct status){0};
}

bool status_in_sync(const struct status *st)
{
	for (size_t i = 0; i < st->n_ifaces; i++)
		if (st->ifaces[i].n_diffs)
			return false;
	return st->nft_in_sync && !st->n_diffs;
}
