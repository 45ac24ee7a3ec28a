/* SPDX-License-Identifier: MIT */
#include "engine.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "plan.h"
#include "retry.h"
#include "rr-build.h"
#include "store.h"
#include "value.h"

#define REMOVAL_QUIET_USEC (60 * 1000000ULL)
#define REMOVAL_HOLD_MIN_USEC (100 * 1000ULL)
#define REMOVAL_HOLD_MAX_USEC (30 * 1000000ULL)

/* An object of ours that someone else keeps removing. */
struct removal {
	struct rr_removal what;
	unsigned count;
	uint64_t last, hold_until;
	char who[64];
};

struct rr_engine {
	struct rr_config *config; /* immutable; NULL: nothing configured */
	uint32_t *tables;         /* per configured interface: configured or allocated */
	struct rr_backend be;
	char *statedir;
	unsigned pending;         /* RR_DIRTY_*: read again and apply before it is clear */
	bool view_valid;
	struct rr_view view;
	struct rr_nft_observed nft;
	struct ruleset_state nft_record; /* what we installed last; mask 0: none */
	struct rr_saved_sysctl *saved;
	size_t n_saved;
	struct rr_sysctl_observed *sysctls;
	size_t n_sysctls;
	struct rr_sticky *sticky; /* sources chosen by the last reconcile */
	size_t n_sticky;
	char status[4096];
	char conflicts[1024]; /* foreign routes holding our keys, as last reported */
	struct removal *removals;
	size_t n_removals;
};

static uint64_t engine_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

int engine_new(const char *statedir, struct rr_backend *be, struct rr_engine **ret)
{
	struct rr_engine *e = calloc(1, sizeof(*e));
	struct store_skipped skipped;
	int r;

	if (!e) {
		if (be)
			backend_close(be);
		return -ENOMEM;
	}
	e->pending = RR_DIRTY_ALL;
	if (be)
		e->be = *be;
	else if ((r = backend_kernel_open(&e->be)) < 0)
		goto fail;
	if (!(e->statedir = strdup(statedir))) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = store_sysctl_load_report(statedir, &e->saved, &e->n_saved, &skipped)) < 0)
		goto fail;
	if (skipped.n)
		log_warning("%s/sysctl: %zu record%s not valid (%s: %s), ignoring", statedir,
			    skipped.n, skipped.n == 1 ? "" : "s", skipped.file,
			    strerror(-skipped.error));
	if (store_nft_read(statedir, &e->nft_record) < 0)
		e->nft_record = (struct ruleset_state){0};
	*ret = e;
	return 0;
fail:
	engine_free(e);
	return r;
}

void engine_free(struct rr_engine *e)
{
	if (!e)
		return;
	config_free(e->config);
	backend_close(&e->be);
	view_clear(&e->view);
	ruleset_state_clear(&e->nft_record);
	free(e->tables);
	free(e->saved);
	free(e->sysctls);
	free(e->sticky);
	free(e->removals);
	free(e->statedir);
	free(e);
}

void engine_set_config(struct rr_engine *e, struct rr_config *c)
{
	config_free(e->config);
	free(e->tables);
	e->config = c;
	/* Allocations live here, not in the config: they are found again at the next reconcile. */
	e->tables = c ? calloc(c->n_ifaces + 1, sizeof(*e->tables)) : NULL;
	if (c && !e->tables) {
		/* Without the table array nothing can be computed: keep nothing configured. */
		log_error("out of memory, dropping the configuration");
		config_free(c);
		e->config = NULL;
	}
	e->pending = RR_DIRTY_ALL;
}

const struct rr_config *engine_config(struct rr_engine *e)
{
	return e->config;
}

unsigned engine_pending(const struct rr_engine *e)
{
	return e->pending;
}

const char *engine_status(struct rr_engine *e)
{
	return e->status;
}

uint32_t engine_table(const struct rr_engine *e, size_t i)
{
	return e->config && i < e->config->n_ifaces ? e->tables[i] : 0;
}

static size_t engine_n_ifaces(const struct rr_engine *e)
{
	return e->config ? e->config->n_ifaces : 0;
}

