/* SPDX-License-Identifier: MIT */
/*
 * Engine unit tests: the whole reconcile (observe, desired, plan, apply)
 * against the recording back end. No privileges, no kernel: each test builds
 * a kernel view by hand and compares the whole list of recorded calls.
 */
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "recorder.h"
#include "check.h"

#define UP (IFF_UP | IFF_LOWER_UP | IFF_RUNNING)

static char statedir[] = "/tmp/rr-test-engine.XXXXXX";


/* The recorded calls since the last look are exactly `want`. */
#define CALLS(rec, want)                                                                    \
	do {                                                                                \
		char *got_ = recorder_take(rec);                                            \
		if (strcmp(got_, want) != 0) {                                              \
			fprintf(stderr, "%s:%d: calls differ\n--- want\n%s--- got\n%s---\n", \
				__FILE__, __LINE__, want, got_);                            \
			failures++;                                                         \
		}                                                                           \
		free(got_);                                                                 \
	} while (0)

static struct rr_config *config(const char *text)
{
	struct rr_config_env env = {.rt_tables_dir = RT_TABLES_DIR};
	struct rr_config *c = NULL;
	char path[] = "/tmp/rr-test-engine-conf.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	if (config_load(path, &env, stderr, &c) < 0)
		abort();
	unlink(path);
	return c;
}

static const char seed_conf[] = "[Interface]\nName=eth1\nTable=100\nMark=0x1\n";

/* The seed: eth0 management, eth1 public with its default route in main. */
static void seed(struct recorder *rec)
{
	recorder_init(rec);
	recorder_link(rec, 1, "lo", IFF_UP | IFF_LOOPBACK | IFF_LOWER_UP);
	recorder_link(rec, 2, "eth0", UP);
	recorder_link(rec, 3, "eth1", UP);
	recorder_addr(rec, 2, "192.0.2.2/24");
	recorder_addr(rec, 3, "203.0.113.2/24");
	recorder_default(rec, 3, "203.0.113.1");
}

static struct rr_engine *engine(struct recorder *rec, const char *conf)
{
	struct rr_backend be = recorder_backend(rec);
	struct rr_engine *e = NULL;

	if (engine_new(statedir, &be, &e) < 0)
		abort();
	engine_set_config(e, conf ? config(conf) : NULL);
	return e;
}

static void clear_statedir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/sysctl %s/nft", statedir, statedir);
	if (system(cmd) != 0)
		abort();
}

/* The end of a test: the engine, the recorder's kernel and the runtime directory go. */
static void done(struct rr_engine *e, struct recorder *rec)
{
	engine_free(e);
	recorder_done(rec);
	clear_statedir();
}

/* The seed's default route in main (the recorder lists prefix routes first). */
static struct rr_route *main_default(struct recorder *rec)
{
	for (size_t i = 0; i < rec->kernel.n_routes; i++)
		if (rec->kernel.routes[i].table == RT_TABLE_MAIN && rec->kernel.routes[i].dst_len == 0)
			return &rec->kernel.routes[i];
	abort();
}

/* Drop the kernel's routes (rules) for which the test says so, as `ip route del` would. */
static void drop_rule(struct recorder *rec, uint32_t priority)
{
	size_t m = 0;

	for (size_t i = 0; i < rec->kernel.n_rules; i++)
		if (rec->kernel.rules[i].priority != priority)
			rec->kernel.rules[m++] = rec->kernel.rules[i];
	rec->kernel.n_rules = m;
}

static void drop_route(struct recorder *rec, const struct rr_route *r)
{
	size_t at = (size_t)(r - rec->kernel.routes);

	rec->kernel.routes[at] = rec->kernel.routes[--rec->kernel.n_routes];
}

/* Whether the calls recorded since the last look contain needle (and forget them). */
static bool took(struct recorder *rec, const char *needle)
{
	char *calls = recorder_take(rec);
	bool found = strstr(calls, needle) != NULL;

	free(calls);
	return found;
}

#define SEED_APPLY                                                                                 \
	"sysctl net.ipv4.conf.eth1.src_valid_mark=1\n"                                             \
	"nft replace table inet replyroute\n"                                                      \
	"ip route add 203.0.113.0/24 dev eth1 src 203.0.113.2 table 100 proto 205 scope link metric 0\n" \
	"ip route add default via 203.0.113.1 dev eth1 src 203.0.113.2 table 100 proto 205 metric 0\n" \
	SEED_RULES("add")

