/* SPDX-License-Identifier: MIT */
#include "engine-private.h"
#include "vindex.h"

#include <errno.h>
#include <fnmatch.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "plan.h"
#include "retry.h"
#include "uset.h"
#include "rr-build.h"
#include "store.h"
#include "value.h"

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
	if (e->config != e->base)
		config_free(e->config);
	config_free(e->base);
	alloc_clear(&e->alloc);
	backend_close(&e->be);
	view_clear(&e->view);
	ruleset_state_clear(&e->nft_record);
	pickup_set_clear(&e->pickup);
	free(e->tables);
	free(e->in_use);
	free(e->saved);
	free(e->sysctls);
	free(e->sticky);
	free(e->tracked);
	free(e->removals);
	free(e->track);
	free(e->statedir);
	free(e);
}

void engine_set_config(struct rr_engine *e, struct rr_config *c)
{
	if (e->config != e->base)
		config_free(e->config);
	config_free(e->base);
	free(e->tables);
	e->base = c;
	/* With patterns: expanded at each look at the links (engine_expand). */
	e->config = c;
	e->expand_pending = true;
	/* Allocations live here, not in the config: they are found again at the next reconcile. */
	e->tables = c ? calloc(c->n_ifaces + 1, sizeof(*e->tables)) : NULL;
	if (c && !e->tables) {
		/* Without the table array nothing can be computed: keep nothing configured. */
		log_error("out of memory, dropping the configuration");
		config_free(c);
		e->config = e->base = NULL;
	}
	/* Configured tables now; Table= omitted: 0 until allocated (desired_assign_tables). */
	for (size_t i = 0; i < engine_n_ifaces(e); i++)
		e->tables[i] = e->config->ifaces[i].table_auto ? 0 : e->config->ifaces[i].table;
	e->pending = RR_DIRTY_ALL;
}

const struct rr_config *engine_config(struct rr_engine *e)
{
	return e->config;
}

