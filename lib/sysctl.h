/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * net.ipv4.conf.IFACE.src_valid_mark, per interface. The value found before
 * replyroute first changed it is kept in STATEDIR/sysctl/IFACE, with the
 * interface's index, so that a stop, `--cleanup` from another process, or the
 * interface being renamed away or dropped from the config puts it back on the
 * interface that really has it.
 */

#include <stdbool.h>

/* Root of /proc/sys; tests may point it elsewhere. */
extern const char *sysctl_root;

/* Returns 1 if the value was changed, 0 if it was already 1, negative errno. */
int sysctl_enable(const char *statedir, const char *ifname, int ifindex);

struct sysctl_restore_ops {
	/* The current name of ifindex, NULL when it is gone (its value went with it). */
	const char *(*name_of)(int ifindex, void *userdata);
	/* true: still tracked under this name, keep it set (NULL: restore all). */
	bool (*keep)(const char *ifname, void *userdata);
	/* Called for each value written back (err 0) or that could not be. */
	void (*done)(const char *ifname, int value, int err);
	void *userdata;
};

/* Put saved values back as ops says; returns how many were written, or negative errno. */
int sysctl_restore(const char *statedir, const struct sysctl_restore_ops *ops);
int sysctl_read(const char *ifname, int *ret);
