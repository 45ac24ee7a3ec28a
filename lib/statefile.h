/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The daemon's state file, $RUNTIME_DIRECTORY/status: what only the running
 * daemon knows, for `replyrouted --status` to read beside it. Written whole
 * (temporary file, rename) by store.h, and only when its text changes; removed
 * at a clean stop. One record a line, space-separated fields; every string
 * field is escaped (bytes up to ' ', from 0x7f and '\\' as \xNN; "" as "-"),
 * so a field never holds a space or a newline:
 *
 *   replyroute-state 1
 *   pid PID
 *   started USEC                       (CLOCK_REALTIME, microseconds)
 *   config HASH16                      (config_hash() of the running config)
 *   reload USEC ok | reload USEC failed MESSAGE
 *   nft-owned yes|no
 *   iface NAME STATE TABLE MARK SINCE WAS
 *   removed IFACE rule|route TOTAL STREAK LAST WHO WHAT
 *
 * STATE is a statefile_state_name(); SINCE the time of the interface's last
 * change and WAS its STATUS clause before ("-": none, the daemon's start).
 * IFACE of a removal is "-" when it belongs to no configured interface.
 *
 * The reader trusts nothing: a line it does not know is skipped (a newer
 * daemon), a known line not exactly as written makes the file -EINVAL.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "desired.h"

#define STATEFILE_NAME "status"
#define STATEFILE_MAX (256 * 1024)
#define STATEFILE_MAX_IFACES 4096
#define STATEFILE_MAX_REMOVALS 256
#define STATEFILE_TEXT 256

struct statefile_iface {
	char name[IFNAMSIZ];
	enum rr_iface_state state;
	uint32_t table, mark;
	uint64_t since;
	char was[STATEFILE_TEXT];
};

struct statefile_removal {
	char iface[IFNAMSIZ]; /* "": none of the configured interfaces */
	bool rule;            /* else a route */
	unsigned total;       /* removals since the daemon started */
	unsigned streak;      /* the current run (none a minute apart) */
	uint64_t last;
	char who[64];
	char what[STATEFILE_TEXT];
};

struct statefile {
	int pid;
	uint64_t started;
	uint64_t config_hash;
	uint64_t reload_time; /* 0: no reload yet */
	bool reload_failed;
	char reload_error[512];
	bool nft_owned;
	struct statefile_iface *ifaces;
	size_t n_ifaces;
	struct statefile_removal *removals;
	size_t n_removals;
};

/* "active", "waiting-for-link", "link-down", "no-carrier", "no-usable-address". */
const char *statefile_state_name(enum rr_iface_state s);

/* The text of s (caller frees); -EINVAL for a field the reader would refuse. */
int statefile_format(const struct statefile *s, char **ret);
/* text as statefile_format() writes it; *ret to be cleared with statefile_clear(). */
int statefile_parse(const char *text, struct statefile *ret);
void statefile_clear(struct statefile *s);

/* What `config` holds: a hash of the normalised config (0: out of memory). */
uint64_t statefile_config_hash(const struct rr_config *c);

/* From/to the directory (store.h's rules: owner, mode, regular files only). */
int statefile_read(const char *dir, struct statefile *ret);
int statefile_write_text(const char *dir, const char *text);
int statefile_remove(const char *dir);