const char *engine_statedir(const struct rr_engine *e)
{
	return e->statedir;
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

size_t engine_n_ifaces(const struct rr_engine *e)
{
	return e->config ? e->config->n_ifaces : 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether a pattern section of the config as loaded matches name. */
static bool engine_pattern_matches(const struct rr_engine *e, const char *name)
{
	for (size_t i = 0; e->base && i < e->base->n_ifaces; i++)
		if (e->base->ifaces[i].pattern && fnmatch(e->base->ifaces[i].name, name, 0) == 0)
			return true;
	return false;
}

/* The ifindexes of the links that carry a configured name or match a pattern, after links were read. */
static int engine_tracked_links(struct rr_engine *e)
{
	size_t n = e->base ? e->base->n_ifaces : 0, k = 0, m = 0;
	const char **names = malloc((n + 1) * sizeof(*names));
	uint32_t *t = malloc((e->view.n_links + 1) * sizeof(*t));

	if (!names || !t) {
		free(names);
		free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (!e->base->ifaces[i].pattern)
			names[m++] = e->base->ifaces[i].name;
	qsort(names, m, sizeof(*names), name_cmp);
	for (size_t i = 0; i < e->view.n_links; i++) {
		const char *name = e->view.links[i].name;

		if ((m && bsearch(&name, names, m, sizeof(*names), name_cmp)) ||
		    engine_pattern_matches(e, name))
			t[k++] = (uint32_t)e->view.links[i].ifindex;
	}
	uset_sort(t, k);
	free(names);
	free(e->tracked);
	e->tracked = t;
	e->n_tracked = k;
	return 0;
}

bool engine_link_relevant(struct rr_engine *e, int ifindex)
{
	/* Unknown (nothing read yet, or a failure since): everything may matter. */
	if (!e->view_valid || !e->tracked || ifindex <= 0)
		return true;
	return uset_has(e->tracked, e->n_tracked, (uint32_t)ifindex);
}

bool engine_table_relevant(struct rr_engine *e, uint32_t table)
{
	/* Main (learned gateways, connected prefixes); any while a table is still to be allocated. */
	if (table == RT_TABLE_MAIN || !e->view_valid || !e->all_allocated)
		return true;
	return plan_table_listed(e->in_use, e->n_in_use, table);
}

uint64_t engine_nft_commits(struct rr_engine *e)
{
	return e->be.ops->nft_commits ? e->be.ops->nft_commits(e->be.data) : 0;
}

void engine_nft_own(struct rr_engine *e)
{
	if (e->be.ops->nft_own)
		e->be.ops->nft_own(e->be.data);
}

bool engine_nft_owned(struct rr_engine *e)
{
	return e->be.ops->nft_owned && e->be.ops->nft_owned(e->be.data);
}

uint32_t engine_nl_port(struct rr_engine *e)
{
	return e->be.ops->nl_port ? e->be.ops->nl_port(e->be.data) : 0;
}

const char *engine_nft_error(struct rr_engine *e, int r)
{
	static char buf[800];
	const char *s = e->be.ops->nft_error ? e->be.ops->nft_error(e->be.data) : NULL;

	if (!s || !*s)
		return log_errno(r);
	if (r == -EIO)
		return s;
	/* The kernel's errno, what it means, then libnftables' own words. */
	snprintf(buf, sizeof(buf), "%s: %s", log_errno(r), s);
	return buf;
}

/*
 * The tables replyroute may touch: configured, allocated, or used by one of
 * its rules (leftovers of an earlier config included). Kept, sorted, for the
 * route dumps, the plan and each route notification; made again when rules
 * were read or a table was allocated.
 */
static int engine_tables_in_use(struct rr_engine *e)
{
	free(e->in_use);
	e->in_use = NULL;
	e->n_in_use = 0;
	e->all_allocated = true;
	for (size_t i = 0; i < engine_n_ifaces(e); i++)
		e->all_allocated &= e->tables[i] != 0;
	return plan_tables(e->tables, engine_n_ifaces(e), &e->view, RR_PROTO, &e->in_use,
			   &e->n_in_use);
}

/*
 * Routes only of main and the tables in use, so that a foreign table of any
 * size costs nothing. Allocating a table needs to see every table once: then
 * all are read.
 */
static int engine_dump_routes(struct rr_engine *e)
{
	uint32_t *tables;
	int r;

	if (!e->view_valid || !e->all_allocated)
		return e->be.ops->dump(e->be.data, &e->view, RR_PART_ROUTES, NULL, 0);
	if (!(tables = malloc((e->n_in_use + 1) * sizeof(*tables))))
		return -ENOMEM;
	tables[0] = RT_TABLE_MAIN;
	memcpy(tables + 1, e->in_use, e->n_in_use * sizeof(*tables));
	r = e->be.ops->dump(e->be.data, &e->view, RR_PART_ROUTES, tables, e->n_in_use + 1);
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
	/* A new or renamed link: its sysctl is another file now, and its addresses, of an
	 * interface not tracked before, were not followed (engine_link_relevant). */
	if (e->pending & RR_DIRTY_LINKS)
		e->pending |= RR_DIRTY_SYSCTL | RR_DIRTY_ADDRS | RR_DIRTY_ROUTES;
	parts = e->pending & RR_PART_ALL;
	/* Rules first: the routes to read are those of the tables our rules use. */
	if (parts & ~RR_PART_ROUTES)
		r = e->be.ops->dump(e->be.data, &e->view, parts & ~RR_PART_ROUTES, NULL, 0);
	else
		r = 0;
	if (r == 0 && (parts & RR_PART_RULES))
		r = engine_tables_in_use(e);
	if (r == 0 && (parts & RR_PART_LINKS))
		r = engine_tracked_links(e);
	/* Which links a pattern matches can change only with the links. */
	if (r == 0 && (parts & RR_PART_LINKS))
		e->expand_pending = true;
	if (r == 0 && (parts & RR_PART_ROUTES))
		r = engine_dump_routes(e);
	if (parts) {
		e->view_valid = r == 0;
		if (r < 0) {
			/* Interrupted by concurrent changes: the kernel is busy, the retry is soon. */
			log_msg(r == -EINTR ? 7 : 3, "netlink dump: %s", log_errno(r));
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
	struct rr_vindex x;
	size_t n = 0, hint = 0;
	int r;

	if (!v || vindex_build(&x, &e->view, RT_TABLE_MAIN) < 0) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->n_sysctls; i++) {
		const struct rr_link *l = vindex_link_by_name(&x, d->sysctls[i]);
		const struct rr_sysctl_observed *old = NULL;

		if (!l)
			continue;
		/* Last time's list is in the same order: found at the hint but after a change. */
		for (size_t k = 0; k < e->n_sysctls && !old; k++) {
			size_t j = (hint + k) % e->n_sysctls;

			if (e->sysctls[j].ifindex == l->ifindex &&
			    strcmp(e->sysctls[j].name, l->name) == 0) {
				old = &e->sysctls[j];
				hint = j + 1;
			}
		}
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
			vindex_clear(&x);
			free(v);
			return r;
		}
		v[n].drift = old && old->value == 1 && v[n].value != 1;
		n++;
	}
	vindex_clear(&x);
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
	return r > 0 ? engine_tables_in_use(e) : 0;
}

/* Whether two configs track the same names in the same order. */
static bool same_names(const struct rr_config *a, const struct rr_config *b)
{
	if (a->n_ifaces != b->n_ifaces)
		return false;
	for (size_t i = 0; i < a->n_ifaces; i++)
		if (strcmp(a->ifaces[i].name, b->ifaces[i].name) || a->ifaces[i].mark != b->ifaces[i].mark)
			return false;
	return true;
}

/*
 * Patterns: one interface per matching link (expand.h), its mark kept in the
 * state directory. A new expansion keeps each name's table.
 */
static int engine_expand(struct rr_engine *e)
{
	struct rr_config *x;
	uint32_t *tables;
	int r;

	if (!e->expand_pending || !config_has_patterns(e->base))
		return 0;
	e->expand_pending = false;
	if (!e->alloc_loaded) {
		if ((r = alloc_load(alloc_state_dir(), &e->alloc)) < 0)
			log_warning("cannot read %s/" RR_ALLOC_FILE ": %s; interfaces a pattern matches "
				    "may get other marks and tables than before", alloc_state_dir(),
				    strerror(-r));
		e->alloc_loaded = true;
	}
	if ((r = expand_config(e->base, &e->view, &e->alloc, &x)) < 0) {
		e->expand_pending = true;
		return r;
	}
	if (e->config != e->base && same_names(x, e->config)) {
		config_free(x);
		return 0;
	}
	if (!(tables = calloc(x->n_ifaces + 1, sizeof(*tables)))) {
		config_free(x);
		return -ENOMEM;
	}
	for (size_t i = 0; i < x->n_ifaces; i++) {
		const struct rr_iface_conf *ic = &x->ifaces[i];
		const struct rr_alloc_entry *a = alloc_find(&e->alloc, ic->name);

		if (!ic->table_auto)
			tables[i] = ic->table;
		for (size_t j = 0; !tables[i] && j < engine_n_ifaces(e); j++)
			if (!strcmp(e->config->ifaces[j].name, ic->name) &&
			    e->config->ifaces[j].mark == ic->mark)
				tables[i] = e->tables[j];
		if (!tables[i] && a && a->mark == ic->mark)
			tables[i] = a->table;
	}
	if (e->config != e->base)
		config_free(e->config);
	free(e->tables);
	e->config = x;
	e->tables = tables;
	return engine_tables_in_use(e);
}

/* The tables allocated for names a pattern matched: kept with their marks. */
static void engine_alloc_tables(struct rr_engine *e)
{
	for (size_t i = 0; e->config != e->base && i < engine_n_ifaces(e); i++) {
		struct rr_alloc_entry *a = alloc_find(&e->alloc, e->config->ifaces[i].name);

		if (a && a->mark == e->config->ifaces[i].mark && e->tables[i] &&
		    a->table != e->tables[i]) {
			a->table = e->tables[i];
			e->alloc.dirty = true;
		}
	}
}

static void engine_alloc_save(struct rr_engine *e)
{
	int r;

	if (!e->alloc.dirty)
		return;
	if ((r = alloc_save(alloc_state_dir(), &e->alloc)) < 0 && !e->alloc_warned)
		log_warning("cannot write %s/" RR_ALLOC_FILE ": %s; interfaces a pattern matches may "
			    "get other marks and tables after a restart", alloc_state_dir(),
			    strerror(-r));
	e->alloc_warned = r < 0;
}

/* What should be there; none: the empty desired state of --cleanup. */
static int engine_desired(struct rr_engine *e, bool none, struct rr_desired *ret)
{
	int r;

	if (none)
		return desired_compute(NULL, NULL, &e->view, RR_PROTO, NULL, 0, ret);
	if ((r = engine_expand(e)) < 0 || (r = engine_assign_tables(e)) < 0)
		return r;
	engine_alloc_tables(e);
	r = desired_compute(e->config, e->tables, &e->view, RR_PROTO, e->sticky, e->n_sticky, ret);
	if (r < 0) {
		log_error("computing desired state: %s", strerror(-r));
		return r;
	}
	engine_remember_sources(e, ret);
	desired_status(ret, e->status, sizeof(e->status));
	engine_track(e, ret);
	return 0;
}

/* Observe, compute, plan: everything but the changes. */
static int engine_plan(struct rr_engine *e, bool none, struct rr_desired *d, struct rr_plan *p)
{
	int r;

	/* --cleanup too: configured tables, and allocated ones found through our rules. */
	if ((r = engine_observe(e)) < 0 || (r = engine_desired(e, none, d)) < 0 ||
	    (r = engine_observe_sysctls(e, d)) < 0)
		return r;
	const struct rr_observed o = {
		.view = &e->view,
		.nft = e->nft,
		.nft_record = e->nft_record.mask ? &e->nft_record : NULL,
		.sysctls = e->sysctls,
		.n_sysctls = e->n_sysctls,
		.saved = e->saved,
		.n_saved = e->n_saved,
		.tables = e->in_use,
		.n_tables = e->n_in_use,
	};
	r = plan_compute(d, &o, RR_PROTO, p);
	if (r >= 0 && !none)
		engine_hold_back(e, p);
	return r;
}

/* Run the address map commands that take e->pickup toward want; then it is want, or unknown. */
static int engine_pickup_run(struct rr_engine *e, const struct pickup_set *old,
			     struct pickup_set *want, bool add)
{
	char *cmds = NULL;
	int r = pickup_render(old, want, add, &cmds);

	if (r == 0 && cmds)
		r = e->be.ops->nft_elements(e->be.data, cmds);
	free(cmds);
	if (r < 0) {
		log_error("nft: cannot update the local addresses in table inet %s: %s",
			  RULESET_TABLE, engine_nft_error(e, r));
		pickup_set_clear(&e->pickup);
		return r;
	}
	if (!add) {
		/* What is left: the old elements also wanted (none after a flush). */
		size_t n = 0;

		for (size_t i = 0; i < want->n; i++)
			if (old->known && pickup_has(old, &want->elems[i]))
				want->elems[n++] = want->elems[i];
		want->n = n;
	}
	pickup_set_clear(&e->pickup);
	e->pickup = *want;
	*want = (struct pickup_set){0};
	return 0;
}

/*
 * The table's address maps follow the tracked interfaces' addresses, one
 * element at a time: deletions before the table's changes (add false; an
 * element may jump to a chain a delta deletes), additions after (add true).
 * After a delta every wanted element is added again (nothing happens to
 * those there, and a delta that fell back to a replacement emptied them).
 */
static int engine_pickup(struct rr_engine *e, const struct rr_desired *d, const struct rr_plan *p,
			 bool add)
{
	struct pickup_set want = {0}, none = {.known = true};
	const struct pickup_set *old = &e->pickup;
	int r;

	if (!e->be.ops->nft_elements)
		return 0;
	if (!d->nft_text || p->nft == RR_NFT_DELETE) {
		pickup_set_clear(&e->pickup);
		return 0;
	}
	/* A new table got them with it (engine_pickup_with_table). */
	if (p->nft == RR_NFT_REPLACE)
		return 0;
	if (!add && !old->known && p->nft == RR_NFT_KEEP)
		return 0; /* an unknown map is flushed with the additions */
	if (add && p->nft == RR_NFT_DELTA)
		old = &none;
	if ((r = pickup_desired(e->config, &e->view, &want)) == 0)
		r = engine_pickup_run(e, old, &want, add);
	pickup_set_clear(&want);
	return r;
}

/*
 * A new table gets the address elements in its own transaction: the moment
 * its chains exist (and, on a host where nothing used conntrack before, the
 * moment conntrack starts tracking and picks every running connection up)
 * the maps must hold the addresses, or those pickups stay unmarked.
 */
static int engine_pickup_with_table(struct rr_engine *e, struct rr_plan *p)
{
	struct pickup_set want = {0}, none = {.known = true};
	char *cmds = NULL, *all = NULL;
	int r;

	if (!e->be.ops->nft_elements || p->nft != RR_NFT_REPLACE)
		return 0;
	if ((r = pickup_desired(e->config, &e->view, &want)) < 0 ||
	    (r = pickup_render(&none, &want, true, &cmds)) < 0 || !cmds)
		goto out;
	if (asprintf(&all, "%s%s", p->nft_commands, cmds) < 0) {
		r = -ENOMEM;
		goto out;
	}
	free(p->nft_commands);
	p->nft_commands = all;
	pickup_set_clear(&e->pickup);
	e->pickup = want; /* cleared again if the apply fails */
	want = (struct pickup_set){0};
out:
	free(cmds);
	pickup_set_clear(&want);
	return r;
}

/* Plan and apply; none: against nothing (--cleanup). */
static int engine_converge(struct rr_engine *e, bool none)
{
	struct rr_desired d = {0};
	struct rr_plan p = {0};
	int r;

	r = engine_plan(e, none, &d, &p);
	if (r >= 0) {
		/* Read, so no longer pending; what the apply changes is marked again there. */
		/*
		 * The address maps' stale elements go before a change of the table
		 * (they may jump to a chain it deletes); with the table kept, after
		 * the routes and rules, so that an address change reaches the
		 * routing first.
		 */
		bool early = p.nft != RR_NFT_KEEP;

		e->pending = 0;
		if (!none && (r = engine_pickup_with_table(e, &p)) >= 0 && early)
			r = engine_pickup(e, &d, &p, false);
		if (r >= 0)
			r = engine_apply(e, &e->be, &d, &p, true);
		if (r >= 0 && !none && !early) {
			int rp = engine_pickup(e, &d, &p, false);

			r = rp < 0 ? rp : r;
		}
		if (r >= 0 && !none) {
			int rp = engine_pickup(e, &d, &p, true);

			r = rp < 0 ? rp : r;
		}
		if (r < 0)
			pickup_set_clear(&e->pickup);
		if (!none)
			engine_conflicts(e, &p);
		if (r >= 0 && !none)
			engine_alloc_save(e);
	}
	/* Any failure: the next reconcile reads and checks everything. */
	if (r < 0)
		e->pending = RR_DIRTY_ALL;
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

int engine_inspect(struct rr_engine *e, struct rr_inspection *ret)
{
	int r;

	*ret = (struct rr_inspection){0};
	e->pending = RR_DIRTY_ALL;
	if ((r = engine_plan(e, false, &ret->desired, &ret->plan)) < 0) {
		engine_inspection_clear(ret);
		return r;
	}
	ret->view = &e->view;
	ret->nft_present = e->nft.present;
	return 0;
}

void engine_inspection_clear(struct rr_inspection *in)
{
	plan_clear(&in->plan);
	desired_clear(&in->desired);
	*in = (struct rr_inspection){0};
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
	r = engine_apply(e, &printer, &d, &p, false);
	backend_close(&printer);
out:
	plan_clear(&p);
	desired_clear(&d);
	return r < 0 ? r : 0;
}
