/* SPDX-License-Identifier: MIT */
/*
 * --audit's pure core: the nft ruleset scan (a real `nft -j list ruleset`
 * of nft and iptables-nft rules, tests/expected/audit-ruleset.json), the
 * checks on fixed facts with golden text and JSON (tests/expected/audit.*),
 * /proc/net/udp parsing, and networkd.conf / NetworkManager keyfiles read
 * from a directory of the test's own. No privileges, no kernel.
 */
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "check.h"
#include "golden.h"
#include "rr-build.h"

static const char *expected;

#define A check_addr

static const struct nfts_item *item(const struct nfts *s, const char *chain, uint64_t handle)
{
	for (size_t i = 0; i < s->n_items; i++)
		if (!strcmp(s->items[i].chain, chain) && s->items[i].handle == handle)
			return &s->items[i];
	return NULL;
}

static void ruleset(struct nfts *s)
{
	char path[1024], *json;

	snprintf(path, sizeof(path), "%s/audit-ruleset.json", expected);
	json = golden_read(path);
	CHECK(json != NULL);
	CHECK(nfts_parse(json ? json : "", s) == 0);
	free(json);
}

static void test_nfts(void)
{
	struct nfts s;
	const struct nfts_item *it;

	ruleset(&s);
	CHECK(s.ours && s.n_marked == 2 && nfts_marks(&s, "eth1") && nfts_marks(&s, "eth2") &&
	      !nfts_marks(&s, "eth0"));
	for (size_t i = 0; i < s.n_items; i++)
		CHECK(strcmp(s.items[i].table, "replyroute"));
	/* iptables-nft: MARK in ip mangle, NOTRACK in ip raw, with the interface. */
	CHECK(s.n_items == 10);
	it = &s.items[0];
	CHECK(!strcmp(it->table, "mangle") && it->kind == NFTS_XT_MARK && !strcmp(it->iif, "eth1"));
	it = &s.items[1]; /* -j NOTRACK: iptables-nft makes it a CT target */
	CHECK(!strcmp(it->table, "raw") && it->kind == NFTS_NOTRACK && !strcmp(it->iif, "eth2") &&
	      !strcmp(it->what, "iptables target CT"));
	/* nft: whole and masked writes, in rule order from handle 3. */
	it = item(&s, "pre", 3);
	CHECK(it && it->kind == NFTS_MARK_WRITE && it->whole && !it->ct &&
	      !strcmp(it->what, "meta mark set 0x10"));
	it = item(&s, "pre", 4);
	CHECK(it && !it->whole && it->bits == 0xff00);
	it = item(&s, "pre", 5);
	CHECK(it && !it->whole && it->ct && it->bits == 0x2);
	it = item(&s, "pre", 6);
	CHECK(it && it->whole && it->ct && !strcmp(it->what, "ct mark set meta mark"));
	it = item(&s, "pre", 7);
	CHECK(it && it->whole && !it->ct && !strcmp(it->what, "meta mark set ct mark"));
	it = item(&s, "pre", 8);
	CHECK(it && it->kind == NFTS_NOTRACK && !strcmp(it->iif, "eth1"));
	it = item(&s, "forward", 9);
	CHECK(it && it->kind == NFTS_FORWARD && !strcmp(it->oif, "lan1"));
	it = item(&s, "prerouting", 2);
	CHECK(it && it->kind == NFTS_DNAT && !strcmp(it->iif, "eth1"));
	nfts_free(&s);

	/* Reverse path checks (nft -j of topo_seed6's rpf rules): the one without mark only. */
	CHECK(nfts_parse("{\"nftables\": [{\"rule\": {\"family\": \"inet\", \"table\": \"rpf\", "
			 "\"chain\": \"prerouting\", \"handle\": 2, \"expr\": [{\"match\": {\"op\": "
			 "\"==\", \"left\": {\"fib\": {\"result\": \"oif\", \"flags\": [\"saddr\", "
			 "\"iif\"]}}, \"right\": false}}, {\"drop\": null}]}}, {\"rule\": {\"family\": "
			 "\"inet\", \"table\": \"rpf\", \"chain\": \"prerouting\", \"handle\": 3, "
			 "\"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"fib\": {\"result\": "
			 "\"oif\", \"flags\": [\"saddr\", \"mark\", \"iif\"]}}, \"right\": false}}, "
			 "{\"drop\": null}]}}]}", &s) == 0);
	CHECK(s.n_items == 1 && s.items[0].kind == NFTS_FIB_NOMARK && s.items[0].handle == 2);
	nfts_free(&s);
	CHECK(nfts_parse("{\"nope\": 1}", &s) == -EINVAL);
	CHECK(nfts_parse("not json", &s) == -EINVAL);
}

