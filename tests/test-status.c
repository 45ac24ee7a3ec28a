/* SPDX-License-Identifier: MIT */
/*
 * --status without a kernel: the state file's format (round trip, and what
 * the reader refuses), and golden tests of the three outputs for a fixed
 * input: a config, a kernel view served by the recording back end (after a
 * reconcile, then tampered with), a fixed state file, fixed sysctls, counters
 * and clock. The outputs are compared whole with tests/expected/status.*;
 * RR_GOLDEN_UPDATE=1 writes them instead (tests/golden.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "recorder.h"
#include "rr-build.h"
#include "status.h"
#include "check.h"
#include "golden.h"

#define UP (IFF_UP | IFF_LOWER_UP | IFF_RUNNING)
/* 2026-12-02T10:00:00Z */
#define NOW 1796205600000000ULL

static char statedir[] = "/tmp/rr-test-status.XXXXXX";

static const char conf_text[] = "[Global]\nMarkMask=0xff\n"
				"[Interface]\nName=eth1\nTable=100\nMark=0x1\n"
				"[Interface]\nName=wan2\nTable=200\nMark=0x2\nPriority=1100\n"
				"[Interface]\nName=lte0\nTable=300\nMark=0x3\n"
				"[Interface]\nName=dsl\\x01\nTable=400\nMark=0x4\n";

static struct rr_config *config(void)
{
	struct rr_config_env env = {.rt_tables_dir = RT_TABLES_DIR};
	struct rr_config *c = NULL;
	char text[sizeof(conf_text)];
	char *esc;

	/* A control byte in a name, as the kernel allows it. */
	memcpy(text, conf_text, sizeof(text));
	esc = strstr(text, "\\x01");
	esc[0] = '\x01';
	memmove(esc + 1, esc + 4, strlen(esc + 4) + 1);
	if (config_load_buffer("/etc/replyroute/replyroute.conf", text, strlen(text), &env, stderr,
			       &c) < 0)
		abort();
	return c;
}

/* ---- the fixed probe ------------------------------------------------------ */

struct fixed {
	const char *state; /* NULL: no state file */
	int holder;
};

static int fx_state(void *data, struct statefile *ret)
{
	const struct fixed *f = data;

	return f->state ? statefile_parse(f->state, ret) : -ENOENT;
}

static int fx_lock_holder(void *data)
{
	return ((const struct fixed *)data)->holder;
}

