/* SPDX-License-Identifier: MIT */
/*
 * Conflicts: objects of ours that someone else removes (counted per object,
 * re-added with a growing hold-back, named with the remover) or shadows (a
 * foreign route with the key of ours in our table: left alone, reported).
 */
#include <stdlib.h>
#include <string.h>

#include "engine-private.h"
#include "log.h"
#include "value.h"

static bool removal_same(const struct rr_removal *a, bool rule, const struct rr_rule *r,
			 const struct rr_route *rt)
{
	if (a->rule != rule)
		return false;
	return rule ? rule_same_key(&a->r, r) : route_same_key(&a->rt, rt);
}

static struct removal *removal_find(const struct rr_engine *e, bool rule, const struct rr_rule *r,
				    const struct rr_route *rt)
{
	for (size_t i = 0; i < e->n_removals; i++)
		if (removal_same(&e->removals[i].what, rule, r, rt))
			return &e->removals[i];
	return NULL;
}

void removal_describe(const struct rr_engine *e, const struct removal *m, char *buf, size_t len)
{
	char text[256];

	if (m->what.rule)
		rule_format(&m->what.r, text, sizeof(text));
	else
		route_format(&m->what.rt, &e->view, text, sizeof(text));
	snprintf(buf, len, "%s %s", m->what.rule ? "rule" : "route", text);
}

void engine_note_removal(struct rr_engine *e, const struct rr_removal *rm, const char *who)
{
	struct removal *m = removal_find(e, rm->rule, &rm->r, &rm->rt);
	uint64_t now = engine_now(), hold = 0;
	char what[300], when[32] = "now";

	if (!m) {
		struct removal *v = realloc(e->removals, (e->n_removals + 1) * sizeof(*v));

		if (!v)
			return; /* only the bookkeeping is lost: it is re-added all the same */
		e->removals = v;
		m = &e->removals[e->n_removals++];
		*m = (struct removal){.what = *rm};
	}
	if (m->count && now - m->last > REMOVAL_QUIET_USEC)
		m->count = 0; /* a removal long after the last one starts a new count */
	m->count++;
	m->total++;
	m->last = now;
	m->last_realtime = engine_realtime();
	snprintf(m->who, sizeof(m->who), "%s", who);
	if (m->count >= 3) {
		hold = REMOVAL_HOLD_MIN_USEC << (m->count - 3 < 9 ? m->count - 3 : 9);
		if (hold > REMOVAL_HOLD_MAX_USEC)
			hold = REMOVAL_HOLD_MAX_USEC;
	}
	m->hold_until = hold ? now + hold : 0;
	/* The first two, then at each power of two: a loop against us never floods the log. */
	if (m->count > 2 && (m->count & (m->count - 1)))
		return;
	removal_describe(e, m, what, sizeof(what));
	if (hold)
		snprintf(when, sizeof(when), "in %.1f s", (double)hold / 1e6);
	log_warning("%s of replyroute was removed by %s (%u time%s), re-adding it %s; if a "
		    "network manager does this, tell it to leave foreign rules and routes alone "
		    "(systemd-networkd: ManageForeignRoutingPolicyRules=no, ManageForeignRoutes=no "
		    "in networkd.conf; NetworkManager: no ipv4.route-table/ipv6.route-table equal "
		    "to replyroute's table)",
		    what, who, m->count, m->count == 1 ? "" : "s", when);
}

uint64_t engine_hold_until(const struct rr_engine *e)
{
	uint64_t now = engine_now(), t = 0;

	for (size_t i = 0; i < e->n_removals; i++)
		if (e->removals[i].hold_until > now && (!t || e->removals[i].hold_until < t))
			t = e->removals[i].hold_until;
	return t;
}

/* Additions of objects whose re-add is held back leave the plan (the daemon comes back for them). */
void engine_hold_back(struct rr_engine *e, struct rr_plan *p)
{
	uint64_t now = engine_now();
	size_t n = 0;

	for (size_t i = 0; i < p->add.n_rules; i++) {
		const struct removal *m = removal_find(e, true, &p->add.rules[i], NULL);

		if (!m || m->hold_until <= now)
			p->add.rules[n++] = p->add.rules[i];
	}
	p->add.n_rules = n;
	n = 0;
	for (size_t i = 0; i < p->add.n_routes; i++) {
		const struct removal *m = removal_find(e, false, NULL, &p->add.routes[i]);

		if (m && m->hold_until > now)
			continue;
		p->routes_replace[n] = p->routes_replace[i];
		p->add.routes[n++] = p->add.routes[i];
	}
	p->add.n_routes = n;
}

/*
 * Foreign routes with the key of ours in our tables: named at warning level
 * when they appear (not on every reconcile) and kept in STATUS while they
 * stay; removals by someone else, in STATUS while they go on.
 */
void engine_conflicts(struct rr_engine *e, const struct rr_plan *p)
{
	char now[sizeof(e->conflicts)] = "", buf[256];
	size_t at = 0;

	for (size_t i = 0; i < p->conflicts.n_routes && at < sizeof(now); i++) {
		route_format(&p->conflicts.routes[i], &e->view, buf, sizeof(buf));
		at += (size_t)snprintf(now + at, sizeof(now) - at, "%sforeign route %s holds the place of replyroute's own",
				       i ? ", " : "", buf);
		if (!strstr(e->conflicts, buf))
			log_warning("conflict: route %s is not replyroute's (proto %u) but holds the "
				    "key of one of its routes in table %u: marked replies follow it, "
				    "not the interface's gateway; remove it or use another table",
				    buf, p->conflicts.routes[i].protocol, p->conflicts.routes[i].table);
	}
	for (size_t i = 0; i < e->n_removals && at < sizeof(now); i++) {
		const struct removal *m = &e->removals[i];

		/* While it goes on: a minute without a removal clears it (the watchdog tick looks). */
		if (m->count < 2 || engine_now() - m->last >= REMOVAL_QUIET_USEC)
			continue;
		removal_describe(e, m, buf, sizeof(buf));
		at += (size_t)snprintf(now + at, sizeof(now) - at, "%s%s removed %u times by %s",
				       at ? ", " : "", buf, m->count, m->who);
	}
	if (!now[0] && e->conflicts[0])
		log_info("conflict resolved: nothing holds or keeps removing replyroute's objects any more");
	memcpy(e->conflicts, now, sizeof(now));
	if (now[0]) {
		size_t l = strlen(e->status);

		snprintf(e->status + l, sizeof(e->status) - l, "; conflict: %s", now);
	}
}