static void rule_add(struct inspect *k, uint32_t prio, uint32_t table, uint8_t proto)
{
	struct rr_xrule *r = realloc(k->rules, (k->n_rules + 1) * sizeof(*r));

	if (!r)
		exit(2);
	k->rules = r;
	r[k->n_rules++] = (struct rr_xrule){.family = AF_INET, .priority = prio,
					     .action = FR_ACT_TO_TBL, .table = table,
					     .suppress_prefixlen = -1, .protocol = proto};
}

static void addr_add(struct rr_view *v, int ifindex, const char *a, uint8_t plen)
{
	struct rr_ifaddr *x = view_add_addr(v);

	*x = (struct rr_ifaddr){.ifindex = ifindex, .local = A(a), .prefixlen = plen};
}

/* Everything at once: each check fires once, with its fix. */
static void test_check_golden(void)
{
	static const char conf[] = "[Interface]\nName=eth1\nTable=100\nMark=0x1\n"
				   "[Interface]\nName=eth2\nTable=101\nMark=0x2\n";
	struct rr_config *c = NULL;
	struct inspect k = {0};
	struct audit_iface ifs[2] = {0};
	struct audit_nm_conn nm = {.file = "/etc/NetworkManager/system-connections/wan2.nmconnection",
				   .iface = "eth2", .table4 = 101};
	struct audit_udp udp = {.family = AF_INET, .port = 5353, .inode = 4242,
				.owner = "dnsmasq[123]"};
	struct audit_facts f = {0};
	struct audit_report rep;
	struct rr_route *r;
	struct rr_link *l;

	CHECK(config_load_buffer("t.conf", conf, sizeof(conf) - 1, NULL, NULL, &c) == 0);
	if (!c)
		return;
	for (int i = 0; i < 2; i++) {
		l = view_add_link(&k.view);
		l->ifindex = 3 + i;
		snprintf(l->name, sizeof(l->name), "eth%d", i + 1);
	}
	addr_add(&k.view, 3, "203.0.113.2", 24);
	addr_add(&k.view, 4, "203.0.113.3", 24);
	r = view_add_route(&k.view);
	*r = (struct rr_route){.family = AF_INET, .table = 100, .dst = A("198.18.99.0"),
			       .dst_len = 24, .gw = A("192.0.2.1"), .protocol = 4, .oif = 3};
	rule_add(&k, 0, RT_TABLE_LOCAL, 2);
	rule_add(&k, 900, 200, 0);
	rule_add(&k, 1000, 100, RR_PROTO);
	k.rules[2].fwmark = 1;
	k.rules[2].fwmask = 0xff;
	rule_add(&k, 32766, RT_TABLE_MAIN, 2);
	ruleset(&k.nft);
	for (int i = 0; i < 2; i++)
		ifs[i] = (struct audit_iface){.present = true, .table = 100 + i,
					      .rp_filter = {1, 1}, .src_valid_mark = {0, i},
					      .arp_ignore = {0, 0}, .arp_announce = {0, 0},
					      .forwarding = 0, .nd_managed = i == 0};
	f = (struct audit_facts){.config = c, .k = &k, .ifs = ifs, .ip6_forwarding = 0,
				 .nd = {.running = true, .rules = {.value = -1},
					.routes = {.value = 1, .where = "/etc/systemd/networkd.conf"}},
				 .nm_running = true, .nm = &nm, .n_nm = 1, .udp = &udp, .n_udp = 1};
	CHECK(audit_check(&f, &rep) == 0);
	GOLDEN(expected, "audit.txt", CHECK(audit_print(&rep, false, out) == 0));
	GOLDEN(expected, "audit.json", CHECK(audit_print(&rep, true, out) == 0));
	audit_report_free(&rep);

	/* Fixed: src_valid_mark, ARP sysctls, networkd settings, no NetworkManager. */
	for (int i = 0; i < 2; i++) {
		ifs[i].src_valid_mark.dev = 1;
		ifs[i].arp_ignore.dev = 1;
		ifs[i].arp_announce.dev = 2;
		ifs[i].forwarding = 1;
	}
	f.nd.rules.value = f.nd.routes.value = 0;
	f.nm_running = false;
	f.n_udp = 0;
	nfts_free(&k.nft);
	k.n_rules = 3;
	k.rules[1].priority = 2000; /* after ours */
	k.view.n_routes = 0;
	CHECK(audit_check(&f, &rep) == 0);
	CHECK(rep.n == 0);
	audit_report_free(&rep);
	inspect_clear(&k);
	config_free(c);
}