static int fx_sysctl(void *data, const char *ifname, const char *key, int *ret)
{
	static const struct {
		const char *ifname, *key;
		int value;
	} v[] = {
		{"all", "rp_filter", 0},     {"eth1", "rp_filter", 2},      {"wan2", "rp_filter", 1},
		{"all", "src_valid_mark", 0}, {"eth1", "src_valid_mark", 1}, {"wan2", "src_valid_mark", 0},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
		if (!strcmp(v[i].ifname, ifname) && !strcmp(v[i].key, key)) {
			*ret = v[i].value;
			return 0;
		}
	return -ENOENT;
}

static int fx_counters(void *data, char **ret)
{
	*ret = strdup("table inet replyroute {\n"
		      "\tchain ct_0x1 {\n\t\tcounter packets 12 bytes 720 ct mark set ct mark & 0xffffff01 | 0x00000001\n\t}\n"
		      "\tchain pkt_0x1 {\n\t\tmeta mark set meta mark & 0xffffff01 | 0x00000001\n\t}\n"
		      "\tchain ct_0x2 {\n\t\tcounter packets 3 bytes 180 ct mark set ct mark & 0xffffff02 | 0x00000002\n\t}\n"
		      "}\n");
	return *ret ? 0 : -ENOMEM;
}

static uint64_t fx_now(void *data)
{
	return NOW;
}

static struct status_probe fixed_probe(struct fixed *f)
{
	return (struct status_probe){fx_state, fx_lock_holder, fx_sysctl, fx_counters, fx_now, f};
}

/* ---- golden files --------------------------------------------------------- */

static void golden(const struct status *st, enum status_format fmt, const char *file)
{
	GOLDEN(EXPECTED_DIR, file, status_print(st, fmt, out));
}

/* ---- the fixed input ------------------------------------------------------- */

/*
 * The kernel: eth1 active and in sync; wan2 active, but its rule removed (by
 * the "remover" in the state file, again and again) and its src_valid_mark
 * reset; lte0 absent; dsl\x01 down; a leftover rule of ours for table 500.
 */
static void kernel(struct recorder *rec)
{
	struct rr_rule leftover = {
		.family = AF_INET, .priority = 900, .table = 500, .fwmark = 0x9, .fwmask = 0xff,
		.protocol = RR_PROTO, .action = FR_ACT_TO_TBL,
	};
	struct rr_backend be = recorder_backend(rec);
	struct rr_engine *e = NULL;

	recorder_init(rec);
	recorder_link(rec, 1, "lo", IFF_UP | IFF_LOOPBACK | IFF_LOWER_UP);
	recorder_link(rec, 2, "eth1", UP);
	recorder_link(rec, 3, "wan2", UP);
	recorder_link(rec, 4, "dsl\x01", 0);
	recorder_addr(rec, 2, "203.0.113.2/24");
	recorder_addr(rec, 2, "2001:db8:113::2/64");
	recorder_default(rec, 2, "203.0.113.1");
	recorder_default(rec, 2, "2001:db8:113::1");
	recorder_addr(rec, 3, "198.18.0.2/24");
	/* The daemon's work, through the engine and the recorder. */
	if (engine_new(statedir, &be, &e) < 0)
		abort();
	engine_set_config(e, config());
	if (engine_reconcile(e, RR_DIRTY_ALL) < 0)
		abort();
	engine_free(e);
	free(recorder_take(rec));
	/* Then someone else. */
	for (size_t i = 0; i < rec->kernel.n_rules; i++)
		if (rec->kernel.rules[i].table == 200)
			rec->kernel.rules[i] = rec->kernel.rules[--rec->kernel.n_rules];
	rec->sysctl[3] = 0;
	*view_add_rule(&rec->kernel) = leftover;
	for (size_t i = 0; i < rec->kernel.n_routes; i++) {
		struct rr_route *r = &rec->kernel.routes[i];
		char dst[INET6_ADDRSTRLEN];

		if (r->table != 200 || !rr_addr_str(&r->dst, dst, sizeof(dst)))
			continue;
		/* Ours, changed: another source. */
		if (!strcmp(dst, "198.18.0.0"))
			r->src.bytes[3] = 99;
	}
}

static char *state_text(const struct rr_config *c)
{
	char *s = NULL;

	if (asprintf(&s,
		     "replyroute-state 1\n"
		     "pid 4242\n"
		     "started 1796198400123456\n" /* 08:00:00Z: up 2 h */
		     "config %016" PRIx64 "\n"
		     "reload 1796202000000000 failed /etc/replyroute/replyroute.conf:7:\\x20unknown\\x20key\\x20Tabel=\\x20in\\x20[Interface]\n"
		     "nft-owned yes\n"
		     "iface eth1 active 100 0x1 1796198400200000 -\n"
		     "iface wan2 active 200 0x2 1796204000000000 link\\x20down\n"
		     "iface lte0 waiting-for-link 300 0x3 1796198400200000 -\n"
		     "iface dsl\\x01 link-down 400 0x4 1796203000000000 198.18.1.2\\x20no\\x20gateway,\\x20table\\x20400\n"
		     "removed wan2 rule 7 5 1796205590000000 remover[777] rule\\x20priority\\x201100\\x20fwmark\\x200x2/0xff\\x20lookup\\x20200\\x20proto\\x20205\n"
		     "removed eth1 route 1 1 1796200000000000 nm\"x\\x5cy\\xc3[812] route\\x20default\\x20via\\x20203.0.113.1\\x20dev\\x20eth1\\x20table\\x20100\n"
		     "future-record that this version skips\n",
		     statefile_config_hash(c)) < 0)
		abort();
	return s;
}

/* The kernel above, and a fresh engine on it as --status makes one. */
static struct rr_engine *inspector(struct recorder *rec)
{
	struct rr_backend be;
	struct rr_engine *e = NULL;

	kernel(rec);
	be = recorder_backend(rec);
	if (engine_new(statedir, &be, &e) < 0)
		abort();
	engine_set_config(e, config());
	return e;
}

static void test_golden(void)
{
	struct recorder rec;
	struct rr_engine *e = inspector(&rec);
	struct fixed fx = {.holder = 4242};
	struct status_probe probe = fixed_probe(&fx);
	struct status st;
	char *state;

	fx.state = state = state_text(engine_config(e));
	CHECK(status_gather(&st, NULL, engine_config(e), e, &probe) == 0);
	CHECK(!status_in_sync(&st));
	CHECK(st.running && !st.stale && !st.config_changed);
	golden(&st, STATUS_HUMAN, "status.txt");
	golden(&st, STATUS_JSON, "status.json");
	golden(&st, STATUS_PROMETHEUS, "status.prom");
	status_clear(&st);

	/* No daemon, a state file left behind: said so, nothing of it shown. */
	fx.holder = 0;
	CHECK(status_gather(&st, NULL, engine_config(e), e, &probe) == 0);
	CHECK(!st.running && st.stale);
	golden(&st, STATUS_HUMAN, "status-stopped.txt");
	golden(&st, STATUS_JSON, "status-stopped.json");
	status_clear(&st);

	/* The file on disk is not valid: the daemon, which runs the last good one, only. */
	fx.holder = 4242;
	CHECK(status_gather(&st, "/etc/replyroute/replyroute.conf", NULL, e, &probe) == 0);
	CHECK(st.running && st.config_changed && !st.n_ifaces);
	golden(&st, STATUS_HUMAN, "status-badconfig.txt");
	golden(&st, STATUS_JSON, "status-badconfig.json");
	golden(&st, STATUS_PROMETHEUS, "status-badconfig.prom");
	status_clear(&st);
	free(state);
	engine_free(e);
	recorder_done(&rec);
}

/* --status changes nothing: no call recorded. */
static void test_changes_nothing(void)
{
	struct recorder rec;
	struct rr_engine *e = inspector(&rec);
	struct fixed fx = {0};
	struct status_probe probe = fixed_probe(&fx);
	struct status st;
	char *calls;

	CHECK(status_gather(&st, NULL, engine_config(e), e, &probe) == 0);
	calls = recorder_take(&rec);
	CHECK(!strcmp(calls, ""));
	free(calls);
	status_clear(&st);
	engine_free(e);
	recorder_done(&rec);
}

/* ---- the state file ---------------------------------------------------------- */

static void test_statefile_round_trip(void)
{
	struct statefile_iface ifaces[] = {
		{.name = "eth1", .state = RR_IFACE_ACTIVE, .table = 100, .mark = 0x1, .since = 5},
		{.name = "a\x01-\x7f", .state = RR_IFACE_NO_CARRIER, .table = 7, .mark = 0x100,
		 .since = 6, .was = "1.2.3.4 via 1.2.3.1, table 7"},
		{.name = "-", .state = RR_IFACE_ABSENT, .table = 1, .mark = 0x2, .since = 7, .was = "-"},
	};
	struct statefile_removal rm[] = {
		{.iface = "", .rule = true, .total = 3, .streak = 2, .last = 9, .who = "Web Content[1]",
		 .what = "rule \\ priority"},
	};
	struct statefile s = {.pid = 1, .started = 2, .config_hash = 0xfedcba9876543210ULL,
			      .reload_time = 3, .reload_failed = true, .reload_error = "x: y\tz\n",
			      .nft_owned = true, .ifaces = ifaces, .n_ifaces = 3, .removals = rm,
			      .n_removals = 1};
	struct statefile back;
	char *text = NULL, *again = NULL;

	CHECK(statefile_format(&s, &text) == 0);
	CHECK(!strchr(text, '\t') && !strstr(text, "\x01"));
	CHECK(statefile_parse(text, &back) == 0);
	CHECK(statefile_format(&back, &again) == 0);
	CHECK(text && again && !strcmp(text, again));
	CHECK(back.n_ifaces == 3 && !strcmp(back.ifaces[1].name, "a\x01-\x7f") &&
	      !strcmp(back.ifaces[2].name, "-") && !strcmp(back.ifaces[2].was, "-"));
	CHECK(back.n_removals == 1 && !strcmp(back.removals[0].who, "Web Content[1]") &&
	      back.removals[0].iface[0] == '\0' && back.removals[0].streak == 2);
	CHECK(!strcmp(back.reload_error, "x: y\tz\n") && back.config_hash == s.config_hash);
	statefile_clear(&back);
	free(text);
	free(again);
}

static void test_statefile_refused(void)
{
	static const char head[] = "replyroute-state 1\npid 1\nstarted 2\n";
	static const char *const bad[] = {
		"",
		"replyroute-state 2\npid 1\nstarted 2\n",
		"replyroute-state 1\nstarted 2\n",                /* no pid */
		"replyroute-state 1\npid 1\nstarted 2",           /* cut short */
		"replyroute-state 1\npid -1\nstarted 2\n",
		"replyroute-state 1\npid 1\nstarted  2\n",        /* two spaces */
		"replyroute-state 1\npid 1 \nstarted 2\n",
		"replyroute-state 1\npid 99999999999\nstarted 2\n",
		NULL,
	};
	static const char *const bad_lines[] = {
		"iface eth/1 active 100 0x1 5 -\n",
		"iface eth1 active 100 0x0 5 -\n",
		"iface eth1 active 100 1 5 -\n",
		"iface eth1 sleeping 100 0x1 5 -\n",
		"iface eth1 active 100 0x1 5\n",
		"iface eth1 active 100 0x1 5 - x\n",
		"iface eth1 active 100 0x1 5 -\niface eth1 active 200 0x2 5 -\n",
		"iface eth1 active 4294967296 0x1 5 -\n",
		"iface 0123456789abcdef active 1 0x1 5 -\n",
		"iface eth1 active 100 0x1 5 a\\x00b\n",
		"iface eth1 active 100 0x1 5 a\\x4\n",
		"iface eth1 active 100 0x1 5 a\\x\t1\n",
		"iface eth1 active 100 0x1 5 a\\y41\n",
		"removed eth1 rule 1 2 5 who what\n", /* streak above total */
		"removed eth1 both 1 1 5 who what\n",
		"nft-owned maybe\n",
		"reload 5 ok extra\n",
		"reload 5 failed\n",
		"reload 0 ok\n",
		"config 123\n",
		"config 0123456789ABCDEF\n",
	};
	struct statefile s;
	char text[512];

	for (size_t i = 0; bad[i]; i++) {
		CHECK(statefile_parse(bad[i], &s) == -EINVAL);
	}
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(*bad_lines); i++) {
		snprintf(text, sizeof(text), "%s%s", head, bad_lines[i]);
		if (statefile_parse(text, &s) != -EINVAL) {
			fprintf(stderr, "accepted: %s", bad_lines[i]);
			failures++;
			statefile_clear(&s);
		}
	}
	snprintf(text, sizeof(text), "%sunknown record from a newer version\n", head);
	CHECK(statefile_parse(text, &s) == 0);
	statefile_clear(&s);
}

/* The file itself: written whole, read back, refused when planted as a symlink. */
static void test_statefile_dir(void)
{
	struct statefile s = {.pid = 1, .started = 2}, back;
	char *text = NULL, path[256];

	CHECK(statefile_format(&s, &text) == 0);
	CHECK(statefile_write_text(statedir, text) == 0);
	CHECK(statefile_read(statedir, &back) == 0 && back.pid == 1);
	statefile_clear(&back);
	CHECK(statefile_remove(statedir) == 0);
	CHECK(statefile_read(statedir, &back) == -ENOENT);
	snprintf(path, sizeof(path), "%s/" STATEFILE_NAME, statedir);
	CHECK(symlink("/etc/passwd", path) == 0);
	CHECK(statefile_read(statedir, &back) == -ELOOP);
	CHECK(unlink(path) == 0);
	free(text);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(statedir))
		return 1;
	log_max_level = 3;
	test_statefile_round_trip();
	test_statefile_refused();
	test_statefile_dir();
	test_golden();
	test_changes_nothing();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", statedir);
	if (system(cmd) != 0)
		return 1;
	return check_done("status");
}
