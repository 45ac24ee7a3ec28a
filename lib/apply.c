/* SPDX-License-Identifier: MIT */
/*
 * Apply: a plan's changes through a back end, in the one fixed order, with
 * what counts as converged, and what must be remembered (the store, the
 * engine's view of the nft table and sysctls) after each change.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "engine-private.h"
#include "log.h"
#include "value.h"
#include "retry.h"

/* More changes than this in one apply: one line each at debug level, a summary at info. */
#define APPLY_LOG_EACH 32

/* One apply: through be (the engine's, or a printer); commit: keep what was done (not --dry-run). */
struct apply {
	struct rr_engine *e;
	const struct rr_backend *be;
	bool commit;
	int changes, err;
	int each; /* the level of one change's line: 7 when a summary follows */
};

/* A change made: one log line, unless it was only printed (--dry-run says it all). */
__attribute__((format(printf, 3, 4)))
static void apply_done(const struct apply *a, int level, const char *fmt, ...)
{
	va_list ap;

	if (!a->commit)
		return;
	va_start(ap, fmt);
	log_msgv(level, fmt, ap);
	va_end(ap);
}

static void apply_failed(struct apply *a, int r)
{
	a->err = a->err ?: r;
}

static void apply_saved_add(struct rr_engine *e, const struct rr_saved_sysctl *s)
{
	struct rr_saved_sysctl *v = realloc(e->saved, (e->n_saved + 1) * sizeof(*v));

	if (!v)
		return; /* the store has it: a restart would still find it */
	e->saved = v;
	e->saved[e->n_saved++] = *s;
}

static void apply_saved_forget(struct rr_engine *e, int ifindex)
{
	for (size_t i = 0; i < e->n_saved; i++)
		if (e->saved[i].ifindex == ifindex) {
			e->saved[i] = e->saved[--e->n_saved];
			return;
		}
}

static void apply_sysctl_set(struct apply *a, const struct rr_sysctl_change *c, bool saved)
{
	struct rr_engine *e = a->e;
	struct rr_saved_sysctl s = {.ifindex = c->ifindex, .value = c->found};
	int r;

	memcpy(s.name, c->name, IFNAMSIZ);
	/* The value found went to the store before it is overwritten, or it is not overwritten. */
	if (a->commit && c->save && !saved)
		return;
	if (a->commit && c->save)
		apply_saved_add(e, &s);
	r = a->be->ops->sysctl_set(a->be->data, c->name, c->value);
	if (r == -ENOENT)
		return; /* gone since the dump: a link event follows */
	if (r < 0) {
		log_error("sysctl net.ipv4.conf.%s.src_valid_mark: %s", VALUE_NAME_SHOWN(c->name),
			  strerror(-r));
		return apply_failed(a, r);
	}
	if (c->drift)
		apply_done(a, 4, "sysctl net.ipv4.conf.%s.src_valid_mark was reset to %d by someone "
			   "else (drift), set to %d again", VALUE_NAME_SHOWN(c->name), c->found,
			   c->value);
	else
		apply_done(a, a->each, "sysctl net.ipv4.conf.%s.src_valid_mark=%d",
			   VALUE_NAME_SHOWN(c->name), c->value);
	a->changes++;
	for (size_t i = 0; a->commit && i < e->n_sysctls; i++)
		if (e->sysctls[i].ifindex == c->ifindex)
			e->sysctls[i].value = c->value;
}

/* The values found, to the store in one go, before any is overwritten. */
static bool apply_sysctl_save(struct apply *a, const struct rr_plan *p)
{
	struct rr_saved_sysctl *v = calloc(p->n_sysctl_set + 1, sizeof(*v));
	size_t n = 0;
	int r;

	if (!v) {
		apply_failed(a, -ENOMEM);
		return false;
	}
	for (size_t i = 0; a->commit && i < p->n_sysctl_set; i++) {
		const struct rr_sysctl_change *c = &p->sysctl_set[i];

		if (!c->save)
			continue;
		v[n] = (struct rr_saved_sysctl){.ifindex = c->ifindex, .value = c->found};
		memcpy(v[n++].name, c->name, IFNAMSIZ);
	}
	r = store_sysctl_save_many(a->e->statedir, v, n);
	free(v);
	if (r < 0) {
		log_error("cannot save src_valid_mark in %s: %s", a->e->statedir, strerror(-r));
		apply_failed(a, r);
		return false;
	}
	return true;
}

static void apply_sysctl_restore(struct apply *a, const struct rr_sysctl_change *c)
{
	int r = 0;

	if (c->write) {
		r = a->be->ops->sysctl_set(a->be->data, c->name, c->value);
		if (r < 0 && r != -ENOENT) {
			log_error("sysctl net.ipv4.conf.%s.src_valid_mark: cannot restore %d: %s",
				  VALUE_NAME_SHOWN(c->name), c->value, strerror(-r));
			return apply_failed(a, r); /* kept in the store: tried again */
		}
		if (r == 0) {
			apply_done(a, a->each, "sysctl net.ipv4.conf.%s.src_valid_mark=%d restored",
				   VALUE_NAME_SHOWN(c->name), c->value);
			a->changes++;
		}
	}
	if (a->commit) {
		(void)store_sysctl_forget(a->e->statedir, c->ifindex);
		apply_saved_forget(a->e, c->ifindex);
	}
}

