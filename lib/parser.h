/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The config reader's state, shared by config.c (one line at a time) and
 * confcheck.c (the checks that need the whole file). Not for other modules.
 */
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"
#include "rttables.h"

/*
 * Longest line, without comments and surrounding whitespace: longer is a
 * mistake (a lost newline, not a config file), reported rather than read.
 * 199 was inih's limit; kept so that files and messages stay the same.
 */
#define CONFIG_LINE_MAX 199

enum section {
	SECTION_NONE,
	SECTION_GLOBAL,
	SECTION_INTERFACE,
	SECTION_UNKNOWN,
};

/* What the checks at the end need to know about one [Interface]. */
struct iface_info {
	/* Line of each key, 0 when absent. */
	unsigned name, table, mark, priority, gateway4, gateway6, source_rules;
	bool name_ok, table_ok, mark_ok;
	char table_str[CONFIG_LINE_MAX + 1];
	char mark_str[CONFIG_LINE_MAX + 1];
	char *origin; /* "FILE:LINE" of its section headers, ", " between */
	bool merged;  /* folded into an earlier section of the same Name= */
};

/*
 * One file of the config: the main file, then its drop-ins. Line numbers run
 * on from one file to the next (the first line of files[k] is number first),
 * so that a line number alone says where, and messages sort in reading order.
 */
struct parser_file {
	char *name;
	unsigned first;
};

struct parser {
	const char *name; /* of the main file, for messages */
	struct parser_file *files;
	size_t n_files;
	char *line;	  /* the current line, copied to be cut up */
	size_t line_size;
	unsigned lineno;
	bool oom;

	enum section section;
	unsigned global_line, mask_line, priority_line;
	char *global_origin; /* "FILE:LINE" of the [Global] headers, ", " between */
	bool mask_ok;

	struct rr_config *cfg;
	struct iface_info *info; /* parallel to cfg->ifaces */
	size_t ifaces_alloc;

	struct diag errors;

	const char *rt_dir; /* NULL: the system's */
	struct rttables rt;
	bool rt_reported; /* its load failed, and that was said once */
};

void parser_error(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A table name that looks like a number is read as one, and reported as a bad one. */
bool parser_looks_numeric(const char *s);

/*
 * Load the table names for a key at line: true when they are there. A file
 * that cannot be read is reported once, at the first line that needed it,
 * as "WHAT: cannot read table names from PATH: why".
 */
bool parser_rttables(struct parser *p, unsigned line, const char *what);

/* Required keys, mask, duplicates, automatic marks, names to avoid. */
void parser_check(struct parser *p);

/* The file that line is in, and line's number in it. */
const struct parser_file *parser_file_of(const struct parser *p, unsigned line, unsigned *local);

/* Room for parser_where()'s result. */
#define PARSER_WHERE_MAX (4096 + 32)

/*
 * Where line is, seen from a message about line from: "line N" in the same
 * file, "FILE:N" in another. Into buf, which is returned.
 */
const char *parser_where(const struct parser *p, unsigned from, unsigned line, char *buf,
			 size_t size);

/* Appends "FILE:LINE" of line to *s, after ", ". 0 or -ENOMEM. */
int parser_origin_add(const struct parser *p, char **s, unsigned line);

/* Fold each [Interface] of a drop-in into the earlier one of the same Name=. */
void parser_merge(struct parser *p);