#define SEED_RULES(verb)                                                                           \
	"ip rule " verb " priority 999 iif eth1 fwmark 0x1/0xff lookup 254 proto 205\n"            \
	"ip rule " verb " priority 1000 fwmark 0x1/0xff lookup 100 proto 205\n"                    \
	"ip rule " verb " priority 998 fwmark 0/0xff goto 1001 proto 205\n"                         \
	"ip rule " verb " priority 1001 nop proto 205\n"

/* The seed's kernel state: 2 routes, 4 rules, the sysctl and the nft table. */
#define SEED_CHANGES 8

/* sysctl first, the table, connected routes before the gateway route, then the rule. */
static void test_apply_order(void)
{
	struct recorder rec;
	struct rr_engine *e;

	seed(&rec);
	e = engine(&rec, seed_conf);
	CHECK(engine_reconcile(e, 0) == SEED_CHANGES);
	CALLS(&rec, SEED_APPLY);
	CHECK(engine_pending(e) == (RR_DIRTY_ROUTES | RR_DIRTY_RULES));
	/* Converged: nothing to do, whatever is marked dirty. */
	CHECK(engine_reconcile(e, RR_DIRTY_ALL) == 0);
	CALLS(&rec, "");
	CHECK(engine_pending(e) == 0);
	CHECK(strcmp(engine_status(e), "eth1: 203.0.113.2 via 203.0.113.1, table 100") == 0);

	/* --cleanup is the plan against nothing: rules before routes, the table, sysctls last. */
	CHECK(engine_cleanup(e) == SEED_CHANGES);
	CALLS(&rec, SEED_RULES("del")
		    "ip route del 203.0.113.0/24 dev eth1 src 203.0.113.2 table 100 proto 205 scope link metric 0\n"
		    "ip route del default via 203.0.113.1 dev eth1 src 203.0.113.2 table 100 proto 205 metric 0\n"
		    "nft delete table inet replyroute\n"
		    "sysctl net.ipv4.conf.eth1.src_valid_mark=0\n");
	done(e, &rec);
}

/* The address renumbered: each of its routes replaced in place, nothing deleted and added. */
static void test_address_change_is_replace(void)
{
	struct recorder rec;
	struct rr_engine *e;

	seed(&rec);
	e = engine(&rec, seed_conf);
	CHECK(engine_reconcile(e, 0) > 0);
	free(recorder_take(&rec));
	rec.kernel.addrs[1].local.v4.s_addr = htonl(0xcb007103); /* 203.0.113.3 */
	CHECK(engine_reconcile(e, RR_DIRTY_ADDRS) == 2);
	CALLS(&rec, "ip route replace 203.0.113.0/24 dev eth1 src 203.0.113.3 table 100 proto 205 scope link metric 0\n"
		    "ip route replace default via 203.0.113.1 dev eth1 src 203.0.113.3 table 100 proto 205 metric 0\n");
	done(e, &rec);
}

/* Adding what exists and deleting what is gone: converged, not failed. */
static void test_exists_and_gone_converge(void)
{
	struct recorder rec;
	struct rr_engine *e;

	seed(&rec);
	e = engine(&rec, seed_conf);
	rec.fail_prefix = "ip rule add";
	rec.fail_errno = -EEXIST;
	rec.fail_count = 1;
	CHECK(engine_reconcile(e, 0) == SEED_CHANGES - 1);
	free(recorder_take(&rec));
	engine_set_config(e, NULL);
	rec.fail_prefix = "ip route del default";
	rec.fail_errno = -ESRCH;
	rec.fail_count = 1;
	CHECK(engine_reconcile(e, 0) >= 0);
	CHECK((engine_pending(e) & ~(RR_DIRTY_ROUTES | RR_DIRTY_RULES)) == 0);
	free(recorder_take(&rec));
	done(e, &rec);
}

/*
 * Lost work: the nft table and a sysctl fail to apply; a later reconcile for
 * an unrelated address change (not marked nft or sysctl dirty) must still
 * install both, and nothing is lost whatever the next caller marks.
 */