static void test_udp(void)
{
	static const char text[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
		"  123: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 0\n"
		"  124: 0271CBCB:14B4 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4243 2 0000000000000000 0\n"
		"  125: 00000000:0035 0A0B0C0D:1234 01 00000000:00000000 00:00000000 00000000     0        0 4244 2 0000000000000000 0\n";
	static const char text6[] =
		"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
		"  7: 00000000000000000000000000000000:0222 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5555 2 0000000000000000 0\n";
	struct audit_udp *u = NULL;
	size_t n = 0;
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	CHECK(audit_parse_udp(f, AF_INET, &u, &n) == 0);
	fclose(f);
	f = fmemopen((void *)text6, sizeof(text6) - 1, "r");
	CHECK(audit_parse_udp(f, AF_INET6, &u, &n) == 0);
	fclose(f);
	/* Only the unconnected wildcard ones: 5353 and [::]:546. */
	CHECK(n == 2);
	CHECK(n == 2 && u[0].family == AF_INET && u[0].port == 5353 && u[0].inode == 4242);
	CHECK(n == 2 && u[1].family == AF_INET6 && u[1].port == 546 && u[1].inode == 5555);
	free(u);
}

static void put(const char *root, const char *path, const char *text)
{
	char p[1024], cmd[1200];
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, path);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	CHECK(system(cmd) == 0);
	CHECK((f = fopen(p, "we")) != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_files(void)
{
	char root[] = "/tmp/rr-audit-XXXXXX", cmd[128];
	struct audit_networkd nd = {0};
	struct audit_nm_conn *nm = NULL;
	size_t n = 0;

	if (!mkdtemp(root)) {
		CHECK(0);
		return;
	}
	audit_root = root;
	audit_read_networkd(&nd);
	CHECK(nd.rules.value == -1 && nd.routes.value == -1);
	put(root, "/etc/systemd/networkd.conf",
	    "[Network]\n#ManageForeignRoutes=no\nManageForeignRoutingPolicyRules = no\n");
	put(root, "/usr/lib/systemd/networkd.conf.d/10-vendor.conf",
	    "[Network]\nManageForeignRoutes=no\n");
	put(root, "/etc/systemd/networkd.conf.d/20-admin.conf",
	    "[DHCP]\nManageForeignRoutes=no\n[Network]\nManageForeignRoutes=yes\n");
	audit_read_networkd(&nd);
	CHECK(nd.rules.value == 0 && !strcmp(nd.rules.where, "/etc/systemd/networkd.conf"));
	CHECK(nd.routes.value == 1 &&
	      !strcmp(nd.routes.where, "/etc/systemd/networkd.conf.d/20-admin.conf"));
	/* A drop-in of the same name in /etc replaces the vendor's. */
	put(root, "/etc/systemd/networkd.conf.d/10-vendor.conf", "[Network]\n");
	put(root, "/etc/systemd/networkd.conf.d/20-admin.conf", "[Network]\n");
	audit_read_networkd(&nd);
	CHECK(nd.routes.value == -1);

	put(root, "/etc/NetworkManager/system-connections/wan.nmconnection",
	    "[connection]\nid=wan\ninterface-name=eth1\n[ipv4]\nroute-table=100\n"
	    "[ipv6]\nroute-table=0x65\n");
	put(root, "/etc/NetworkManager/system-connections/notes.txt", "[ipv4]\nroute-table=7\n");
	CHECK(audit_read_nm(&nm, &n) == 0);
	CHECK(n == 1 && !strcmp(nm[0].iface, "eth1") && nm[0].table4 == 100 && nm[0].table6 == 101);
	free(nm);
	/* NetworkManager.conf's defaults for every connection, a conf.d file overriding. */
	put(root, "/etc/NetworkManager/NetworkManager.conf",
	    "[main]\nplugins=keyfile\n[connection]\nipv4.route-table=100\n");
	put(root, "/etc/NetworkManager/conf.d/50-rt.conf", "[connection]\nipv4.route-table=102\n");
	CHECK(audit_read_nm(&nm, &n) == 0);
	CHECK(n == 2 && nm[0].defaults && nm[0].table4 == 102 && !nm[0].table6 &&
	      !strcmp(nm[0].file, "/etc/NetworkManager/conf.d/50-rt.conf") && !nm[1].defaults);
	free(nm);
	audit_root = "";
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
}

/* Text that is not UTF-8 (a name from the kernel) is escaped in JSON, not dropped. */
static void test_json_bytes(void)
{
	struct audit_warning w = {.check = "arp", .subject = "e\xff" "1 eth2", .message = "m",
				  .fix = "f"};
	struct audit_report rep = {.w = &w, .n = 1};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	CHECK(audit_print(&rep, true, f) == 0);
	fclose(f);
	CHECK(out && strstr(out, "\"subject\": \"e\\\\xff1 eth2\""));
	free(out);
}

int main(int argc, char **argv)
{
	expected = argc > 1 ? argv[1] : "tests/expected";
	test_nfts();
	test_check_golden();
	test_udp();
	test_files();
	test_json_bytes();
	return check_done("audit");
}
