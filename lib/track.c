/* SPDX-License-Identifier: MIT */
/*
 * What the daemon publishes for `--status` (statefile.h): each interface's
 * STATUS clause and since when it holds, and the removals of our objects by
 * someone else, attributed to the interface they belong to.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine-private.h"
#include "value.h"

/* d's clause for interface i, without the "NAME: " desired_status() puts first. */
static void track_clause(const struct rr_desired *d, size_t i, char *buf, size_t len)
{
	const struct rr_desired one = {.ifaces = &d->ifaces[i], .n_ifaces = 1};
	char text[STATEFILE_TEXT + VALUE_NAME_ESCAPED + 2];
	/* Names hold no ':' (the kernel refuses it): the first ": " ends the name. */
	const char *p;

	desired_status(&one, text, sizeof(text));
	p = strstr(text, ": ");
	snprintf(buf, len, "%.*s", STATEFILE_TEXT - 1, p ? p + 2 : text);
}

/* By name, then position: the first of a name comes first. */
static int track_ptr_cmp(const void *a, const void *b)
{
	const struct iface_track *x = *(const struct iface_track *const *)a;
	const struct iface_track *y = *(const struct iface_track *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x > y) - (x < y);
}

/* The first of e's tracks named name, in by (e's tracks sorted by track_ptr_cmp). */
static const struct iface_track *track_find(const struct rr_engine *e,
					    const struct iface_track **by, const char *name)
{
	size_t lo = 0, hi = e->n_track;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(by[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < e->n_track && !strcmp(by[lo]->name, name) ? by[lo] : NULL;
}

/* Each interface found in the last tracks by a binary search: n log n per reconcile, not n^2. */
void engine_track(struct rr_engine *e, const struct rr_desired *d)
{
	struct iface_track *t = calloc(d->n_ifaces ? d->n_ifaces : 1, sizeof(*t));
	const struct iface_track **by = malloc((e->n_track + 1) * sizeof(*by));
	uint64_t now = engine_realtime();

	if (!t || !by) {
		free(t);
		free(by);
		return; /* the times of the last changes are lost, nothing else */
	}
	for (size_t i = 0; i < e->n_track; i++)
		by[i] = &e->track[i];
	qsort(by, e->n_track, sizeof(*by), track_ptr_cmp);
	for (size_t i = 0; i < d->n_ifaces; i++) {
		const struct iface_track *old = track_find(e, by, d->ifaces[i].conf->name);

		memcpy(t[i].name, d->ifaces[i].conf->name, IFNAMSIZ);
		t[i].state = d->ifaces[i].state;
		t[i].table = d->ifaces[i].table;
		t[i].mark = d->ifaces[i].conf->mark;
		track_clause(d, i, t[i].clause, sizeof(t[i].clause));
		if (old && !strcmp(old->clause, t[i].clause)) {
			memcpy(t[i].was, old->was, sizeof(t[i].was));
			t[i].since = old->since;
		} else {
			memcpy(t[i].was, old ? old->clause : "", old ? sizeof(t[i].was) : 1);
			t[i].since = now;
		}
	}
	free(by);
	free(e->track);
	e->track = t;
	e->n_track = d->n_ifaces;
}

/* The configured interface a removed object belongs to: by table, else (a rule) by mark. */
static const char *removal_iface(const struct rr_engine *e, const struct rr_removal *w)
{
	uint32_t table = w->rule ? w->r.table : w->rt.table;

	for (size_t i = 0; i < engine_n_ifaces(e); i++)
		if (e->tables[i] && e->tables[i] == table)
			return e->config->ifaces[i].name;
	for (size_t i = 0; w->rule && i < engine_n_ifaces(e); i++)
		if (w->r.fwmask == e->config->mask && w->r.fwmark == e->config->ifaces[i].mark)
			return e->config->ifaces[i].name;
	return "";
}

int engine_state(const struct rr_engine *e, struct statefile *s)
{
	size_t n = e->n_removals < STATEFILE_MAX_REMOVALS ? e->n_removals : STATEFILE_MAX_REMOVALS;

	s->ifaces = calloc(e->n_track ? e->n_track : 1, sizeof(*s->ifaces));
	s->removals = calloc(n ? n : 1, sizeof(*s->removals));
	if (!s->ifaces || !s->removals)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_track; i++) {
		const struct iface_track *t = &e->track[i];
		struct statefile_iface *x = &s->ifaces[i];

		memcpy(x->name, t->name, IFNAMSIZ);
		x->state = t->state;
		x->table = t->table;
		x->mark = t->mark;
		x->since = t->since;
		memcpy(x->was, t->was, sizeof(x->was));
	}
	s->n_ifaces = e->n_track;
	for (size_t i = 0; i < n; i++) {
		const struct removal *m = &e->removals[i];
		struct statefile_removal *x = &s->removals[i];

		snprintf(x->iface, sizeof(x->iface), "%s", removal_iface(e, &m->what));
		x->rule = m->what.rule;
		x->total = m->total;
		x->streak = m->count;
		x->last = m->last_realtime;
		snprintf(x->who, sizeof(x->who), "%s", m->who);
		removal_describe(e, m, x->what, sizeof(x->what));
	}
	s->n_removals = n;
	/* The table counts as ours while the store records that we installed it. */
	s->nft_owned = e->nft_record.mask != 0;
	return 0;
}