static void test_failure_then_partial_success(void)
{
	struct recorder rec;
	struct rr_engine *e;

	seed(&rec);
	e = engine(&rec, seed_conf);
	rec.fail_prefix = "nft";
	rec.fail_errno = -EIO;
	rec.fail_count = 1;
	CHECK(engine_reconcile(e, 0) == -EIO);
	CHECK(engine_pending(e) == RR_DIRTY_ALL);
	CHECK(!rec.nft_present);
	free(recorder_take(&rec));
	/* Meanwhile someone resets the sysctl, and the next reconcile fails on a dump. */
	rec.sysctl[3] = 0;
	rec.dump_fail_errno = -EINTR;
	rec.dump_fail_count = 1;
	CHECK(engine_reconcile(e, RR_DIRTY_ADDRS) == -EINTR);
	CALLS(&rec, "");
	/* Then an address event: everything pending is done. */
	CHECK(engine_reconcile(e, RR_DIRTY_ADDRS) == 2);
	CALLS(&rec, "sysctl net.ipv4.conf.eth1.src_valid_mark=1\n"
		    "nft replace table inet replyroute\n");
	CHECK(rec.nft_present && rec.sysctl[3] == 1);
	CHECK(engine_reconcile(e, RR_DIRTY_ALL) == 0);
	CALLS(&rec, "");
	done(e, &rec);
}

/* A config change touches only the changed interfaces (delta); a table changed by someone else is replaced. */
static void test_nft_delta_and_replace(void)
{
	static const char two[] = "[Interface]\nName=eth1\nTable=100\nMark=0x1\n"
				  "[Interface]\nName=eth2\nTable=101\nMark=0x2\n";
	struct recorder rec;
	struct rr_engine *e;

	seed(&rec);
	e = engine(&rec, seed_conf);
	CHECK(engine_reconcile(e, 0) > 0);
	free(recorder_take(&rec));
	engine_set_config(e, config(two));
	CHECK(engine_reconcile(e, 0) == 1);
	CALLS(&rec, "nft add chain inet replyroute ct_0x2\n"
		    "nft add rule inet replyroute ct_0x2 counter meta mark set meta mark & 0xffffff00 | 0x2 "
		    "ct mark set ct mark & 0xffffff00 | 0x2\n"
		    "nft add chain inet replyroute pkt_0x2\n"
		    "nft add rule inet replyroute pkt_0x2 meta mark set meta mark & 0xffffff00 | 0x2\n"
		    "nft add element inet replyroute mark_restore { 0x2 : jump pkt_0x2 }\n"
		    "nft add element inet replyroute iface_mark { \"eth2\" : jump ct_0x2 }\n"
		    "nft add element inet replyroute ifaces { \"eth2\" }\n");
	/* Unchanged and intact: nothing, even when told to look. */
	CHECK(engine_reconcile(e, RR_DIRTY_NFT) == 0);
	CALLS(&rec, "");
	/* Someone edits our table: only a look notices, and the table is replaced whole. */
	recorder_nft_tamper(&rec);
	CHECK(engine_reconcile(e, 0) == 0);
	CHECK(engine_reconcile(e, RR_DIRTY_NFT) == 1);
	CALLS(&rec, "nft replace table inet replyroute\n");
	/* Deleted (a firewall reload): put back whole. */
	rec.nft_present = false;
	CHECK(engine_reconcile(e, RR_DIRTY_NFT) == 1);
	CALLS(&rec, "nft replace table inet replyroute\n");
	done(e, &rec);
}

/* The rules of the recorder's kernel that look up a table by mark (not iif): "MARK TABLE" lines. */
static char *mark_tables(const struct recorder *rec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = 0; f && i < rec->kernel.n_rules; i++) {
		const struct rr_rule *r = &rec->kernel.rules[i];

		if (r->action == FR_ACT_TO_TBL && !r->iifname[0] && r->fwmark && !r->src.family)
			fprintf(f, "%#x %u\n", r->fwmark, r->table);
	}
	if (f)
		fclose(f);
	return buf;
}

/*
 * A pattern: each matching link tracked with a mark and a table of its own;
 * one appearing changes the nft table by a delta; after a restart (a reboot:
 * nothing left in the kernel) each name gets what it had, from the state
 * directory.
 */
