/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The runtime state directory ($RUNTIME_DIRECTORY, /run/replyroute): what must
 * outlive one process, so that a restart or `--cleanup` from another process
 * knows it too. Two records:
 *  - sysctl/IFINDEX: "VALUE NAME", the src_valid_mark an interface had before
 *    replyroute first set it. Keyed by index, so the value follows the
 *    interface through renames (two tracked names swapped keep theirs).
 *  - nft: the nft table replyroute installed last (ruleset.h).
 * /run is empty after a reboot, so an index is never reused under a record.
 *
 * Nothing found there is trusted (a value read is written to /proc/sys, a name
 * read is deleted). Every function fails on the directory or its sysctl/ with
 *  -ENOTDIR: a symlink or not a directory (the last path component of dir
 *            may not be a symlink; /var/run/replyroute still works);
 *  -EPERM:   not owned by the effective uid, or writable by group or others.
 * Only regular files are read, replaced or removed: -ELOOP for a symlink,
 * -EPERM for a FIFO, socket, device or directory. A file larger than a record
 * can be is -EFBIG; a record that is not exactly what we write is -EINVAL:
 * a value other than 0 or 1, an index <= 0, a name that is no interface name
 * (empty, longer than 15 bytes, '/', ':', space or control characters, "."
 * or ".."), or "all" or "default", which are never interfaces.
 */

#include <net/if.h>
#include <limits.h>
#include <stddef.h>

#include "ruleset.h"

struct rr_saved_sysctl {
	int ifindex;
	char name[IFNAMSIZ]; /* the name when it was saved (a hint; the index decides) */
	int value;
};

/* The records load left out and left alone, for the caller to report. */
struct store_skipped {
	size_t n;
	char file[NAME_MAX + 1]; /* the first one, under sysctl/ */
	int error;               /* and why: negative errno as above, -EEXIST for a
				  * legacy record of an index that has one */
};

/*
 * Every saved value, sorted by index; *ret_n = 0 when none (also when the
 * directory does not exist). A record that cannot be read or is not valid is
 * skipped, not removed. Legacy records are rewritten under their index.
 * Fails only when the directory itself is refused (above) or unreadable.
 */
int store_sysctl_load(const char *dir, struct rr_saved_sysctl **ret, size_t *ret_n);
int store_sysctl_load_report(const char *dir, struct rr_saved_sysctl **ret, size_t *ret_n,
			     struct store_skipped *ret_skipped);
/* -EINVAL for a record that load would refuse. Creates the directories (0755).
 * -EEXIST when every temporary name tried is taken (planted). */
int store_sysctl_save(const char *dir, const struct rr_saved_sysctl *s);
/* Several at once (the directories opened once); none written when one is not valid. */
int store_sysctl_save_many(const char *dir, const struct rr_saved_sysctl *v, size_t n);
int store_sysctl_forget(const char *dir, int ifindex);

/*
 * -ENOENT when there is none (nothing installed, or by a version without it);
 * -EINVAL for a record not as written (hashes of other than 16 hex digits, a
 * zero mark or mask, a mark outside the mask, a name or mark twice, a name
 * that is no interface name), -EFBIG for more than 4096 interfaces.
 */
int store_nft_read(const char *dir, struct ruleset_state *ret);
int store_nft_write(const char *dir, const struct ruleset_state *s);
int store_nft_remove(const char *dir);

/*
 * Another small record of the directory, its text opaque here (statefile.h
 * parses it): read whole into buf, NUL-terminated (-EFBIG when it holds more
 * than size - 2 bytes, -EINVAL for a NUL byte); written whole or not at all
 * (a temporary file renamed over it); removed if it is a regular file.
 */
int store_text_read(const char *dir, const char *name, char *buf, size_t size);
int store_text_write(const char *dir, const char *name, const char *text);
int store_text_remove(const char *dir, const char *name);