/* After our own change: how the kernel lists the table now, kept in the store. */
static void apply_nft_record(struct apply *a, const struct rr_desired *d)
{
	struct rr_engine *e = a->e;
	char *listing = NULL;
	int r = a->be->ops->nft_list(a->be->data, &listing);

	ruleset_state_clear(&e->nft_record);
	e->nft = (struct rr_nft_observed){.present = r == 0, .listing_hash = ruleset_hash(listing)};
	free(listing);
	if (r < 0) {
		/* Installed, but not known as ours: the next look replaces it. */
		log_warning("nft: cannot list table inet %s after a change: %s", RULESET_TABLE,
			    engine_nft_error(e, r));
		e->pending |= RR_DIRTY_NFT;
		return;
	}
	e->nft_record = d->nft;
	e->nft_record.entries = calloc(d->nft.n_entries + 1, sizeof(*d->nft.entries));
	if (!e->nft_record.entries) {
		e->nft_record = (struct ruleset_state){0};
		return;
	}
	memcpy(e->nft_record.entries, d->nft.entries, d->nft.n_entries * sizeof(*d->nft.entries));
	e->nft_record.listing_hash = e->nft.listing_hash;
	if ((r = store_nft_write(e->statedir, &e->nft_record)) < 0)
		log_warning("cannot save nft state in %s: %s, ignoring", e->statedir, strerror(-r));
}

static void apply_nft(struct apply *a, const struct rr_desired *d, const struct rr_plan *p)
{
	struct rr_engine *e = a->e;
	const char *commands = p->nft_commands;
	char *replace = NULL;
	enum rr_nft_action done = p->nft;
	int r = a->be->ops->nft_apply(a->be->data, commands);

	if (r < 0 && p->nft == RR_NFT_DELTA) {
		log_warning("nft: delta failed (%s), replacing the table", engine_nft_error(e, r));
		if ((r = ruleset_replace_commands(d->nft_text, &replace)) == 0)
			r = a->be->ops->nft_apply(a->be->data, replace);
		free(replace);
		done = RR_NFT_REPLACE;
	}
	if (r == 0 && done == RR_NFT_DELTA)
		apply_done(a, 6, "nft: updated table inet %s for the changed interfaces",
			   RULESET_TABLE);
	else if (r == 0 && done == RR_NFT_REPLACE)
		apply_done(a, 6, "nft: installed table inet %s (%zu interface%s)", RULESET_TABLE,
			   d->nft.n_entries, d->nft.n_entries == 1 ? "" : "s");
	else if (r == 0)
		apply_done(a, 6, "nft: deleted table inet %s", RULESET_TABLE);
	if (r < 0) {
		log_error("nft: cannot %s table inet %s: %s",
			  p->nft == RR_NFT_DELETE ? "delete" : "install", RULESET_TABLE,
			  engine_nft_error(e, r));
		return apply_failed(a, r);
	}
	a->changes++;
	if (!a->commit)
		return;
	if (p->nft != RR_NFT_DELETE)
		return apply_nft_record(a, d);
	e->nft = (struct rr_nft_observed){0};
	ruleset_state_clear(&e->nft_record);
	(void)store_nft_remove(e->statedir);
}

/* One rule or route change; adding what exists and deleting what is gone count as converged. */
static void apply_result(struct apply *a, int r, bool add, const char *what, const char *desc,
			 int level)
{
	if (add && r == -EEXIST) {
		log_debug("%s: %s exists, not ours, ignoring", what, desc);
	} else if (!add && (r == -ENOENT || r == -ESRCH)) {
		log_debug("%s: %s already gone", what, desc);
	} else if (r < 0) {
		log_msg(retry_stale_view(r) ? 4 : 3, "%s %s: %s", what, desc, strerror(-r));
		apply_failed(a, r);
	} else {
		apply_done(a, level, "%s: %s", what, desc);
		a->changes++;
	}
}


static int apply_one(const struct rr_backend *be, const struct rr_nl_op *op)
{
	const struct rr_backend_ops *ops = be->ops;

	switch (op->verb) {
	case RR_RULE_ADD: return ops->rule_add(be->data, op->rule);
	case RR_RULE_DEL: return ops->rule_del(be->data, op->rule);
	case RR_ROUTE_ADD: return ops->route_add(be->data, op->route);
	case RR_ROUTE_REPLACE: return ops->route_replace(be->data, op->route);
	case RR_ROUTE_DEL: return ops->route_del(be->data, op->route);
	}
	return -EINVAL;
}