bool engine_table_relevant(struct rr_engine *e, uint32_t table)
{
	if (table == RT_TABLE_MAIN)
		return true; /* learned gateways, connected prefixes */
	for (size_t i = 0; i < engine_n_ifaces(e); i++)
		if (e->tables[i] == table || e->tables[i] == 0)
			return true;
	/* Tables of replyroute's rules, leftovers of an earlier config included. */
	for (size_t i = 0; i < e->view.n_rules; i++)
		if (e->view.rules[i].protocol == RR_PROTO && e->view.rules[i].table == table)
			return true;
	return !e->view_valid;
}

uint64_t engine_nft_commits(struct rr_engine *e)
{
	return e->be.ops->nft_commits ? e->be.ops->nft_commits(e->be.data) : 0;
}

uint32_t engine_nl_port(struct rr_engine *e)
{
	return e->be.ops->nl_port ? e->be.ops->nl_port(e->be.data) : 0;
}

static const char *engine_nft_error(struct rr_engine *e, int r)
{
	const char *s = e->be.ops->nft_error ? e->be.ops->nft_error(e->be.data) : NULL;

	return s && *s ? s : strerror(-r);
}

static bool removal_same(const struct rr_removal *a, bool rule, const struct rr_rule *r,
			 const struct rr_route *rt)
{
	if (a->rule != rule)
		return false;
	if (!rule)
		return route_same_key(&a->rt, rt);
	return a->r.family == r->family && a->r.priority == r->priority &&
	       a->r.table == r->table && a->r.fwmark == r->fwmark && a->r.fwmask == r->fwmask &&
	       a->r.src_len == r->src_len && rr_addr_eq(&a->r.src, &r->src);
}

static struct removal *removal_find(const struct rr_engine *e, bool rule, const struct rr_rule *r,
				    const struct rr_route *rt)
{
	for (size_t i = 0; i < e->n_removals; i++)
		if (removal_same(&e->removals[i].what, rule, r, rt))
			return &e->removals[i];
	return NULL;
}

static void removal_describe(const struct rr_engine *e, const struct removal *m, char *buf,
			     size_t len)
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
	m->last = now;
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
static void engine_hold_back(struct rr_engine *e, struct rr_plan *p)
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
 * Routes only of the tables that can matter: main (learned gateways,
 * connected prefixes) and replyroute's (configured, allocated, or used by
 * one of its rules), so that a foreign table of any size costs nothing.
 * Allocating a table needs to see every table once: then all are read.
 */
static int engine_dump_routes(struct rr_engine *e)
{
	uint32_t *tables = calloc(engine_n_ifaces(e) + e->view.n_rules + 1, sizeof(*tables));
	size_t n = 0;
	bool all = !e->view_valid;
	int r;

	if (!tables)
		return -ENOMEM;
	tables[n++] = RT_TABLE_MAIN;
	for (size_t i = 0; i < engine_n_ifaces(e); i++) {
		if (!e->tables[i] && e->config->ifaces[i].table_auto)
			all = true;
		else if (e->tables[i])
			tables[n++] = e->tables[i];
		else
			tables[n++] = e->config->ifaces[i].table;
	}
	for (size_t i = 0; i < e->view.n_rules; i++)
		if (e->view.rules[i].protocol == RR_PROTO)
			tables[n++] = e->view.rules[i].table;
	/* Few tables: a sort for the duplicates is not worth it. */
	{
		size_t m = 0;

		for (size_t i = 0; i < n; i++) {
			bool dup = false;

			for (size_t j = 0; j < m && !dup; j++)
				dup = tables[j] == tables[i];
			if (!dup)
				tables[m++] = tables[i];
		}
		n = m;
	}
	r = e->be.ops->dump(e->be.data, &e->view, RR_PART_ROUTES, all ? NULL : tables, n);
	free(tables);
	return r;
}

