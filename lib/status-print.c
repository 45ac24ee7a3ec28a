/* SPDX-License-Identifier: MIT */
/*
 * --status, the output: for people (human), for programs (json, written by
 * hand: a few objects, strings escaped here) and for node_exporter's textfile
 * collector (prometheus text exposition). Names from the kernel and the config
 * are shown as value_name_escape() shows them: ASCII, \xNN for the rest.
 */
#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "value.h"

static const char *const family_names[2] = {"ipv4", "ipv6"};

int status_format_parse(const char *s, enum status_format *ret)
{
	static const char *const names[] = {
		[STATUS_HUMAN] = "human",
		[STATUS_JSON] = "json",
		[STATUS_PROMETHEUS] = "prometheus",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(s, names[i])) {
			*ret = (enum status_format)i;
			return 0;
		}
	return -EINVAL;
}

/* ISO 8601, UTC, seconds. */
static const char *when(uint64_t usec, char *buf, size_t len)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
	return buf;
}
#define WHEN(usec) when((usec), (char[32]){0}, 32)

static const char *duration(uint64_t usec, char *buf, size_t len)
{
	uint64_t s = usec / 1000000, d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	if (d)
		snprintf(buf, len, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "m", d, h, m);
	else if (h)
		snprintf(buf, len, "%" PRIu64 "h %" PRIu64 "m %" PRIu64 "s", h, m, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "m %" PRIu64 "s", m, s % 60);
	return buf;
}

static bool daemon_known(const struct status *st)
{
	return st->running && !st->stale && st->state_error == 0;
}

/* ok, stale (of another process), none, or invalid (not as the daemon writes it). */
static const char *state_file(const struct status *st)
{
	if (st->state_error == 0)
		return st->stale ? "stale" : "ok";
	return st->state_error == -ENOENT ? "none" : "invalid";
}

/* "waiting-for-link" as "waiting for link". */
static const char *words(const char *token, char *buf, size_t len)
{
	snprintf(buf, len, "%s", token);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = ' ';
	return buf;
}
#define WORDS(token) words((token), (char[32]){0}, 32)

static const char *addr(const struct rr_addr *a, char *buf, size_t len)
{
	return rr_addr_str(a, buf, len);
}
#define ADDR(a) addr((a), (char[INET6_ADDRSTRLEN]){0}, INET6_ADDRSTRLEN)

/* ---- human ---------------------------------------------------------------- */

/*
 * Free text from the state file (who removed what, a reload's error, what
 * an interface was): a process name or a config line may hold any byte, and
 * none reaches the terminal raw. Control characters and bytes from 0x7f as
 * \xNN; a backslash stays (names in the text are escaped already).
 */
#define SHOWN_MAX (4 * sizeof(((struct statefile *)0)->reload_error) + 1)
#define SHOWN(text) shown((text), (char[SHOWN_MAX]){0}, SHOWN_MAX)

static const char *shown(const char *s, char *buf, size_t len)
{
	size_t at = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && at + 5 < len; p++) {
		if (*p < 0x20 || *p >= 0x7f)
			at += (size_t)snprintf(buf + at, len - at, "\\x%02x", *p);
		else
			buf[at++] = (char)*p;
	}
	buf[at] = '\0';
	return buf;
}

static void human_daemon(const struct status *st, FILE *out)
{
	if (daemon_known(st))
		fprintf(out, "replyrouted: running, pid %d, up %s (since %s)\n", st->pid,
			duration(st->now - st->daemon.started, (char[32]){0}, 32),
			WHEN(st->daemon.started));
	else if (st->running)
		fprintf(out, "replyrouted: pid %d holds the lock, no state published by it (%s)\n",
			st->pid, st->stale ? "the state file is another process's"
					   : strerror(-st->state_error));
	else
		fprintf(out, "replyrouted: daemon not running%s\n",
			st->stale ? " (a state file was left behind: it did not stop cleanly)" : "");
	if (!daemon_known(st))
		return;
	if (!st->daemon.reload_time)
		fprintf(out, "last reload: none since start\n");
	else if (st->daemon.reload_failed)
		fprintf(out, "last reload: %s, failed: %s (the previous config keeps running)\n",
			WHEN(st->daemon.reload_time), SHOWN(st->daemon.reload_error));
	else
		fprintf(out, "last reload: %s, ok\n", WHEN(st->daemon.reload_time));
}