static void test_pattern(void)
{
	static const char conf[] = "[Interface]\nName=wan*\n"
				   "[Interface]\nName=eth1\nTable=100\nMark=0x1\n";
	char alloc_dir[64], *calls, *before;
	struct recorder rec;
	struct rr_engine *e;

	snprintf(alloc_dir, sizeof(alloc_dir), "%s/state", statedir);
	setenv("STATE_DIRECTORY", alloc_dir, 1);
	seed(&rec);
	recorder_link(&rec, 5, "wan2", UP);
	recorder_addr(&rec, 5, "198.18.2.2/24");
	recorder_default(&rec, 5, "198.18.2.1");
	recorder_link(&rec, 6, "wan1", UP);
	recorder_addr(&rec, 6, "198.18.1.2/24");
	e = engine(&rec, conf);
	CHECK(engine_reconcile(e, 0) > 0);
	free(recorder_take(&rec));
	/* Names in order get the lowest free marks (0x1 is eth1's) and tables from 1000. */
	before = mark_tables(&rec);
	CHECK(before && strstr(before, "0x1 100\n") && strstr(before, "0x2 1000\n") &&
	      strstr(before, "0x3 1001\n"));
	CHECK(engine_config(e)->n_ifaces == 3);
	/* wan3 appears: elements and chains added, the table not replaced. */
	recorder_link(&rec, 7, "wan3", UP);
	recorder_addr(&rec, 7, "198.18.3.2/24");
	CHECK(engine_reconcile(e, RR_DIRTY_LINKS) > 0);
	calls = recorder_take(&rec);
	CHECK(strstr(calls, "nft add element inet replyroute iface_mark { \"wan3\" : jump ct_0x4 }") != NULL);
	CHECK(strstr(calls, "nft replace") == NULL);
	CHECK(strstr(calls, "ip rule add priority 1000 fwmark 0x4/0xff lookup 1002") != NULL);
	free(calls);
	free(before);
	engine_free(e);
	/*
	 * A reboot: the kernel has none of it, and wan1 is gone. Allocated in
	 * name order afresh, wan2 would get 0x2 and 1000; the state directory
	 * says 0x3 and 1001.
	 */
	for (size_t i = 0; i < rec.kernel.n_routes; i++)
		if (rec.kernel.routes[i].table != RT_TABLE_MAIN || rec.kernel.routes[i].oif == 6)
			drop_route(&rec, &rec.kernel.routes[i--]);
	for (size_t i = 0; i < rec.kernel.n_links; i++)
		if (rec.kernel.links[i].ifindex == 6)
			rec.kernel.links[i--] = rec.kernel.links[--rec.kernel.n_links];
	for (size_t i = 0; i < rec.kernel.n_addrs; i++)
		if (rec.kernel.addrs[i].ifindex == 6)
			rec.kernel.addrs[i--] = rec.kernel.addrs[--rec.kernel.n_addrs];
	rec.kernel.n_rules = 0;
	rec.nft_present = false;
	clear_statedir();
	e = engine(&rec, conf);
	CHECK(engine_reconcile(e, 0) > 0);
	free(recorder_take(&rec));
	calls = mark_tables(&rec);
	CHECK(calls && strstr(calls, "0x3 1001\n") && strstr(calls, "0x4 1002\n") &&
	      !strstr(calls, "0x2 "));
	free(calls);
	done(e, &rec);
	unsetenv("STATE_DIRECTORY");
}

/*
 * The saved src_valid_mark follows the interface, not its name: two tracked
 * names swapped keep theirs, and a tracked interface renamed away gets its own
 * value back at once.
 */