/* Read the pending parts of the kernel: rtnetlink parts and the nft table. */
static int engine_observe(struct rr_engine *e)
{
	unsigned parts;
	char *listing = NULL;
	int r;

	/* The kernel drops IPv4 routes silently with their address or link. */
	if (e->pending & (RR_DIRTY_LINKS | RR_DIRTY_ADDRS))
		e->pending |= RR_DIRTY_ROUTES;
	/* A new or renamed link: its sysctl is another file now. */
	if (e->pending & RR_DIRTY_LINKS)
		e->pending |= RR_DIRTY_SYSCTL;
	parts = e->pending & RR_PART_ALL;
	/* Rules first: the routes to read are those of the tables our rules use. */
	if (parts & ~RR_PART_ROUTES)
		r = e->be.ops->dump(e->be.data, &e->view, parts & ~RR_PART_ROUTES, NULL, 0);
	else
		r = 0;
	if (r == 0 && (parts & RR_PART_ROUTES))
		r = engine_dump_routes(e);
	if (parts) {
		e->view_valid = r == 0;
		if (r < 0) {
			/* Interrupted by concurrent changes: the kernel is busy, the retry is soon. */
			log_msg(r == -EINTR ? 7 : 3, "netlink dump: %s", strerror(-r));
			return r;
		}
	}
	if (e->pending & RR_DIRTY_NFT) {
		r = e->be.ops->nft_list(e->be.data, &listing);
		if (r < 0 && r != -ENOENT) {
			log_error("nft: cannot list table inet %s: %s", RULESET_TABLE,
				  engine_nft_error(e, r));
			return r;
		}
		e->nft.present = r == 0;
		e->nft.listing_hash = ruleset_hash(listing);
		free(listing);
	}
	return 0;
}

/* src_valid_mark of each interface that should have it: read again when pending, else as last seen. */
static int engine_observe_sysctls(struct rr_engine *e, const struct rr_desired *d)
{
	struct rr_sysctl_observed *v = calloc(d->n_sysctls + 1, sizeof(*v));
	size_t n = 0;
	int r;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_sysctls; i++) {
		const struct rr_link *l = view_link_by_name(&e->view, d->sysctls[i]);
		const struct rr_sysctl_observed *old = NULL;

		if (!l)
			continue;
		for (size_t j = 0; j < e->n_sysctls && !old; j++)
			if (e->sysctls[j].ifindex == l->ifindex &&
			    strcmp(e->sysctls[j].name, l->name) == 0)
				old = &e->sysctls[j];
		v[n] = (struct rr_sysctl_observed){.ifindex = l->ifindex};
		memcpy(v[n].name, l->name, IFNAMSIZ);
		if (old && !(e->pending & RR_DIRTY_SYSCTL)) {
			v[n++].value = old->value;
			continue;
		}
		r = e->be.ops->sysctl_get(e->be.data, l->name, &v[n].value);
		if (r == -ENOENT)
			continue; /* the interface vanished since the dump: a link event follows */
		if (r < 0) {
			log_error("sysctl net.ipv4.conf.%s.src_valid_mark: %s", VALUE_NAME_SHOWN(l->name),
				  strerror(-r));
			free(v);
			return r;
		}
		v[n].drift = old && old->value == 1 && v[n].value != 1;
		n++;
	}
	free(e->sysctls);
	e->sysctls = v;
	e->n_sysctls = n;
	return 0;
}

static void engine_remember_sources(struct rr_engine *e, const struct rr_desired *d)
{
	struct rr_sticky *s = calloc(d->n_ifaces ? d->n_ifaces : 1, sizeof(*s));

	if (!s)
		return; /* only a preference is lost */
	for (size_t i = 0; i < d->n_ifaces; i++) {
		memcpy(s[i].name, d->ifaces[i].conf->name, IFNAMSIZ);
		memcpy(s[i].src, d->ifaces[i].src, sizeof(s[i].src));
	}
	free(e->sticky);
	e->sticky = s;
	e->n_sticky = d->n_ifaces;
}