static void human_sysctl(FILE *out, const char *key, const char *name,
			 const struct status_sysctl *s)
{
	if (s->effective < 0) {
		fprintf(out, "%s unknown", key);
		return;
	}
	fprintf(out, "%s %d (all %d, %s %d)", key, s->effective, s->all, name, s->iface);
}

static void human_iface(const struct status *st, const struct status_iface *x, FILE *out)
{
	char name[VALUE_NAME_ESCAPED];

	value_name_escape(x->conf->name, name, sizeof(name));
	fprintf(out, "\n%s: %s, %s\n", name, WORDS(x->state), x->n_diffs ? "NOT in sync" : "in sync");
	fprintf(out, "  mark %#x/%#x, table %u, rule priority %u\n", x->conf->mark, st->config->mask,
		x->table, x->conf->priority);
	for (unsigned f = 0; f < 2; f++) {
		const struct status_family *fa = &x->fam[f];

		if (!fa->src.family)
			continue;
		fprintf(out, "  IPv%c: source %s, ", f ? '6' : '4', ADDR(&fa->src));
		if (fa->gw.family)
			fprintf(out, "gateway %s\n", ADDR(&fa->gw));
		else
			fprintf(out, "%s\n", fa->p2p ? "point-to-point" : "no gateway");
	}
	fprintf(out, "  ");
	human_sysctl(out, "rp_filter", name, &x->rp_filter);
	fprintf(out, "; ");
	human_sysctl(out, "src_valid_mark", name, &x->src_valid_mark);
	fprintf(out, "\n");
	if (x->counted)
		fprintf(out, "  new connections marked: %" PRIu64 "\n", x->new_conns);
	if (x->daemon && x->daemon->was[0])
		fprintf(out, "  last change: %s, was: %s\n", WHEN(x->daemon->since),
			SHOWN(x->daemon->was));
	else if (x->daemon)
		fprintf(out, "  last change: %s, the daemon's start\n", WHEN(x->daemon->since));
	for (size_t i = 0; i < x->n_removals; i++) {
		const struct statefile_removal *m = x->removals[i];

		fprintf(out, "  re-added %u time%s: %s; last removed %s by %s\n", m->total,
			m->total == 1 ? "" : "s", SHOWN(m->what), WHEN(m->last), SHOWN(m->who));
	}
	for (size_t i = 0; i < x->n_diffs; i++)
		fprintf(out, "  %s\n", x->diffs[i]);
}

static void print_human(const struct status *st, FILE *out)
{
	human_daemon(st, out);
	if (!st->config) {
		fprintf(out, "config: %s is NOT valid (its errors are above): %s\n",
			SHOWN(st->config_path),
			st->running ? "the daemon keeps the configuration it loaded last"
				    : "nothing to hold the kernel against");
		return;
	}
	fprintf(out, "config: %s, MarkMask %#x%s\n", st->config->path, st->config->mask,
		st->config_changed ? " (changed since the daemon loaded it: reload to apply)" : "");
	fprintf(out, "nft table inet replyroute: %s, %s%s\n", st->nft_present ? "present" : "missing",
		st->nft_in_sync ? "in sync" : "NOT in sync",
		daemon_known(st) && st->daemon.nft_owned ? ", installed by replyroute" : "");
	fprintf(out, "kernel state: %s\n", status_in_sync(st) ? "in sync" : "NOT in sync");
	for (size_t i = 0; i < st->n_diffs; i++)
		fprintf(out, "  %s\n", st->diffs[i]);
	if (!st->n_ifaces)
		fprintf(out, "\nno interfaces configured\n");
	for (size_t i = 0; i < st->n_ifaces; i++)
		human_iface(st, &st->ifaces[i], out);
}

/* ---- JSON ------------------------------------------------------------------ */

