/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * net.ipv4.conf.IFACE.src_valid_mark through /proc/sys: the procfs half of the
 * kernel back end. What to write and what to put back is the plan's business
 * (plan.h); the values found before replyroute changed them live in the
 * store (store.h).
 */

/* Root of /proc/sys; tests may point it elsewhere. */
extern const char *sysctl_root;

/* 0 or negative errno (-ENOENT: no such interface; -EINVAL: not an interface
 * name, or "all" or "default", which replyroute never touches). */
int sysctl_get(const char *ifname, int *ret);
int sysctl_set(const char *ifname, int value);
/* Read-only, any key of net.ipv4.conf.IFNAME ("all" and "default" too): for --status. */
int sysctl_get_conf(const char *ifname, const char *key, int *ret);
