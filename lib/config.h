/* SPDX-License-Identifier: MIT */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

#define RR_DEFAULT_CONFIG "/etc/replyroute/replyroute.conf"
#define RR_DEFAULT_MASK 0xffu
#define RR_DEFAULT_PRIORITY 1000u
#define RR_PRIORITY_MIN 3u
#define RR_PRIORITY_MAX 0xfffffffeu

struct rr_iface_conf {
	char name[IFNAMSIZ];
	uint32_t table;
	uint32_t mark;
	uint32_t priority;
	struct rr_addr gateway4; /* family 0: learned */
	struct rr_addr gateway6; /* family 0: learned */
	bool source_rules;
	bool table_auto; /* Table= omitted: allocated at run time (desired_assign_tables) */
	bool mark_auto;  /* Mark= omitted: allocated at load time (a pattern's: per interface) */
	bool pattern;    /* Name= is a shell glob: expand.h makes one interface per match */
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
	/* The files read, the main one first, then its drop-ins in reading order. */
	char **files;
	size_t n_files;
	/*
	 * With drop-ins (n_files > 1), where each section came from, as
	 * "FILE:LINE" of its headers, ", " between; else NULL. origins has one
	 * per interface; global_origin is NULL when no file has a [Global].
	 */
	char *global_origin;
	char **origins;
	/* An expanded config (expand.h): its own ifaces, everything else base's. */
	const struct rr_config *base;
};

/* Where automatic table numbers start. */
#define RR_AUTO_TABLE_BASE 1000u

/* Where table names are looked up; tests point it elsewhere. */
struct rr_config_env {
	const char *rt_tables_dir; /* default "/etc/iproute2" */
	/*
	 * Generated drop-ins are read from RUNTIME_DIR/BASENAME.d/, BASENAME
	 * the config file's name; NULL: none. With env NULL: config_runtime_dir().
	 */
	const char *runtime_dir;
};

/* $RUNTIME_DIRECTORY (systemd's, when it names one directory), else /run/replyroute. */
const char *config_runtime_dir(void);

/*
 * Parse the file at path, then its drop-ins: every *.conf in PATH.d/ and in
 * RUNTIME_DIR/BASENAME.d/ (see rr_config_env), one per file name (PATH.d's
 * wins; a symlink to /dev/null masks the name), all read in the order of
 * their file names. A later file overrides an earlier one key by key: [Global]
 * keys, and the keys of an [Interface] of the same Name=. Line numbers in
 * messages are each file's. On success returns 0 and *ret owns a config.
 * On any error returns -EINVAL (bad config, every problem written to err as
 * "FILE:LINE: message\n") or another negative errno (file unreadable, not
 * a regular file (see rrfile.h) or over 4 MiB, also written to err as
 * "FILE: message\n"; -ENOMEM is not); *ret is left NULL:
 * nothing of a bad config is kept. err may be NULL.
 */
int config_load(const char *path, const struct rr_config_env *env, FILE *err,
		struct rr_config **ret);
/*
 * The same for len bytes of config text at buf, which may hold any byte (a
 * NUL is an error in its line, not the end); name stands for the file in
 * messages and becomes c->path. Does not touch the file system but for
 * rt_tables.
 */
int config_load_buffer(const char *name, const char *buf, size_t len,
		       const struct rr_config_env *env, FILE *err, struct rr_config **ret);
void config_free(struct rr_config *c);

/* Print the config in normalised form (every key, defaults filled in). */
void config_print(const struct rr_config *c, FILE *out);

/*
 * rttables_lookup(), for the callers that knew it here: resolve a table name
 * or number through DIR/rt_tables and
 * DIR/rt_tables.d/ *.conf (dir NULL: /etc/iproute2, then /usr/share/iproute2);
 * "default", "main" and "local" are built in. 0 if unknown.
 */
uint32_t config_table_lookup(const char *dir, const char *name);
