/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where iproute2 keeps its table names; newer versions ship defaults in the vendor dir. */
#define RTTABLES_DIR "/etc/iproute2"
#define RTTABLES_VENDOR_DIR "/usr/share/iproute2"

struct rttables_entry {
	uint32_t id;
	char *name;
};

/* Bigger than any real rt_tables: a mistake, or not a table file at all. */
#define RTTABLES_FILE_MAX (16u << 20)

/* iproute2's routing table names, as read from its files, in file order. */
struct rttables {
	struct rttables_entry *v;
	size_t n, alloc;
	size_t *by_name; /* indices into v, sorted by name, then file order */
	bool loaded;
	int error;	  /* of the load, kept for the calls after it */
	char *error_path; /* the file that could not be read, NULL when none */
};

/*
 * Read DIR/rt_tables, then DIR/rt_tables.d/ *.conf in name order (dir NULL:
 * RTTABLES_DIR, then RTTABLES_VENDOR_DIR). Missing files are no names, and
 * lines iproute2 would not read are skipped, so are drop-ins that are not
 * regular files. Only regular files are read, up to RTTABLES_FILE_MAX bytes
 * each. Does nothing but return the first call's result when t is already
 * loaded. 0, -ENOMEM, or the error of the file at t->error_path (as from
 * rrfile_read()); t then holds what was read, for rttables_clear().
 */
int rttables_load(struct rttables *t, const char *dir);
void rttables_clear(struct rttables *t);

/* "default", "main" and "local" first (iproute2 does not let files redefine
 * them), then the files; the first match wins. 0 or -ENOENT. */
int rttables_find(const struct rttables *t, const char *name, uint32_t *ret);

/* The built-in name of table 253, 254 or 255; NULL for any other. */
const char *rttables_builtin_name(uint32_t id);

/* A number, or a name looked up in a freshly loaded dir (NULL: the system's). 0 if unknown. */
uint32_t rttables_lookup(const char *dir, const char *name);
