/* SPDX-License-Identifier: MIT */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define RR_DEFAULT_CONFIG "/etc/replyroute/replyroute.conf"
#define RR_DEFAULT_MASK 0xffu
#define RR_DEFAULT_PRIORITY 1000u

/* An IPv4 or IPv6 address: family is AF_INET or AF_INET6, 0 when unset. */
struct rr_addr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

struct rr_iface_conf {
	char name[IFNAMSIZ];
	uint32_t table;
	uint32_t mark;
	uint32_t priority;
	struct rr_addr gateway4; /* family 0: learned */
	struct rr_addr gateway6; /* family 0: learned */
	bool source_rules;
	bool table_auto; /* Table= omitted: allocated at run time (desired_assign_tables) */
	bool mark_auto;  /* Mark= omitted: allocated at load time */
	unsigned line; /* line of the [Interface] header, for messages */
};

struct rr_config {
	char *path;
	uint32_t mask;
	uint32_t priority;
	struct rr_iface_conf *ifaces;
	size_t n_ifaces;
	uint32_t *named_tables; /* numbers named in rt_tables: never allocated */
	size_t n_named_tables;
};

/* Where automatic table numbers start. */
#define RR_AUTO_TABLE_BASE 1000u

/* Where table names are looked up; tests point it elsewhere. */
struct rr_config_env {
	const char *rt_tables_dir; /* default "/etc/iproute2" */
};

/*
 * Parse the file at path. On success returns 0 and *ret owns a config.
 * On any error returns -EINVAL (bad config, every problem written to err as
 * "FILE:LINE: message\n") or another negative errno (file unreadable, also
 * written to err); *ret is left NULL: nothing of a bad config is kept.
 */
int config_load(const char *path, const struct rr_config_env *env, FILE *err,
		struct rr_config **ret);
void config_free(struct rr_config *c);

/* Print the config in normalised form (every key, defaults filled in). */
void config_print(const struct rr_config *c, FILE *out);

/*
 * Resolve a table name or number through DIR/rt_tables and
 * DIR/rt_tables.d/ *.conf (dir NULL: /etc/iproute2, then /usr/share/iproute2);
 * "default", "main" and "local" are built in. 0 if unknown.
 */
uint32_t config_table_lookup(const char *dir, const char *name);

/* An IPv4 or IPv6 literal (no scope, no prefix length); 0 or -EINVAL. */
int rr_addr_parse(const char *s, struct rr_addr *ret);
/* buf of INET6_ADDRSTRLEN is enough; NULL (errno set) when unset or too small. */
const char *rr_addr_str(const struct rr_addr *a, char *buf, size_t len);
/* Same family and address; two unset addresses are equal. */
bool rr_addr_eq(const struct rr_addr *a, const struct rr_addr *b);