static void test_sysctl_rename_and_swap(void)
{
	static const char two[] = "[Interface]\nName=eth1\nTable=100\nMark=0x1\n"
				  "[Interface]\nName=eth2\nTable=101\nMark=0x2\n";
	struct recorder rec;
	struct rr_engine *e;

	seed(&rec);
	recorder_link(&rec, 4, "eth2", UP);
	rec.sysctl[3] = 0;
	rec.sysctl[4] = 1;
	e = engine(&rec, two);
	CHECK(engine_reconcile(e, 0) > 0);
	CHECK(rec.sysctl[3] == 1 && rec.sysctl[4] == 1);
	free(recorder_take(&rec));

	/* Swap: index 3 is eth2 now, index 4 eth1. Both tracked, both 1: nothing to write. */
	recorder_rename(&rec, 3, "tmp0");
	recorder_rename(&rec, 4, "eth1");
	recorder_rename(&rec, 3, "eth2");
	CHECK(engine_reconcile(e, RR_DIRTY_LINKS) >= 0);
	CHECK(!took(&rec, "sysctl"));

	/* A restart (another process) and a stop: index 3 gets its 0 back under its new name. */
	engine_free(e);
	e = engine(&rec, two);
	CHECK(engine_cleanup(e) > 0);
	{
		char *calls = recorder_take(&rec);

		CHECK(strstr(calls, "sysctl net.ipv4.conf.eth2.src_valid_mark=0\n") != NULL);
		CHECK(strstr(calls, "eth1.src_valid_mark") == NULL);
		free(calls);
	}
	CHECK(rec.sysctl[3] == 0 && rec.sysctl[4] == 1);
	engine_free(e);

	/* Renamed away from a tracked name: restored at once. */
	rec.sysctl[3] = 0;
	e = engine(&rec, two);
	CHECK(engine_reconcile(e, 0) > 0);
	free(recorder_take(&rec));
	recorder_rename(&rec, 3, "wan9");
	CHECK(engine_reconcile(e, RR_DIRTY_LINKS) > 0);
	CHECK(took(&rec, "sysctl net.ipv4.conf.wan9.src_valid_mark=0\n"));
	/* Drift: someone resets it; a look (the watchdog tick) sets it again, once. */
	rec.sysctl[4] = 0;
	CHECK(engine_reconcile(e, RR_DIRTY_SYSCTL) > 0);
	CALLS(&rec, "sysctl net.ipv4.conf.eth1.src_valid_mark=1\n");
	done(e, &rec);
}

/* Table= omitted: allocated once, found again by the next process through our own rule. */
static void test_table_allocation_stable(void)
{
	static const char autoconf[] = "[Interface]\nName=eth1\nMark=0x1\n";
	struct recorder rec;
	struct rr_engine *e;
	struct rr_route *foreign;

	seed(&rec);
	foreign = view_add_route(&rec.kernel);
	*foreign = *main_default(&rec);
	foreign->table = 1000; /* someone else's table */
	e = engine(&rec, autoconf);
	CHECK(engine_reconcile(e, 0) > 0);
	CHECK(engine_table(e, 0) == 1001);
	CHECK(engine_config(e)->ifaces[0].table == 0); /* the config is not written to */
	free(recorder_take(&rec));
	engine_free(e);
	/* The foreign table is gone now; a restart still keeps 1001 and changes nothing. */
	for (size_t i = 0; i < rec.kernel.n_routes; i++)
		if (rec.kernel.routes[i].table == 1000)
			drop_route(&rec, &rec.kernel.routes[i--]);
	for (size_t i = 0; i < rec.kernel.n_routes; i++)
		CHECK(rec.kernel.routes[i].table != 1000);
	e = engine(&rec, autoconf);
	CHECK(engine_reconcile(e, 0) == 0);
	CHECK(engine_table(e, 0) == 1001);
	CALLS(&rec, "");
	done(e, &rec);
}

/* Someone's route with our key in our table: not fought, named in STATUS; gone: ours comes back. */
static void test_foreign_route_conflict(void)
{
	struct recorder rec;
	struct rr_engine *e;
	struct rr_route *foreign;

	seed(&rec);
	foreign = view_add_route(&rec.kernel);
	*foreign = *main_default(&rec);
	foreign->table = 100;
	foreign->protocol = 4; /* static */
	foreign->gw.v4.s_addr = htonl(0xcb007109); /* 203.0.113.9 */
	e = engine(&rec, seed_conf);
	CHECK(engine_reconcile(e, 0) == SEED_CHANGES - 1);
	CHECK(!took(&rec, "default"));
	CHECK(strcmp(engine_status(e), "eth1: 203.0.113.2 via 203.0.113.1, table 100; conflict: "
				       "foreign route default via 203.0.113.9 dev eth1 table 100 "
				       "proto 4 metric 0 holds the place of replyroute's own") == 0);
	/* Removed by its owner: ours is added, the conflict leaves STATUS. */
	for (size_t i = 0; i < rec.kernel.n_routes; i++)
		if (rec.kernel.routes[i].protocol == 4)
			drop_route(&rec, &rec.kernel.routes[i--]);
	CHECK(engine_reconcile(e, RR_DIRTY_ROUTES) == 1);
	CALLS(&rec, "ip route add default via 203.0.113.1 dev eth1 src 203.0.113.2 table 100 proto 205 metric 0\n");
	CHECK(strcmp(engine_status(e), "eth1: 203.0.113.2 via 203.0.113.1, table 100") == 0);
	done(e, &rec);
}