/* A JSON string: control characters as \u00XX, bytes from 0x7f as the text \xNN. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else if (*p >= 0x7f)
			fprintf(out, "\\\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void json_key(FILE *out, const char *indent, const char *key)
{
	fprintf(out, "%s\"%s\": ", indent, key);
}

static void json_time(FILE *out, const char *indent, const char *key, uint64_t usec, bool last)
{
	fprintf(out, "%s\"%s\": \"%s\",\n%s\"%s_unix\": %" PRIu64 "%s\n", indent, key, WHEN(usec),
		indent, key, usec / 1000000, last ? "" : ",");
}

static void json_int_or_null(FILE *out, long long v)
{
	if (v < 0)
		fprintf(out, "null");
	else
		fprintf(out, "%lld", v);
}

static void json_strings(FILE *out, const char *indent, char **v, size_t n)
{
	fprintf(out, "[");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\n%s  ", i ? "," : "", indent);
		json_str(out, v[i]);
	}
	fprintf(out, n ? "\n%s]" : "]", indent);
}

static void json_daemon(const struct status *st, FILE *out)
{
	const char *in = "    ";

	fprintf(out, "  \"daemon\": {\n    \"running\": %s,\n    \"pid\": ",
		st->running ? "true" : "false");
	json_int_or_null(out, st->running ? st->pid : -1);
	fprintf(out, ",\n    \"state_file\": \"%s\"", state_file(st));
	if (!daemon_known(st)) {
		fprintf(out, "\n  },\n");
		return;
	}
	fprintf(out, ",\n");
	json_time(out, in, "started", st->daemon.started, false);
	fprintf(out, "    \"uptime_seconds\": %" PRIu64 ",\n    \"last_reload\": ",
		(st->now - st->daemon.started) / 1000000);
	if (st->daemon.reload_time) {
		fprintf(out, "{\n");
		json_time(out, "      ", "time", st->daemon.reload_time, false);
		fprintf(out, "      \"result\": \"%s\",\n      \"error\": ",
			st->daemon.reload_failed ? "failed" : "ok");
		if (st->daemon.reload_failed)
			json_str(out, st->daemon.reload_error);
		else
			fprintf(out, "null");
		fprintf(out, "\n    },\n");
	} else {
		fprintf(out, "null,\n");
	}
	fprintf(out, "    \"config_changed\": %s,\n    \"nft_owned\": %s\n  },\n",
		st->config_changed ? "true" : "false", st->daemon.nft_owned ? "true" : "false");
}

static void json_sysctl(FILE *out, const char *key, const struct status_sysctl *s)
{
	fprintf(out, "      \"%s\": {\"effective\": ", key);
	json_int_or_null(out, s->effective);
	fprintf(out, ", \"all\": ");
	json_int_or_null(out, s->all);
	fprintf(out, ", \"interface\": ");
	json_int_or_null(out, s->iface);
	fprintf(out, "},\n");
}

static void json_removals(const struct status_iface *x, FILE *out)
{
	fprintf(out, "      \"readded\": [");
	for (size_t i = 0; i < x->n_removals; i++) {
		const struct statefile_removal *m = x->removals[i];

		fprintf(out, "%s\n        {\n          \"object\": ", i ? "," : "");
		json_str(out, m->what);
		fprintf(out, ",\n          \"times\": %u,\n          \"current_run\": %u,\n", m->total,
			m->streak);
		json_time(out, "          ", "last", m->last, false);
		fprintf(out, "          \"removed_by\": ");
		json_str(out, m->who);
		fprintf(out, "\n        }");
	}
	fprintf(out, x->n_removals ? "\n      ]\n" : "]\n");
}

static void json_iface(const struct status *st, const struct status_iface *x, FILE *out)
{
	char name[VALUE_NAME_ESCAPED];

	fprintf(out, "    {\n");
	json_key(out, "      ", "name");
	json_str(out, value_name_escape(x->conf->name, name, sizeof(name)));
	fprintf(out, ",\n      \"state\": \"%s\",\n      \"in_sync\": %s,\n      \"differences\": ",
		x->state, x->n_diffs ? "false" : "true");
	json_strings(out, "      ", x->diffs, x->n_diffs);
	fprintf(out, ",\n      \"mark\": %u,\n      \"mask\": %u,\n      \"table\": %u,\n"
		     "      \"priority\": %u,\n",
		x->conf->mark, st->config->mask, x->table, x->conf->priority);
	for (unsigned f = 0; f < 2; f++) {
		const struct status_family *fa = &x->fam[f];

		json_key(out, "      ", family_names[f]);
		if (!fa->src.family) {
			fprintf(out, "null,\n");
			continue;
		}
		fprintf(out, "{\"source\": \"%s\", \"gateway\": ", ADDR(&fa->src));
		if (fa->gw.family)
			fprintf(out, "\"%s\"", ADDR(&fa->gw));
		else
			fprintf(out, "null");
		fprintf(out, ", \"point_to_point\": %s},\n", fa->p2p ? "true" : "false");
	}
	json_sysctl(out, "rp_filter", &x->rp_filter);
	json_sysctl(out, "src_valid_mark", &x->src_valid_mark);
	fprintf(out, "      \"new_connections_marked\": ");
	json_int_or_null(out, x->counted ? (long long)x->new_conns : -1);
	fprintf(out, ",\n      \"last_change\": ");
	if (x->daemon) {
		fprintf(out, "{\n");
		json_time(out, "        ", "time", x->daemon->since, false);
		fprintf(out, "        \"was\": ");
		if (x->daemon->was[0])
			json_str(out, x->daemon->was);
		else
			fprintf(out, "null");
		fprintf(out, "\n      },\n");
	} else {
		fprintf(out, "null,\n");
	}
	json_removals(x, out);
	fprintf(out, "    }");
}

static void print_json(const struct status *st, FILE *out)
{
	fprintf(out, "{\n");
	json_daemon(st, out);
	fprintf(out, "  \"config\": {\"path\": ");
	json_str(out, st->config_path);
	if (!st->config) {
		fprintf(out, ", \"valid\": false, \"mark_mask\": null},\n  \"nft\": null,\n"
			     "  \"in_sync\": null,\n  \"differences\": [],\n  \"interfaces\": []\n}\n");
		return;
	}
	fprintf(out, ", \"valid\": true, \"mark_mask\": %u},\n", st->config->mask);
	fprintf(out, "  \"nft\": {\"present\": %s, \"in_sync\": %s},\n",
		st->nft_present ? "true" : "false", st->nft_in_sync ? "true" : "false");
	fprintf(out, "  \"in_sync\": %s,\n  \"differences\": ", status_in_sync(st) ? "true" : "false");
	json_strings(out, "  ", st->diffs, st->n_diffs);
	fprintf(out, ",\n  \"interfaces\": [");
	for (size_t i = 0; i < st->n_ifaces; i++) {
		fprintf(out, "%s\n", i ? "," : "");
		json_iface(st, &st->ifaces[i], out);
	}
	fprintf(out, st->n_ifaces ? "\n  ]\n}\n" : "]\n}\n");
}

/* ---- Prometheus ------------------------------------------------------------ */

