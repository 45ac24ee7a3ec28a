/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * --audit: what on this host works against replyroute, each with its fix.
 * audit_check() is pure: facts in (audit-kernel.c collects them from the
 * kernel, procfs, nftables and the network managers' files), warnings out;
 * audit_print() renders them as text or JSON.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "inspect.h"

/* Two values of a net.ipv4.conf key: all and the interface's (-1: unknown). */
struct audit_conf2 {
	int all, dev;
};

struct audit_iface {
	bool present;
	uint32_t table; /* 0: not known (an automatic table not allocated yet) */
	struct audit_conf2 rp_filter, src_valid_mark, arp_ignore, arp_announce;
	int forwarding;   /* net.ipv4.conf.IF.forwarding */
	bool nd_managed;  /* systemd-networkd manages the link */
};

/* A setting of networkd.conf: -1 not set (the default, yes), else 0/1; where it was set. */
struct audit_setting {
	int value;
	char where[256];
};

struct audit_networkd {
	bool running;
	struct audit_setting rules, routes; /* ManageForeignRoutingPolicyRules=, ManageForeignRoutes= */
};

struct audit_nm_conn {
	char file[256];          /* the file that set the table */
	char iface[IFNAMSIZ];
	uint32_t table4, table6; /* ipv4.route-table, ipv6.route-table; 0: unset */
	bool defaults;           /* NetworkManager.conf's [connection]: for every connection */
};

struct audit_udp {
	int family;
	uint16_t port;
	unsigned long inode;
	char owner[48]; /* "NAME[PID]" of a process holding it; "" unknown */
};

struct audit_facts {
	const struct rr_config *config;
	const struct inspect *k;
	struct audit_iface *ifs; /* one per configured interface */
	int ip6_forwarding;      /* net.ipv6.conf.all.forwarding; -1 unknown */
	struct audit_networkd nd;
	bool nm_running;
	struct audit_nm_conn *nm;
	size_t n_nm;
	struct audit_udp *udp;
	size_t n_udp;
};

struct audit_warning {
	char check[24];
	char subject[96];
	char message[512];
	char fix[320];
};

struct audit_report {
	struct audit_warning *w;
	size_t n;
};

int audit_check(const struct audit_facts *f, struct audit_report *ret);
/* One more warning in r, its check and subject set, the rest empty; NULL: out of memory. */
struct audit_warning *audit_add(struct audit_report *r, const char *check, const char *subject);
void audit_report_free(struct audit_report *r);
int audit_print(const struct audit_report *r, bool json, FILE *out);

/* Where the network managers' files are read (tests point it elsewhere); default "". */
extern const char *audit_root;

/* Collect the facts (audit-kernel.c); k must outlive them. */
int audit_collect(const struct rr_config *c, const struct inspect *k, struct audit_facts *ret);
void audit_facts_clear(struct audit_facts *f);
/* The networkd.conf settings under root (audit_root), and the NM keyfiles' route tables. */
void audit_read_networkd(struct audit_networkd *ret);
int audit_read_nm(struct audit_nm_conn **ret, size_t *n);
/* The unconnected UDP sockets bound to the wildcard address, from /proc/net/udp{,6}-like text. */
int audit_parse_udp(FILE *f, int family, struct audit_udp **ret, size_t *n);

/* Read everything and check: the report, or a negative errno. */
int audit_run(const struct rr_config *c, struct audit_report *ret);
