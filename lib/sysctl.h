/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * net.ipv4.conf.IFACE.src_valid_mark, per interface. The value found before
 * replyroute first changed it is kept in STATEDIR/sysctl/IFACE so that a stop,
 * or `--cleanup` from another process, can put it back.
 */

#include <stdbool.h>

/* Root of /proc/sys; tests may point it elsewhere. */
extern const char *sysctl_root;

/* Returns 1 if the value was changed, 0 if it was already 1, negative errno. */
int sysctl_enable(const char *statedir, const char *ifname);
/* Put back every value saved in statedir; returns the number restored or negative errno.
 * Calls done(ifname, old) for each. */
int sysctl_restore_all(const char *statedir, void (*done)(const char *ifname, int value, int err));
/* The same for the interfaces that keep(ifname, userdata) says are no longer tracked. */
int sysctl_restore_untracked(const char *statedir, bool (*tracked)(const char *ifname, void *userdata),
			     void *userdata, void (*done)(const char *ifname, int value, int err));
int sysctl_read(const char *ifname, int *ret);