static void prom_head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP replyroute_%s %s\n# TYPE replyroute_%s %s\n", name, help, name, type);
}

/* A label value: the escaped name, with '\\' and '"' escaped again for the format. */
static void prom_iface(FILE *out, const struct status_iface *x)
{
	char name[VALUE_NAME_ESCAPED];

	fputs("{interface=\"", out);
	for (const char *p = value_name_escape(x->conf->name, name, sizeof(name)); *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

/* One sample per interface; value < 0: that interface has none. */
static void prom_per_iface(const struct status *st, FILE *out, const char *name,
			   long long (*value)(const struct status_iface *x))
{
	for (size_t i = 0; i < st->n_ifaces; i++) {
		long long v = value(&st->ifaces[i]);

		if (v < 0)
			continue;
		fprintf(out, "replyroute_%s", name);
		prom_iface(out, &st->ifaces[i]);
		fprintf(out, "} %lld\n", v);
	}
}

static long long v_in_sync(const struct status_iface *x) { return !x->n_diffs; }
static long long v_rp_filter(const struct status_iface *x) { return x->rp_filter.effective; }
static long long v_svm(const struct status_iface *x) { return x->src_valid_mark.effective; }
static long long v_table(const struct status_iface *x) { return x->table; }
static long long v_conns(const struct status_iface *x)
{
	return x->counted ? (long long)x->new_conns : -1;
}
static long long v_readded(const struct status_iface *x)
{
	long long n = 0;

	for (size_t i = 0; i < x->n_removals; i++)
		n += x->removals[i]->total;
	return n;
}
static long long v_change(const struct status_iface *x)
{
	return x->daemon ? (long long)(x->daemon->since / 1000000) : -1;
}

static void prom_states(const struct status *st, FILE *out)
{
	static const char *const states[] = {"active", "waiting-for-link", "link-down",
					     "no-carrier", "no-usable-address", "conflict"};

	prom_head(out, "interface_state", "gauge",
		  "The interface's state: 1 for the one it is in, 0 for the others.");
	for (size_t i = 0; i < st->n_ifaces; i++)
		for (size_t s = 0; s < sizeof(states) / sizeof(*states); s++) {
			fprintf(out, "replyroute_interface_state");
			prom_iface(out, &st->ifaces[i]);
			fprintf(out, ",state=\"%s\"} %d\n", states[s],
				!strcmp(st->ifaces[i].state, states[s]));
		}
}

static void print_prometheus(const struct status *st, FILE *out)
{
	static const struct {
		const char *name, *type, *help;
		long long (*value)(const struct status_iface *x);
	} per_iface[] = {
		{"interface_in_sync", "gauge", "1 when the kernel holds exactly the interface's desired state.", v_in_sync},
		{"interface_table", "gauge", "The interface's routing table.", v_table},
		{"interface_rp_filter", "gauge", "Effective rp_filter (the larger of all and the interface).", v_rp_filter},
		{"interface_src_valid_mark", "gauge", "Effective src_valid_mark (the larger of all and the interface).", v_svm},
		{"new_connections_marked_total", "counter", "New connections marked on the interface since the nft table was installed.", v_conns},
		{"objects_readded_total", "counter", "Rules and routes of the interface removed by another process and re-added.", v_readded},
		{"interface_last_change_time_seconds", "gauge", "When the interface's status last changed.", v_change},
	};

	prom_head(out, "daemon_up", "gauge", "1 when replyrouted is running.");
	fprintf(out, "replyroute_daemon_up %d\n", st->running);
	if (daemon_known(st)) {
		prom_head(out, "daemon_start_time_seconds", "gauge", "When replyrouted started.");
		fprintf(out, "replyroute_daemon_start_time_seconds %" PRIu64 "\n",
			st->daemon.started / 1000000);
		prom_head(out, "config_changed", "gauge",
			  "1 when the config file differs from the one the daemon runs.");
		fprintf(out, "replyroute_config_changed %d\n", st->config_changed);
	}
	if (daemon_known(st) && st->daemon.reload_time) {
		prom_head(out, "last_reload_success", "gauge", "1 when the last reload succeeded.");
		fprintf(out, "replyroute_last_reload_success %d\n", !st->daemon.reload_failed);
		prom_head(out, "last_reload_time_seconds", "gauge", "When the last reload was asked for.");
		fprintf(out, "replyroute_last_reload_time_seconds %" PRIu64 "\n",
			st->daemon.reload_time / 1000000);
	}
	prom_head(out, "config_valid", "gauge", "1 when the config file is valid.");
	fprintf(out, "replyroute_config_valid %d\n", st->config != NULL);
	if (!st->config)
		return;
	prom_head(out, "nft_table_in_sync", "gauge", "1 when the nft table inet replyroute is as replyroute installs it.");
	fprintf(out, "replyroute_nft_table_in_sync %d\n", st->nft_in_sync);
	prom_head(out, "in_sync", "gauge", "1 when the kernel holds exactly the desired state.");
	fprintf(out, "replyroute_in_sync %d\n", status_in_sync(st));
	prom_states(st, out);
	for (size_t m = 0; m < sizeof(per_iface) / sizeof(*per_iface); m++) {
		prom_head(out, per_iface[m].name, per_iface[m].type, per_iface[m].help);
		prom_per_iface(st, out, per_iface[m].name, per_iface[m].value);
	}
}

void status_print(const struct status *st, enum status_format f, FILE *out)
{
	switch (f) {
	case STATUS_HUMAN:
		print_human(st, out);
		break;
	case STATUS_JSON:
		print_json(st, out);
		break;
	case STATUS_PROMETHEUS:
		print_prometheus(st, out);
		break;
	}
}
