/* SPDX-License-Identifier: MIT */
#include "engine.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "ruleset.h"
#include "kroute.h"
#include "rr-build.h"
#include "sysctl.h"

struct rr_engine {
	struct rr_config *config;
	struct rr_kroute *nl;
	struct rr_ruleset *nft;
	char *statedir;
	struct rr_view view;
	bool view_valid;
	unsigned stale; /* parts of the view our own changes made out of date */
	bool config_changed;
	char *nft_text;
	char status[4096];
	struct rr_sticky *sticky; /* sources chosen by the last reconcile */
	size_t n_sticky;
};

static struct rr_config empty_config = {.mask = RR_DEFAULT_MASK, .priority = RR_DEFAULT_PRIORITY};

int engine_new(const char *statedir, struct rr_engine **ret)
{
	struct rr_engine *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->statedir = strdup(statedir);
	if (!e->statedir) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = kr_open(&e->nl)) < 0)
		goto fail;
	if ((r = ruleset_open(&e->nft)) < 0)
		goto fail;
	e->config = &empty_config;
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
	if (e->config != &empty_config)
		config_free(e->config);
	kr_close(e->nl);
	ruleset_close(e->nft);
	view_clear(&e->view);
	free(e->nft_text);
	free(e->sticky);
	free(e->statedir);
	free(e);
}

void engine_set_config(struct rr_engine *e, struct rr_config *c)
{
	if (e->config != &empty_config)
		config_free(e->config);
	e->config = c ? c : &empty_config;
	free(e->nft_text);
	e->nft_text = NULL;
	e->config_changed = true;
}

const struct rr_config *engine_config(struct rr_engine *e)
{
	return e->config;
}

bool engine_table_relevant(struct rr_engine *e, uint32_t table)
{
	if (table == RT_TABLE_MAIN)
		return true; /* learned gateways, connected prefixes */
	for (size_t i = 0; i < e->config->n_ifaces; i++)
		if (e->config->ifaces[i].table == table || e->config->ifaces[i].table == 0)
			return true;
	/* Tables of replyroute's rules, leftovers of an earlier config included. */
	for (size_t i = 0; i < e->view.n_rules; i++)
		if (e->view.rules[i].protocol == RR_PROTO && e->view.rules[i].table == table)
			return true;
	return !e->view_valid;
}

uint64_t engine_nft_commits(struct rr_engine *e)
{
	return ruleset_commits(e->nft);
}

uint32_t engine_nl_port(struct rr_engine *e)
{
	return kr_port(e->nl);
}

const char *engine_status(struct rr_engine *e)
{
	return e->status;
}

static void nft_state_path(struct rr_engine *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s/nft", e->statedir);
}

/* After a change: remember what is installed and how the kernel lists it. */
static void nft_state_save(struct rr_engine *e)
{
	struct ruleset_state s = {0};
	char path[PATH_MAX], *listing = NULL;
	int r;

	nft_state_path(e, path, sizeof(path));
	if ((r = ruleset_list(e->nft, &listing)) == 0 &&
	    (r = ruleset_state_from_config(e->config, &s)) == 0) {
		s.text_hash = ruleset_hash(e->nft_text);
		s.listing_hash = ruleset_hash(listing);
		(void)mkdir(e->statedir, 0755);
		r = ruleset_state_write(path, &s);
	}
	if (r < 0)
		log_warning("cannot save nft state to %s: %s, ignoring", path, strerror(-r));
	ruleset_state_clear(&s);
	free(listing);
}

static void nft_state_remove(struct rr_engine *e)
{
	char path[PATH_MAX];

	nft_state_path(e, path, sizeof(path));
	(void)unlink(path);
}

/*
 * The table is known to be ours and intact when the kernel's listing hashes
 * to what it did right after our last change (STATEDIR/nft, so this holds
 * across processes). Intact and current: nothing to do. Intact but for
 * another config: a delta touching only the interfaces that changed.
 * Otherwise (absent, modified by someone else): replaced whole, atomically.
 */
/* Delete the table (it is there, or -ENOENT from the kernel converges). */
static int engine_nft_remove(struct rr_engine *e)
{
	int r = ruleset_replace(e->nft, NULL);

	if (r < 0) {
		log_error("nft: cannot delete table inet %s: %s", RULESET_TABLE, ruleset_error(e->nft));
		return r;
	}
	nft_state_remove(e);
	log_info("nft: deleted table inet %s", RULESET_TABLE);
	return 1;
}

