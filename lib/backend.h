/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the engine reads from and writes to the kernel, as a small ops struct
 * (after iwd's netconfig_commit_ops): the default is the real kernel
 * (rtnetlink through libnl, nftables through libnftables, procfs); --dry-run
 * wraps it in a printer; the engine unit tests plug in a recorder that serves
 * a hand-built view and writes each call down as an `ip`-like line.
 *
 * Every function returns 0 or a negative errno. Adding what exists returns
 * -EEXIST and deleting what is gone -ENOENT/-ESRCH: the engine decides what
 * counts as converged, not the back end.
 */

#include <stdint.h>
#include <stdio.h>

#include "nlop.h"
#include "view.h"

struct rr_backend_ops {
	/*
	 * Read the given RR_PART_* of the kernel into v, replacing what v had of
	 * them; routes only of these tables (NULL: all; a back end may give more).
	 */
	int (*dump)(void *data, struct rr_view *v, unsigned parts, const uint32_t *tables,
		    size_t n_tables);
	int (*rule_add)(void *data, const struct rr_rule *r);
	int (*rule_del)(void *data, const struct rr_rule *r);
	int (*route_add)(void *data, const struct rr_route *r);
	int (*route_replace)(void *data, const struct rr_route *r);
	int (*route_del)(void *data, const struct rr_route *r);
	/* Optional: many of the above in order, each op's result set (NULL: one by one). */
	int (*batch)(void *data, struct rr_nl_op *ops, size_t n);
	/* The listing of table inet replyroute (-ENOENT: none); commands as one transaction. */
	int (*nft_list)(void *data, char **ret);
	int (*nft_apply)(void *data, const char *commands);
	/* net.ipv4.conf.IFNAME.src_valid_mark */
	int (*sysctl_get)(void *data, const char *ifname, int *ret);
	int (*sysctl_set)(void *data, const char *ifname, int value);
	/* Optional: libnftables' last error, the netlink port, our nft commits so far. */
	const char *(*nft_error)(void *data);
	uint32_t (*nl_port)(void *data);
	uint64_t (*nft_commits)(void *data);
	/*
	 * Optional: the elements the engine keeps in the table's address maps
	 * (pickup.h), as one transaction; and the table's ownership (nft.h).
	 */
	int (*nft_elements)(void *data, const char *commands);
	void (*nft_own)(void *data);
	bool (*nft_owned)(void *data);
	void (*free)(void *data);
};

struct rr_backend {
	const struct rr_backend_ops *ops;
	void *data;
};

/* The real kernel. */
int backend_kernel_open(struct rr_backend *ret);
void backend_close(struct rr_backend *b);

/*
 * Reads go to inner, writes are printed to out as `ip`/`nft`/`sysctl`
 * command lines and succeed; names of interfaces come from *names.
 */
int backend_printer_open(const struct rr_backend *inner, const struct rr_view *names, FILE *out,
			 struct rr_backend *ret);

/* `ip rule add ...`-style text for a call (ip_verb "add", "del", "replace"). */
void backend_format_rule(const char *verb, const struct rr_rule *r, char *buf, size_t len);
void backend_format_route(const char *verb, const struct rr_route *r, const struct rr_view *names,
			  char *buf, size_t len);