/* Rules and routes, in plan order: one batch where the back end takes one. */
static void apply_netlink(struct apply *a, const struct rr_plan *p)
{
	size_t n = p->add.n_routes + p->add.n_rules + p->del.n_rules + p->del.n_routes, k = 0;
	struct rr_nl_op *ops = calloc(n + 1, sizeof(*ops));
	size_t done[RR_ROUTE_DEL + 1] = {0};
	char buf[256];

	if (!ops)
		return apply_failed(a, -ENOMEM);
	for (size_t i = 0; i < p->add.n_routes; i++)
		ops[k++] = (struct rr_nl_op){.verb = p->routes_replace[i] ? RR_ROUTE_REPLACE
									: RR_ROUTE_ADD,
					     .route = &p->add.routes[i]};
	for (size_t i = 0; i < p->add.n_rules; i++)
		ops[k++] = (struct rr_nl_op){.verb = RR_RULE_ADD, .rule = &p->add.rules[i]};
	for (size_t i = 0; i < p->del.n_rules; i++)
		ops[k++] = (struct rr_nl_op){.verb = RR_RULE_DEL, .rule = &p->del.rules[i]};
	for (size_t i = 0; i < p->del.n_routes; i++)
		ops[k++] = (struct rr_nl_op){.verb = RR_ROUTE_DEL, .route = &p->del.routes[i]};
	if (a->be->ops->batch && n)
		a->be->ops->batch(a->be->data, ops, n);
	else
		for (size_t i = 0; i < n; i++)
			ops[i].result = apply_one(a->be, &ops[i]);
	for (size_t i = 0; i < n; i++) {
		static const char *const what[] = {
			[RR_RULE_ADD] = "rule added",	    [RR_RULE_DEL] = "rule deleted",
			[RR_ROUTE_ADD] = "route added",	    [RR_ROUTE_REPLACE] = "route replaced",
			[RR_ROUTE_DEL] = "route deleted",
		};
		bool add = ops[i].verb != RR_RULE_DEL && ops[i].verb != RR_ROUTE_DEL;

		int before = a->changes;

		if (ops[i].rule)
			rule_format(ops[i].rule, buf, sizeof(buf));
		else
			route_format(ops[i].route, &a->e->view, buf, sizeof(buf));
		apply_result(a, ops[i].result, add, what[ops[i].verb], buf, n > APPLY_LOG_EACH ? 7 : 6);
		done[ops[i].verb] += a->changes - before;
	}
	if (n > APPLY_LOG_EACH)
		apply_done(a, 6, "routes: %zu added, %zu replaced, %zu deleted; rules: %zu added, "
			   "%zu deleted", done[RR_ROUTE_ADD], done[RR_ROUTE_REPLACE],
			   done[RR_ROUTE_DEL], done[RR_RULE_ADD], done[RR_RULE_DEL]);
	free(ops);
}

/*
 * The fixed order: src_valid_mark first (rp_filter must honour marks before
 * there are any), the nft table, routes (connected before gateway routes, see
 * plan.h), then the rules that use them; deletions after additions (rules
 * before the routes they use), so that a changed table never leaves marked
 * traffic without a rule in between; the table and sysctls of --cleanup last.
 */
int engine_apply(struct rr_engine *e, const struct rr_backend *be,
			const struct rr_desired *d, const struct rr_plan *p, bool commit)
{
	struct apply a = {.e = e, .be = be, .commit = commit};
	bool saved;

	saved = apply_sysctl_save(&a, p);
	a.each = p->n_sysctl_set > APPLY_LOG_EACH ? 7 : 6;
	for (size_t i = 0; i < p->n_sysctl_set; i++)
		apply_sysctl_set(&a, &p->sysctl_set[i], saved);
	if (p->n_sysctl_set > APPLY_LOG_EACH)
		apply_done(&a, 6, "sysctl src_valid_mark=1 on %zu interfaces", p->n_sysctl_set);
	if (p->nft == RR_NFT_DELTA || p->nft == RR_NFT_REPLACE)
		apply_nft(&a, d, p);
	apply_netlink(&a, p);
	if (p->nft == RR_NFT_DELETE)
		apply_nft(&a, d, p);
	a.each = p->n_sysctl_restore > APPLY_LOG_EACH ? 7 : 6;
	for (size_t i = 0; i < p->n_sysctl_restore; i++)
		apply_sysctl_restore(&a, &p->sysctl_restore[i]);
	if (p->n_sysctl_restore > APPLY_LOG_EACH)
		apply_done(&a, 6, "sysctl src_valid_mark restored on %zu interfaces",
			   p->n_sysctl_restore);
	/* Even a partly failed apply changed the kernel: read rules and routes again. */
	if (commit && (p->add.n_routes || p->add.n_rules || p->del.n_rules || p->del.n_routes))
		e->pending |= RR_DIRTY_ROUTES | RR_DIRTY_RULES;
	return a.err < 0 ? a.err : a.changes;
}