static int engine_nft(struct rr_engine *e)
{
	struct ruleset_state saved = {0};
	char path[PATH_MAX], *listing = NULL, *delta = NULL;
	bool intact;
	int r;

	if (!e->nft_text && e->config->n_ifaces) {
		if ((r = ruleset_render(e->config, &e->nft_text)) < 0)
			return r;
	}
	r = ruleset_list(e->nft, &listing);
	if (r < 0 && r != -ENOENT) {
		log_error("nft: cannot list table inet %s: %s", RULESET_TABLE, ruleset_error(e->nft));
		return r;
	}
	if (!e->nft_text) {
		free(listing);
		return r == -ENOENT ? 0 : engine_nft_remove(e);
	}
	nft_state_path(e, path, sizeof(path));
	intact = r == 0 && ruleset_state_read(path, &saved) == 0 &&
		 saved.listing_hash == ruleset_hash(listing);
	free(listing);
	if (intact && saved.text_hash == ruleset_hash(e->nft_text)) {
		ruleset_state_clear(&saved);
		return 0;
	}
	if (intact && ruleset_render_delta(&saved, e->config, &delta) == 0 && delta) {
		r = ruleset_apply(e->nft, delta);
		free(delta);
		if (r == 0) {
			ruleset_state_clear(&saved);
			nft_state_save(e);
			log_info("nft: updated table inet %s for the changed interfaces", RULESET_TABLE);
			return 1;
		}
		log_warning("nft: delta failed (%s), replacing the table", ruleset_error(e->nft));
	}
	ruleset_state_clear(&saved);
	if ((r = ruleset_replace(e->nft, e->nft_text)) < 0) {
		log_error("nft: cannot install table inet %s: %s", RULESET_TABLE, ruleset_error(e->nft));
		return r;
	}
	nft_state_save(e);
	log_info("nft: installed table inet %s (%zu interface%s)", RULESET_TABLE,
		 e->config->n_ifaces, e->config->n_ifaces == 1 ? "" : "s");
	return 1;
}

static void restored(const char *ifname, int value, int err)
{
	if (err < 0)
		log_error("sysctl net.ipv4.conf.%s.src_valid_mark: cannot restore %d: %s", ifname,
			  value, strerror(-err));
	else
		log_info("sysctl net.ipv4.conf.%s.src_valid_mark=%d restored", ifname, value);
}

static bool iface_tracked(const char *ifname, void *userdata)
{
	const struct rr_engine *e = userdata;

	for (size_t i = 0; i < e->config->n_ifaces; i++)
		if (strcmp(e->config->ifaces[i].name, ifname) == 0)
			return true;
	return false;
}

static const char *iface_name_of(int ifindex, void *userdata)
{
	const struct rr_engine *e = userdata;
	const struct rr_link *l = view_link_by_index(&e->view, ifindex);

	return l ? l->name : NULL;
}

static int engine_sysctls(struct rr_engine *e, const struct rr_desired *d)
{
	/*
	 * An interface no longer tracked (dropped from the config, renamed away)
	 * gets its value back now, not at stop; one that is gone took it along.
	 */
	const struct sysctl_restore_ops ops = {
		.name_of = iface_name_of, .keep = iface_tracked, .done = restored, .userdata = e,
	};
	int changes = 0, err = 0, r;

	r = sysctl_restore(e->statedir, &ops);
	if (r > 0)
		changes += r;
	for (size_t i = 0; i < d->n_sysctls; i++) {
		const struct rr_link *l = view_link_by_name(&e->view, d->sysctls[i]);

		r = sysctl_enable(e->statedir, d->sysctls[i], l ? l->ifindex : 0);
		if (r == -ENOENT) {
			continue; /* the interface vanished between dump and write */
		} else if (r < 0) {
			log_error("sysctl net.ipv4.conf.%s.src_valid_mark: %s", d->sysctls[i],
				  strerror(-r));
			err = err ?: r;
		} else if (r > 0) {
			log_info("sysctl net.ipv4.conf.%s.src_valid_mark=1", d->sysctls[i]);
			changes++;
		}
	}
	return err < 0 ? err : changes;
}

/*
 * What the kernel answers when the view was already out of date (an address
 * or link went away meanwhile): the caller retries after reading it again,
 * so these are warnings, not errors.
 */
static bool stale_view(int r)
{
	return r == -EINVAL || r == -ENODEV || r == -ENETUNREACH || r == -EADDRNOTAVAIL ||
	       r == -ESRCH;
}


/*
 * A plan in the order it is applied: additions first (routes, then the rules
 * that use them), then deletions (rules, then routes), so that a changed table
 * never leaves marked traffic without a rule in between.
 */
enum plan_step { STEP_ROUTE_ADD, STEP_RULE_ADD, STEP_RULE_DEL, STEP_ROUTE_DEL };