/* Someone keeps deleting our rule: re-added twice at once, then held back, doubling; named in STATUS. */
static void test_removed_by_someone_else(void)
{
	struct recorder rec;
	struct rr_engine *e;
	struct rr_removal rm = {.rule = true, .port = 4321};

	seed(&rec);
	e = engine(&rec, seed_conf);
	CHECK(engine_reconcile(e, 0) == SEED_CHANGES);
	free(recorder_take(&rec));
	for (size_t i = 0; i < rec.kernel.n_rules; i++)
		if (rec.kernel.rules[i].priority == 1000)
			rm.r = rec.kernel.rules[i];
	for (int i = 1; i <= 3; i++) {
		drop_rule(&rec, 1000); /* `ip rule del` by process 4321 */
		engine_note_removal(e, &rm, "tester[4321]");
		CHECK(engine_reconcile(e, RR_DIRTY_RULES) == (i < 3));
		CALLS(&rec, i < 3 ? "ip rule add priority 1000 fwmark 0x1/0xff lookup 100 proto 205\n" : "");
	}
	CHECK(engine_hold_until(e) != 0);
	CHECK(strstr(engine_status(e), "; conflict: rule priority 1000 fwmark 0x1/0xff lookup 100 "
				       "proto 205 removed 3 times by tester[4321]") != NULL);
	/* Polled, not slept: the first hold is 100 ms. */
	for (int i = 0; i < 200 && engine_hold_until(e); i++)
		usleep(10 * 1000);
	CHECK(engine_hold_until(e) == 0);
	CHECK(engine_reconcile(e, 0) == 1);
	CALLS(&rec, "ip rule add priority 1000 fwmark 0x1/0xff lookup 100 proto 205\n");
	done(e, &rec);
}

/* Routes are read only from main and replyroute's tables: a foreign table costs nothing. */
static void test_dump_only_relevant_tables(void)
{
	struct recorder rec;
	struct rr_engine *e;
	struct rr_route *foreign;

	seed(&rec);
	for (int i = 0; i < 100; i++) {
		foreign = view_add_route(&rec.kernel);
		*foreign = *main_default(&rec);
		foreign->table = 300;
		foreign->metric = (uint32_t)i;
	}
	e = engine(&rec, seed_conf);
	CHECK(engine_reconcile(e, 0) == SEED_CHANGES);
	CHECK(rec.dumped_tables == 0); /* the first look reads everything */
	free(recorder_take(&rec));
	CHECK(engine_reconcile(e, RR_DIRTY_ROUTES) == 0);
	CHECK(rec.dumped_tables == 2); /* main and 100 */
	CHECK(engine_table_relevant(e, 100) && engine_table_relevant(e, RT_TABLE_MAIN));
	CHECK(!engine_table_relevant(e, 300));
	CALLS(&rec, "");
	done(e, &rec);
}

int main(void)
{
	if (!mkdtemp(statedir))
		return 99;
	log_max_level = getenv("RR_TEST_VERBOSE") ? 7 : 2;
	test_apply_order();
	test_pattern();
	test_address_change_is_replace();
	test_exists_and_gone_converge();
	test_failure_then_partial_success();
	test_nft_delta_and_replace();
	test_sysctl_rename_and_swap();
	test_table_allocation_stable();
	test_foreign_route_conflict();
	test_removed_by_someone_else();
	test_dump_only_relevant_tables();
	rmdir(statedir);
	return check_done("engine");
}