static int engine_assign_tables(struct rr_engine *e)
{
	int r;

	if (!e->config)
		return 0;
	r = desired_assign_tables(e->config, &e->view, RR_PROTO, e->tables);
	if (r < 0) {
		/* Table 0 would mean main to the kernel: nothing is computed without one. */
		log_error("allocating routing tables: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; r > 0 && i < e->config->n_ifaces; i++)
		if (e->config->ifaces[i].table_auto)
			log_info("%s: table %u (allocated)", VALUE_NAME_SHOWN(e->config->ifaces[i].name),
				 e->tables[i]);
	return 0;
}

/* What should be there; none: the empty desired state of --cleanup. */
static int engine_desired(struct rr_engine *e, bool none, struct rr_desired *ret)
{
	int r;

	if (none)
		return desired_compute(NULL, NULL, &e->view, RR_PROTO, NULL, 0, ret);
	if ((r = engine_assign_tables(e)) < 0)
		return r;
	r = desired_compute(e->config, e->tables, &e->view, RR_PROTO, e->sticky, e->n_sticky, ret);
	if (r < 0) {
		log_error("computing desired state: %s", strerror(-r));
		return r;
	}
	engine_remember_sources(e, ret);
	desired_status(ret, e->status, sizeof(e->status));
	return 0;
}

/* Observe, compute, plan: everything but the changes. */
static int engine_plan(struct rr_engine *e, bool none, struct rr_desired *d, struct rr_plan *p)
{
	uint32_t *own = NULL, *tables = NULL;
	size_t n_own = 0, n_tables = 0;
	int r;

	if ((r = engine_observe(e)) < 0 || (r = engine_desired(e, none, d)) < 0 ||
	    (r = engine_observe_sysctls(e, d)) < 0)
		return r;
	/* Explicit tables even for --cleanup; allocated ones are found through our rules. */
	if (e->config && !(own = calloc(e->config->n_ifaces + 1, sizeof(*own))))
		return -ENOMEM;
	for (size_t i = 0; i < engine_n_ifaces(e); i++)
		own[n_own++] = e->config->ifaces[i].table_auto ? e->tables[i] : e->config->ifaces[i].table;
	r = plan_tables(own, n_own, &e->view, RR_PROTO, &tables, &n_tables);
	free(own);
	if (r < 0)
		return r;
	const struct rr_observed o = {
		.view = &e->view,
		.nft = e->nft,
		.nft_record = e->nft_record.mask ? &e->nft_record : NULL,
		.sysctls = e->sysctls,
		.n_sysctls = e->n_sysctls,
		.saved = e->saved,
		.n_saved = e->n_saved,
		.tables = tables,
		.n_tables = n_tables,
	};
	r = plan_compute(d, &o, RR_PROTO, p);
	free(tables);
	if (r >= 0 && !none)
		engine_hold_back(e, p);
	return r;
}

/* One apply: through be (the engine's, or a printer); commit: keep what was done (not --dry-run). */
struct apply {
	struct rr_engine *e;
	const struct rr_backend *be;
	bool commit;
	int changes, err;
};

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

static void apply_sysctl_set(struct apply *a, const struct rr_sysctl_change *c)
{
	struct rr_engine *e = a->e;
	struct rr_saved_sysctl s = {.ifindex = c->ifindex, .value = c->found};
	int r;

	memcpy(s.name, c->name, IFNAMSIZ);
	/* The value found goes to the store before it is overwritten, or never. */
	if (a->commit && c->save && (r = store_sysctl_save(e->statedir, &s)) < 0) {
		log_error("cannot save src_valid_mark of %s in %s: %s", VALUE_NAME_SHOWN(c->name), e->statedir,
			  strerror(-r));
		return apply_failed(a, r);
	}
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
		log_warning("sysctl net.ipv4.conf.%s.src_valid_mark was reset to %d by someone else "
			    "(drift), set to %d again", VALUE_NAME_SHOWN(c->name), c->found, c->value);
	else
		log_info("sysctl net.ipv4.conf.%s.src_valid_mark=%d", VALUE_NAME_SHOWN(c->name), c->value);
	a->changes++;
	for (size_t i = 0; a->commit && i < e->n_sysctls; i++)
		if (e->sysctls[i].ifindex == c->ifindex)
			e->sysctls[i].value = c->value;
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
			log_info("sysctl net.ipv4.conf.%s.src_valid_mark=%d restored",
				 VALUE_NAME_SHOWN(c->name),
				 c->value);
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
	int r = a->be->ops->nft_apply(a->be->data, commands);

	if (r < 0 && p->nft == RR_NFT_DELTA) {
		log_warning("nft: delta failed (%s), replacing the table", engine_nft_error(e, r));
		if ((r = ruleset_replace_commands(d->nft_text, &replace)) == 0)
			r = a->be->ops->nft_apply(a->be->data, replace);
		free(replace);
		if (r == 0)
			log_info("nft: installed table inet %s (%zu interface%s)", RULESET_TABLE,
				 d->nft.n_entries, d->nft.n_entries == 1 ? "" : "s");
	} else if (r == 0 && p->nft == RR_NFT_DELTA) {
		log_info("nft: updated table inet %s for the changed interfaces", RULESET_TABLE);
	} else if (r == 0 && p->nft == RR_NFT_REPLACE) {
		log_info("nft: installed table inet %s (%zu interface%s)", RULESET_TABLE,
			 d->nft.n_entries, d->nft.n_entries == 1 ? "" : "s");
	} else if (r == 0) {
		log_info("nft: deleted table inet %s", RULESET_TABLE);
	}
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
static void apply_result(struct apply *a, int r, bool add, const char *what, const char *desc)
{
	if (add && r == -EEXIST) {
		log_debug("%s: %s exists, not ours, ignoring", what, desc);
	} else if (!add && (r == -ENOENT || r == -ESRCH)) {
		log_debug("%s: %s already gone", what, desc);
	} else if (r < 0) {
		log_msg(retry_stale_view(r) ? 4 : 3, "%s %s: %s", what, desc, strerror(-r));
		apply_failed(a, r);
	} else {
		log_info("%s: %s", what, desc);
		a->changes++;
	}
}

/*
 * The fixed order: src_valid_mark first (rp_filter must honour marks before
 * there are any), the nft table, routes (connected before gateway routes, see
 * plan.h), then the rules that use them; deletions after additions (rules
 * before the routes they use), so that a changed table never leaves marked
 * traffic without a rule in between; the table and sysctls of --cleanup last.
 */
static int engine_apply(struct rr_engine *e, const struct rr_backend *be,
			const struct rr_desired *d, const struct rr_plan *p, bool commit)
{
	const struct rr_backend_ops *ops = be->ops;
	struct apply a = {.e = e, .be = be, .commit = commit};
	char buf[256];

	for (size_t i = 0; i < p->n_sysctl_set; i++)
		apply_sysctl_set(&a, &p->sysctl_set[i]);
	if (p->nft == RR_NFT_DELTA || p->nft == RR_NFT_REPLACE)
		apply_nft(&a, d, p);
	for (size_t i = 0; i < p->add.n_routes; i++) {
		bool rep = p->routes_replace[i];

		route_format(&p->add.routes[i], &e->view, buf, sizeof(buf));
		apply_result(&a, (rep ? ops->route_replace : ops->route_add)(be->data, &p->add.routes[i]),
			     true, rep ? "route replaced" : "route added", buf);
	}
	for (size_t i = 0; i < p->add.n_rules; i++) {
		rule_format(&p->add.rules[i], buf, sizeof(buf));
		apply_result(&a, ops->rule_add(be->data, &p->add.rules[i]), true, "rule added", buf);
	}
	for (size_t i = 0; i < p->del.n_rules; i++) {
		rule_format(&p->del.rules[i], buf, sizeof(buf));
		apply_result(&a, ops->rule_del(be->data, &p->del.rules[i]), false, "rule deleted", buf);
	}
	for (size_t i = 0; i < p->del.n_routes; i++) {
		route_format(&p->del.routes[i], &e->view, buf, sizeof(buf));
		apply_result(&a, ops->route_del(be->data, &p->del.routes[i]), false, "route deleted",
			     buf);
	}
	if (p->nft == RR_NFT_DELETE)
		apply_nft(&a, d, p);
	for (size_t i = 0; i < p->n_sysctl_restore; i++)
		apply_sysctl_restore(&a, &p->sysctl_restore[i]);
	/* Even a partly failed apply changed the kernel: read rules and routes again. */
	if (commit && (p->add.n_routes || p->add.n_rules || p->del.n_rules || p->del.n_routes))
		e->pending |= RR_DIRTY_ROUTES | RR_DIRTY_RULES;
	return a.err < 0 ? a.err : a.changes;
}

/*
 * Foreign routes with the key of ours in our tables: named at warning level
 * when they appear (not on every reconcile) and kept in STATUS while they stay.
 */
static void engine_conflicts(struct rr_engine *e, const struct rr_plan *p)
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
		log_info("conflict resolved: no foreign route holds replyroute's place any more");
	memcpy(e->conflicts, now, sizeof(now));
	if (now[0]) {
		size_t l = strlen(e->status);

		snprintf(e->status + l, sizeof(e->status) - l, "; conflict: %s", now);
	}
}

/* Plan and apply; none: against nothing (--cleanup). */
static int engine_converge(struct rr_engine *e, bool none)
{
	struct rr_desired d = {0};
	struct rr_plan p = {0};
	unsigned was = e->pending;
	int r;

	r = engine_plan(e, none, &d, &p);
	if (r >= 0) {
		/* Read, so no longer pending; what the apply changes is marked again there. */
		e->pending = 0;
		r = engine_apply(e, &e->be, &d, &p, true);
		if (!none)
			engine_conflicts(e, &p);
	}
	/* Any failure: the next reconcile reads and checks everything. */
	if (r < 0)
		e->pending = RR_DIRTY_ALL | was;
	plan_clear(&p);
	desired_clear(&d);
	return r;
}

int engine_reconcile(struct rr_engine *e, unsigned dirty)
{
	e->pending |= dirty;
	return engine_converge(e, false);
}

int engine_cleanup(struct rr_engine *e)
{
	int r;

	e->pending = RR_DIRTY_ALL;
	r = engine_converge(e, true);
	if (r >= 0)
		(void)store_nft_remove(e->statedir);
	e->view_valid = false;
	return r;
}

int engine_dry_run(struct rr_engine *e, FILE *out)
{
	struct rr_desired d = {0};
	struct rr_plan p = {0};
	struct rr_backend printer = {0};
	char buf[256];
	int r;

	e->pending = RR_DIRTY_ALL;
	if ((r = engine_plan(e, false, &d, &p)) < 0)
		goto out;
	fprintf(out, "# nftables\n%s", d.nft_text ? d.nft_text : "# (no table: nothing configured)\n");
	fprintf(out, "\n# rules\n");
	for (size_t i = 0; i < d.want.n_rules; i++) {
		rule_format(&d.want.rules[i], buf, sizeof(buf));
		fprintf(out, "%s\n", buf);
	}
	fprintf(out, "\n# routes\n");
	for (size_t i = 0; i < d.want.n_routes; i++) {
		route_format(&d.want.routes[i], &e->view, buf, sizeof(buf));
		fprintf(out, "%s\n", buf);
	}
	fprintf(out, "\n# sysctls\n");
	for (size_t i = 0; i < d.n_sysctls; i++)
		fprintf(out, "net.ipv4.conf.%s.src_valid_mark = 1\n", VALUE_NAME_SHOWN(d.sysctls[i]));
	fprintf(out, "\n# status\n%s\n", e->status);
	fprintf(out, "\n# changes, in the order they would be applied\n");
	if ((r = backend_printer_open(&e->be, &e->view, out, &printer)) < 0)
		goto out;
	if (!plan_size(&p))
		fprintf(out, "(none)\n");
	/* Log lines of the would-be changes are quiet: the printer says it all. */
	{
		int level = log_max_level;

		log_max_level = 3;
		r = engine_apply(e, &printer, &d, &p, false);
		log_max_level = level;
	}
	backend_close(&printer);
out:
	plan_clear(&p);
	desired_clear(&d);
	return r < 0 ? r : 0;
}