static void engine_walk(struct rr_engine *e, const struct rr_plan *p,
			void (*fn)(struct rr_engine *e, const struct rr_plan *p, enum plan_step s,
				   size_t i, const char *desc, void *userdata),
			void *userdata)
{
	char buf[256];

	for (size_t i = 0; i < p->add.n_routes; i++) {
		route_format(&p->add.routes[i], &e->view, buf, sizeof(buf));
		fn(e, p, STEP_ROUTE_ADD, i, buf, userdata);
	}
	for (size_t i = 0; i < p->add.n_rules; i++) {
		rule_format(&p->add.rules[i], buf, sizeof(buf));
		fn(e, p, STEP_RULE_ADD, i, buf, userdata);
	}
	for (size_t i = 0; i < p->del.n_rules; i++) {
		rule_format(&p->del.rules[i], buf, sizeof(buf));
		fn(e, p, STEP_RULE_DEL, i, buf, userdata);
	}
	for (size_t i = 0; i < p->del.n_routes; i++) {
		route_format(&p->del.routes[i], &e->view, buf, sizeof(buf));
		fn(e, p, STEP_ROUTE_DEL, i, buf, userdata);
	}
}

struct apply_result {
	int changes, err;
};

/* Apply one step; adding what exists (not ours) counts as converged. */
static void engine_apply_step(struct rr_engine *e, const struct rr_plan *p, enum plan_step s,
			      size_t i, const char *desc, void *userdata)
{
	struct apply_result *res = userdata;
	const char *what = "";
	int r = 0;

	switch (s) {
	case STEP_ROUTE_ADD:
		r = kr_route_add(e->nl, &p->add.routes[i], p->routes_replace[i]);
		what = p->routes_replace[i] ? "route replaced" : "route added";
		break;
	case STEP_RULE_ADD:
		r = kr_rule_add(e->nl, &p->add.rules[i]);
		what = "rule added";
		break;
	case STEP_RULE_DEL:
		r = kr_rule_del(e->nl, &p->del.rules[i]);
		what = "rule deleted";
		break;
	case STEP_ROUTE_DEL:
		r = kr_route_del(e->nl, &p->del.routes[i]);
		what = "route deleted";
		break;
	}
	if (r == -EEXIST) {
		log_debug("%s: %s exists, not ours, ignoring", what, desc);
	} else if (r < 0) {
		log_msg(stale_view(r) ? 4 : 3, "%s %s: %s", what, desc, strerror(-r));
		res->err = res->err ?: r;
	} else {
		log_info("%s: %s", what, desc);
		res->changes++;
	}
}

/* Print one step, for --dry-run. */
static void engine_print_step(struct rr_engine *e, const struct rr_plan *p, enum plan_step s,
			      size_t i, const char *desc, void *userdata)
{
	static const char *const verb[] = {
		[STEP_ROUTE_ADD] = "add route",
		[STEP_RULE_ADD] = "add rule",
		[STEP_RULE_DEL] = "delete rule",
		[STEP_ROUTE_DEL] = "delete route",
	};

	fprintf(userdata, "%s %s\n",
		s == STEP_ROUTE_ADD && p->routes_replace[i] ? "replace route" : verb[s], desc);
}

static int engine_observe(struct rr_engine *e, unsigned dirty)
{
	unsigned parts = 0;
	int r;

	if (!e->view_valid)
		dirty |= RR_DIRTY_ALL;
	dirty |= e->stale;
	e->stale = 0;
	/* The kernel drops IPv4 routes silently with their address or link. */
	if (dirty & (RR_DIRTY_LINKS | RR_DIRTY_ADDRS))
		dirty |= RR_DIRTY_ROUTES;
	if (dirty & RR_DIRTY_LINKS)
		parts |= KR_DUMP_LINKS;
	if (dirty & RR_DIRTY_ADDRS)
		parts |= KR_DUMP_ADDRS;
	if (dirty & RR_DIRTY_ROUTES)
		parts |= KR_DUMP_ROUTES;
	if (dirty & RR_DIRTY_RULES)
		parts |= KR_DUMP_RULES;
	if (!parts)
		return 0;
	r = kr_dump(e->nl, &e->view, parts);
	e->view_valid = r == 0;
	if (r < 0)
		log_error("netlink dump: %s", strerror(-r));
	return r;
}

/* What to change in rules and routes to get from the view to d. */
static int engine_plan(struct rr_engine *e, const struct rr_desired *d, struct rr_plan *ret)
{
	uint32_t *tables = NULL;
	size_t n_tables = 0;
	int r;

	if ((r = plan_tables(e->config, &e->view, RR_PROTO, &tables, &n_tables)) < 0)
		return r;
	r = plan_compute(d, &e->view, RR_PROTO, tables, n_tables, ret);
	free(tables);
	return r;
}

static int engine_routes_rules(struct rr_engine *e, const struct rr_desired *d)
{
	struct apply_result res = {0};
	struct rr_plan p = {0};
	int r;

	if ((r = engine_plan(e, d, &p)) < 0)
		return r;
	if (plan_size(&p)) {
		engine_walk(e, &p, engine_apply_step, &res);
		/* Even a partly failed apply changed the kernel: read it again next time. */
		e->stale |= RR_DIRTY_ROUTES | RR_DIRTY_RULES;
	}
	plan_clear(&p);
	return res.err < 0 ? res.err : res.changes;
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

static void engine_assign_tables(struct rr_engine *e)
{
	if (e->config == &empty_config || desired_assign_tables(e->config, &e->view, RR_PROTO) == 0)
		return;
	for (size_t i = 0; i < e->config->n_ifaces; i++)
		if (e->config->ifaces[i].table_auto)
			log_info("%s: table %u (allocated)", e->config->ifaces[i].name,
				 e->config->ifaces[i].table);
}

/* Read the dirty parts of the kernel, then compute what should be there. */
static int engine_desired(struct rr_engine *e, unsigned dirty, struct rr_desired *ret)
{
	int r;

	if ((r = engine_observe(e, dirty)) < 0)
		return r;
	engine_assign_tables(e);
	r = desired_compute(e->config, &e->view, RR_PROTO, e->sticky, e->n_sticky, ret);
	if (r < 0) {
		log_error("computing desired state: %s", strerror(-r));
		return r;
	}
	engine_remember_sources(e, ret);
	desired_status(ret, e->status, sizeof(e->status));
	return 0;
}

int engine_reconcile(struct rr_engine *e, unsigned dirty)
{
	struct rr_desired d = {0};
	int r, changes = 0, err = 0;

	if (e->config_changed)
		dirty |= RR_DIRTY_LINKS | RR_DIRTY_NFT;
	if ((r = engine_desired(e, dirty, &d)) < 0)
		return r;

	if (dirty & RR_DIRTY_NFT) {
		r = engine_nft(e);
		if (r < 0)
			err = err ?: r;
		else
			changes += r;
	}
	if (dirty & RR_DIRTY_LINKS) {
		r = engine_sysctls(e, &d);
		if (r < 0)
			err = err ?: r;
		else
			changes += r;
	}
	r = engine_routes_rules(e, &d);
	if (r < 0)
		err = err ?: r;
	else
		changes += r;
	desired_clear(&d);
	if (err == 0)
		e->config_changed = false;
	return err < 0 ? err : changes;
}


int engine_cleanup(struct rr_engine *e)
{
	struct rr_desired none = {0};
	int r, changes = 0, err = 0;

	if ((r = engine_observe(e, RR_DIRTY_ALL)) < 0)
		return r;
	r = engine_routes_rules(e, &none);
	if (r < 0)
		err = r;
	else
		changes += r;
	{
		char *listing = NULL;

		/* Only when it is there: deleting nothing would log a change. */
		r = ruleset_list(e->nft, &listing);
		free(listing);
		r = r == -ENOENT ? 0 : engine_nft_remove(e);
	}
	if (r < 0)
		err = err ?: r;
	else
		changes += r;
	nft_state_remove(e);
	{
		const struct sysctl_restore_ops ops = {
			.name_of = iface_name_of, .done = restored, .userdata = e,
		};

		r = sysctl_restore(e->statedir, &ops);
	}
	if (r < 0)
		err = err ?: r;
	else
		changes += r;
	e->view_valid = false;
	return err < 0 ? err : changes;
}

int engine_dry_run(struct rr_engine *e, FILE *out)
{
	struct rr_desired d = {0};
	struct rr_plan p = {0};
	char buf[256];
	char *text = NULL;
	int r;

	if ((r = engine_desired(e, RR_DIRTY_ALL, &d)) < 0)
		return r;
	if ((r = ruleset_render(e->config, &text)) < 0)
		goto out;
	fprintf(out, "# nftables\n%s", text ? text : "# (no table: nothing configured)\n");
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
		fprintf(out, "net.ipv4.conf.%s.src_valid_mark = 1\n", d.sysctls[i]);
	fprintf(out, "\n# status\n%s\n", e->status);

	if ((r = engine_plan(e, &d, &p)) < 0)
		goto out;
	fprintf(out, "\n# changes to rules and routes\n");
	engine_walk(e, &p, engine_print_step, out);
	if (!plan_size(&p))
		fprintf(out, "(none)\n");
out:
	free(text);
	plan_clear(&p);
	desired_clear(&d);
	return r;
}
